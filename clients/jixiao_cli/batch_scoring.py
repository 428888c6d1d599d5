"""Scoring batch rows in this process, or in worker processes for --jobs N.

Every row is scored on its own: one that fails, whatever the reason, becomes that row's
RowFailure and the batch goes on. Outcomes come back in input order. Worker processes
each load the packs themselves (from the same folder or registry file) and take rows in
chunks, never more than a few chunks ahead of what has been written.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from jixiao.logs import configure_logging

from . import exit_codes
from .batch_input import BatchRow
from .batch_outcomes import Outcome, RowFailure, row_score
from .exit_codes import CliError
from .failures import describe_error
from .local import LocalJixiao

CHUNK_ROWS = 64
CHUNKS_AHEAD_PER_WORKER = 4


@dataclass(frozen=True)
class ScoreRequest:
    """What every row of a batch is scored with: a pinned pack version, in a language."""

    pack_id: str
    version: str
    language: str
    ignore_unknown: bool = False  # facts the pack does not declare: ignored rather than refused


@dataclass(frozen=True)
class InProcessPacks:
    """Where --local or --registry finds its packs, in a form a worker process can open."""

    packs: Path | None = None
    registry: Path | None = None

    def open(self) -> LocalJixiao:
        if self.registry is not None:
            return LocalJixiao.from_registry(self.registry)
        return LocalJixiao.from_folder(self.packs)


def score_row(service: LocalJixiao, request: ScoreRequest, row: BatchRow) -> Outcome:
    """The row's scores, or the reason it failed: never an exception."""
    if row.problem:
        return RowFailure(row.key, row.number, row.problem)
    try:
        evaluation = service.evaluate_result(request.pack_id, row.facts, version=request.version,
                                             language=request.language, ignore_unknown=request.ignore_unknown)
    except Exception as error:  # noqa: BLE001 - one row's failure is that row's, not the batch's
        return RowFailure(row.key, row.number, describe_error(error)[0])
    return row_score(row.key, row.number, evaluation)


def score_here(service: LocalJixiao, request: ScoreRequest, rows: Iterable[BatchRow]) -> Iterator[Outcome]:
    """Score the rows one after the other in this process."""
    for row in rows:
        yield score_row(service, request, row)


def score_in_workers(packs: InProcessPacks, request: ScoreRequest, rows: Iterable[BatchRow],
                     jobs: int) -> Iterator[Outcome]:
    """Score the rows in `jobs` worker processes, yielding outcomes in input order."""
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(packs,))
    pending: deque[Future] = deque()
    rows = iter(rows)
    try:
        while chunk := list(islice(rows, CHUNK_ROWS)):
            pending.append(pool.submit(_score_chunk, request, chunk))
            if len(pending) >= jobs * CHUNKS_AHEAD_PER_WORKER:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BrokenProcessPool:
        raise CliError("a scoring process died; run the same command again to go on where it stopped",
                       exit_codes.FAILED) from None
    finally:
        # Waits only for the chunks being scored: the queued ones are cancelled.
        pool.shutdown(wait=True, cancel_futures=True)


_service: LocalJixiao | None = None


def _start_worker(packs: InProcessPacks) -> None:
    global _service
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    configure_logging("console", "warning")  # as the `jixiao` command does in its own process
    _service = packs.open()


def _score_chunk(request: ScoreRequest, rows: list[BatchRow]) -> list[Outcome]:
    assert _service is not None, "the worker was not started"
    return [score_row(_service, request, row) for row in rows]
