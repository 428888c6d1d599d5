"""The server's Prometheus metrics, and the small functions the rest of the service calls.

Every function here is safe to call at any time: until `enable()` has been called (a
server started without `--metrics-port`, the CLI, most tests) it returns at once and
prometheus_client is not even imported. `enable()` creates the metric objects; in a
process whose environment names PROMETHEUS_MULTIPROC_DIR at that moment (the workers of
a supervisor, and the supervisor itself, see exposition.py) prometheus_client keeps
every value in a file of that folder, so the supervisor's `/metrics` adds up all its
workers. The names, labels and meaning of each metric are listed in docs/operations.md.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping

#: RPC latency buckets (seconds): an evaluation takes well under a millisecond in process,
#: a report or a publish seconds.
RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FLUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Status codes that say the caller sent something the service refuses (its input), as
#: opposed to refusals of who asks (UNAUTHENTICATED, PERMISSION_DENIED), of load
#: (RESOURCE_EXHAUSTED, UNAVAILABLE) and failures of the service (INTERNAL).
INPUT_ERROR_CODES = frozenset({"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "OUT_OF_RANGE",
                               "ALREADY_EXISTS"})

_on = False
_lock = threading.Lock()
_m: dict[str, Any] = {}
_children: dict[tuple, Any] = {}  # (metric, *labels) -> labelled child: labels() is a lock and a lookup
_active: dict[str, str] = {}  # pack -> version this process last reported active


def enabled() -> bool:
    return _on


def enable() -> None:
    """Create the metric objects (once); from now on the functions below count.

    Call it after PROMETHEUS_MULTIPROC_DIR is set in a multiprocess setup: prometheus_client
    picks where values live when it is first imported.
    """
    global _on
    with _lock:
        if _on:
            return
        import os

        from prometheus_client import Counter, Gauge, Histogram, values

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and not getattr(values.ValueClass, "_multiprocess", False):
            # prometheus_client was imported before the folder was named: keep values there all the same.
            values.ValueClass = values.MultiProcessValue()

        _m.update(
            rpc=Histogram("jixiao_rpc_duration_seconds", "Time to answer an RPC, by method and status code.",
                          ["method", "code"], buckets=RPC_BUCKETS),
            evaluations=Counter("jixiao_evaluations", "Evaluations answered (each EvaluateBatch item counts one), "
                                "by method, pack, version and grade.", ["method", "pack", "version", "grade"]),
            input_errors=Counter("jixiao_input_errors", "Calls and EvaluateBatch items refused for their input, "
                                 "by method and status code.", ["method", "code"]),
            engine_failures=Counter("jixiao_engine_failures", "Evaluations answered INTERNAL (an unexpected "
                                    "error, or a request quarantined after it crashed a server process), "
                                    "by method.", ["method"]),
            worker_restarts=Counter("jixiao_worker_restarts", "Server processes the supervisor restarted after "
                                    "they died."),
            registry_reloads=Counter("jixiao_registry_reloads", "Registry changes a server process loaded "
                                     "(each process counts its own)."),
            queue_depth=Gauge("jixiao_decision_log_queue_depth", "Decisions waiting to be written to the "
                              "decision log.", multiprocess_mode="livesum"),
            flush=Histogram("jixiao_decision_log_flush_seconds", "Time to write one batch of decisions to the "
                            "decision log.", buckets=FLUSH_BUCKETS),
            flushed_rows=Counter("jixiao_decision_log_rows", "Decisions written to the decision log."),
            active=Gauge("jixiao_active_version", "1 for the version of a pack that evaluations use when they "
                         "name none, 0 for a version that was active before.", ["pack", "version"],
                         multiprocess_mode="livemostrecent"),
        )
        _on = True


def _child(name: str, *labels: str) -> Any:
    key = (name, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = _m[name].labels(*labels)
    return child


# --- the RPC layer (observability interceptor) ------------------------------------------------

def method_label(full_method: str) -> str:
    """The `method` label of an RPC: "/jixiao.v1.EvaluationService/Evaluate" -> "Evaluate"."""
    return full_method.rpartition("/")[2]


def rpc_finished(method: str, code: str, seconds: float) -> None:
    """One RPC (`method` as `method_label` gives it) answered with `code` (a grpc.StatusCode
    name) after `seconds`; an input error is counted too."""
    if not _on:
        return
    _child("rpc", method, code).observe(seconds)
    if code in INPUT_ERROR_CODES:
        _child("input_errors", method, code).inc()


# --- decisions (the metrics sink) --------------------------------------------------------------

def evaluated(method: str, pack: str, version: str, grade: str) -> None:
    """One evaluation answered (an EvaluateBatch item counts one)."""
    if _on:
        _child("evaluations", method, pack, version, grade).inc()


def item_refused(method: str, code: str) -> None:
    """One EvaluateBatch item refused with `code` (the stream goes on; the RPC's own code is OK)."""
    if _on and code in INPUT_ERROR_CODES:
        _child("input_errors", method, code).inc()


def engine_failed(method: str) -> None:
    """An evaluation (of `method`: Evaluate, an EvaluateBatch item, RenderReport) answered INTERNAL."""
    if _on:
        _child("engine_failures", method).inc()


# --- processes and the registry ----------------------------------------------------------------

def worker_restarted() -> None:
    if _on:
        _m["worker_restarts"].inc()


def registry_reloaded() -> None:
    if _on:
        _m["registry_reloads"].inc()


def active_versions(active: Mapping[str, str]) -> None:
    """The active version of each pack, as this process now serves them (a version no longer
    active is set to 0)."""
    if not _on:
        return
    with _lock:
        for pack, version in _active.items():
            if active.get(pack) != version:
                _child("active", pack, version).set(0)
        for pack, version in active.items():
            _child("active", pack, version).set(1)
        _active.clear()
        _active.update(active)


def catalog_loaded(active: Mapping[str, str], first: bool) -> None:
    """The catalog swapped in a new snapshot (`first`: at start, not a reload)."""
    if not _on:
        return
    if not first:
        registry_reloaded()
    active_versions(active)


# --- the decision log --------------------------------------------------------------------------

def decision_log_flushed(seconds: float, rows: int) -> None:
    """One batch of `rows` decisions written in `seconds`."""
    if _on:
        _m["flush"].observe(seconds)
        _m["flushed_rows"].inc(rows)


def decision_log_queue_depth(n: int) -> None:
    """Decisions this process holds, not yet written."""
    if _on:
        _m["queue_depth"].set(n)


#: Seconds between two readings of the queue depth (watch_queue_depth).
QUEUE_SAMPLE_S = 1.0
_queue_readers: list[Callable[[], int]] = []


def watch_queue_depth(read: Callable[[], int]) -> None:
    """Report `read()` (a decision-log writer's queue_depth) as the queue depth every
    QUEUE_SAMPLE_S, from a daemon thread: the gauge stays true while the database is away
    and no flush happens. Several readers add up."""
    if not _on:
        return
    with _lock:
        _queue_readers.append(read)
        if len(_queue_readers) > 1:
            return
    threading.Thread(target=_sample_queues, name="metrics-queue-depth", daemon=True).start()


def _sample_queues() -> None:
    while True:
        try:
            decision_log_queue_depth(sum(read() for read in list(_queue_readers)))
        except Exception:  # noqa: BLE001 - a reading that fails leaves the last value; the next may work
            pass
        time.sleep(QUEUE_SAMPLE_S)


__all__ = ["INPUT_ERROR_CODES", "active_versions", "catalog_loaded", "decision_log_flushed",
           "decision_log_queue_depth", "enable", "enabled", "engine_failed", "evaluated", "item_refused",
           "method_label", "registry_reloaded", "rpc_finished", "watch_queue_depth", "worker_restarted"]
