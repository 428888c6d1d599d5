"""The EvaluationService: convert the request, call the core, convert the reply."""

from __future__ import annotations

from typing import Iterable, Iterator, Protocol

import grpc

from jixiao.core.compiler import CompiledPack
from jixiao.core.evaluator import evaluate
from jixiao.core.results import Evaluation
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from . import convert
from .batch import Lookup, answer_batch
from .calls import answer


class PackSource(Protocol):
    """Where compiled packs come from: a RegistryCatalog in the server, a PackLibrary locally."""

    def get(self, pack_id: str, version: str | None = None) -> CompiledPack: ...

    def list(self) -> list[CompiledPack]: ...

    def default_version(self, pack_id: str) -> str | None: ...


class EvaluationServicer(evaluation_pb2_grpc.EvaluationServiceServicer):
    """Serves one pack source. Holds no state besides it."""

    def __init__(self, library: PackSource):
        self._library = library

    def Evaluate(self, request: pb.EvaluateRequest, context: grpc.ServicerContext) -> pb.Evaluation:
        def produce():
            evaluation = evaluation_for(request, self._library.get)
            outcome = {"version": evaluation.version, "score": convert.decimal_text(evaluation.score),
                       "grade": evaluation.grade}
            return convert.evaluation_message(evaluation), outcome

        return answer(context, "Evaluate", produce, pack=request.pack_id, requested_version=request.version)

    def EvaluateBatch(self, requests: Iterable[pb.BatchEvaluateRequest],
                      context: grpc.ServicerContext) -> Iterator[pb.BatchEvaluateResult]:
        return answer_batch(requests, self._library.get, score_serialised)

    def ListPacks(self, request: pb.ListPacksRequest, context: grpc.ServicerContext) -> pb.ListPacksResponse:
        def produce():
            packs = [
                convert.pack_summary(c, c.pack.version == self._library.default_version(c.pack.id))
                for c in self._library.list()
            ]
            return pb.ListPacksResponse(packs=packs), {"packs": len(packs)}

        return answer(context, "ListPacks", produce)

    def GetPack(self, request: pb.GetPackRequest, context: grpc.ServicerContext) -> pb.Pack:
        def produce():
            reply = convert.pack_message(self._library.get(request.pack_id, request.version or None))
            return reply, {"version": reply.version}

        return answer(context, "GetPack", produce, pack=request.pack_id, requested_version=request.version)


def evaluation_for(request: pb.EvaluateRequest, lookup: Lookup) -> Evaluation:
    """Evaluate one request with the pack version `lookup` gives; raises what `status_for` maps."""
    compiled = lookup(request.pack_id, request.version or None)
    facts = convert.facts_from_struct(request.facts)
    return evaluate(compiled, facts, convert.language_code(request.language))


def score(request: pb.EvaluateRequest, lookup: Lookup) -> pb.Evaluation:
    """The reply to one request (see `evaluation_for`)."""
    return convert.evaluation_message(evaluation_for(request, lookup))


def score_serialised(request: pb.EvaluateRequest, lookup: Lookup) -> bytes:
    """The reply to one request, serialised: a stream wraps it in its result without parsing it twice."""
    return convert.evaluation_bytes(evaluation_for(request, lookup))
