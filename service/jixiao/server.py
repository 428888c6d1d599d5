"""The jixiao-server process: the EvaluationService and the PackAdminService over one
registry, plus gRPC health and reflection, behind bearer-token checks and optional TLS.

At start the packs of a folder (the bundled rules/) are published into the registry
through the gate; versions already published are left alone. On SIGTERM or SIGINT the
server reports NOT_SERVING, stops taking calls, lets the calls in flight finish (up to
the grace period) and exits 0.
"""

from __future__ import annotations

import signal
import threading
from concurrent import futures
from contextlib import ExitStack
from pathlib import Path
from typing import Sequence

import click
import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from jixiao import startup
from jixiao.api.admin import PackAdminServicer
from jixiao.api.auth import ADMIN_SERVICE, EVALUATION_SERVICE, AuthInterceptor
from jixiao.api.servicer import EvaluationServicer, PackSource
from jixiao.catalog import RegistryCatalog
from jixiao.logs import FORMATS, LEVELS, configure_logging
from jixiao.packs import BUNDLED_PACKS
from jixiao.v1 import admin_pb2_grpc, evaluation_pb2_grpc

SERVICE_NAME = EVALUATION_SERVICE
POLL_INTERVAL_S = 0.5

log = structlog.get_logger("jixiao.server")


def build_server(
    library: PackSource,
    port: int = 50051,
    host: str = "127.0.0.1",
    workers: int = 8,
    *,
    health_servicer: health.HealthServicer,
    admin: PackAdminServicer | None = None,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> tuple[grpc.Server, int]:
    """A server (not yet started) serving `library` (and `admin`), and the port it is bound to.

    Port 0 binds a free port; a port in use raises OSError. With `credentials` the port
    speaks TLS only. Health statuses start as NOT_SERVING until `serve` marks them SERVING
    once the server has started.
    """
    # Without SO_REUSEPORT a second server on a taken port fails instead of sharing it.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc"),
        options=[("grpc.so_reuseport", 0)],
        interceptors=list(interceptors),
    )
    evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server(EvaluationServicer(library), server)
    if admin is not None:
        admin_pb2_grpc.add_PackAdminServiceServicer_to_server(admin, server)
    for service in served_services(admin is not None):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*served_services(admin is not None)[1:], health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{host}:{port}"
    try:
        if credentials is None:
            bound_port = server.add_insecure_port(address)
        else:
            bound_port = server.add_secure_port(address, credentials)
    except RuntimeError as error:
        raise OSError(f"cannot listen on {address} (in use, or not an address of this host)") from error
    return server, bound_port


def served_services(with_admin: bool) -> tuple[str, ...]:
    """The names health reports on: the server as a whole (""), then each service."""
    return ("", SERVICE_NAME, ADMIN_SERVICE) if with_admin else ("", SERVICE_NAME)


def serve(server: grpc.Server, health_servicer: health.HealthServicer, address: str, grace: float,
          services: Sequence[str] = ("", SERVICE_NAME)) -> None:
    """Start `server`, mark it SERVING, and block until SIGTERM/SIGINT, then drain and stop."""
    stop_requested = threading.Event()
    received: list[str] = []

    def request_stop(signum: int, _frame: object) -> None:
        # Only record it: logging here could deadlock on a write the signal interrupted.
        received.append(signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    for service in services:
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info(f"jixiao-server listening on {address}", address=address)
    while not stop_requested.wait(timeout=1):
        pass
    log.info("stopping", signal=received[0], grace_s=grace)
    health_servicer.enter_graceful_shutdown()
    server.stop(grace).wait()
    log.info("stopped")




def _path(**kwargs) -> click.Path:
    return click.Path(dir_okay=False, path_type=Path, **kwargs)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--host", envvar="JIXIAO_HOST", show_envvar=True, default="127.0.0.1",
              help="Address to bind; 0.0.0.0 in a container.")
@click.option("--port", envvar="JIXIAO_PORT", show_envvar=True, type=click.IntRange(0, 65535), default=50051,
              help="Port to bind; 0 picks a free one.")
@click.option("--registry", "registry_path", envvar="JIXIAO_REGISTRY", show_envvar=True, type=_path(),
              help="SQLite file of published pack versions, created when missing.  "
                   "[default: ${XDG_DATA_HOME:-~/.local/share}/jixiao/registry.sqlite3]")
@click.option("--registry-url", envvar="JIXIAO_REGISTRY_URL", show_envvar=True,
              help="SQLAlchemy URL of a shared registry (e.g. postgresql://…); overrides --registry.")
@click.option("--packs", "packs_dir", envvar="JIXIAO_PACKS", show_envvar=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of rule packs (<id>/<version>/pack.yaml) published into the registry at start "
                   "(versions already published are left alone).  [default: the repository's rules/]")
@click.option("--trusted-key", "trusted_keys", multiple=True, envvar="JIXIAO_TRUSTED_KEYS", show_envvar=True,
              type=_path(exists=True),
              help="Ed25519 public key (PEM) whose pack signatures are trusted; repeatable "
                   "(JIXIAO_TRUSTED_KEYS: colon-separated).")
@click.option("--require-signatures", envvar="JIXIAO_REQUIRE_SIGNATURES", show_envvar=True, is_flag=True,
              help="Refuse to publish packs not signed by a trusted key.")
@click.option("--auth-config", envvar="JIXIAO_AUTH_CONFIG", show_envvar=True, type=_path(exists=True),
              help="YAML file of bearer tokens (name, sha256, roles). Without tokens, admin calls are refused.")
@click.option("--tokens", "tokens_env", envvar="JIXIAO_TOKENS", show_envvar=True, metavar="NAME:SHA256:ROLE+ROLE,…",
              help="More tokens, as hashes (see `jixiao token hash`).")
@click.option("--require-token-for-evaluate", envvar="JIXIAO_REQUIRE_TOKEN_FOR_EVALUATE", show_envvar=True,
              is_flag=True, help="Evaluation calls need a token with the evaluate (or deploy) role too.")
@click.option("--tls-cert", envvar="JIXIAO_TLS_CERT", show_envvar=True, type=_path(exists=True),
              help="PEM certificate chain: serve TLS only (with --tls-key).")
@click.option("--tls-key", envvar="JIXIAO_TLS_KEY", show_envvar=True, type=_path(exists=True),
              help="PEM private key of --tls-cert.")
@click.option("--log-format", envvar="JIXIAO_LOG_FORMAT", show_envvar=True, type=click.Choice(FORMATS),
              default="auto", help="auto: console on a terminal, else JSON lines.")
@click.option("--log-level", envvar="JIXIAO_LOG_LEVEL", show_envvar=True, type=click.Choice(LEVELS),
              default="info")
@click.option("--workers", envvar="JIXIAO_WORKERS", show_envvar=True, type=click.IntRange(min=1), default=8,
              help="Threads serving calls.")
@click.option("--grace", envvar="JIXIAO_GRACE", show_envvar=True, type=click.FloatRange(min=0), default=10.0,
              help="Seconds that calls in flight may take to finish after SIGTERM.")
def main(host: str, port: int, registry_path: Path | None, registry_url: str | None, packs_dir: Path | None,
         trusted_keys: tuple[Path, ...], require_signatures: bool, auth_config: Path | None,
         tokens_env: str | None, require_token_for_evaluate: bool, tls_cert: Path | None, tls_key: Path | None,
         log_format: str, log_level: str, workers: int, grace: float) -> None:
    """Serve jixiao.v1.EvaluationService and PackAdminService over gRPC."""
    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    if packs_dir is None:
        if not BUNDLED_PACKS.is_dir():  # an installed package has no checkout beside it
            raise click.UsageError(f"no rules folder at {BUNDLED_PACKS}; pass --packs PATH or set JIXIAO_PACKS")
        packs_dir = BUNDLED_PACKS
    trust = startup.trust_policy(trusted_keys, require_signatures)
    tokens = startup.token_table(auth_config, tokens_env, require_token_for_evaluate)
    credentials = startup.tls_credentials(tls_cert, tls_key)
    with ExitStack() as cleanup:
        registry = startup.open_registry(registry_path, registry_url)
        cleanup.callback(registry.close)
        startup.seed_registry(registry, packs_dir, trust)
        catalog = RegistryCatalog(registry, POLL_INTERVAL_S)
        cleanup.callback(catalog.close)
        health_servicer = health.HealthServicer()
        try:
            server, bound_port = build_server(
                catalog, port, host, workers, health_servicer=health_servicer,
                admin=PackAdminServicer(registry, catalog, trust),
                interceptors=[AuthInterceptor(tokens, require_token_for_evaluate)], credentials=credentials)
        except OSError as error:
            raise click.ClickException(str(error)) from error
        catalog.start()
        serve(server, health_servicer, f"{host}:{bound_port}", grace, served_services(with_admin=True))

if __name__ == "__main__":
    main()
