"""Answering a stream of evaluations: one result per request, in request order.

The requests are read one at a time and each is answered before the next is read, so
gRPC's flow control holds back a fast client and the server keeps at most one item in
hand, however long the stream. A request that fails gets an error result carrying the
status Evaluate would have failed with, and the stream goes on; so does a request that
could not be decoded, or whose key is not acceptable (its result's key is then empty).
One log line per stream (items, errors by code, the versions used, duration), never one
per item. A stream that is cancelled, or whose deadline passes, stops at once: the
server reads no further item of it. So does a stream on which nothing moved for its idle
timeout (no request came, or the client did not take the last result): it ends with
DEADLINE_EXCEEDED saying so, and its place among the process's open streams is freed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator

import grpc
import structlog
from google.rpc import code_pb2

from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.results import Evaluation
from jixiao.core.identifiers import check_key
from jixiao.v1 import evaluation_pb2 as pb

from .convert import evaluation_bytes, evaluation_result
from .decisions import NO_DRAFT, DecisionHub
from .decoding import Undecodable
from .details import status_message
from .errors import internal, status_for

Lookup = Callable[[str, str | None], CompiledPack]
#: Scores one request: the Evaluation, or it serialised (wrapped in the result without a second parse).
Score = Callable[[pb.EvaluateRequest, Lookup], pb.Evaluation | bytes]
#: Evaluates one request: the pack version, the facts read and the core's result (servicer.evaluated),
#: what a recorded item is scored with.
Evaluate = Callable[[pb.EvaluateRequest, Lookup], tuple[CompiledPack, dict, Evaluation]]

#: Undecodable items of one stream logged each with its error id; later ones are only counted.
UNDECODABLE_LOGGED = 10

log = structlog.get_logger("jixiao.api")


class PinnedPacks:
    """A stream's pack lookups: each (pack, requested version) is resolved once, at first use.

    So a stream is one call for versions, like a unary call: items naming no version are
    all scored with the version active when the stream first needed that pack, even if
    another version is activated (or rolled back) while the stream runs. Failed lookups
    are not kept: a later item may find a version published meanwhile.
    """

    def __init__(self, lookup: Lookup):
        self._lookup = lookup
        self._resolved: dict[tuple[str, str], CompiledPack] = {}

    def get(self, pack_id: str, version: str | None = None) -> CompiledPack:
        key = (pack_id, version or "")
        compiled = self._resolved.get(key)
        if compiled is None:
            compiled = self._resolved[key] = self._lookup(pack_id, version or None)
        return compiled

    def used(self) -> list[str]:
        """`id@version` of every pack version the stream scored with."""
        return sorted({f"{c.pack.id}@{c.pack.version}" for c in self._resolved.values()})


class BatchAnswers:
    """One stream's state: its pinned packs and its counts; `result` answers one item.

    With a `decisions` hub that records, each decodable item is a decision of its own
    (evaluated by `evaluate`, handed to the hub, its id in the result and in the result's
    Evaluation); undecodable items make none.
    """

    def __init__(self, lookup: Lookup, score: Score, decisions: DecisionHub | None = None,
                 evaluate: Evaluate | None = None, context: grpc.aio.ServicerContext | None = None):
        self._packs = PinnedPacks(lookup)
        self._get = self._packs.get
        self._score = score
        self._decisions = decisions if decisions is not None and evaluate is not None else None
        self._evaluate = evaluate
        self._context = context
        self._started = time.perf_counter()
        self.items = 0
        self.failures = Counter[str]()
        self.undecodable = 0

    def result(self, item: pb.BatchEvaluateRequest | Undecodable) -> pb.BatchEvaluateResult:
        """The item's result: its evaluation, or the status Evaluate would have failed with."""
        self.items += 1
        if type(item) is Undecodable:
            self.undecodable += 1
            if self.undecodable <= UNDECODABLE_LOGGED:
                item.log("EvaluateBatch")
            return self._error("", item.status())
        key = item.key
        try:
            check_key(key)
        except Exception as error:  # a key we cannot echo: the result names none
            if self._decisions is not None:
                return self._decided(item.request, "", None, error)
            return self._error("", status_for(error))
        if self._decisions is not None:
            return self._decided(item.request, key, key)
        return self._scored(item.request, key)

    def _scored(self, request: pb.EvaluateRequest, key: str) -> pb.BatchEvaluateResult:
        try:
            evaluation = self._score(request, self._get)
            if type(evaluation) is bytes:
                return evaluation_result(key, evaluation)
            return pb.BatchEvaluateResult(key=key, evaluation=evaluation)
        except Exception as error:  # that item's status; the stream goes on
            return self._error(key, status_for(error))

    def _decided(self, request: pb.EvaluateRequest, key: str, item_key: str | None,
                 refusal: Exception | None = None) -> pb.BatchEvaluateResult:
        """The item's result as a decision: evaluated, handed to the hub, its id in the result."""
        draft = self._decisions.start("EvaluateBatch", request, self._context, item_key)
        if draft is NO_DRAFT:  # nothing watches after all
            self._decisions = None
            return self._scored(request, key) if refusal is None else self._error(key, status_for(refusal))
        try:
            if refusal is not None:
                raise refusal
            _compiled, draft.decision.facts, evaluation = self._evaluate(request, draft.lookup(self._get))
            reply = evaluation_bytes(evaluation)
        except Exception as error:  # that item's status; the stream goes on
            status = status_for(error)
            draft.refused(status)
            return self._error(key, status, draft.decision_id)
        draft.answered(evaluation, reply)
        return evaluation_result(key, reply, draft.decision_id)

    def _error(self, key: str, status: grpc.Status, decision_id: str = "") -> pb.BatchEvaluateResult:
        message = status_message(status)
        self.failures[code_pb2.Code.Name(message.code)] += 1
        return pb.BatchEvaluateResult(key=key, error=message, decision_id=decision_id)

    def log(self, code: str) -> None:
        """The stream's one log line, when it ends with `code`."""
        fields = {"undecodable": self.undecodable} if self.undecodable else {}
        log.info("rpc", method="EvaluateBatch", items=self.items, errors=sum(self.failures.values()),
                 error_codes=dict(self.failures), versions=self._packs.used(), code=code, **fields,
                 duration_ms=round((time.perf_counter() - self._started) * 1000, 3))


def answer_batch(requests: Iterable[pb.BatchEvaluateRequest], lookup: Lookup,
                 score: Score) -> Iterator[pb.BatchEvaluateResult]:
    """Yield one result per request, with its key, scoring each by `score(request, lookup)`.

    The synchronous form (in-process callers, the bench's profiles); the server uses `answer_stream`.
    """
    stream = BatchAnswers(lookup, score)
    outcome = "OK"
    result = stream.result
    try:
        for item in requests:
            yield result(item)
    except GeneratorExit:  # the caller stopped reading
        outcome = "CANCELLED"
        raise
    finally:
        stream.log(outcome)


async def answer_stream(requests: AsyncIterable[pb.BatchEvaluateRequest | Undecodable], lookup: Lookup,
                        score: Score, context: grpc.aio.ServicerContext,
                        idle_timeout: float | None = None, decisions: DecisionHub | None = None,
                        evaluate: Evaluate | None = None) -> AsyncIterator[pb.BatchEvaluateResult]:
    """`answer_batch` for grpc.aio: each item is scored on the event loop as it arrives.

    Cancellation (the client's, or its deadline) reaches the stream at its next read or
    write, so nothing after it is scored. With `idle_timeout`, a stream waiting longer
    than that for its next request, or for the client to take a result, ends with
    DEADLINE_EXCEEDED. An unforeseen failure outside an item ends the stream with
    INTERNAL and an error id. With `decisions` (and `evaluate`), every decodable item is a
    decision (see BatchAnswers).
    """
    stream = BatchAnswers(lookup, score, decisions, evaluate, context)
    outcome = "OK"
    result = stream.result
    loop = asyncio.get_running_loop()
    try:
        # One timer for the whole stream, moved on at each item (no task per read).
        async with asyncio.timeout_at(None if idle_timeout is None else loop.time() + idle_timeout) as idle:
            async for item in requests:
                if idle_timeout is not None:
                    idle.reschedule(loop.time() + idle_timeout)
                yield result(item)
        # A cancelled call's requests just end, as a client's last item does: one turn of
        # the loop lets the cancellation that follows reach this stream (CancelledError),
        # so that the log says CANCELLED. (When it comes later still, the stream has ended
        # and is logged OK: nothing was left to score either way.)
        await asyncio.sleep(0)
        if context.cancelled() or _deadline_passed(context):
            outcome = _cancellation(context)
    except TimeoutError:  # the idle timer, not the client's deadline (that one cancels)
        outcome = "DEADLINE_EXCEEDED"  # the stream's one log line says it
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, idle_message(idle_timeout))
    except (asyncio.CancelledError, GeneratorExit):
        outcome = _cancellation(context)
        raise
    except Exception as error:  # noqa: BLE001 - never a traceback to the caller; logged with an id
        status = internal(error)
        outcome = status.code.name
        await context.abort_with_status(status)
    finally:
        stream.log(outcome)


def idle_message(idle_timeout: float | None) -> str:
    return (f"nothing moved on this EvaluateBatch stream for {idle_timeout:g} s (no request came, or the "
            "results were not read): the server ended it (--batch-idle-timeout); send the remaining rows "
            "on a new stream")


def _deadline_passed(context: grpc.aio.ServicerContext) -> bool:
    remaining = context.time_remaining()
    return remaining is not None and remaining <= 0


def _cancellation(context: grpc.aio.ServicerContext) -> str:
    """Why a stream ended early: its deadline passed, or the client cancelled it (or went away)."""
    return "DEADLINE_EXCEEDED" if _deadline_passed(context) else "CANCELLED"
