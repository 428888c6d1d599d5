"""Scoring batch rows on a server through EvaluateBatch, in N concurrent streams.

The streams share the input: each takes the next row when the server is ready for
another request. At most WINDOW rows per stream are in flight (sent and not answered),
which bounds the memory here however long the input. When a stream breaks with
UNAVAILABLE (a server process died under it, say), the rows in flight on it are sent
again on a new stream, with backoff; when the server has taken no stream for
RESEND_FOR_SECONDS the batch stops, and a rerun goes on from the rows written. A
stream's key for a row is the row's number, unique whatever the input's keys.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Callable, Iterable, Iterator

import grpc

from jixiao.v1 import evaluation_pb2

from . import exit_codes
from .batch_input import BatchRow
from .batch_outcomes import Outcome, RowFailure, row_score
from .batch_scoring import ScoreRequest
from .client import JixiaoClient, JixiaoError, error_from_status_message, evaluate_request
from .exit_codes import CliError
from .failures import describe_error

WINDOW = 128
RESEND_FOR_SECONDS = 30.0  # long enough for a server's supervisor to restart its processes
MAX_BACKOFF_SECONDS = 2.0
STALL_SECONDS = 60.0
_FINISHED = object()


def score_on_server(connect: Callable[[], JixiaoClient], request: ScoreRequest, rows: Iterable[BatchRow],
                    jobs: int) -> Iterator[Outcome]:
    """Score the rows in `jobs` streams, each on a client `connect` gives (a connection of
    its own, so that a server of several processes may serve them in parallel), yielding
    outcomes as they arrive."""
    shared = _SharedRows(rows)
    outcomes: queue.Queue = queue.Queue(maxsize=2 * WINDOW * jobs)
    clients = [connect() for _ in range(jobs)]
    try:
        for number, client in enumerate(clients):
            stream = _Stream(client, request, shared, outcomes)
            threading.Thread(target=stream.run, name=f"batch-stream-{number}", daemon=True).start()
        running = jobs
        while running:
            try:
                item = outcomes.get(timeout=STALL_SECONDS)
            except queue.Empty:
                raise CliError(f"server unavailable: no answer from {clients[0].target} for "
                               f"{STALL_SECONDS:.0f} s", exit_codes.UNAVAILABLE) from None
            if item is _FINISHED:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for client in clients:  # cancels the streams still open
            client.close()
    if shared.error is not None:
        raise shared.error


class _SharedRows:
    """The input's rows, taken one at a time by several streams. An error reading the
    input ends every stream and is kept for the caller to raise."""

    def __init__(self, rows: Iterable[BatchRow]):
        self._rows = iter(rows)
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    def take(self) -> BatchRow | None:
        with self._lock:
            if self.error is not None:
                return None
            try:
                return next(self._rows, None)
            except Exception as error:  # noqa: BLE001 - raised in the caller's thread instead
                self.error = error
                return None


class _Stream:
    """One EvaluateBatch call after another until the input is done."""

    def __init__(self, client: JixiaoClient, request: ScoreRequest, rows: _SharedRows,
                 outcomes: queue.Queue):
        self._client = client
        self._request = request
        self._rows = rows
        self._outcomes = outcomes

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # noqa: BLE001 - the caller's thread raises it
            self._outcomes.put(error)
        finally:
            self._outcomes.put(_FINISHED)

    def _run(self) -> None:
        resend: list[BatchRow] = []
        breaks, first_break = 0, 0.0
        while True:
            attempt = _Attempt(self._rows, resend, self._request, self._outcomes)
            try:
                for result in self._client.evaluate_batch(attempt.requests()):
                    attempt.answer(result)
                    breaks = 0
            except JixiaoError as error:
                resend = attempt.stop()
                now = time.monotonic()
                first_break = now if breaks == 0 else first_break
                if error.code != grpc.StatusCode.UNAVAILABLE or now - first_break > RESEND_FOR_SECONDS:
                    raise
                breaks += 1
                time.sleep(min(0.1 * 2 ** breaks, MAX_BACKOFF_SECONDS))
                continue
            for row in attempt.stop():
                self._outcomes.put(RowFailure(row.key, row.number, "the server ended the stream without answering"))
            return


class _Attempt:
    """One EvaluateBatch call: the rows it has taken and not had answered."""

    def __init__(self, rows: _SharedRows, resend: list[BatchRow], request: ScoreRequest,
                 outcomes: queue.Queue):
        self._rows = rows
        self._resend = deque(resend)
        self._request = request
        self._outcomes = outcomes
        self._in_flight: dict[str, BatchRow] = {}
        self._window = threading.Semaphore(WINDOW)
        self._lock = threading.Lock()
        self._stopped = False

    def requests(self) -> Iterator[evaluation_pb2.BatchEvaluateRequest]:
        """The requests, read by gRPC as the server takes them."""
        request = self._request
        while (row := self._take()) is not None:
            if row.problem:
                self._outcomes.put(RowFailure(row.key, row.number, row.problem))
                continue
            while not self._window.acquire(timeout=0.2):
                if self._stopped:
                    return
            yield evaluation_pb2.BatchEvaluateRequest(
                key=str(row.number),
                request=evaluate_request(request.pack_id, row.facts, request.version, request.language,
                                         request.ignore_unknown))

    def answer(self, result: evaluation_pb2.BatchEvaluateResult) -> None:
        with self._lock:
            row = self._in_flight.pop(result.key, None)
        if row is None:
            raise JixiaoError(grpc.StatusCode.INTERNAL, f"the server answered an unknown item '{result.key}'")
        self._window.release()
        if result.WhichOneof("outcome") == "evaluation":
            self._outcomes.put(row_score(row.key, row.number, result.evaluation))
        else:
            message, _code = describe_error(error_from_status_message(result.error))
            self._outcomes.put(RowFailure(row.key, row.number, message))

    def stop(self) -> list[BatchRow]:
        """Take no more rows; the rows taken and not answered, to send again."""
        with self._lock:
            self._stopped = True
            return [*self._in_flight.values(), *self._resend]

    def _take(self) -> BatchRow | None:
        with self._lock:
            if self._stopped:
                return None
            row = self._resend.popleft() if self._resend else self._rows.take()
            if row is not None and not row.problem:
                self._in_flight[str(row.number)] = row
            return row
