"""Where a command acts: a Jixiao server, this process with a folder of packs, or a
registry file worked on directly.

Commands take the options of their kind (`evaluation_target_options`,
`admin_target_options`) and pass their context to `open_evaluation` or `open_admin`.
An option given on the command line beats one from the environment; two places named
on the command line, or an option that does not apply to the place chosen, is a usage
error rather than being silently ignored.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import Callable

import click
from click.core import ParameterSource

from jixiao.core.identifiers import echo
from jixiao.registry.signing import SignatureError, TrustPolicy

from .client import JixiaoClient
from .exit_codes import CliError
from .local import LocalJixiao
from .registry_admin import RegistryAdmin

DEFAULT_SERVER = "127.0.0.1:50051"
SERVER, REGISTRY, LOCAL = "server", "registry", "local"

#: The options that make sense in only some places: parameter name → those places.
APPLIES_TO = {
    "packs": {LOCAL},
    "token": {SERVER},
    "tls_ca": {SERVER},
    "actor": {REGISTRY},
    "trusted_keys": {REGISTRY},
    "require_signatures": {REGISTRY},
}
PLACE_OPTIONS = {SERVER: "--server", REGISTRY: "--registry", LOCAL: "--local"}

_file = click.Path(exists=True, dir_okay=False, path_type=Path)

#: A server target: HOST:PORT (a name, an IPv4 address or a [bracketed IPv6] one), or
#: dns:///HOST:PORT (every address of the name, calls spread over them with round_robin;
#: dns://RESOLVER/HOST:PORT names the DNS server), as gRPC reads it.
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])"
_PORT = r"(?:[1-9][0-9]{0,4})"
_TARGET = re.compile(rf"(?:dns:(?://(?:{_HOST}(?::{_PORT})?)?/)?)?{_HOST}:{_PORT}")
_MAX_TARGET = 300


def _check_server_target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a --server that is not HOST:PORT or dns:///HOST:PORT, naming it."""
    if value is None:
        return None
    port = value.rsplit(":", 1)[-1]
    if len(value) > _MAX_TARGET or not _TARGET.fullmatch(value) or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"'{echo(value)}' is not HOST:PORT or dns:///HOST:PORT "
                                 "(e.g. 127.0.0.1:50051, dns:///jixiao-headless.NAMESPACE.svc.cluster.local:50051)")
    return value


server_option = click.option(
    "--server", envvar="JIXIAO_SERVER", default=DEFAULT_SERVER, show_default=True,
    metavar="HOST:PORT", callback=_check_server_target,
    help="The server to call (also $JIXIAO_SERVER); dns:///HOST:PORT spreads calls over every "
         "address of HOST (a Kubernetes headless Service: every replica).")
token_option = click.option(
    "--token", envvar="JIXIAO_TOKEN", metavar="TOKEN",
    help="With --server: the bearer token to send. Prefer $JIXIAO_TOKEN: other users "
         "of the machine can see a command line.")
tls_ca_option = click.option(
    "--tls-ca", "tls_ca", envvar="JIXIAO_TLS_CA", type=_file, metavar="PEM",
    help="With --server: speak TLS, trusting the CA certificates in PEM (also $JIXIAO_TLS_CA).")
registry_option = click.option(
    "--registry", envvar="JIXIAO_REGISTRY", type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH", help="Work on this registry file directly, without a server "
                         "(also $JIXIAO_REGISTRY).")
local_option = click.option("--local", is_flag=True,
                            help="Work in this process with a folder of packs, without a server.")
packs_option = click.option(
    "--packs", envvar="JIXIAO_PACKS", type=click.Path(file_okay=False, path_type=Path),
    help="With --local: the folder of packs (also $JIXIAO_PACKS, as the server reads it; "
         "default: the bundled rules/).")
actor_option = click.option(
    "--as", "actor", metavar="NAME",
    help="With --registry: who the history records (default: your OS user name).")
trusted_key_option = click.option(
    "--trusted-key", "trusted_keys", multiple=True, type=_file, envvar="JIXIAO_TRUSTED_KEYS",
    metavar="PEM", help="With --registry: a public key whose signatures are trusted; "
                        "repeatable (also $JIXIAO_TRUSTED_KEYS, colon-separated).")
require_signatures_option = click.option(
    "--require-signatures", is_flag=True, envvar="JIXIAO_REQUIRE_SIGNATURES",
    help="With --registry: refuse packs not signed by a trusted key "
         "(also $JIXIAO_REQUIRE_SIGNATURES).")


def _stack(*options: Callable) -> Callable:
    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


evaluation_target_options = _stack(server_option, token_option, tls_ca_option, local_option,
                                   packs_option, registry_option)
admin_target_options = _stack(server_option, token_option, tls_ca_option, registry_option,
                              actor_option)
#: For reading a pack's versions and history: no --as, since a read records no actor.
admin_read_options = _stack(server_option, token_option, tls_ca_option, registry_option)
publish_trust_options = _stack(trusted_key_option, require_signatures_option)


def open_evaluation(ctx: click.Context) -> JixiaoClient | LocalJixiao:
    """The evaluation service the command's options name."""
    place = chosen_place(ctx)
    params = ctx.params
    if place == LOCAL:
        return LocalJixiao.from_folder(params["packs"])
    if place == REGISTRY:
        return LocalJixiao.from_registry(params["registry"])
    return _client(params)


def open_admin(ctx: click.Context, create_registry: bool = False) -> JixiaoClient | RegistryAdmin:
    """The pack administration the command's options name: a server, or a registry file
    (created when missing if `create_registry`)."""
    params = ctx.params
    if chosen_place(ctx) == SERVER:
        return _client(params)
    trust = _trust_policy(params.get("trusted_keys", ()), params.get("require_signatures", False))
    return RegistryAdmin(params["registry"], params.get("actor") or os_user(), trust, create_registry)


def os_user() -> str:
    """The name of the user running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        return f"uid {os.getuid()}"


def _client(params: dict) -> JixiaoClient:
    tls_ca = params.get("tls_ca")
    try:
        root_certificates = tls_ca.read_bytes() if tls_ca else None
    except OSError as error:
        raise CliError(f"cannot read the CA certificates {tls_ca}: {error.strerror}") from None
    if root_certificates is not None:
        _check_pem_certificates(tls_ca, root_certificates)
    return JixiaoClient(params["server"], token=params.get("token") or None,
                        root_certificates=root_certificates)


def _check_pem_certificates(path: Path, pem: bytes) -> None:
    """Refuse a --tls-ca file that holds no PEM certificate here, naming it: gRPC would
    print its C core's logs and fail the handshake with words that name no file."""
    from cryptography import x509

    try:
        x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise CliError(f"--tls-ca {path}: not PEM CA certificates "
                       "(expected -----BEGIN CERTIFICATE-----)") from None


#: The cryptography library's own words after ours (a URL, "MalformedFraming"): not for users.
_LIBRARY_DETAIL = re.compile(r"(not a PEM public key): .*", re.DOTALL)


def _trust_policy(key_files: tuple[Path, ...], require_signatures: bool) -> TrustPolicy:
    try:
        return TrustPolicy.from_files(list(key_files), require_signatures)
    except SignatureError as error:
        said = _LIBRARY_DETAIL.sub(r"\1 (an ed25519 public key, as `jixiao pack keygen` writes it "
                                   r"to PREFIX.pub)", str(error))
        raise CliError(f"trusted keys: {said} (give one with --trusted-key PEM)"
                       if error.reason == "no_trusted_keys" else f"trusted keys: {said}") from None


def chosen_place(ctx: click.Context) -> str:
    """Where the command acts; refuses two places, or options that do not apply there."""
    given = [place for place in (SERVER, REGISTRY, LOCAL) if _on_command_line(ctx, place)]
    if len(given) > 1:
        raise click.UsageError(f"use only one of {', '.join(PLACE_OPTIONS[p] for p in given)}")
    if given:
        place = given[0]
    elif ctx.params.get("registry"):
        if ctx.get_parameter_source("server") == ParameterSource.ENVIRONMENT:
            raise click.UsageError("both JIXIAO_SERVER and JIXIAO_REGISTRY are set: "
                                   "choose with --server or --registry")
        place = REGISTRY
    else:
        place = SERVER
    for name, places in APPLIES_TO.items():
        if name in ctx.params and place not in places and _on_command_line(ctx, name):
            only = " or ".join(PLACE_OPTIONS[p] for p in sorted(places))
            raise click.UsageError(f"{_option_name(ctx, name)} works only with {only}")
    return place


def _on_command_line(ctx: click.Context, name: str) -> bool:
    if name not in ctx.params:
        return False
    source = ctx.get_parameter_source(name)
    return source == ParameterSource.COMMANDLINE and ctx.params[name] not in (False, (), None)


def _option_name(ctx: click.Context, name: str) -> str:
    return next(p.opts[0] for p in ctx.command.params if p.name == name)
