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
import tempfile
from typing import Any

import structlog

from . import metrics

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

log = structlog.get_logger("jixiao.metrics")


class MetricsEndpoint:
    """An HTTP server answering `/metrics` from `registry`, in a daemon thread."""

    def __init__(self, host: str, port: int, registry: Any):
        from prometheus_client import start_http_server

        address = host.strip("[]") or "0.0.0.0"
        try:
            self._server, self._thread = start_http_server(port, addr=address, registry=registry)
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
