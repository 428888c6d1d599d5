"""Taking a server's shadow samples: the decision sink, the candidate evaluations, the poller.

`ShadowSink.decided` runs on the event loop before each reply goes. For a successful
evaluation of a pack with a running run, sampled by its decision id, it appends the
decision to a bounded deque: a few microseconds, and the reply is not held up by any
candidate evaluation. A task of the same event loop drains the deque, one candidate
evaluation per turn of the loop (`await asyncio.sleep(0)` in between), so calls waiting
to be served are served between two of them: a sampled call costs the loop one more
evaluation, later, so on average a call costs at most the sampled fraction of one
evaluation. The candidate is evaluated on the loop's thread, never another: the rule
engine's C code must never run on two threads at once.

A decision the candidate version itself answered (a request naming it, or the candidate
made active) is not sampled: it would compare the version with itself.

Past `queue_size` decisions waiting, new samples are dropped (counted, and logged once a
run); they are not in the report, which covers the samples evaluated.

A poller thread reads the running runs from the database every `poll_interval` seconds,
so a run started or stopped through any server sharing the database is followed by this
one within that time (through this one, at once). While the database is away it backs
off and logs one line when it goes and one when it is back (database/outage.py); the runs
it last read are still followed.
The sample rows go to the database through the decision log's BatchWriter, in the same
batches as the decisions: shadow samples are taken only when the decision log is on,
since a sample is known by its decision id.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import sqlalchemy as sa

import structlog

from jixiao.api import convert
from jixiao.api.decisions import Decision
from jixiao.api.errors import status_for
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.results import Evaluation
from jixiao.database.outage import OutageLog, is_unavailable
from jixiao.database.schema import shadow_samples
from jixiao.registry.store import utc_now

from .report import OK, nodes_json
from .runs import ShadowRun, ShadowRuns
from .sampling import InvalidSample, parse_sample, sampled, threshold

log = structlog.get_logger("jixiao.shadow")

#: Decisions waiting for their candidate evaluation, at most; past it samples are dropped.
QUEUE_SIZE = 1000
#: Seconds between two reads of the running runs.
POLL_INTERVAL_S = 1.0
#: Seconds `stop` waits for the decisions already queued to be evaluated.
STOP_WAIT_S = 5.0


class RowWriter(Protocol):
    def write(self, table: sa.Table, row: dict[str, object]) -> None:
        """Queue a row of `table`, written later off the event loop (the decision log's BatchWriter)."""


class CandidateSource(Protocol):
    def get(self, pack_id: str, version: str | None = None): ...


@dataclass(frozen=True, slots=True)
class Followed:
    """A running run as this process follows it: the run and its sampling bound."""

    run: ShadowRun
    bound: int


class ShadowSink:
    """The decision sink of shadow runs for one server process (see the module's text)."""

    def __init__(self, runs: ShadowRuns, catalog: CandidateSource, writer: RowWriter, *,
                 queue_size: int = QUEUE_SIZE, poll_interval: float = POLL_INTERVAL_S):
        self.runs = runs
        self._catalog = catalog
        self._writer = writer
        self._queue: collections.deque[tuple[Decision, Followed]] = collections.deque()
        self._queue_size = queue_size
        self._poll_interval = poll_interval
        self._followed: dict[str, Followed] = {}
        self.dropped: dict[str, int] = {}  # run id → samples dropped on a full queue
        self.evaluated = 0
        self._wake: asyncio.Event | None = None
        self._drained = threading.Event()
        self._drained.set()
        self._accepting = True
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    # --- the event loop's side ---------------------------------------------------

    def decided(self, decision: Decision) -> None:
        """Queue the decision if a running run samples it (O(1); on the loop, before the reply)."""
        if not self._followed:
            return
        live = decision.evaluation
        if live is None or not decision.decision_id or not self._accepting:
            return
        followed = self._followed.get(live.pack_id)
        if followed is None or live.version == followed.run.candidate_version:
            return
        if not sampled(decision.decision_id, followed.bound):
            return
        if len(self._queue) >= self._queue_size:
            self._drop(followed.run)
            return
        self._queue.append((decision, followed))
        self._drained.clear()
        if self._wake is not None:
            self._wake.set()

    def start(self) -> "ShadowSink":
        """Start the drain task on the running loop and the poller thread (call on the loop); self."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = self._loop.create_task(self._drain(), name="shadow-drain")
        try:
            self._poll_once()
        except Exception:  # noqa: BLE001 - the poller thread tries again
            log.warning("shadow runs not read at start; the poller will try again")
        self._thread = threading.Thread(target=self._poll, name="shadow-poller", daemon=True)
        self._thread.start()
        return self

    async def _drain(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                decision, followed = self._queue.popleft()
                try:
                    self._writer.write(shadow_samples, self.sample_row(decision, followed.run))
                    self.evaluated += 1
                except Exception:  # noqa: BLE001 - a sample is never worth the drain task
                    log.exception("shadow sample failed", run=followed.run.run_id,
                                  decision_id=decision.decision_id)
                await asyncio.sleep(0)  # calls waiting are served before the next candidate evaluation
            self._drained.set()

    def sample_row(self, decision: Decision, run: ShadowRun) -> dict[str, object]:
        """The `shadow_samples` row of a decision: evaluate its facts with the candidate version."""
        live: Evaluation = decision.evaluation  # type: ignore[assignment]
        request = decision.request
        row: dict[str, object] = {
            "run_id": run.run_id, "decision_id": decision.decision_id, "at": utc_now(),
            "live_version": live.version, "live_total": convert.decimal_text(live.score),
            "live_grade": live.grade, "outcome": OK, "candidate_total": None, "candidate_grade": None,
            "nodes": None,
        }
        try:
            compiled = self._catalog.get(live.pack_id, run.candidate_version)
            facts = decision.facts  # as the live evaluation read them (the evaluator only reads them)
            if facts is None:
                facts = convert.facts_from_struct(request.facts)
            candidate = evaluate(compiled, facts, live.language, ignore_unknown=request.ignore_unknown_facts)
        except Exception as error:  # noqa: BLE001 - the candidate's refusal is what the sample records
            row["outcome"] = status_for(error).code.name
            return row
        scores = {node.id: node.score for node in candidate.nodes()}
        row.update(candidate_total=convert.decimal_text(candidate.score), candidate_grade=candidate.grade,
                   nodes=nodes_json((node.id, convert.decimal_text(node.score),
                                     _text_or_none(scores.get(node.id))) for node in live.nodes()))
        return row

    def _drop(self, run: ShadowRun) -> None:
        dropped = self.dropped.get(run.run_id, 0)
        if not dropped:
            log.warning("shadow samples dropped: the candidate evaluations fall behind", run=run.run_id,
                        pack=run.pack_id, queue_size=self._queue_size)
        self.dropped[run.run_id] = dropped + 1

    # --- following the runs ------------------------------------------------------

    def following(self) -> dict[str, ShadowRun]:
        """The runs this process samples for, by pack."""
        return {pack_id: followed.run for pack_id, followed in self._followed.items()}

    def refresh(self) -> None:
        """Read the running runs now (after a start or stop through this server, or from the poller)."""
        with self._refresh_lock:
            running = self.runs.running()
            fresh: dict[str, Followed] = {}
            for run in running:
                current = self._followed.get(run.pack_id)
                if current is not None and current.run.run_id == run.run_id:
                    fresh[run.pack_id] = current
                    continue
                try:
                    fresh[run.pack_id] = Followed(run, threshold(parse_sample(run.sample)))
                except InvalidSample as error:  # written by something other than StartShadow
                    log.warning("shadow run not followed: its sample is invalid", run=run.run_id, error=str(error))
            for pack_id, item in fresh.items():
                if pack_id not in self._followed or self._followed[pack_id].run.run_id != item.run.run_id:
                    log.info("shadow run followed", pack=pack_id, run=item.run.run_id,
                             candidate=item.run.candidate_version, sample=item.run.sample)
                    self._prepare(item.run)
            for pack_id, item in self._followed.items():
                if fresh.get(pack_id) is None or fresh[pack_id].run.run_id != item.run.run_id:
                    log.info("shadow run ended", pack=pack_id, run=item.run.run_id,
                             dropped=self.dropped.get(item.run.run_id, 0))
            self._followed = fresh  # one assignment: the loop reads either the old dict or this one

    def _prepare(self, run: ShadowRun) -> None:
        """Have the catalog compile the candidate now, in this thread: a version published
        since its last refresh would otherwise be read and compiled by the first sample, on
        the event loop. A version this server does not serve makes candidate errors."""
        try:
            self._catalog.get(run.pack_id, run.candidate_version)
        except LookupError as error:
            log.warning("shadow candidate not served here: its samples will be candidate errors",
                        run=run.run_id, pack=run.pack_id, candidate=run.candidate_version, reason=str(error))

    def _poll_once(self) -> bool:
        try:
            self.refresh()
        except Exception as error:  # noqa: BLE001 - the poller goes on; an outage is logged once
            if not is_unavailable(error):
                log.exception("shadow poll failed")
            raise
        return True

    def _poll(self) -> None:
        outage = OutageLog(log, "shadow poller", self.runs.engine.url)
        delay = self._poll_interval
        while not self._stop.wait(delay):
            try:
                self._poll_once()
            except Exception as error:  # noqa: BLE001
                delay = outage.failed(error) if is_unavailable(error) else self._poll_interval
            else:
                outage.recovered()
                delay = self._poll_interval

    def stop(self) -> None:
        """After the server's last call: evaluate what is queued (up to STOP_WAIT_S), write it, stop.

        Runs in a thread while the loop is free, so the drain task does the evaluations.
        """
        self._accepting = False
        if self._loop is not None and self._wake is not None and not self._drained.is_set():
            self._loop.call_soon_threadsafe(self._wake.set)
            if not self._drained.wait(STOP_WAIT_S):
                log.warning("shadow samples left unevaluated at stop", left=len(self._queue))
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_S + self._poll_interval)
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else convert.decimal_text(value)
