"""Each evaluation the service answers, handed to whoever records or watches it.

Evaluate, every EvaluateBatch item and RenderReport make one `Decision` each: what was
asked, what answered it (the pack version), and the reply given (the Evaluation's bytes
without its decision id, or the status of a failure). The servicer hands it to the
`DecisionHub`'s sinks: the decision log (jixiao.audit), the shadow runs (jixiao.shadow),
the metrics. A sink's `decided` runs on the event loop, in the call, before the reply
goes: it must only take note (append to a queue) and leave the work to a thread or a
later turn of the loop.

A server without sinks hands out no decision ids: `DecisionHub.none()` costs a call
nothing but one attribute check.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence, TypeVar

import grpc

from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.results import Evaluation
from jixiao.v1 import evaluation_pb2 as pb

from .auth import ANONYMOUS, caller
from .call_context import request_id

SinkKind = TypeVar("SinkKind")

#: The Evaluation's decision_id field (16, length-delimited): its tag as serialised.
DECISION_ID_TAG = b"\x82\x01"


def new_decision_id(now_ms: int | None = None) -> str:
    """A UUID (version 7 layout) whose first 48 bits are the time in ms: ids sort by time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | secrets.randbits(12) << 64 | 0b10 << 62 | secrets.randbits(62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def decision_id_field(decision_id: str) -> bytes:
    """Evaluation.decision_id serialised: appended to a reply's bytes it sets the field
    (it is the message's last field, so the bytes stay in field order)."""
    data = decision_id.encode()
    return DECISION_ID_TAG + bytes([len(data)]) + data  # an id is 36 bytes: a one-byte length


def served_by() -> str:
    """This process, as a decision records it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Decision:
    """One evaluation answered (or refused), as the sinks see it."""

    decision_id: str
    at_ms: int  # when the call started, ms since the epoch
    method: str  # Evaluate | EvaluateBatch | RenderReport
    caller: str  # the token's name, else "peer:<address>"
    request_id: str
    request: pb.EvaluateRequest
    item_key: str | None = None
    compiled: CompiledPack | None = None  # the pack version that answered, if one was found
    evaluation: Evaluation | None = None  # the core's result, when it succeeded
    facts: dict | None = None  # the request's facts as the evaluator read them (convert.facts_from_struct)
    reply: bytes | None = None  # the Evaluation's bytes without its decision id
    status: grpc.Status | None = None  # the failure's status
    duration_s: float = 0.0
    started: float = field(default=0.0, repr=False)  # perf_counter at the start


class DecisionSink(Protocol):
    def decided(self, decision: Decision) -> None:
        """Take note of a decision; called on the event loop before the reply goes, so it must be quick."""


class DecisionHub:
    """The sinks decisions go to; `records` says whether replies carry decision ids."""

    def __init__(self, sinks: Sequence[DecisionSink] = (), *, records: bool | None = None):
        self._sinks = tuple(sinks)
        self.records = bool(self._sinks) if records is None else records

    @classmethod
    def none(cls) -> "DecisionHub":
        return cls(())

    def start(self, method: str, request: pb.EvaluateRequest, context: grpc.aio.ServicerContext | None,
              item_key: str | None = None) -> "Draft":
        """A draft for one evaluation about to be made (NO_DRAFT when nothing watches)."""
        if not self._sinks:
            return NO_DRAFT
        return Draft(self, Decision(
            decision_id=new_decision_id() if self.records else "", at_ms=int(time.time() * 1000), method=method,
            caller=_caller_name(context), request_id=request_id(), request=request, item_key=item_key,
            started=time.perf_counter()))

    def sink(self, kind: type[SinkKind]) -> SinkKind | None:
        """This hub's sink of that class, if it has one (the admin service asks for the shadow runs')."""
        return next((sink for sink in self._sinks if isinstance(sink, kind)), None)

    def decided(self, decision: Decision) -> None:
        for sink in self._sinks:
            sink.decided(decision)


class Draft:
    """One evaluation in the making: `lookup` notes the pack version, `answered` or
    `refused` completes it and hands it to the sinks (once)."""

    __slots__ = ("_hub", "decision", "_done")

    def __init__(self, hub: DecisionHub | None, decision: Decision | None):
        self._hub = hub
        self.decision = decision
        self._done = hub is None

    @property
    def decision_id(self) -> str:
        return "" if self.decision is None else self.decision.decision_id

    def id_field(self) -> bytes:
        """Bytes to append to the reply's Evaluation so that it carries the decision id."""
        return decision_id_field(self.decision.decision_id) if self.decision and self.decision.decision_id else b""

    def lookup(self, get: Callable[[str, str | None], CompiledPack]) -> Callable[[str, str | None], CompiledPack]:
        """`get`, noting the pack version it returns."""
        if self.decision is None:
            return get

        def noting(pack_id: str, version: str | None = None) -> CompiledPack:
            compiled = get(pack_id, version)
            self.decision.compiled = compiled
            return compiled

        return noting

    def answered(self, evaluation: Evaluation, reply: bytes) -> None:
        if self._done:
            return
        self._done = True
        decision = self.decision
        decision.evaluation, decision.reply = evaluation, reply
        decision.duration_s = time.perf_counter() - decision.started
        self._hub.decided(decision)

    def refused(self, status: grpc.Status) -> None:
        if self._done:
            return
        self._done = True
        decision = self.decision
        decision.status = status
        decision.duration_s = time.perf_counter() - decision.started
        self._hub.decided(decision)


NO_DRAFT = Draft(None, None)


def _caller_name(context: Any) -> str:
    name = caller()
    if name != ANONYMOUS or context is None:
        return name
    try:
        return f"peer:{context.peer()}"
    except Exception:  # noqa: BLE001 - a context without a peer (tests, in-process)
        return ANONYMOUS
