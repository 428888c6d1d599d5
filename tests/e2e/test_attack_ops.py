"""Attacks on the audit and operations surface through a real server (one for the module, with
--metrics-port): filter times out of range, a flood of /metrics connections while evaluations
must keep answering, and a decision row edited by hand into bytes where text belongs."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import time
import urllib.request

import grpc
import pytest

from jixiao.api.auth import hash_token
from jixiao.v1 import audit_pb2, audit_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc
from jixiao_cli.client import evaluate_request

from admin_calls import bearer
from conftest import RULES, RunningServer

pytestmark = pytest.mark.e2e

PACK = "quality-district-funding"
DEADLINE_S = 30


@pytest.fixture(scope="module")
def audit_token() -> str:
    return f"audit-{os.urandom(12).hex()}"


@pytest.fixture(scope="module")
def server(launch_server, tmp_path_factory: pytest.TempPathFactory, audit_token: str) -> RunningServer:
    packs = tmp_path_factory.mktemp("attack-packs")
    shutil.copytree(RULES / PACK / "1.0.0", packs / PACK / "1.0.0")
    running = launch_server("attack-ops", packs=packs, args=[
        "--tokens", f"auditor:{hash_token(audit_token)}:audit", "--metrics-port", "0",
        "--decision-log-flush-interval", "0.05"])
    yield running
    assert running.stop() == 0, running.log()
    for line in running.log().splitlines():  # the server's own lines stay JSON, one a line
        if line.startswith("{"):
            json.loads(line)


@pytest.fixture(scope="module")
def metrics_port(server: RunningServer) -> int:
    return int(re.search(r'"metrics_port": (\d+)', server.log())[1])


@pytest.fixture(scope="module")
def stubs(server: RunningServer):
    with server.channel() as channel:
        yield evaluation_pb2_grpc.EvaluationServiceStub(channel), audit_pb2_grpc.AuditServiceStub(channel)


def a_request(golden_2019_facts: dict) -> evaluation_pb2.EvaluateRequest:
    return evaluate_request(PACK, golden_2019_facts, "1.0.0")


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.9999999Z",
                                   "2026-12-03T16:47:39.\u0661Z"])
def test_a_filter_time_out_of_range_is_invalid_argument(stubs, audit_token, since) -> None:
    _, audit = stubs
    with pytest.raises(grpc.RpcError) as refused:
        audit.ListDecisions(audit_pb2.ListDecisionsRequest(filter=audit_pb2.DecisionFilter(since=since)),
                            metadata=bearer(audit_token), timeout=DEADLINE_S)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("filter.since: ")


def test_a_flood_of_metrics_connections_does_not_stall_evaluations(stubs, metrics_port, golden_2019_facts) -> None:
    evaluate = stubs[0].Evaluate
    request = a_request(golden_2019_facts)
    evaluate(request, timeout=DEADLINE_S)
    flood = []
    for _ in range(500):
        connection = socket.create_connection(("127.0.0.1", metrics_port), timeout=5)
        connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        flood.append(connection)
    for connection in flood:  # every request ends at once: each one used to build a whole scrape
        connection.close()
    slowest = 0.0
    for _ in range(20):
        started = time.perf_counter()
        evaluate(request, timeout=DEADLINE_S)
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 2.0  # generous: it took over 10 s with a thread and a scrape per connection
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as reply:
        assert b"jixiao_evaluations_total" in reply.read()


def test_a_row_edited_into_bytes_is_listed_with_the_others(server, stubs, audit_token, golden_2019_facts) -> None:
    evaluate, audit = stubs
    made = []
    for _ in range(3):
        _, call = evaluate.Evaluate.with_call(a_request(golden_2019_facts), timeout=DEADLINE_S)
        made.append(dict(call.trailing_metadata())["x-decision-id"])
    deadline = time.monotonic() + 10
    with sqlite3.connect(server.registry, timeout=10) as by_hand:
        while by_hand.execute("SELECT count(*) FROM decisions WHERE decision_id = ?", [made[-1]]).fetchone()[0] == 0:
            assert time.monotonic() < deadline, "the decision was not written"
            time.sleep(0.05)
        by_hand.execute("UPDATE decisions SET caller = ?, grade = ? WHERE decision_id = ?",
                        [b"\xc3(", b"\xff", made[1]])
    listed = audit.ListDecisions(audit_pb2.ListDecisionsRequest(page_size=1000), metadata=bearer(audit_token),
                                 timeout=DEADLINE_S)
    assert set(made) <= {decision.decision_id for decision in listed.decisions}
    shown = audit.GetDecision(audit_pb2.GetDecisionRequest(decision_id=made[1]), metadata=bearer(audit_token),
                              timeout=DEADLINE_S)
    assert shown.summary.caller == "\ufffd(" and shown.summary.grade == "\ufffd"
    exported = list(audit.ExportDecisions(audit_pb2.ExportDecisionsRequest(), metadata=bearer(audit_token),
                                          timeout=DEADLINE_S))
    assert set(made) <= {item.decision.summary.decision_id for item in exported}
