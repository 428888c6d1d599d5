"""Shadow runs and their samples in the service's database (`shadow_runs`, `shadow_samples`).

The database is the one place every server process and replica shares, so a run started
through one server is followed by all of them (each polls `running()`), and a report read
through any of them covers the samples all of them took. At most one run per pack is
going at once: `start` checks and inserts in one transaction under a write lock (SQLite's
BEGIN IMMEDIATE, a PostgreSQL advisory lock per pack), so two servers starting a run for
the same pack at the same moment cannot both succeed.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jixiao.api.decisions import new_decision_id
from jixiao.database.schema import shadow_runs, shadow_samples
from jixiao.registry.store import utc_now

from .report import Sample, parse_nodes

#: Rows read from the database at a time while a report is aggregated.
READ_BATCH = 1000


class ShadowRunGoing(Exception):
    """The pack already has a running shadow run (FAILED_PRECONDITION)."""

    def __init__(self, run: "ShadowRun"):
        super().__init__(f"pack '{run.pack_id}' already has a shadow run going (run {run.run_id}, candidate "
                         f"{run.candidate_version}, started {run.started_at} by {run.started_by}); "
                         f"stop it first: jixiao pack shadow stop {run.pack_id}")
        self.run = run


class NoShadowRunGoing(Exception):
    """StopShadow for a pack without a running run (FAILED_PRECONDITION)."""

    def __init__(self, pack_id: str):
        super().__init__(f"pack '{pack_id}' has no shadow run going")
        self.pack_id = pack_id


class ShadowRunNotFound(LookupError):
    """No run to report on: the pack never had one, or no run of it has that id (NOT_FOUND)."""

    def __init__(self, pack_id: str, run_id: str = ""):
        super().__init__(f"pack '{pack_id}' has no shadow run {run_id}" if run_id
                         else f"pack '{pack_id}' has had no shadow run; start one with: "
                              f"jixiao pack shadow start {pack_id} VERSION")
        self.pack_id, self.run_id = pack_id, run_id


class ShadowNeedsDecisionLog(Exception):
    """StartShadow on a server started with --no-decision-log (FAILED_PRECONDITION): samples are
    known by their decision ids, which only a server recording decisions hands out."""

    def __init__(self) -> None:
        super().__init__("this server keeps no decision log (it was started with --no-decision-log), and shadow "
                         "samples are taken only with it: start the run through a server that records decisions "
                         "(servers without the decision log take no samples)")


@dataclass(frozen=True)
class ShadowRun:
    run_id: str
    pack_id: str
    candidate_version: str
    candidate_digest: str
    sample: str  # the fraction sampled, as given: "0.1"
    started_at: str
    started_by: str
    stopped_at: str | None = None
    stopped_by: str | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None


class ShadowRuns:
    """The runs and samples of one database (the registry's engine)."""

    def __init__(self, engine: Engine, clock: Callable[[], str] = utc_now):
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> Engine:
        return self._engine

    # --- runs ------------------------------------------------------------------

    def start(self, pack_id: str, candidate_version: str, candidate_digest: str, sample: str,
              actor: str) -> ShadowRun:
        """Record a new running run; ShadowRunGoing if the pack has one."""
        run = ShadowRun(new_decision_id(), pack_id, candidate_version, candidate_digest, sample,
                        self._clock(), actor)
        with self._writing(pack_id) as conn:
            going = self._running_of(conn, pack_id)
            if going is not None:
                raise ShadowRunGoing(going)
            conn.execute(sa.insert(shadow_runs).values(
                run_id=run.run_id, pack_id=pack_id, candidate_version=candidate_version,
                candidate_digest=candidate_digest, sample=sample, started_at=run.started_at,
                started_by=actor))
        return run

    def stop(self, pack_id: str, actor: str) -> ShadowRun:
        """Stop the pack's running run (its samples stay); NoShadowRunGoing if none is."""
        with self._writing(pack_id) as conn:
            going = self._running_of(conn, pack_id)
            if going is None:
                raise NoShadowRunGoing(pack_id)
            at = self._clock()
            conn.execute(sa.update(shadow_runs).where(shadow_runs.c.run_id == going.run_id)
                         .values(stopped_at=at, stopped_by=actor))
        return ShadowRun(**{**going.__dict__, "stopped_at": at, "stopped_by": actor})

    def running(self) -> list[ShadowRun]:
        """Every running run (one per pack at most)."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(shadow_runs).where(shadow_runs.c.stopped_at.is_(None)))
            return [_run(row) for row in rows]

    def run(self, pack_id: str, run_id: str = "") -> ShadowRun:
        """The named run of the pack, else its running run, else its last one; ShadowRunNotFound."""
        query = sa.select(shadow_runs).where(shadow_runs.c.pack_id == pack_id)
        if run_id:
            query = query.where(shadow_runs.c.run_id == run_id)
        else:
            # The running one first, then the latest started (run ids sort by time too).
            query = query.order_by(shadow_runs.c.stopped_at.is_(None).desc(), shadow_runs.c.started_at.desc(),
                                   shadow_runs.c.run_id.desc()).limit(1)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise ShadowRunNotFound(pack_id, run_id)
        return _run(row)

    # --- samples ---------------------------------------------------------------

    def add_samples(self, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert sample rows (`runner.sample_row`) in one transaction; how many."""
        rows = list(rows)
        if rows:
            with self._engine.connect() as conn:
                conn.execution_options(writing=True)
                with conn.begin():
                    conn.execute(sa.insert(shadow_samples), rows)
        return len(rows)

    def samples(self, run_id: str) -> Iterator[Sample]:
        """The run's samples in decision-id (time) order, read in batches."""
        last = ""
        while True:
            with self._engine.connect() as conn:
                rows = list(conn.execute(
                    sa.select(shadow_samples).where(shadow_samples.c.run_id == run_id,
                                                    shadow_samples.c.decision_id > last)
                    .order_by(shadow_samples.c.decision_id).limit(READ_BATCH)))
            for row in rows:
                yield _sample(row)
            if len(rows) < READ_BATCH:
                return
            last = rows[-1].decision_id

    # --- internals -------------------------------------------------------------

    @contextmanager
    def _writing(self, pack_id: str) -> Iterator[Connection]:
        """One transaction that checks and changes a pack's runs, isolated from other writers."""
        with self._engine.connect() as conn:
            conn.execution_options(writing=True)  # SQLite: BEGIN IMMEDIATE, the write lock
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(pack_id)})
                yield conn

    @staticmethod
    def _running_of(conn: Connection, pack_id: str) -> ShadowRun | None:
        row = conn.execute(sa.select(shadow_runs).where(shadow_runs.c.pack_id == pack_id,
                                                        shadow_runs.c.stopped_at.is_(None)).limit(1)).first()
        return None if row is None else _run(row)


def lock_key(pack_id: str) -> int:
    """A signed 64-bit advisory lock key for the pack's shadow runs."""
    return int.from_bytes(hashlib.sha256(f"jixiao shadow {pack_id}".encode()).digest()[:8], "big", signed=True)


def _run(row) -> ShadowRun:
    return ShadowRun(row.run_id, row.pack_id, row.candidate_version, row.candidate_digest, row.sample,
                     row.started_at, row.started_by, row.stopped_at, row.stopped_by)


def _sample(row) -> Sample:
    return Sample(row.decision_id, row.live_version, Decimal(row.live_total), row.live_grade, row.outcome,
                  None if row.candidate_total is None else Decimal(row.candidate_total), row.candidate_grade,
                  parse_nodes(row.nodes))
