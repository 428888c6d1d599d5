"""The decision log end to end: real servers, real calls, the rows they leave in the database.

One server (SQLite, tokens, flush every 0.1 s) answers the functional checks; a server
started with `--decision-log-facts redact` and one with `--no-decision-log` check those
options; SIGTERM and SIGKILL during a burst of calls are checked on SQLite and
PostgreSQL: after SIGTERM every decision a client received is in the database; after
SIGKILL every one missing was acknowledged within the last flush interval (plus the one
flush under way) before the kill, as the README says.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import struct_pb2
from google.rpc import status_pb2

from jixiao.audit.records import canonical_facts
from jixiao.database.schema import decisions
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import bearer
from conftest import RULES, RunningServer

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"
EVALUATE_BATCH = "/jixiao.v1.EvaluationService/EvaluateBatch"
#: The SIGKILL check's flush interval, and what it allows for the one flush under way.
KILL_FLUSH_INTERVAL_S = 0.5
FLUSH_UNDER_WAY_S = 1.0  # tens of ms on a quiet machine; CI shares 2 cores
BURST_CLIENTS = 4


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pack version: servers seed it in a moment."""
    folder = tmp_path_factory.mktemp("packs")
    shutil.copytree(RULES / PACK_ID / VERSION, folder / PACK_ID / VERSION)
    return folder


@pytest.fixture(scope="module")
def server(launch_server, packs: Path, auth_config) -> RunningServer:
    return launch_server("decisions", packs=packs, args=[
        "--auth-config", str(auth_config.path), "--decision-log-flush-interval", "0.1"])


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[evaluation_pb2_grpc.EvaluationServiceStub]:
    with server.channel() as channel:
        yield evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def request_2019(golden_2019_facts: dict) -> pb.EvaluateRequest:
    facts = struct_pb2.Struct()
    facts.update(golden_2019_facts)
    return pb.EvaluateRequest(pack_id=PACK_ID, facts=facts)


def sqlite_url(server: RunningServer) -> str:
    return f"sqlite:///{server.registry}"


def read_rows(url: str, ids: set[str] | None = None) -> dict[str, dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.select(decisions)
            return {row["decision_id"]: dict(row) for row in conn.execute(query).mappings()
                    if ids is None or row["decision_id"] in ids}
    finally:
        engine.dispose()


def rows_of(server: RunningServer, *ids: str, timeout: float = 10.0) -> list[dict]:
    """The rows of `ids`, once the writer has written them all."""
    deadline = time.monotonic() + timeout
    while True:
        found = read_rows(sqlite_url(server), set(ids))
        if len(found) == len(ids) or time.monotonic() > deadline:
            assert set(found) == set(ids), f"not written: {set(ids) - set(found)}"
            return [found[i] for i in ids]
        time.sleep(0.05)


def trailing(call_or_error) -> dict[str, str | bytes]:
    return dict(call_or_error.trailing_metadata() or ())


def without_id(evaluation: pb.Evaluation) -> bytes:
    copy = pb.Evaluation()
    copy.CopyFrom(evaluation)
    copy.ClearField("decision_id")
    return copy.SerializeToString()


# --- what a row holds -----------------------------------------------------------------

def test_an_evaluation_is_recorded_under_the_id_its_reply_carries(server, stub, request_2019, auth_config):
    metadata = [("x-request-id", "req-e2e-1"), *bearer(auth_config.evaluate_token)]
    reply, call = stub.Evaluate.with_call(request_2019, metadata=metadata, timeout=10)
    assert len(reply.decision_id) == 36
    assert trailing(call)["x-decision-id"] == reply.decision_id
    (row,) = rows_of(server, reply.decision_id)
    assert (row["method"], row["caller"], row["request_id"]) == ("Evaluate", "portal", "req-e2e-1")
    assert (row["pack_id"], row["requested_version"], row["version"], row["pack_digest"]) == (
        PACK_ID, "", VERSION, reply.digest)
    assert row["facts"] == canonical_facts(request_2019.facts)
    assert row["facts_digest"] == hashlib.sha256(row["facts"].encode()).hexdigest()
    assert row["reply"] == without_id(reply)
    assert row["reply_digest"] == hashlib.sha256(without_id(reply)).hexdigest()
    assert (row["outcome"], row["score"], row["grade"]) == ("OK", reply.score, reply.grade)
    assert 0 < row["duration_ms"] < 10_000 and row["item_key"] is None
    assert row["at"][:2] == "20" and row["at"].endswith("Z")


def test_a_caller_without_a_token_is_recorded_as_its_peer(server, stub, request_2019):
    reply = stub.Evaluate(request_2019, timeout=10)
    (row,) = rows_of(server, reply.decision_id)
    host, _, port = row["caller"].removeprefix("peer:ipv4:").rpartition(":")
    assert host == "127.0.0.1" and port.isdigit()
    assert len(row["request_id"]) == 32  # one the server made


def test_a_failed_evaluation_is_recorded_with_its_status(server, stub, request_2019):
    missing = pb.EvaluateRequest()
    missing.CopyFrom(request_2019)
    missing.version = "9.9.9"
    with pytest.raises(grpc.RpcError) as refused:
        stub.Evaluate(missing, timeout=10)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    metadata = trailing(refused.value)
    decision_id = metadata["x-decision-id"]
    (row,) = rows_of(server, decision_id)
    status = status_pb2.Status.FromString(row["reply"])
    assert row["reply"] == metadata["grpc-status-details-bin"]
    assert (status.code, status.message) == (grpc.StatusCode.NOT_FOUND.value[0], refused.value.details())
    assert (row["outcome"], row["score"], row["grade"], row["version"]) == ("NOT_FOUND", None, None, "")
    assert row["requested_version"] == "9.9.9" and row["reply_digest"] == hashlib.sha256(row["reply"]).hexdigest()


def test_every_batch_item_is_a_decision_but_an_undecodable_one(server, request_2019):
    good = pb.BatchEvaluateRequest(key="good", request=request_2019).SerializeToString()
    missing = pb.BatchEvaluateRequest(key="missing", request=pb.EvaluateRequest(pack_id="no-such-pack"))
    with server.channel() as channel:
        stream = channel.stream_stream(EVALUATE_BATCH, request_serializer=None,
                                       response_deserializer=pb.BatchEvaluateResult.FromString)
        results = list(stream(iter([good, b"\x0a\x02\xc3\x28", missing.SerializeToString(), good]), timeout=10))
    assert [(r.key, r.WhichOneof("outcome")) for r in results] == [
        ("good", "evaluation"), ("", "error"), ("missing", "error"), ("good", "evaluation")]
    assert results[1].decision_id == ""  # undecodable: no decision
    ids = [results[i].decision_id for i in (0, 2, 3)]
    assert len(set(ids)) == 3 and all(len(i) == 36 for i in ids)
    assert results[0].evaluation.decision_id == ids[0] and results[3].evaluation.decision_id == ids[2]
    first, refused, last = rows_of(server, *ids)
    assert (first["method"], first["item_key"], first["outcome"]) == ("EvaluateBatch", "good", "OK")
    assert first["reply"] == without_id(results[0].evaluation)
    assert (refused["item_key"], refused["outcome"], refused["pack_id"]) == ("missing", "NOT_FOUND", "no-such-pack")
    assert status_pb2.Status.FromString(refused["reply"]) == results[2].error
    assert last["facts_digest"] == first["facts_digest"] and last["at"] >= first["at"]


def test_a_report_is_recorded_with_its_evaluation(server, stub, request_2019):
    reply, call = stub.RenderReport.with_call(
        pb.RenderReportRequest(request=request_2019, format=pb.REPORT_FORMAT_MARKDOWN), timeout=60)
    decision_id = reply.evaluation.decision_id
    assert len(decision_id) == 36 and trailing(call)["x-decision-id"] == decision_id
    (row,) = rows_of(server, decision_id)
    assert (row["method"], row["outcome"], row["grade"]) == ("RenderReport", "OK", reply.evaluation.grade)
    assert row["reply"] == without_id(reply.evaluation)


# --- options --------------------------------------------------------------------------

def test_redacted_facts_keep_only_their_digest_and_no_decision_log_records_nothing(
        launch_server, packs, request_2019):
    redacting = launch_server("redact", packs=packs, args=["--decision-log-facts", "redact"])
    silent = launch_server("silent", packs=packs, args=["--no-decision-log"])
    with redacting.channel() as channel:
        reply = evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate(request_2019, timeout=10)
    with silent.channel() as channel:
        quiet, call = evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate.with_call(request_2019, timeout=10)
    assert redacting.stop() == 0 and silent.stop() == 0
    (row,) = read_rows(sqlite_url(redacting)).values()
    assert row["decision_id"] == reply.decision_id and row["facts"] is None
    assert row["facts_digest"] == hashlib.sha256(canonical_facts(request_2019.facts).encode()).hexdigest()
    assert quiet.decision_id == "" and "x-decision-id" not in trailing(call)
    assert quiet.score == reply.score and read_rows(sqlite_url(silent)) == {}


# --- SIGTERM and SIGKILL during a burst --------------------------------------------------

class Burst:
    """Clients calling Evaluate back to back; each reply's decision id and when it arrived."""

    def __init__(self, server: RunningServer, request: pb.EvaluateRequest):
        self.received: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._call, args=(server, request)) for _ in range(BURST_CLIENTS)]

    def __enter__(self) -> "Burst":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _call(self, server: RunningServer, request: pb.EvaluateRequest) -> None:
        with server.channel() as channel:
            stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
            while not self._stop.is_set():
                try:
                    reply = stub.Evaluate(request, timeout=5)
                except grpc.RpcError:  # the server went away
                    return
                with self._lock:
                    self.received.append((time.monotonic(), reply.decision_id))

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {len(self.received)} replies"
            time.sleep(0.01)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], str | None]:
    """Server options for the database, and its URL (None: the server's own SQLite file)."""
    if request.param == "sqlite":
        return [], None
    url = request.getfixturevalue("postgres_url")
    return ["--registry-url", url], url


def burst_server(launch_server, packs: Path, backend, *extra: str) -> tuple[RunningServer, str]:
    args, url = backend  # --registry-url wins over the harness's --registry
    server = launch_server("burst", packs=packs, args=[*args, *extra])
    return server, url or sqlite_url(server)


def test_sigterm_during_a_burst_writes_every_acknowledged_decision(launch_server, packs, backend, request_2019):
    server, url = burst_server(launch_server, packs, backend, "--decision-log-flush-interval", "5")
    with Burst(server, request_2019) as burst:
        burst.wait_for(200)
        server.process.send_signal(signal.SIGTERM)  # calls still in flight: they are answered, then it stops
        assert server.process.wait(timeout=30) == 0, server.log()
    received = {decision_id for _, decision_id in burst.received}
    assert len(received) == len(burst.received) >= 200
    assert set(read_rows(url, received)) == received  # all of them, though the interval (5 s) never came


def test_sigkill_loses_at_most_the_last_flush_interval(launch_server, packs, backend, request_2019):
    server, url = burst_server(launch_server, packs, backend,
                               "--decision-log-flush-interval", str(KILL_FLUSH_INTERVAL_S))
    with Burst(server, request_2019) as burst:
        burst.wait_for(100)
        time.sleep(3 * KILL_FLUSH_INTERVAL_S)  # several flushes done
        killed_at = time.monotonic()
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    received = dict((decision_id, at) for at, decision_id in burst.received)
    written = set(read_rows(url, set(received)))
    lost = {decision_id: at for decision_id, at in received.items() if decision_id not in written}
    assert len(written) >= 100
    window = KILL_FLUSH_INTERVAL_S + FLUSH_UNDER_WAY_S
    too_old = {i: round(killed_at - at, 3) for i, at in lost.items() if at < killed_at - window}
    assert not too_old, f"lost decisions acknowledged more than {window} s before the kill: {too_old}"
