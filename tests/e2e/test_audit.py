"""The audit commands end to end: a real server recording its decisions, the AuditService
behind the `audit` role, and `jixiao audit list|show|replay|export` through the real CLI.

One server for the module (a token file of its own: a deploy, an audit and an evaluate
token); about 300 evaluations (Evaluate, an EvaluateBatch stream, valid and refused)
recorded by the server's own decision log, then replayed, listed, shown and exported.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import struct_pb2

from jixiao.api.auth import hash_token
from jixiao.core.pack.cases import load_case
from jixiao.v1 import admin_pb2, admin_pb2_grpc, audit_pb2, audit_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc

from jixiao_cli.audit_client import PAGE_SIZE

from admin_calls import bearer

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSIONS = ("1.0.0", "1.1.1")
DEADLINE_S = 10
EVALUATIONS = 240  # unary: every sixth refused
BATCH_ITEMS = 60  # one stream: every fifth refused


CASE_2019 = Path(__file__).resolve().parents[2] / "rules" / PACK_ID / "1.0.0" / "cases" / "2019.yaml"
FACTS_2019 = load_case(CASE_2019.read_text(encoding="utf-8"), str(CASE_2019)).facts


def facts(index: int) -> dict:
    """The 2019 facts with the trainings held varied by `index`; every sixth a non-number (refused)."""
    made = copy.deepcopy(FACTS_2019)
    made["output"]["trainings_required"] = 1 + index % 4
    made["output"]["trainings_held"] = "not a number" if index % 6 == 5 else index % 3
    return made


def struct(value: dict) -> struct_pb2.Struct:
    made = struct_pb2.Struct()
    made.update(value)
    return made


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    made = {role: f"{role}-{os.urandom(12).hex()}" for role in ("deploy", "audit", "evaluate")}
    path = tmp_path_factory.mktemp("audit-auth") / "tokens.yaml"
    path.write_text(yaml.safe_dump({"tokens": [
        {"name": "ops-alice", "sha256": hash_token(made["deploy"]), "roles": ["deploy"]},
        {"name": "auditor", "sha256": hash_token(made["audit"]), "roles": ["audit"]},
        {"name": "portal", "sha256": hash_token(made["evaluate"]), "roles": ["evaluate"]},
    ]}), encoding="utf-8")
    made["path"] = str(path)
    return made


@pytest.fixture(scope="module")
def server(launch_server, tokens):
    running = launch_server("audit", args=["--auth-config", tokens["path"], "--decision-log-flush-interval", "0.05"])
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def decided(server, tokens) -> dict[str, str]:
    """Make the module's decisions; their ids (as the replies gave them) → outcome code name."""
    made: dict[str, str] = {}
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        for index in range(EVALUATIONS):
            request = evaluation_pb2.EvaluateRequest(
                pack_id=PACK_ID, version=VERSIONS[index % 2], facts=struct(facts(index)),
                language=evaluation_pb2.LANGUAGE_EN if index % 7 == 0 else evaluation_pb2.LANGUAGE_ZH)
            call = stub.Evaluate.with_call if index % 6 != 5 else None
            if call is not None:
                reply, rpc = call(request, timeout=DEADLINE_S, metadata=bearer(tokens["evaluate"]))
                assert reply.decision_id and dict(rpc.trailing_metadata())["x-decision-id"] == reply.decision_id
                made[reply.decision_id] = "OK"
            else:
                with pytest.raises(grpc.RpcError) as refused:
                    stub.Evaluate(request, timeout=DEADLINE_S)
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                made[dict(refused.value.trailing_metadata())["x-decision-id"]] = "INVALID_ARGUMENT"
        items = [evaluation_pb2.BatchEvaluateRequest(key=f"item-{index}", request=evaluation_pb2.EvaluateRequest(
            pack_id=PACK_ID, facts=struct(facts(index if index % 5 else 5)))) for index in range(BATCH_ITEMS)]
        for result in stub.EvaluateBatch(iter(items), timeout=60):
            made[result.decision_id] = "OK" if result.HasField("evaluation") else "INVALID_ARGUMENT"
    assert len(made) == EVALUATIONS + BATCH_ITEMS
    deadline = time.monotonic() + 15
    while len(recorded_ids(server)) < len(made):
        assert time.monotonic() < deadline, "the decision log did not write every decision"
        time.sleep(0.05)
    return made


def recorded_ids(server) -> list[str]:
    """The decision ids in the server's database, newest first (read with sqlite3)."""
    with sqlite3.connect(server.registry) as db:
        return [row[0] for row in db.execute("SELECT decision_id FROM decisions ORDER BY decision_id DESC")]


def audit_stub(server) -> tuple[grpc.Channel, audit_pb2_grpc.AuditServiceStub]:
    channel = server.channel()
    return channel, audit_pb2_grpc.AuditServiceStub(channel)


def run_cli(*args: str | Path, token: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"}
    if token:
        env["JIXIAO_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)


# --- who may call ---------------------------------------------------------------------

def test_only_the_audit_role_may_read_the_decision_log(server, tokens) -> None:
    channel, stub = audit_stub(server)
    with channel:
        request = audit_pb2.ListDecisionsRequest(page_size=1)
        for metadata, code in (((), grpc.StatusCode.UNAUTHENTICATED),
                               (bearer("not-a-token"), grpc.StatusCode.UNAUTHENTICATED),
                               (bearer(tokens["deploy"]), grpc.StatusCode.PERMISSION_DENIED),
                               (bearer(tokens["evaluate"]), grpc.StatusCode.PERMISSION_DENIED)):
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListDecisions(request, timeout=DEADLINE_S, metadata=metadata)
            assert refused.value.code() == code, metadata
        with pytest.raises(grpc.RpcError) as refused:
            list(stub.ReplayDecisions(audit_pb2.ReplayDecisionsRequest(), timeout=DEADLINE_S,
                                      metadata=bearer(tokens["deploy"])))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "audit" in refused.value.details()
        stub.ListDecisions(request, timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
        # The audit role does not imply deploy either.
        admin = admin_pb2_grpc.PackAdminServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            admin.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version="1.0.0"),
                                      timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_cli_without_the_audit_role_exits_4(server, tokens) -> None:
    result = run_cli("audit", "list", "--server", server.address, token=tokens["deploy"])
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith("permission denied:") and "audit" in result.stderr


def test_bad_requests_name_their_field(server, tokens) -> None:
    channel, stub = audit_stub(server)
    with channel:
        for request, field in ((audit_pb2.ListDecisionsRequest(filter=audit_pb2.DecisionFilter(since="yesterday")),
                                "filter.since"),
                               (audit_pb2.ListDecisionsRequest(page_size=5000), "page_size"),
                               (audit_pb2.ListDecisionsRequest(page_token="forged"), "page_token")):
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListDecisions(request, timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert refused.value.details().startswith(field)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetDecision(audit_pb2.GetDecisionRequest(decision_id="01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b"),
                             timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    result = run_cli("audit", "list", "--server", server.address, "--outcome", "ok", token=tokens["audit"])
    assert result.returncode == 2 and "filter.outcome" in result.stderr, result.stderr
    nothing = run_cli("audit", "list", "--server", server.address, "--grade", "优秀", "--lang", "en",
                      token=tokens["audit"])
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.split() == ["decision", "at", "(UTC)", "pack", "caller", "outcome", "score", "grade"]
    assert nothing.stderr.startswith("no decision matches these filters"), nothing.stderr


# --- the decision log through the AuditService and the CLI ------------------------------

def test_replay_proves_every_recorded_reply_then_names_an_edited_record(server, tokens, decided) -> None:
    started = time.monotonic()
    result = run_cli("audit", "replay", "--server", server.address, "--pack", PACK_ID, token=tokens["audit"])
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    total = len(decided)
    assert result.stdout.strip() == (f"{total} decisions replayed: {total} identical, 0 different, 0 facts altered, "
                                     "0 record altered, 0 facts redacted, 0 pack missing"), result.stdout
    print(f"replayed {total} decisions through the CLI in {took:.2f} s ({total / took:.0f}/s)")

    with sqlite3.connect(server.registry) as db:
        # An answered decision whose trainings were all held: none held would lose the leaf's points.
        edited, changed = next((decision, json.loads(text)) for decision, text in db.execute(
            "SELECT decision_id, facts FROM decisions WHERE outcome = 'OK' ORDER BY decision_id")
            if json.loads(text)["output"]["trainings_held"] >= json.loads(text)["output"]["trainings_required"])
        changed["output"]["trainings_held"] = 0
        db.execute("UPDATE decisions SET facts = ? WHERE decision_id = ?",
                   (json.dumps(changed, sort_keys=True, separators=(",", ":"), ensure_ascii=False), edited))
        # Another one's score, what `audit list` shows: the reply it restates says otherwise.
        rescored, score = db.execute("SELECT decision_id, score FROM decisions WHERE outcome = 'OK' "
                                     "ORDER BY decision_id DESC LIMIT 1").fetchone()
        db.execute("UPDATE decisions SET score = '99.99' WHERE decision_id = ?", (rescored,))

    result = run_cli("audit", "replay", "--server", server.address, token=tokens["audit"])

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{edited}  FACTS ALTERED  the recorded facts no longer match their digest")
    assert any(line.startswith("    output.quantity.trainings  score: ") for line in lines[1:]), result.stdout
    assert any(line.startswith("    (total)  score: ") for line in lines[1:])
    at = lines.index(next(line for line in lines if line.startswith(f"{rescored}  ")))
    assert lines[at].startswith(f"{rescored}  RECORD ALTERED  the record's score no longer agrees with its reply")
    assert lines[at + 1] == f"    (record)  score: '99.99' → {score!r}", result.stdout
    assert lines[-1] == (f"{total} decisions replayed: {total - 2} identical, 0 different, 1 facts altered, "
                         "1 record altered, 0 facts redacted, 0 pack missing")


def test_list_pages_together_are_the_whole_log(server, tokens, decided) -> None:
    expected = recorded_ids(server)
    channel, stub = audit_stub(server)
    listed, token, pages = [], "", 0
    with channel:
        while True:
            page = stub.ListDecisions(audit_pb2.ListDecisionsRequest(page_size=37, page_token=token),
                                      timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
            listed += [summary.decision_id for summary in page.decisions]
            pages += 1
            token = page.next_page_token
            if not token:
                break
        refused = stub.ListDecisions(audit_pb2.ListDecisionsRequest(
            filter=audit_pb2.DecisionFilter(outcome="INVALID_ARGUMENT"), page_size=1000),
            timeout=DEADLINE_S, metadata=bearer(tokens["audit"]))
    assert listed == expected and pages == -(-len(expected) // 37)
    assert {s.decision_id for s in refused.decisions} == {d for d, o in decided.items() if o == "INVALID_ARGUMENT"}

    # More decisions than the CLI asks for in one page: it follows the pages.
    assert len(expected) > PAGE_SIZE
    result = run_cli("audit", "list", "--server", server.address, "--limit", "1000", "--format", "json",
                     token=tokens["audit"])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    summaries = json.loads(result.stdout)
    assert [s["decisionId"] for s in summaries] == expected
    batch = [s for s in summaries if s["method"] == "EvaluateBatch"]
    assert len(batch) == BATCH_ITEMS and all(s["caller"].startswith("peer:") and s["itemKey"] for s in batch)
    assert {s["caller"] for s in summaries if s["method"] == "Evaluate" and s["outcome"] == "OK"} == {"portal"}

    result = run_cli("audit", "list", "--server", server.address, "--limit", "5", "--version", "1.0.0",
                     "--lang", "en", token=tokens["audit"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["decision", "at", "(UTC)", "pack"]
    assert len(result.stdout.splitlines()) == 6 and f"{PACK_ID}@1.0.0" in result.stdout


def test_show_gives_the_facts_and_the_score_tree_or_the_error(server, tokens, decided) -> None:
    answered = next(decision for decision, outcome in decided.items() if outcome == "OK")
    refused = next(decision for decision, outcome in decided.items() if outcome != "OK")
    result = run_cli("audit", "show", answered, "--server", server.address, "--lang", "en", token=tokens["audit"])
    assert result.returncode == 0, result.stderr
    assert answered in result.stdout and '"trainings_required"' in result.stdout
    assert "Total" in result.stdout

    result = run_cli("audit", "show", refused, "--server", server.address, "--format", "json", token=tokens["audit"])
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["summary"]["outcome"] == "INVALID_ARGUMENT" and shown["error"]["code"] == 3
    assert "trainings_held" in json.dumps(shown["error"], ensure_ascii=False)



def test_export_writes_every_decision_whole(server, tokens, decided, tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    result = run_cli("audit", "export", "--server", server.address, "--out", out, token=tokens["audit"])
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["decisionId"] for r in records] == list(reversed(recorded_ids(server)))
    assert list(tmp_path.iterdir()) == [out]
    by_id = {r["decisionId"]: r for r in records}
    for decision, outcome in decided.items():
        record = by_id[decision]
        assert record["outcome"] == outcome
        assert isinstance(record["facts"], dict) and record["facts"]["output"]
        if outcome == "OK":
            assert record["evaluation"]["decisionId"] == decision
            assert record["evaluation"]["grade"] == record["grade"]
        else:
            assert record["error"]["code"] == 3 and "evaluation" not in record

