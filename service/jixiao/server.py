"""The jixiao-server process: the EvaluationService and the PackAdminService over one
registry, plus gRPC health and reflection, behind bearer-token checks and optional TLS.

At start the packs of a folder (the bundled rules/) are published into the registry
through the gate; versions already published are left alone. Calls are served by
grpc.aio on one asyncio event loop: an idle, slow or half-open stream holds no thread,
so it cannot starve health checks or other calls (limits and keep-alive pings bound
how many a caller may hold). On SIGTERM or SIGINT the server reports NOT_SERVING, stops
taking calls, lets the calls in flight finish (up to the grace period) and exits 0.

With `--processes N` (N > 1; the default is one per CPU) a supervisor runs N such
servers on the port and restarts those that die (supervisor.py); with 1 this process
serves alone.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from contextlib import ExitStack
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable, Sequence

import click
import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from jixiao import startup
from jixiao.api import reflection_v1 as reflection  # v1alpha and v1
from jixiao.api.admin import PackAdminServicer
from jixiao.api.audit import AuditServicer
from jixiao.api.auth import ADMIN_SERVICE, AUDIT_SERVICE, EVALUATION_SERVICE, AuthInterceptor
from jixiao.api.decisions import DecisionHub
from jixiao.api.decoding import add_service
from jixiao.api.servicer import EvaluationServicer, PackSource
from jixiao.catalog import RegistryCatalog
from jixiao.logs import FORMATS, LEVELS, configure_logging
from jixiao.observability.setup import check_tracing, for_server as observability_for
from jixiao.about import version_text
from jixiao.packs import BUNDLED_PACKS
from jixiao.registry.trial import abandon_trials
from jixiao.settings import AuditSettings, ConnectionLimits, ServerSettings, available_cpus, parse_duration
from jixiao.shadow.runner import ShadowSink
from jixiao.sinks import decision_hub
from jixiao.supervisor import die_with_supervisor, supervise
from jixiao.v1 import admin_pb2, audit_pb2, evaluation_pb2

SERVICE_NAME = EVALUATION_SERVICE
POLL_INTERVAL_S = 0.5
# Clients (jixiao_cli.channels) ping every 20 s during calls to notice a dead connection;
# without this a server answers pings more frequent than every 5 minutes with GOAWAY.
MIN_CLIENT_PING_INTERVAL_MS = 10_000

log = structlog.get_logger("jixiao.server")


def server_options(limits: ConnectionLimits, share_port: bool) -> list[tuple[str, int]]:
    """gRPC core's channel arguments for the server's connections (see deploy/README.md, Connections)."""
    return [
        # Without SO_REUSEPORT a second server on a taken port fails instead of sharing it.
        ("grpc.so_reuseport", int(share_port)),
        ("grpc.http2.min_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
        # Calls in HTTP/2 streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS):
        # a gRPC client queues the calls past it until one ends.
        ("grpc.max_concurrent_streams", limits.max_streams_per_connection),
        # With calls open, ping a connection that was quiet this long; no answer within the
        # timeout closes it and cancels its calls: a client that vanished (a half-open
        # connection) lets go of its streams. Pings go on however long the calls stay silent.
        ("grpc.keepalive_time_ms", round(limits.keepalive_time_s * 1000)),
        ("grpc.keepalive_timeout_ms", round(limits.keepalive_timeout_s * 1000)),
        # gRPC core times each ping by this one (60 s by default), whatever the keep-alive timeout.
        ("grpc.http2.ping_timeout_ms", round(limits.keepalive_timeout_s * 1000)),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.max_pings_without_data", 0),
        # A connection with no call open for this long is closed (GOAWAY; clients reconnect).
        ("grpc.max_connection_idle_ms", round(limits.max_connection_idle_s * 1000)),
    ]


async def build_server(
    library: PackSource,
    port: int = 50051,
    host: str = "127.0.0.1",
    *,
    health_servicer: health.aio.HealthServicer,
    admin: PackAdminServicer | None = None,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
    share_port: bool = False,
    limits: ConnectionLimits = ConnectionLimits(),
    decisions: DecisionHub | None = None,
    audit: AuditServicer | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server (not yet started) serving `library` (and `admin`), and the port it is bound to.

    Call it on the event loop that will run the server. Port 0 binds a free port; a port
    in use raises OSError. With `credentials` the port speaks TLS only. Health statuses
    start as NOT_SERVING until `serve` marks them SERVING once the server has started.
    `share_port` (the supervisor's workers) binds with SO_REUSEPORT, so that the kernel
    spreads connections over every server on the port. Every call is served on the event
    loop: an idle or slow stream holds no thread, only its place in `limits`. Every
    evaluation answered goes to `decisions` (the decision log, shadow runs, metrics);
    `audit` serves what the decision log holds.
    """
    server = grpc.aio.server(options=server_options(limits, share_port), interceptors=list(interceptors))
    add_service(server, evaluation_pb2.DESCRIPTOR.services_by_name["EvaluationService"],
                EvaluationServicer(library, limits.max_batch_streams, limits.batch_idle_timeout_s,
                                   limits.max_waiting_reports, decisions or DecisionHub.none()))
    if admin is not None:
        add_service(server, admin_pb2.DESCRIPTOR.services_by_name["PackAdminService"], admin)
    if audit is not None:
        add_service(server, audit_pb2.DESCRIPTOR.services_by_name["AuditService"], audit)
    for service in served_services(admin is not None, audit is not None):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*served_services(admin is not None, audit is not None)[1:], health.SERVICE_NAME, reflection.SERVICE_NAME),
        server
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


def served_services(with_admin: bool, with_audit: bool = False) -> tuple[str, ...]:
    """The names health reports on: the server as a whole (""), then each service."""
    return ("", SERVICE_NAME, *((ADMIN_SERVICE,) if with_admin else ()), *((AUDIT_SERVICE,) if with_audit else ()))


async def serve(server: grpc.aio.Server, health_servicer: health.aio.HealthServicer, address: str, grace: float,
                services: Sequence[str] = ("", SERVICE_NAME), on_serving: Callable[[], None] | None = None,
                on_stopped: Sequence[Callable[[], None]] = ()) -> None:
    """Start `server`, mark it SERVING, and wait until SIGTERM/SIGINT, then drain and stop.

    `on_serving` is called once the server serves (a worker tells its supervisor);
    `on_stopped`, in order, once the last call has been answered (the decision log
    writes what it holds).
    """
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    received: list[str] = []

    def request_stop(signum: int) -> None:
        received.append(signal.Signals(signum).name)
        stop_requested.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop, signum)
    await server.start()
    for service in services:
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info(f"jixiao-server listening on {address}", address=address)
    if on_serving is not None:
        on_serving()
    await stop_requested.wait()
    log.info("stopping", signal=received[0], grace_s=grace)
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace)
    abandon_trials()  # a publish still in its trial after the grace: kill it, or the exit would wait for it
    for stopped in on_stopped:
        await asyncio.to_thread(stopped)
    log.info("stopped")


def run_server(settings: ServerSettings, *, seed: bool = True, share_port: bool = False,
               on_serving: Callable[[], None] | None = None) -> None:
    """Serve `settings` in this process until SIGTERM/SIGINT.

    `seed` publishes the pack folder into the registry first (a supervisor does it once,
    before its workers start). Raises click.ClickException when the settings are unusable.
    """
    trust = startup.trust_policy(settings.trusted_keys, settings.require_signatures)
    tokens = startup.token_table(settings.auth_config, settings.tokens_env, settings.require_token_for_evaluate)
    credentials = startup.tls_credentials(settings.tls_cert, settings.tls_key)
    observed = observability_for(settings, supervised=share_port)  # request ids, metrics, --otel
    with ExitStack() as cleanup:
        registry = startup.open_registry(settings.registry_path, settings.registry_url)
        cleanup.callback(registry.close)
        if seed:
            startup.seed_registry(registry, settings.packs_dir, trust)
        catalog = RegistryCatalog(registry, POLL_INTERVAL_S, trust)
        cleanup.callback(catalog.close)

        async def main() -> None:
            health_servicer = health.aio.HealthServicer()
            decisions, flushes = decision_hub(settings, registry, catalog)
            try:
                server, bound_port = await build_server(
                    catalog, settings.port, settings.host, health_servicer=health_servicer,
                    admin=PackAdminServicer(registry, catalog, trust, shadow=decisions.sink(ShadowSink)),
                    interceptors=[observed.interceptor,
                                  AuthInterceptor(tokens, settings.require_token_for_evaluate)],
                    credentials=credentials, share_port=share_port, limits=settings.limits,
                    decisions=decisions, audit=AuditServicer(registry, catalog, settings.audit.enabled))
            except OSError as error:
                raise click.ClickException(str(error)) from error
            # The watcher thread swaps the catalog's snapshot in one assignment; calls on the
            # loop read whichever snapshot is current, as they did from threads.
            catalog.start()
            settle_garbage_collector()
            await serve(server, health_servicer, f"{settings.host}:{bound_port}", settings.grace,
                        served_services(with_admin=True, with_audit=True), on_serving, [*flushes, *observed.at_stop])

        asyncio.run(main())


#: Cyclic GC thresholds while serving: young collections as usual (cheap, they see only
#: what was allocated since the last one), full collections a hundred times rarer.
GC_THRESHOLDS = (700, 10, 1000)


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector's pauses out of the latency of calls.

    Scoring allocates only acyclic objects, which reference counting frees, but each
    allocation still counts towards a collection, and a full collection walks every
    tracked object in the process (the loaded packs, the memos, gRPC's modules): under
    load those pauses made the p99 of unary calls 5-10 times their median (bench/README).
    Freezing what start-up loaded takes it out of every later collection; rarer full
    collections keep the rest short. Cycles (an exception's traceback, say) are still
    collected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_supervisor(settings: ServerSettings, processes: int) -> int:
    """Check the settings and seed the registry once, then run `processes` workers; the exit status."""
    trust = startup.trust_policy(settings.trusted_keys, settings.require_signatures)
    startup.token_table(settings.auth_config, settings.tokens_env, settings.require_token_for_evaluate)
    startup.tls_credentials(settings.tls_cert, settings.tls_key)
    check_tracing(settings)
    registry = startup.open_registry(settings.registry_path, settings.registry_url)
    try:
        startup.seed_registry(registry, settings.packs_dir, trust)
    finally:
        registry.close()
    try:
        return supervise(settings, processes, run_worker)
    except OSError as error:
        raise click.ClickException(str(error)) from error


def run_worker(settings: ServerSettings, index: int, supervisor_pid: int, ready: Connection) -> None:
    """A supervised server process: serve on the shared port, and say so through `ready`."""
    # Until `serve` handles it, ignore a terminal's Ctrl-C: it reaches the supervisor too,
    # which forwards it as SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_supervisor(supervisor_pid)
    configure_logging(settings.log_format, settings.log_level,  # type: ignore[arg-type]
                      process={"worker": index, "pid": os.getpid()})
    try:
        run_server(settings, seed=False, share_port=True, on_serving=lambda: ready.send(os.getpid()))
    except click.ClickException as error:
        log.error("worker cannot serve", reason=error.format_message())
        sys.exit(1)


def _path(**kwargs) -> click.Path:
    return click.Path(dir_okay=False, path_type=Path, **kwargs)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text("jixiao-server"))
        ctx.exit()


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the version and the bundled packs, then exit.")
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
                   "(versions already published are left alone).  [default: the bundled packs]")
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
@click.option("--processes", envvar="JIXIAO_PROCESSES", show_envvar=True, type=click.IntRange(min=1),
              default=available_cpus, show_default="one per CPU this process may use, within its cgroup CPU quota",
              help="Server processes sharing the port (SO_REUSEPORT) under a supervisor that restarts "
                   "those that die; 1 serves in this process alone. In a container, set it to the CPU limit.")
@click.option("--workers", envvar="JIXIAO_WORKERS", show_envvar=True, type=click.IntRange(min=1), default=None,
              help="Deprecated and ignored: each server process serves every call from one asyncio event loop "
                   "(add processes with --processes).")
@click.option("--max-batch-streams", envvar="JIXIAO_MAX_BATCH_STREAMS", show_envvar=True,
              type=click.IntRange(min=1), default=ConnectionLimits.max_batch_streams,
              help="EvaluateBatch streams one server process holds open at once; past it a new stream gets "
                   "RESOURCE_EXHAUSTED.")
@click.option("--max-streams-per-connection", envvar="JIXIAO_MAX_STREAMS_PER_CONNECTION", show_envvar=True,
              type=click.IntRange(min=1), default=ConnectionLimits.max_streams_per_connection,
              help="Calls open at once on one client connection (HTTP/2 max concurrent streams); "
                   "a client queues the calls past it.")
@click.option("--keepalive-time", envvar="JIXIAO_KEEPALIVE_TIME", show_envvar=True,
              type=click.FloatRange(min=1), default=ConnectionLimits.keepalive_time_s,
              help="Seconds of quiet after which the server pings a connection that has calls open.")
@click.option("--keepalive-timeout", envvar="JIXIAO_KEEPALIVE_TIMEOUT", show_envvar=True,
              type=click.FloatRange(min=1), default=ConnectionLimits.keepalive_timeout_s,
              help="Seconds a ping may go unanswered before the connection is closed and its calls cancelled.")
@click.option("--max-connection-idle", envvar="JIXIAO_MAX_CONNECTION_IDLE", show_envvar=True,
              type=click.FloatRange(min=1), default=ConnectionLimits.max_connection_idle_s,
              help="Seconds a connection may stay open with no call before the server closes it.")
@click.option("--batch-idle-timeout", envvar="JIXIAO_BATCH_IDLE_TIMEOUT", show_envvar=True,
              type=click.FloatRange(min=0.1), default=ConnectionLimits.batch_idle_timeout_s,
              help="Seconds an EvaluateBatch stream may wait for its next request, or for its client to read a "
                   "result, before the server ends it with DEADLINE_EXCEEDED.")
@click.option("--max-waiting-reports", envvar="JIXIAO_MAX_WAITING_REPORTS", show_envvar=True,
              type=click.IntRange(min=0), default=ConnectionLimits.max_waiting_reports,
              help="RenderReport calls one server process holds waiting while it renders another (it renders "
                   "one at a time, off the event loop); past it a new one gets RESOURCE_EXHAUSTED.")
@click.option("--grace", envvar="JIXIAO_GRACE", show_envvar=True, type=click.FloatRange(min=0), default=10.0,
              help="Seconds that calls in flight may take to finish after SIGTERM.")
@click.option("--decision-log/--no-decision-log", "decision_log", envvar="JIXIAO_DECISION_LOG", show_envvar=True,
              default=AuditSettings.enabled,
              help="Record every evaluation answered (who asked, the facts, the pack digest, the reply's digest) "
                   "in the registry's database, for `jixiao audit`.")
@click.option("--decision-log-facts", envvar="JIXIAO_DECISION_LOG_FACTS", show_envvar=True,
              type=click.Choice(["full", "redact"]), default="full",
              help="full: keep each request's facts (canonical JSON); redact: keep only their sha256 "
                   "(such decisions cannot be replayed).")
@click.option("--decision-log-retention", envvar="JIXIAO_DECISION_LOG_RETENTION", show_envvar=True,
              default="400d", metavar="DURATION",
              help="How long decisions are kept, e.g. 400d, 36h or 90m (0: forever); older ones are deleted "
                   "in the background.")
@click.option("--decision-log-flush-interval", envvar="JIXIAO_DECISION_LOG_FLUSH_INTERVAL", show_envvar=True,
              type=click.FloatRange(min=0.01, max=60), default=AuditSettings.flush_interval_s,
              help="Seconds between the decision log's writes; a process killed with SIGKILL loses at most the "
                   "decisions of the last interval (SIGTERM loses none).")
@click.option("--metrics-port", envvar="JIXIAO_METRICS_PORT", show_envvar=True, type=click.IntRange(0, 65535),
              default=None, help="Serve Prometheus metrics over HTTP on --host at this port (every server "
                                 "process counted); none by default.")
@click.option("--otel", envvar="JIXIAO_OTEL", show_envvar=True, is_flag=True,
              help="Trace every call with OpenTelemetry, exported over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT); "
                   "needs the otel extra: pip install 'jixiao[otel]'.")
def main(host: str, port: int, registry_path: Path | None, registry_url: str | None, packs_dir: Path | None,
         trusted_keys: tuple[Path, ...], require_signatures: bool, auth_config: Path | None,
         tokens_env: str | None, require_token_for_evaluate: bool, tls_cert: Path | None, tls_key: Path | None,
         log_format: str, log_level: str, processes: int, workers: int | None, max_batch_streams: int,
         max_streams_per_connection: int, keepalive_time: float, keepalive_timeout: float,
         max_connection_idle: float, batch_idle_timeout: float, max_waiting_reports: int,
         grace: float, decision_log: bool, decision_log_facts: str, decision_log_retention: str,
         decision_log_flush_interval: float, metrics_port: int | None, otel: bool) -> None:
    """Serve jixiao.v1.EvaluationService, PackAdminService and AuditService over gRPC."""
    supervised = processes > 1
    try:
        retention = parse_duration(decision_log_retention)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--decision-log-retention'") from None
    if metrics_port and metrics_port == port:  # else the metrics take it first and gRPC "cannot listen"
        raise click.BadParameter(f"{metrics_port} is the gRPC port (--port): give the metrics a port of their own",
                                 param_hint="'--metrics-port'")
    configure_logging(log_format, log_level,  # type: ignore[arg-type]
                      process={"pid": os.getpid()} if supervised else None)
    if packs_dir is None:
        if not BUNDLED_PACKS.is_dir():  # a build that carries no packs
            raise click.UsageError(f"no rules folder at {BUNDLED_PACKS}; pass --packs PATH or set JIXIAO_PACKS")
        packs_dir = BUNDLED_PACKS
    settings = ServerSettings(
        host=host, port=port, packs_dir=packs_dir, registry_path=registry_path, registry_url=registry_url,
        trusted_keys=trusted_keys, require_signatures=require_signatures, auth_config=auth_config,
        tokens_env=tokens_env, require_token_for_evaluate=require_token_for_evaluate, tls_cert=tls_cert,
        tls_key=tls_key, log_format=log_format, log_level=log_level, grace=grace,
        limits=ConnectionLimits(max_batch_streams, max_streams_per_connection, keepalive_time, keepalive_timeout,
                                max_connection_idle, batch_idle_timeout, max_waiting_reports),
        audit=AuditSettings(decision_log, decision_log_facts == "redact",
                            retention, decision_log_flush_interval),
        metrics_port=metrics_port, otel=otel)
    if workers is not None:
        log.warning("--workers (JIXIAO_WORKERS) is ignored: every call is served from one event loop per "
                    "process; use --processes to use more CPUs", workers=workers)
    if supervised:
        sys.exit(run_supervisor(settings, processes))
    run_server(settings)


if __name__ == "__main__":
    main()
