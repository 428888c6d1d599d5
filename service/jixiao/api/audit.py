"""The AuditService: list, show, replay and export the decisions of the decision log.

The unary calls read the database in a worker thread (`answer(..., blocking=True)`).
The streams read it a chunk at a time (`jixiao.audit.queries.CHUNK_ROWS`, oldest first)
in a worker thread too, so that however large the log, a call holds one chunk; an
export also parses the chunk's replies there. Each stream logs one line at its end. Replay
runs the rule engine, which must never run on two threads at once: it runs on the event
loop, as evaluations do, `REPLAY_TURN` decisions at a time with a turn of the loop
between, so that the server keeps answering other calls during a long replay.

A server started with --no-decision-log answers every audit call FAILED_PRECONDITION:
it keeps no log, and an empty answer would read as "no decisions were made".
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import AsyncIterator

import grpc
import structlog
from google.protobuf.message import DecodeError
from google.rpc import status_pb2

from jixiao.audit import queries
from jixiao.audit.replay import Replayed, language_enum, replay
from jixiao.catalog import RegistryCatalog
from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.identifiers import echo
from jixiao.packs import PackNotFound, compile_bundle
from jixiao.registry.store import Registry, VersionNotFound
from jixiao.v1 import audit_pb2 as pb
from jixiao.v1 import evaluation_pb2

from .auth import caller
from .calls import answer
from .audit_refusals import DecisionLogOff, DecisionNotFound
from .errors import status_for

#: Decisions replayed on the event loop between two turns of it.
REPLAY_TURN = 20

log = structlog.get_logger("jixiao.api")


class AuditServicer:
    """Serves the decision log kept in `registry`'s database."""

    def __init__(self, registry: Registry, catalog: RegistryCatalog, enabled: bool = True):
        self._registry = registry
        self._catalog = catalog
        self._enabled = enabled

    async def ListDecisions(self, request: pb.ListDecisionsRequest,
                            context: grpc.aio.ServicerContext) -> pb.ListDecisionsResponse:
        def produce():
            self._require_log()
            where = queries.criteria(request.filter)
            size = queries.page_size(request.page_size)
            after = queries.token_position(request.page_token, where)
            page = queries.list_page(self._registry.engine, where, size, after)
            reply = pb.ListDecisionsResponse(decisions=[summary(row) for row in page.rows],
                                             next_page_token=page.next_token)
            return reply, {"decisions": len(page.rows), "more": bool(page.next_token)}

        return await answer(context, "ListDecisions", produce, blocking=True, caller=caller())

    async def GetDecision(self, request: pb.GetDecisionRequest,
                          context: grpc.aio.ServicerContext) -> pb.GetDecisionResponse:
        def produce():
            self._require_log()
            decision_id = queries.check_decision_id(request.decision_id)
            row = queries.get_row(self._registry.engine, decision_id)
            if row is None:
                raise DecisionNotFound(decision_id)
            return whole(row), {"outcome": row.outcome}

        return await answer(context, "GetDecision", produce, blocking=True, caller=caller(),
                            decision_id=echo(request.decision_id))

    async def ReplayDecisions(self, request: pb.ReplayDecisionsRequest,
                              context: grpc.aio.ServicerContext) -> AsyncIterator[pb.ReplayDecisionsResponse]:
        where = await self._checked(request.filter, context)
        packs = PackFinder(self._registry, self._catalog)
        started, outcomes = time.perf_counter(), Counter()
        try:
            async for rows in self._chunks(where):
                compiled = await asyncio.to_thread(packs.for_rows, rows)
                for start in range(0, len(rows), REPLAY_TURN):
                    results = [self._replayed(row, compiled) for row in rows[start:start + REPLAY_TURN]]
                    for result in results:
                        outcomes[pb.ReplayOutcome.Name(result.outcome)] += 1
                        yield result.message()
                    await asyncio.sleep(0)
        except (grpc.aio.AbortError, asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as error:  # noqa: BLE001 - a database outage: UNAVAILABLE; else INTERNAL
            status = status_for(error)
            _logged("ReplayDecisions", started, status.code.name, decisions=sum(outcomes.values()))
            await context.abort_with_status(status)
        finally:
            packs.close()
        _logged("ReplayDecisions", started, "OK", decisions=sum(outcomes.values()),
                outcomes={name.removeprefix("REPLAY_OUTCOME_"): count for name, count in outcomes.items()})

    async def ExportDecisions(self, request: pb.ExportDecisionsRequest,
                              context: grpc.aio.ServicerContext) -> AsyncIterator[pb.ExportDecisionsResponse]:
        where = await self._checked(request.filter, context)
        started, count = time.perf_counter(), 0
        try:
            async for rows in self._chunks(where):
                # Parsing each reply into its message is CPU: in the worker thread, not on the loop.
                for message in await asyncio.to_thread(lambda: [whole(row) for row in rows]):
                    count += 1
                    yield pb.ExportDecisionsResponse(decision=message)
        except (grpc.aio.AbortError, asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as error:  # noqa: BLE001 - a database outage: UNAVAILABLE; else INTERNAL
            status = status_for(error)
            _logged("ExportDecisions", started, status.code.name, decisions=count)
            await context.abort_with_status(status)
        _logged("ExportDecisions", started, "OK", decisions=count)

    # --- helpers -----------------------------------------------------------------------

    def _replayed(self, row, compiled: dict[str, CompiledPack | None]) -> Replayed:
        """One row replayed; a row that breaks the replay itself is reported, not the stream ended."""
        try:
            return replay(row, compiled.get(row.pack_digest), self._catalog.get)
        except Exception as error:  # noqa: BLE001 - logged with an error id by status_for
            return Replayed(row.decision_id, pb.REPLAY_OUTCOME_DIFFERENT, row.reply_digest,
                            detail=f"could not be replayed: {status_for(error).details}")

    def _require_log(self) -> None:
        if not self._enabled:
            raise DecisionLogOff()

    async def _checked(self, request_filter: pb.DecisionFilter, context) -> queries.Criteria:
        """The stream's criteria, or the call ends with the status of what is wrong."""
        try:
            self._require_log()
            return queries.criteria(request_filter)
        except Exception as error:  # noqa: BLE001 - INVALID_ARGUMENT naming the field, or no log
            await context.abort_with_status(status_for(error))

    async def _chunks(self, where: queries.Criteria) -> AsyncIterator[list]:
        """Every matching row, oldest first, a chunk at a time read in a worker thread."""
        after = None
        while True:
            rows = await asyncio.to_thread(queries.chunk_after, self._registry.engine, where, after,
                                         queries.CHUNK_ROWS)
            if rows:
                yield rows
            if len(rows) < queries.CHUNK_ROWS:
                return
            after = rows[-1].decision_id


def _logged(method: str, started: float, code: str, **fields: object) -> None:
    """The one line a stream's end gets, as `calls.answer` writes one per unary call."""
    log.info("rpc", method=method, caller=caller(), **fields, code=code,
             duration_ms=round((time.perf_counter() - started) * 1000, 3))


class PackFinder:
    """The compiled pack version of each recorded digest, looked up once per replay (worker thread)."""

    def __init__(self, registry: Registry, catalog: RegistryCatalog):
        self._registry = registry
        self._catalog = catalog
        self._found: dict[str, CompiledPack | None] = {}
        self._own: list[CompiledPack] = []  # compiled here (versions the catalog does not serve)

    def for_rows(self, rows) -> dict[str, CompiledPack | None]:
        for digest in {row.pack_digest for row in rows if row.pack_digest}:
            if digest not in self._found:
                self._found[digest] = self._find(digest)
        return self._found

    def _find(self, digest: str) -> CompiledPack | None:
        record = self._registry.record_by_digest(digest)
        if record is None:
            return None
        try:
            compiled = self._catalog.get(record.pack_id, record.version)
        except PackNotFound:  # published, but not served here (its signature fails the trust policy)
            try:
                bundle = self._registry.bundle(record.pack_id, record.version)
            except VersionNotFound:
                return None
            compiled = compile_bundle(bundle, f"registry:{record.pack_id}@{record.version}").compiled
            self._own.append(compiled)
        return compiled if compiled.pack.digest == digest else None

    def close(self) -> None:
        for compiled in self._own:
            compiled.close()
        self._own.clear()


def summary(row) -> pb.DecisionSummary:
    """A decision's summary from its row."""
    return pb.DecisionSummary(
        decision_id=row.decision_id, at=row.at, method=row.method, caller=row.caller, request_id=row.request_id,
        pack_id=row.pack_id, requested_version=row.requested_version, version=row.version,
        pack_digest=row.pack_digest, outcome=row.outcome, score=row.score or "", grade=row.grade or "",
        duration_ms=_milliseconds(row.duration_ms), facts_digest=row.facts_digest, facts_redacted=_redacted(row),
        reply_digest=row.reply_digest, item_key=row.item_key or "", served_by=row.served_by)


def _milliseconds(value: object) -> str:
    """A row's duration as text; "" for a value edited into no number (SQLite keeps any type)."""
    return f"{value:.3f}" if isinstance(value, (int, float)) else ""


def _redacted(row) -> bool:
    """Whether only the facts' digest was kept (a list reads that rather than the facts)."""
    return bool(row.facts_redacted) if "facts_redacted" in row._fields else row.facts is None


def whole(row) -> pb.GetDecisionResponse:
    """A decision whole from its row: the evaluation given (its decision id set) or the error
    (neither when the recorded reply cannot be read: the record was altered)."""
    reply = pb.GetDecisionResponse(summary=summary(row), facts_json=row.facts or "",
                                   language=_language(row.language), ignore_unknown_facts=row.ignore_unknown_facts)
    data = bytes(row.reply)
    try:
        if row.outcome == "OK":
            evaluation = evaluation_pb2.Evaluation.FromString(data)
            evaluation.decision_id = row.decision_id
            reply.evaluation.CopyFrom(evaluation)
        else:
            reply.error.CopyFrom(status_pb2.Status.FromString(data))
    except DecodeError:  # a record whose reply was edited into something unreadable: shown without it
        pass
    return reply


def _language(stored: str) -> int:
    value = language_enum(stored)
    return value if value in evaluation_pb2.Language.values() else evaluation_pb2.LANGUAGE_UNSPECIFIED

