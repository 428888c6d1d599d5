"""The jixiao-server process: the EvaluationService plus gRPC health and reflection.

On SIGTERM or SIGINT the server reports NOT_SERVING, stops taking calls, lets the calls
in flight finish (up to the grace period) and exits 0.
"""

from __future__ import annotations

import signal
import threading
from concurrent import futures
from pathlib import Path

import click
import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from jixiao.api.servicer import EvaluationServicer
from jixiao.core.errors import PackError
from jixiao.logs import FORMATS, LEVELS, configure_logging
from jixiao.packs import BUNDLED_PACKS, PackLibrary
from jixiao.v1 import evaluation_pb2, evaluation_pb2_grpc

SERVICE_NAME = evaluation_pb2.DESCRIPTOR.services_by_name["EvaluationService"].full_name

log = structlog.get_logger("jixiao.server")


def build_server(
    library: PackLibrary,
    port: int = 50051,
    host: str = "127.0.0.1",
    workers: int = 8,
    *,
    health_servicer: health.HealthServicer,
) -> tuple[grpc.Server, int]:
    """A server (not yet started) serving `library`, and the port it is bound to.

    Port 0 binds a free port; a port in use raises OSError. Health statuses start as
    NOT_SERVING until `serve` marks them SERVING once the server has started.
    """
    # Without SO_REUSEPORT a second server on a taken port fails instead of sharing it.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc"),
        options=[("grpc.so_reuseport", 0)],
    )
    evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server(EvaluationServicer(library), server)
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        bound_port = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as error:
        raise OSError(f"cannot listen on {host}:{port} (in use, or not an address of this host)") from error
    return server, bound_port


def serve(server: grpc.Server, health_servicer: health.HealthServicer, address: str, grace: float) -> None:
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
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info(f"jixiao-server listening on {address}", address=address)
    while not stop_requested.wait(timeout=1):
        pass
    log.info("stopping", signal=received[0], grace_s=grace)
    health_servicer.enter_graceful_shutdown()
    server.stop(grace).wait()
    log.info("stopped")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--host", envvar="JIXIAO_HOST", show_envvar=True, default="127.0.0.1",
              help="Address to bind; 0.0.0.0 in a container.")
@click.option("--port", envvar="JIXIAO_PORT", show_envvar=True, type=click.IntRange(0, 65535), default=50051,
              help="Port to bind; 0 picks a free one.")
@click.option("--packs", "packs_dir", envvar="JIXIAO_PACKS", show_envvar=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of rule packs (<id>/<version>/pack.yaml).  [default: the repository's rules/]")
@click.option("--log-format", envvar="JIXIAO_LOG_FORMAT", show_envvar=True, type=click.Choice(FORMATS),
              default="auto", help="auto: console on a terminal, else JSON lines.")
@click.option("--log-level", envvar="JIXIAO_LOG_LEVEL", show_envvar=True, type=click.Choice(LEVELS),
              default="info")
@click.option("--workers", envvar="JIXIAO_WORKERS", show_envvar=True, type=click.IntRange(min=1), default=8,
              help="Threads serving calls.")
@click.option("--grace", envvar="JIXIAO_GRACE", show_envvar=True, type=click.FloatRange(min=0), default=10.0,
              help="Seconds that calls in flight may take to finish after SIGTERM.")
def main(host: str, port: int, packs_dir: Path | None, log_format: str, log_level: str,
         workers: int, grace: float) -> None:
    """Serve the jixiao.v1.EvaluationService over gRPC."""
    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    if packs_dir is None:
        if not BUNDLED_PACKS.is_dir():  # an installed package has no checkout beside it
            raise click.UsageError(f"no rules folder at {BUNDLED_PACKS}; pass --packs PATH or set JIXIAO_PACKS")
        packs_dir = BUNDLED_PACKS
    try:
        library = PackLibrary.from_directory(packs_dir)
    except PackError as error:
        problems = "\n".join(f"  {problem}" for problem in error.problems)
        raise click.ClickException(f"the rule packs in {packs_dir} are invalid:\n{problems}") from error
    log.info("packs loaded", folder=str(packs_dir),
             packs=[compiled.pack.ref for compiled in library.list()])
    health_servicer = health.HealthServicer()
    try:
        server, bound_port = build_server(library, port, host, workers, health_servicer=health_servicer)
    except OSError as error:
        raise click.ClickException(str(error)) from error
    serve(server, health_servicer, f"{host}:{bound_port}", grace)


if __name__ == "__main__":
    main()
