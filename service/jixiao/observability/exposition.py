"""Serving `/metrics` over HTTP: one process's own metrics, or a supervisor's workers' added up.

A server run as one process (`--processes 1`) serves its own registry. Under a supervisor
(`--processes N`) the supervisor serves them: before its first worker starts it makes a
new, empty folder and names it in PROMETHEUS_MULTIPROC_DIR, which the workers (spawned
processes) inherit, so prometheus_client in each of them keeps its values in files there;
the supervisor's `/metrics` reads them all (MultiProcessCollector), its own restart count
included. A dead worker's live gauges are dropped (`mark_process_dead`); its counters and
histograms stay counted. The folder is removed when the supervisor exits.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog

from . import metrics

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

log = structlog.get_logger("jixiao.metrics")


#: Connections the endpoint holds at once (more are closed at once), the seconds a connection
#: may stay silent (a request sent a byte at a time is dropped), and how long a scrape waits
#: for the one in progress before it is answered 503.
MAX_CONNECTIONS = 16
IDLE_TIMEOUT_S = 5.0
SCRAPE_WAIT_S = 10.0


class _QuietHandler(WSGIRequestHandler):
    """Logs nothing (prometheus_client's own handler does the same); drops a silent connection."""

    timeout = IDLE_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class _BoundedServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, at most MAX_CONNECTIONS of them; a connection past that is closed.

    prometheus_client's server starts a thread for every connection, and each scrape builds
    the whole exposition holding the GIL: a thousand connections opened at once starved the
    gRPC event loop of this process for tens of seconds.
    """

    daemon_threads = True
    address_family = socket.AF_INET
    request_queue_size = 128  # connections waiting to be accepted (socketserver's 5 drops a burst's SYNs)

    def __init__(self, *args: Any, **kwargs: Any):
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """A client that timed out or went away: nothing to print (the default writes a traceback to stderr)."""


def _one_scrape_at_a_time(app: Any) -> Any:
    """`app` answering one request at a time; one that waits SCRAPE_WAIT_S for it gets 503."""
    turn = threading.Lock()

    def serve(environ, start_response):
        if not turn.acquire(timeout=SCRAPE_WAIT_S):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
            return [b"busy: another scrape is in progress\n"]
        try:
            return [b"".join(app(environ, start_response))]
        finally:
            turn.release()

    return serve


def _start(address: str, port: int, registry: Any) -> tuple[WSGIServer, threading.Thread]:
    from prometheus_client import make_wsgi_app

    family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class = type("MetricsServer", (_BoundedServer,), {"address_family": family})
    server = make_server(address, port, _one_scrape_at_a_time(make_wsgi_app(registry)), server_class,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return server, thread


class MetricsEndpoint:
    """An HTTP server answering `/metrics` from `registry`, in a daemon thread (see _BoundedServer)."""

    def __init__(self, host: str, port: int, registry: Any):
        address = host.strip("[]") or "0.0.0.0"
        try:
            self._server, self._thread = _start(address, port, registry)
        except OSError as error:
            raise OSError(f"cannot serve metrics on {host}:{port} (in use, or not an address of this host)") \
                from error
        self.port = self._server.server_port
        shown = f"[{address}]" if ":" in address else address
        log.info(f"metrics served on http://{shown}:{self.port}/metrics", metrics_port=self.port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_own(host: str, port: int) -> MetricsEndpoint:
    """Serve this process's metrics (enabling them)."""
    metrics.enable()
    from prometheus_client import REGISTRY

    return MetricsEndpoint(host, port, REGISTRY)


class WorkersMetrics:
    """A supervisor's side of multiprocess metrics: the folder, the endpoint, the dead workers."""

    def __init__(self, host: str, port: int):
        parent = os.environ.get(MULTIPROC_VARIABLE) or None  # an operator's folder: a new one inside it
        self.path = tempfile.mkdtemp(prefix="jixiao-metrics-", dir=parent)
        try:
            os.environ[MULTIPROC_VARIABLE] = self.path  # before any worker is spawned, and before enable()
            metrics.enable()
            from prometheus_client import CollectorRegistry
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.path)
            self.endpoint = MetricsEndpoint(host, port, registry)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    def worker_died(self, pid: int) -> None:
        """Drop the live gauges of a worker that exited (its queue depth, its active versions)."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, self.path)

    def close(self) -> None:
        self.endpoint.close()
        shutil.rmtree(self.path, ignore_errors=True)
