"""The EvaluationService: check the request's identifiers, convert it, call the core, convert the reply.

Its methods are coroutines of grpc.aio's event loop. An evaluation is short CPU work
under the GIL (the rule engine's C code holds it), so it runs on the loop itself: a
thread would not run it any sooner, and handing it over costs more than it takes.
A report's rendering is not short: it runs in a render thread of its own (reports.py).
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterable, AsyncIterator, Protocol

import grpc
import structlog

from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.identifiers import check_pack_id, check_version, echo
from jixiao.core.evaluation.results import Evaluation
from jixiao.v1 import evaluation_pb2 as pb

from . import convert
from .batch import Lookup, answer_stream
from .call_context import DECISION_ID_KEY, add_trailing_metadata
from .calls import answer
from .decisions import DecisionHub
from .decoding import Undecodable
from .errors import internal, status_for
from .reports import DEFAULT_MAX_WAITING_REPORTS, ReportRenderer, outcome, render, reply_with, report_format
from .limits import StreamCount, StreamLimitReached

#: EvaluateBatch streams one server process holds open at once (--max-batch-streams).
DEFAULT_MAX_BATCH_STREAMS = 2000
#: Seconds a stream may wait for its next request or for its client to read (--batch-idle-timeout).
DEFAULT_BATCH_IDLE_TIMEOUT_S = 300.0

log = structlog.get_logger("jixiao.api")


class PackSource(Protocol):
    """Where compiled packs come from: a RegistryCatalog in the server, a PackLibrary locally."""

    def get(self, pack_id: str, version: str | None = None) -> CompiledPack: ...

    def list(self) -> list[CompiledPack]: ...

    def default_version(self, pack_id: str) -> str | None: ...


class EvaluationServicer:
    """Serves one pack source, with at most `max_batch_streams` EvaluateBatch streams open at once,
    each ended when nothing moved on it for `batch_idle_timeout` seconds."""

    def __init__(self, library: PackSource, max_batch_streams: int = DEFAULT_MAX_BATCH_STREAMS,
                 batch_idle_timeout: float = DEFAULT_BATCH_IDLE_TIMEOUT_S,
                 max_waiting_reports: int = DEFAULT_MAX_WAITING_REPORTS, decisions: DecisionHub | None = None):
        self._library = library
        self._decisions = decisions or DecisionHub.none()
        self.batch_streams = StreamCount(max_batch_streams)
        self._batch_idle_timeout = batch_idle_timeout
        self._reports = ReportRenderer(max_waiting_reports)

    async def Evaluate(self, request: pb.EvaluateRequest, context: grpc.aio.ServicerContext) -> pb.Evaluation:
        draft = self._decisions.start("Evaluate", request, context)
        if draft.decision_id:
            add_trailing_metadata(context, (DECISION_ID_KEY, draft.decision_id))

        def produce():
            _compiled, facts, evaluation = evaluated(request, draft.lookup(self._library.get))
            if draft.decision is not None:
                draft.decision.facts = facts  # the log's canonical facts, without converting them again
            reply = convert.evaluation_bytes(evaluation)
            draft.answered(evaluation, reply)
            outcome = {"version": evaluation.version, "score": convert.decimal_text(evaluation.score),
                       "grade": evaluation.grade}
            if draft.decision_id:
                outcome["decision_id"] = draft.decision_id
            return pb.Evaluation.FromString(reply + draft.id_field()), outcome

        return await answer(context, "Evaluate", produce, on_failure=draft.refused, pack=echo(request.pack_id),
                            requested_version=echo(request.version))

    async def RenderReport(self, request: pb.RenderReportRequest,
                           context: grpc.aio.ServicerContext) -> pb.RenderReportResponse:
        evaluate_request = request.request
        draft = self._decisions.start("RenderReport", evaluate_request, context)
        if draft.decision_id:
            add_trailing_metadata(context, (DECISION_ID_KEY, draft.decision_id))

        async def produce():
            fmt = report_format(request.format)
            self._reports.check_room()  # a full queue refuses before evaluating
            compiled, facts, evaluation = evaluated(evaluate_request, draft.lookup(self._library.get))
            if draft.decision is not None:
                draft.decision.facts = facts
            evaluation_reply = convert.evaluation_bytes(evaluation)  # the decision's reply: no id
            message = pb.Evaluation.FromString(evaluation_reply + draft.id_field())
            reply = reply_with(await self._reports.render(compiled, evaluation, facts, fmt), message, fmt)
            draft.answered(evaluation, evaluation_reply)
            return reply, outcome(reply)

        return await answer(context, "RenderReport", produce, on_failure=draft.refused,
                            pack=echo(evaluate_request.pack_id), requested_version=echo(evaluate_request.version),
                            format=_format_name(request.format))

    async def EvaluateBatch(self, requests: AsyncIterable[pb.BatchEvaluateRequest | Undecodable],
                            context: grpc.aio.ServicerContext) -> AsyncIterator[pb.BatchEvaluateResult]:
        try:
            self.batch_streams.enter()
        except StreamLimitReached as error:
            log.info("rpc refused", method="EvaluateBatch", code="RESOURCE_EXHAUSTED", limit=error.limit)
            await context.abort_with_status(status_for(error))
        try:
            # Headers at once: the client learns the stream was accepted before its first result.
            await context.send_initial_metadata(())
            async for result in answer_stream(requests, self._library.get, score_serialised, context,
                                              self._batch_idle_timeout, self._decisions, evaluated):
                yield result
        except (grpc.aio.AbortError, asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as error:  # noqa: BLE001 - what answer_stream did not answer: INTERNAL, logged
            await context.abort_with_status(internal(error))
        finally:
            self.batch_streams.leave()

    async def ListPacks(self, request: pb.ListPacksRequest, context: grpc.aio.ServicerContext) -> pb.ListPacksResponse:
        def produce():
            packs = [
                convert.pack_summary(c, c.pack.version == self._library.default_version(c.pack.id))
                for c in self._library.list()
            ]
            return pb.ListPacksResponse(packs=packs), {"packs": len(packs)}

        return await answer(context, "ListPacks", produce)

    async def GetPack(self, request: pb.GetPackRequest, context: grpc.aio.ServicerContext) -> pb.Pack:
        def produce():
            check_pack_id(request.pack_id)
            if request.version:
                check_version(request.version)
            reply = convert.pack_message(self._library.get(request.pack_id, request.version or None))
            return reply, {"version": reply.version}

        return await answer(context, "GetPack", produce, pack=echo(request.pack_id),
                            requested_version=echo(request.version))


def evaluation_for(request: pb.EvaluateRequest, lookup: Lookup) -> Evaluation:
    """Evaluate one request with the pack version `lookup` gives (see `evaluated`)."""
    return evaluated(request, lookup)[2]


def evaluated(request: pb.EvaluateRequest, lookup: Lookup) -> tuple[CompiledPack, dict[str, Any], Evaluation]:
    """The pack version, the facts and the evaluation of one request; raises what `status_for` maps.

    The pack id, the version (when one is named) and the language are checked first, as
    whole strings and known values, so that nothing unchecked reaches a lookup or a message.
    Facts the pack does not declare are input errors unless the request asks to ignore them.
    """
    pack_id, version = request.pack_id, request.version
    check_pack_id(pack_id)
    if version:
        check_version(version)
    language = convert.language_code(request.language)
    compiled = lookup(pack_id, version or None)
    facts = convert.facts_from_struct(request.facts)
    return compiled, facts, evaluate(compiled, facts, language, ignore_unknown=request.ignore_unknown_facts)


def report_for(request: pb.RenderReportRequest, lookup: Lookup) -> pb.RenderReportResponse:
    """RenderReport's reply, all in this thread (the CLI's --local and --registry)."""
    fmt = report_format(request.format)
    compiled, facts, evaluation = evaluated(request.request, lookup)
    message = convert.evaluation_message(evaluation)
    return reply_with(render(compiled, evaluation, facts, fmt), message, fmt)


def _format_name(value: int) -> str:
    """A ReportFormat for the log: its name, or the number sent when it names none."""
    try:
        return pb.ReportFormat.Name(value)
    except ValueError:
        return str(value)


def score(request: pb.EvaluateRequest, lookup: Lookup) -> pb.Evaluation:
    """The reply to one request (see `evaluation_for`)."""
    return convert.evaluation_message(evaluation_for(request, lookup))


def score_serialised(request: pb.EvaluateRequest, lookup: Lookup) -> bytes:
    """The reply to one request, serialised: a stream wraps it in its result without parsing it twice."""
    return convert.evaluation_bytes(evaluation_for(request, lookup))
