"""Retention: a background thread deleting decisions older than the retention period.

It runs at start and then every `interval_s` (an hour), deleting in chunks of
`chunk_rows` (each its own short transaction, so it never holds the database's write
lock long: the decision log's writer keeps writing between chunks), and writes at most
one log line per run (how many were deleted, when any were). While the database is
away it retries with the outage backoff, one line when it goes and one when it is back.
Shadow samples are left alone: they belong to their shadow run.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from jixiao.database.outage import OutageLog, is_unavailable
from jixiao.database.schema import decisions

DEFAULT_INTERVAL_S = 3600.0
DEFAULT_CHUNK_ROWS = 5000

log = structlog.get_logger("jixiao.audit")


def cutoff_text(now_s: float, retention_s: float) -> str:
    """The `at` before which decisions are deleted, in the rows' own format."""
    at_ms = int((now_s - retention_s) * 1000)
    second, ms = divmod(at_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{ms:03d}Z"


def prune(engine: Engine, cutoff: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> int:
    """Delete every decision made before `cutoff`, chunk by chunk; how many were deleted."""
    deleted = 0
    oldest = sa.select(decisions.c.decision_id).where(decisions.c.at < cutoff).limit(chunk_rows)
    while True:
        with engine.connect().execution_options(writing=True) as conn:
            with conn.begin():
                ids = list(conn.execute(oldest).scalars())
                if ids:
                    conn.execute(sa.delete(decisions).where(decisions.c.decision_id.in_(ids)))
        deleted += len(ids)
        if len(ids) < chunk_rows:
            return deleted


class RetentionPruner:
    """Deletes decisions older than `retention_s`, at start and every `interval_s`, in a thread."""

    def __init__(self, engine: Engine, retention_s: float, *, interval_s: float = DEFAULT_INTERVAL_S,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, clock: Callable[[], float] = time.time):
        if retention_s <= 0:
            raise ValueError(f"a retention period must be positive, not {retention_s}")
        self.engine = engine
        self.retention_s = retention_s
        self.interval_s = interval_s
        self.chunk_rows = chunk_rows
        self.runs = 0  # completed runs
        self.deleted = 0
        self._clock = clock
        self._stop = threading.Event()
        self._outage = OutageLog(log, "decision log retention", engine.url)
        self._thread: threading.Thread | None = None

    def start(self) -> "RetentionPruner":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="jixiao-decision-retention", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_once(self) -> int:
        """One run: prune and log (at most one line); raises what the database raised."""
        started = time.perf_counter()
        deleted = prune(self.engine, cutoff_text(self._clock(), self.retention_s), self.chunk_rows)
        self.runs += 1
        self.deleted += deleted
        if deleted:
            log.info("decision log pruned", deleted=deleted, retention_s=self.retention_s,
                     duration_ms=round((time.perf_counter() - started) * 1000, 1))
        return deleted

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception as error:  # noqa: BLE001 - an outage waits; anything else is logged, next run
                if not is_unavailable(error):
                    log.error("decision log retention failed", error=type(error).__name__)
                    wait = self.interval_s
                    continue
                wait = self._outage.failed(error)
                continue
            self._outage.recovered()
            wait = self.interval_s
