"""Answering a stream of evaluations: one result per request, in request order.

The requests are read one at a time and each is answered before the next is read, so
gRPC's flow control holds back a fast client and the server keeps at most one item in
hand, however long the stream. A request that fails gets an error result carrying the
status Evaluate would have failed with, and the stream goes on. One log line per stream
(items, errors by code, the versions used, duration), never one per item.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Iterable, Iterator

import grpc
import structlog
from google.rpc import code_pb2

from jixiao.core.compiler import CompiledPack
from jixiao.v1 import evaluation_pb2 as pb

from .convert import evaluation_result
from .details import status_message
from .errors import status_for

Lookup = Callable[[str, str | None], CompiledPack]
#: Scores one request: the Evaluation, or it serialised (wrapped in the result without a second parse).
Score = Callable[[pb.EvaluateRequest, Lookup], pb.Evaluation | bytes]

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


def answer_batch(requests: Iterable[pb.BatchEvaluateRequest], lookup: Lookup,
                 score: Score) -> Iterator[pb.BatchEvaluateResult]:
    """Yield one result per request, with its key, scoring each by `score(request, lookup)`."""
    packs = PinnedPacks(lookup)
    started = time.perf_counter()
    items, failures = 0, Counter[str]()
    outcome = "OK"
    get = packs.get
    try:
        for item in requests:
            items += 1
            try:
                evaluation = score(item.request, get)
                if type(evaluation) is bytes:
                    result = evaluation_result(item.key, evaluation)
                else:
                    result = pb.BatchEvaluateResult(key=item.key, evaluation=evaluation)
            except Exception as error:  # that item's status; the stream goes on
                status = status_message(status_for(error))
                failures[code_pb2.Code.Name(status.code)] += 1
                result = pb.BatchEvaluateResult(key=item.key, error=status)
            yield result
    except (GeneratorExit, grpc.RpcError):  # the client cancelled, or its deadline passed
        outcome = "CANCELLED"
        raise
    finally:
        log.info("rpc", method="EvaluateBatch", items=items, errors=sum(failures.values()),
                 error_codes=dict(failures), versions=packs.used(), code=outcome,
                 duration_ms=round((time.perf_counter() - started) * 1000, 3))
