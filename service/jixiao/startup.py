"""What jixiao-server runs with, from its settings: the registry (seeded from a pack
folder), the trust policy for signatures, the tokens, and the TLS credentials.

Each function raises click.ClickException with a message an operator can act on, so a
misconfigured server stops at start instead of serving the wrong thing.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import grpc
import structlog

from jixiao.api.tokens import TokenConfigError, TokenTable, load_tokens
from jixiao.core.errors import PackError
from jixiao.database.connection import redacted
from jixiao.database.outage import describe
from jixiao.registry.publishing import GateRefused
from jixiao.registry.seed import seed_from_folder
from jixiao.registry.signing import SignatureError, TrustPolicy
from jixiao.registry.store import Registry

log = structlog.get_logger("jixiao.server")


def default_registry_path() -> Path:
    """`$XDG_DATA_HOME/jixiao/registry.sqlite3`, XDG_DATA_HOME defaulting to ~/.local/share."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "jixiao" / "registry.sqlite3"


def open_registry(path: Path | None, url: str | None) -> Registry:
    """The registry at the SQLAlchemy `url`, else the SQLite file at `path` (or the default).

    A failure names the registry by its URL with the password as *** and gives the driver's
    first line, scrubbed of the password too: the message goes to a terminal or a log.
    """
    try:
        return Registry(url) if url else Registry.open_file(path or default_registry_path())
    except Exception as error:  # noqa: BLE001 - any driver error: say which registry, then stop
        where = redacted(url) if url else str(path or default_registry_path())
        # `from None`: the driver's own text is not chained into a traceback someone may print.
        raise click.ClickException(f"cannot open the registry {where}: {describe(error, url)}") from None


def trust_policy(key_files: tuple[Path, ...], require_signatures: bool) -> TrustPolicy:
    """The trusted public keys; refuses to require signatures without any key to check them."""
    try:
        trust = TrustPolicy.from_files(list(key_files), require_signatures)
    except (SignatureError, OSError) as error:
        raise click.ClickException(f"trusted keys: {error}") from error
    log.info("signatures", required=require_signatures, trusted_keys=sorted(trust.keys))
    return trust


def seed_registry(registry: Registry, folder: Path, trust: TrustPolicy) -> None:
    """Publish the folder's packs that the registry lacks; a pack the gate refuses stops the start.

    A folder with no pack in it is no error (the registry may hold versions already, or ops
    publish them later), but it is logged as a warning: such a server may serve nothing."""
    if not any(Path(folder).glob("*/*/pack.yaml")):
        log.warning("no rule packs in the pack folder (expected <pack-id>/<version>/pack.yaml); "
                    "only versions already in the registry are served", folder=str(folder))
    try:
        seed_from_folder(registry, folder, trust)
    except (GateRefused, SignatureError, PackError) as error:
        raise click.ClickException(f"the rule packs in {folder} cannot be published: {error}") from error
    log.info("registry ready", active=registry.active_versions())


def token_table(config_file: Path | None, env_value: str | None, require_for_evaluate: bool) -> TokenTable:
    """The configured tokens (names logged, never the hashes)."""
    try:
        tokens = load_tokens(config_file, env_value)
    except (TokenConfigError, OSError) as error:
        raise click.ClickException(f"tokens: {error}") from error
    if require_for_evaluate and not tokens.entries:
        raise click.UsageError("--require-token-for-evaluate needs tokens: pass --auth-config FILE or set JIXIAO_TOKENS")
    log.info("tokens", names=tokens.names(), evaluate_needs_token=require_for_evaluate)
    return tokens


def tls_credentials(cert: Path | None, key: Path | None) -> grpc.ServerCredentials | None:
    """Server credentials from PEM files; None (plaintext) when neither is given."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise click.UsageError("TLS needs both --tls-cert and --tls-key")
    try:
        cert_pem, key_pem = cert.read_bytes(), key.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read the TLS files: {error}") from error
    check_tls_pair(cert, cert_pem, key, key_pem)
    return grpc.ssl_server_credentials([(key_pem, cert_pem)])


def check_tls_pair(cert: Path, cert_pem: bytes, key: Path, key_pem: bytes) -> None:
    """Stop the start, naming the file, unless `cert_pem` is a PEM certificate (chain) and
    `key_pem` an unencrypted PEM private key of its first certificate: gRPC itself would
    only fail once the port is bound, with a message that names neither file."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        certificates = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise click.ClickException(
            f"--tls-cert {cert}: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)") from None
    try:
        private_key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise click.ClickException(f"--tls-key {key}: the private key is encrypted; give an unencrypted one") from None
    except (ValueError, UnsupportedAlgorithm):
        raise click.ClickException(
            f"--tls-key {key}: not a PEM private key (expected -----BEGIN PRIVATE KEY-----)") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if private_key.public_key().public_bytes(encoding, public) != certificates[0].public_key().public_bytes(
            encoding, public):
        raise click.ClickException(f"--tls-key {key} is not the private key of the certificate in --tls-cert {cert}")
