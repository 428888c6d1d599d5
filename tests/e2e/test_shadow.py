"""Shadow evaluation end to end: two servers on one database (SQLite, then PostgreSQL), a run of
quality-district-funding 1.1.0 against 1.0.0 live traffic started through one and
followed by both, its report recomputed from the decision log, then stopped.

The recomputation is independent of the server's aggregation: it reads the recorded
facts of every decision from the `decisions` table, selects the sampled ones by the
sha256 rule, evaluates them with both versions in this process, and computes every figure
in exact fractions; the report must give exactly those figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import json_format, struct_pb2

from jixiao.api import convert
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.database.connection import database_url
from jixiao.database.schema import decisions
from jixiao.packs import load_pack_dir
from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc
from jixiao_cli.client import evaluate_request
from jixiao_cli.output import message_dict

from admin_calls import bearer
from conftest import RULES, AuthConfig, RunningServer

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
from bench_common import variants  # noqa: E402

pytestmark = pytest.mark.e2e

PACK = "quality-district-funding"
CALLS = 200
SAMPLE = "0.5"
WAIT_S = 15.0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The servers' shared database: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('shadow-db') / 'registry.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two versions compared, alone: the servers publish and compile nothing else at start."""
    folder = tmp_path_factory.mktemp("shadow-packs")
    for version in ("1.0.0", "1.1.0"):
        shutil.copytree(RULES / PACK / version, folder / PACK / version)
    return folder


@pytest.fixture(scope="module")
def servers(launch_server, auth_config: AuthConfig, database: str, packs: Path) -> list[RunningServer]:
    """Two servers sharing one database, writing their decision logs every 0.1 s."""
    args = ["--auth-config", str(auth_config.path), "--decision-log-flush-interval", "0.1",
            "--registry-url", database]
    started = [launch_server(f"shadow-{name}", args=args, packs=packs) for name in "ab"]
    yield started
    for server in started:
        assert server.stop() == 0, server.log()
        for failure in ("shadow sample failed", "shadow poll failed", "shadow samples dropped"):
            assert failure not in server.log(), server.log()


@pytest.fixture(scope="module")
def stubs(servers: list[RunningServer]):
    channels = [server.channel() for server in servers]
    yield [(admin_pb2_grpc.PackAdminServiceStub(c), evaluation_pb2_grpc.EvaluationServiceStub(c)) for c in channels]
    for channel in channels:
        channel.close()


@pytest.fixture(scope="module")
def versions():
    loaded = {v: load_pack_dir(RULES / PACK / v) for v in ("1.0.0", "1.1.0")}
    yield {v: pack.compiled for v, pack in loaded.items()}
    for pack in loaded.values():
        pack.compiled.close()


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    kept = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *args], capture_output=True, text=True,
                          env=kept | env, timeout=60)


def refusal(call, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call(request, metadata=metadata, timeout=10)
    return refused.value


def test_refusals(stubs, auth_config: AuthConfig) -> None:
    admin, _ = stubs[0]
    deploy = bearer(auth_config.deploy_token)
    start = admin.StartShadow

    def start_refused(code: grpc.StatusCode, said: str, metadata=deploy, **fields) -> None:
        error = refusal(start, admin_pb2.StartShadowRequest(**{"pack_id": PACK, "candidate_version": "1.1.0",
                                                              **fields}), metadata)
        assert error.code() == code and said in error.details(), (error.code(), error.details())

    start_refused(grpc.StatusCode.NOT_FOUND, "has no published version '9.9.9'", candidate_version="9.9.9")
    start_refused(grpc.StatusCode.NOT_FOUND, "no pack 'no-such-pack'", pack_id="no-such-pack")
    start_refused(grpc.StatusCode.INVALID_ARGUMENT, "pack_id", pack_id="Bad Pack\n")
    start_refused(grpc.StatusCode.INVALID_ARGUMENT, "candidate_version", candidate_version="1.1.0\n")
    for sample, said in (("0", "not in (0, 1]"), ("1.5", "not in (0, 1]"), ("abc", "not a decimal"),
                         ("0.1\n", "not a decimal"), ("0.12345678901", "more than 10")):
        start_refused(grpc.StatusCode.INVALID_ARGUMENT, said, sample=sample)
    start_refused(grpc.StatusCode.PERMISSION_DENIED, "deploy", metadata=bearer(auth_config.evaluate_token))
    start_refused(grpc.StatusCode.UNAUTHENTICATED, "", metadata=[])

    no_run = refusal(admin.GetShadowReport, admin_pb2.GetShadowReportRequest(pack_id=PACK), deploy)
    assert no_run.code() == grpc.StatusCode.NOT_FOUND and "has had no shadow run" in no_run.details()
    for request in (admin_pb2.GetShadowReportRequest(pack_id=PACK, run_id="x" * 100),
                    admin_pb2.GetShadowReportRequest(pack_id=PACK, worst=101)):
        assert refusal(admin.GetShadowReport, request, deploy).code() == grpc.StatusCode.INVALID_ARGUMENT
    stop = refusal(admin.StopShadow, admin_pb2.StopShadowRequest(pack_id=PACK), deploy)
    assert stop.code() == grpc.StatusCode.FAILED_PRECONDITION and "no shadow run going" in stop.details()


def test_a_run_of_the_active_version_starts_with_a_note_that_its_calls_are_not_sampled(
        servers, stubs, auth_config: AuthConfig) -> None:
    admin, evaluation = stubs[0]
    active = evaluation.GetPack(evaluation_pb2.GetPackRequest(pack_id=PACK), timeout=10).version
    token = {"JIXIAO_TOKEN": auth_config.deploy_token}
    started = run_cli("pack", "shadow", "start", PACK, active, "--server", servers[0].address, "--lang", "en", **token)
    try:
        assert started.returncode == 0, started.stderr
        assert "shadow run started" in started.stdout
        assert started.stderr.startswith(f"note: {active} is the pack's active version, and the evaluations it "
                                         "answers are not sampled"), started.stderr
    finally:
        admin.StopShadow(admin_pb2.StopShadowRequest(pack_id=PACK), metadata=bearer(auth_config.deploy_token),
                         timeout=10)


def test_a_run_across_two_servers_reports_what_the_decision_log_recomputes(
        servers, stubs, auth_config: AuthConfig, database: str, versions) -> None:
    deploy = bearer(auth_config.deploy_token)
    (admin_a, evaluation_a), (admin_b, evaluation_b) = stubs
    admin_a.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(pack_id=PACK, version="1.0.0"), metadata=deploy)
    token = {"JIXIAO_TOKEN": auth_config.deploy_token}
    started = run_cli("pack", "shadow", "start", PACK, "1.1.0", "--sample", SAMPLE, "--server", servers[0].address,
                      "--lang", "en", **token)
    assert started.returncode == 0 and "active version" not in started.stderr, started.stderr
    run = admin_a.GetShadowReport(admin_pb2.GetShadowReportRequest(pack_id=PACK), metadata=deploy).run
    assert run.run_id in started.stdout and "shadow run started" in started.stdout
    assert (run.candidate_version, run.sample, run.started_by, run.stopped_at) == ("1.1.0", SAMPLE, "ops-alice", "")
    second = refusal(admin_b.StartShadow, admin_pb2.StartShadowRequest(pack_id=PACK, candidate_version="1.0.0"),
                     deploy)
    assert second.code() == grpc.StatusCode.FAILED_PRECONDITION and run.run_id in second.details()
    wait_for_log(servers[1], '"shadow run followed"', run.run_id)  # B follows the run A started

    facts = variants(versions["1.0.0"], CALLS, seed=1203)
    decision_ids = []
    for index, fact_set in enumerate(facts):
        evaluation = (evaluation_a, evaluation_b)[index % 2].Evaluate(evaluate_request(PACK, fact_set), timeout=10)
        assert evaluation.version == "1.0.0" and evaluation.decision_id
        decision_ids.append(evaluation.decision_id)
    bound = Fraction(SAMPLE) * 2 ** 64
    chosen = sorted(d for d in decision_ids if int.from_bytes(hashlib.sha256(d.encode()).digest()[:8], "big") < bound)
    assert 60 < len(chosen) < 140

    report = wait_for_report(admin_a, deploy, len(chosen))
    expected = recompute(database, chosen, versions)
    assert report.samples == len(chosen) and report.candidate_errors == expected["errors"]
    assert (report.mean_total_delta, report.min_total_delta, report.max_total_delta, report.mean_abs_total_delta) == (
        expected["mean"], expected["min"], expected["max"], expected["mean_abs"])
    assert report.grade_changes == sum(expected["grades"].values())
    assert {(c.live_grade, c.candidate_grade): c.count for c in report.grade_change_counts} == expected["grades"]
    assert [(i.node_id, i.mean_delta, i.min_delta, i.max_delta, i.changed) for i in report.indicators] == \
        expected["indicators"]
    assert [i.name for i in report.indicators][:2] == [n.name.zh for n in list(walk(versions["1.0.0"]))[:2]]
    assert [(w.decision_id, w.delta) for w in report.worst] == expected["worst"]
    assert report.grade_changes > 0 and any(i.changed for i in report.indicators)  # 1.1.0 does score otherwise

    same = admin_b.GetShadowReport(admin_pb2.GetShadowReportRequest(pack_id=PACK), metadata=deploy)
    assert same == report  # either server reports every server's samples
    if database.startswith("sqlite"):  # the CLI's JSON and tables once: they do not depend on the database
        check_cli_report(servers, token, report)

    stopped = run_cli("pack", "shadow", "stop", PACK, "--server", servers[1].address, "--lang", "en", **token)
    assert stopped.returncode == 0 and "shadow run stopped" in stopped.stdout, stopped.stderr
    wait_for_log(servers[0], '"shadow run ended"', run.run_id)  # A follows the stop made through B
    for index, fact_set in enumerate(facts[:20]):
        (evaluation_a, evaluation_b)[index % 2].Evaluate(evaluate_request(PACK, fact_set), timeout=10)
    time.sleep(0.5)  # five decision-log flushes
    after = admin_a.GetShadowReport(admin_pb2.GetShadowReportRequest(pack_id=PACK), metadata=deploy)
    assert after.samples == report.samples and after.run.stopped_by == "ops-alice"
    again = refusal(admin_a.StopShadow, admin_pb2.StopShadowRequest(pack_id=PACK), deploy)
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_server_without_the_decision_log_refuses_to_start_a_run(start_jixiao_server, auth_config,
                                                                   packs: Path) -> None:
    server = start_jixiao_server(args=["--auth-config", str(auth_config.path), "--no-decision-log"], packs=packs)
    deploy = bearer(auth_config.deploy_token)
    with server.channel() as channel:
        admin = admin_pb2_grpc.PackAdminServiceStub(channel)
        error = refusal(admin.StartShadow, admin_pb2.StartShadowRequest(pack_id=PACK, candidate_version="1.1.0"),
                        deploy)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "no decision log" in error.details()
        nothing = refusal(admin.GetShadowReport, admin_pb2.GetShadowReportRequest(pack_id=PACK), deploy)
        assert nothing.code() == grpc.StatusCode.NOT_FOUND  # nothing was recorded
    assert server.stop() == 0, server.log()


# --- helpers -------------------------------------------------------------------------


def check_cli_report(servers, token: dict, report: admin_pb2.GetShadowReportResponse) -> None:
    """`jixiao pack shadow report`: its JSON is the reply; its tables fit 120 columns in both languages."""
    shown = run_cli("pack", "shadow", "report", PACK, "--server", servers[1].address, "--format", "json", **token)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == message_dict(report)
    for language, words in (("en", ["compared", "Mean delta", report.worst[0].decision_id]),
                            ("zh", ["比较", "平均差额", report.worst[0].decision_id])):
        table = run_cli("pack", "shadow", "report", PACK, "--server", servers[0].address, "--lang", language,
                        COLUMNS="120", **token)
        assert table.returncode == 0, table.stderr
        assert all(word in table.stdout for word in words), table.stdout
        assert max(map(len, table.stdout.splitlines())) <= 120


def wait_for_log(server: RunningServer, *texts: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not any(all(t in line for t in texts) for line in server.log().splitlines()):
        assert time.monotonic() < deadline, f"{texts} not logged:\n{server.log()[-3000:]}"
        time.sleep(0.05)


def wait_for_report(admin, metadata, samples: int) -> admin_pb2.GetShadowReportResponse:
    deadline = time.monotonic() + WAIT_S
    while True:
        report = admin.GetShadowReport(admin_pb2.GetShadowReportRequest(pack_id=PACK), metadata=metadata, timeout=10)
        if report.samples >= samples or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def walk(compiled):
    for top in compiled.pack.indicators:
        yield from top.walk()


def half_up(value: Fraction) -> str:
    cents = (abs(value) * 100 + Fraction(1, 2)).__floor__()
    return "0.00" if cents == 0 else f"{'-' if value < 0 else ''}{cents // 100}.{cents % 100:02d}"


def recompute(database: str, chosen: list[str], versions) -> dict:
    """Every figure of the report from the decision log's facts, in fractions."""
    engine = sa.create_engine(database_url(database))
    columns = (decisions.c.decision_id, decisions.c.facts, decisions.c.language, decisions.c.ignore_unknown_facts,
               decisions.c.version)
    with engine.connect() as conn:
        rows = {row[0]: tuple(row[1:]) for row in conn.execute(
            sa.select(*columns).where(decisions.c.decision_id.in_(chosen)))}
    engine.dispose()
    assert sorted(rows) == chosen, "a sampled decision is missing from the decision log"
    errors = 0
    deltas: list[tuple[Fraction, str]] = []
    grades: dict[tuple[str, str], int] = {}
    per_node: dict[str, list[Fraction]] = {n.id: [] for n in walk(versions["1.0.0"])}
    changed = dict.fromkeys(per_node, 0)
    for decision_id in chosen:
        facts_json, language, ignore_unknown, version = rows[decision_id]
        assert version == "1.0.0"
        facts = convert.facts_from_struct(json_format.ParseDict(json.loads(facts_json), struct_pb2.Struct()))
        live = evaluate(versions["1.0.0"], facts, language, ignore_unknown=bool(ignore_unknown))
        try:
            candidate = evaluate(versions["1.1.0"], facts, language, ignore_unknown=bool(ignore_unknown))
        except FactsError:
            errors += 1
            continue
        deltas.append((Fraction(candidate.score) - Fraction(live.score), decision_id))
        if candidate.grade != live.grade:
            grades[(live.grade, candidate.grade)] = grades.get((live.grade, candidate.grade), 0) + 1
        scores = {n.id: n.score for n in candidate.nodes()}
        for node in live.nodes():
            if node.id not in scores:
                changed[node.id] += 1
                continue
            per_node[node.id].append(Fraction(scores[node.id]) - Fraction(node.score))
            changed[node.id] += scores[node.id] != node.score
    totals = [d for d, _ in deltas]
    worst = sorted(deltas, key=lambda pair: (-abs(pair[0]), pair[1]))[:10]
    return {
        "errors": errors, "grades": grades,
        "mean": half_up(sum(totals) / len(totals)), "min": half_up(min(totals)), "max": half_up(max(totals)),
        "mean_abs": half_up(sum(map(abs, totals)) / len(totals)),
        "indicators": [(node, half_up(sum(d) / len(d)) if d else "", half_up(min(d)) if d else "",
                        half_up(max(d)) if d else "", changed[node]) for node, d in per_node.items()],
        "worst": [(decision_id, half_up(delta)) for delta, decision_id in worst],
    }
