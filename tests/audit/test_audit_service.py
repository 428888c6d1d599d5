"""The AuditService in process: its answers, its role, a server without the decision log,
and replay's rule engine kept on the event loop's thread."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import grpc
import pytest
from structlog.testing import capture_logs

from jixiao.api import audit as audit_api
from jixiao.api.audit import AuditServicer
from jixiao.api.auth import AuthInterceptor
from jixiao.api.decoding import add_service
from jixiao.api.tokens import TokenEntry, TokenTable, hash_token
from jixiao.audit import queries
from jixiao.database.connection import create_engine
from jixiao.v1 import audit_pb2, audit_pb2_grpc
from jixiao.v1 import evaluation_pb2 as pb

from aio_servers import served

from .decision_rows import BASE_MS, PACK_ID, answered_row, clear, facts_2019, insert, struct

TOKENS = TokenTable((
    TokenEntry("auditor", hash_token("audit-secret"), frozenset({"audit"})),
    TokenEntry("ops-alice", hash_token("deploy-secret"), frozenset({"deploy", "evaluate"})),
))
AUDIT = [("authorization", "Bearer audit-secret")]
ROWS = 23


@pytest.fixture(scope="module")
def rows(registry, catalog) -> list[dict]:
    clear(registry.engine)
    made = []
    for index in range(ROWS):
        facts = facts_2019()
        facts["output"]["trainings_held"] = index % 3 if index % 4 else "none"
        request = pb.EvaluateRequest(pack_id=PACK_ID, version=("1.0.0", "1.1.1")[index % 2], facts=struct(facts))
        made.append(answered_row(request, catalog.get, at_ms=BASE_MS + index * 10))
    insert(registry.engine, made)
    return made


@contextmanager
def stub_for(registry, catalog, *, enabled: bool = True, tokens: TokenTable = TOKENS
             ) -> Iterator[audit_pb2_grpc.AuditServiceStub]:
    async def build():
        server = grpc.aio.server(interceptors=[AuthInterceptor(tokens)])
        add_service(server, audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
                    AuditServicer(registry, catalog, enabled))
        return server, server.add_insecure_port("127.0.0.1:0")

    with served(build) as running, grpc.insecure_channel(running.target) as channel:
        yield audit_pb2_grpc.AuditServiceStub(channel)


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def test_the_service_answers_from_the_log(registry, catalog, rows, monkeypatch) -> None:
    monkeypatch.setattr(queries, "CHUNK_ROWS", 7)  # several chunks, and a replay turn cut inside one
    monkeypatch.setattr(audit_api, "REPLAY_TURN", 3)
    threads = set()
    replay = audit_api.replay

    def noting(*args):
        threads.add(threading.current_thread().name)
        return replay(*args)

    monkeypatch.setattr(audit_api, "replay", noting)
    with capture_logs() as logged, stub_for(registry, catalog) as stub:
        listed = stub.ListDecisions(audit_pb2.ListDecisionsRequest(page_size=5), metadata=AUDIT, timeout=10)
        replayed = list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(), metadata=AUDIT, timeout=30))
        exported = [item.decision for item in stub.ExportDecisions(
            audit_pb2.ExportDecisionsRequest(filter=audit_pb2.DecisionFilter(outcome="INVALID_ARGUMENT")),
            metadata=AUDIT, timeout=30)]
        one = stub.GetDecision(audit_pb2.GetDecisionRequest(decision_id=rows[1]["decision_id"]), metadata=AUDIT,
                               timeout=10)

    assert [s.decision_id for s in listed.decisions] == [row["decision_id"] for row in rows[::-1][:5]]
    assert listed.next_page_token
    assert [r.decision_id for r in replayed] == [row["decision_id"] for row in rows]
    assert {r.outcome for r in replayed} == {audit_pb2.REPLAY_OUTCOME_IDENTICAL}
    assert threads == {"aio-server"}  # the event loop's thread, never a worker thread
    assert [d.summary.decision_id for d in exported] == [r["decision_id"] for r in rows if r["outcome"] != "OK"]
    assert all(d.HasField("error") and d.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for d in exported)
    assert one.evaluation.decision_id == rows[1]["decision_id"]
    assert one.evaluation.SerializeToString() == rows[1]["reply"] + b"\x82\x01\x24" + rows[1]["decision_id"].encode()
    assert one.facts_json == rows[1]["facts"] and one.summary.outcome == "OK" and one.summary.score
    streams = {line["method"]: line for line in logged if line.get("method") in ("ReplayDecisions", "ExportDecisions")}
    assert streams["ReplayDecisions"]["outcomes"] == {"IDENTICAL": ROWS}
    assert (streams["ReplayDecisions"]["caller"], streams["ReplayDecisions"]["code"]) == ("auditor", "OK")
    assert streams["ExportDecisions"]["decisions"] == len(exported)


def test_only_an_audit_token_may_call(registry, catalog, rows) -> None:
    with stub_for(registry, catalog) as stub:
        denied = refused(lambda: stub.ListDecisions(audit_pb2.ListDecisionsRequest(), timeout=10,
                                                    metadata=[("authorization", "Bearer deploy-secret")]))
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert denied.details() == "token 'ops-alice' lacks the role audit that jixiao.v1.AuditService needs"
        assert refused(lambda: list(stub.ExportDecisions(audit_pb2.ExportDecisionsRequest(), timeout=10))
                       ).code() == grpc.StatusCode.UNAUTHENTICATED
    with stub_for(registry, catalog, tokens=TokenTable()) as stub:
        none = refused(lambda: stub.ListDecisions(audit_pb2.ListDecisionsRequest(), metadata=AUDIT, timeout=10))
        assert none.code() == grpc.StatusCode.UNAUTHENTICATED and "audit role" in none.details()


def test_a_server_without_the_decision_log_says_so(registry, catalog, rows) -> None:
    with stub_for(registry, catalog, enabled=False) as stub:
        for call in (lambda: stub.ListDecisions(audit_pb2.ListDecisionsRequest(), metadata=AUDIT, timeout=10),
                     lambda: stub.GetDecision(audit_pb2.GetDecisionRequest(decision_id=rows[0]["decision_id"]),
                                              metadata=AUDIT, timeout=10),
                     lambda: list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(), metadata=AUDIT,
                                                       timeout=10)),
                     lambda: list(stub.ExportDecisions(audit_pb2.ExportDecisionsRequest(), metadata=AUDIT,
                                                       timeout=10))):
            error = refused(call)
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "--no-decision-log" in error.details()


def test_bad_requests_are_refused_naming_the_field(registry, catalog, rows) -> None:
    with stub_for(registry, catalog) as stub:
        for call, field in (
                (lambda: stub.GetDecision(audit_pb2.GetDecisionRequest(decision_id="x"), metadata=AUDIT, timeout=10),
                 "decision_id"),
                (lambda: list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(
                    filter=audit_pb2.DecisionFilter(method="Score")), metadata=AUDIT, timeout=10)), "filter.method"),
                (lambda: list(stub.ExportDecisions(audit_pb2.ExportDecisionsRequest(
                    filter=audit_pb2.DecisionFilter(until="soon")), metadata=AUDIT, timeout=10)), "filter.until")):
            error = refused(call)
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert error.details().startswith(f"{field}: ")
        unknown = refused(lambda: stub.GetDecision(audit_pb2.GetDecisionRequest(
            decision_id="01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b"), metadata=AUDIT, timeout=10))
        assert unknown.code() == grpc.StatusCode.NOT_FOUND and "01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b" in unknown.details()


def test_a_database_outage_is_unavailable(catalog, tmp_path) -> None:
    class Unreachable:  # the database's file cannot be opened: what an outage looks like to SQLite
        engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'registry.sqlite3'}")

    with stub_for(Unreachable(), catalog) as stub:
        for call in (lambda: stub.ListDecisions(audit_pb2.ListDecisionsRequest(), metadata=AUDIT, timeout=10),
                     lambda: list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(), metadata=AUDIT,
                                                       timeout=10))):
            error = refused(call)
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            assert "gone" not in error.details()


def test_an_undecodable_stream_request_is_refused(registry, catalog, rows) -> None:
    async def build():
        server = grpc.aio.server(interceptors=[AuthInterceptor(TOKENS)])
        add_service(server, audit_pb2.DESCRIPTOR.services_by_name["AuditService"], AuditServicer(registry, catalog))
        return server, server.add_insecure_port("127.0.0.1:0")

    with served(build) as running, grpc.insecure_channel(running.target) as channel:
        replay = channel.unary_stream("/jixiao.v1.AuditService/ReplayDecisions",
                                      request_serializer=lambda data: data, response_deserializer=lambda data: data)
        error = refused(lambda: list(replay(b"\x0a\x05\x0a\xff", metadata=AUDIT, timeout=10)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("request could not be decoded")


def test_a_record_whose_reply_cannot_be_read_is_shown_without_it(registry, catalog, rows) -> None:
    from .decision_rows import update

    update(registry.engine, rows[2]["decision_id"], reply=b"\x0a\xff\xff")
    try:
        with stub_for(registry, catalog) as stub:
            shown = stub.GetDecision(audit_pb2.GetDecisionRequest(decision_id=rows[2]["decision_id"]),
                                     metadata=AUDIT, timeout=10)
    finally:
        update(registry.engine, rows[2]["decision_id"], reply=rows[2]["reply"])
    assert shown.WhichOneof("reply") is None and shown.facts_json == rows[2]["facts"]


def test_a_row_that_breaks_its_replay_is_reported_and_the_stream_goes_on(registry, catalog, rows,
                                                                         monkeypatch) -> None:
    replay = audit_api.replay

    def breaking(row, *args):
        if row.decision_id == rows[4]["decision_id"]:
            raise RuntimeError("a bug")
        return replay(row, *args)

    monkeypatch.setattr(audit_api, "replay", breaking)
    with stub_for(registry, catalog) as stub:
        replayed = list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(), metadata=AUDIT, timeout=30))
    assert len(replayed) == ROWS
    broken = replayed[4]
    assert broken.outcome == audit_pb2.REPLAY_OUTCOME_DIFFERENT and "could not be replayed: internal error" in \
        broken.detail
    assert {r.outcome for r in replayed[5:]} == {audit_pb2.REPLAY_OUTCOME_IDENTICAL}
