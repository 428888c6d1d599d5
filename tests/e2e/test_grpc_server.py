"""The jixiao.v1 API through a real server process and a real channel.

Expected scores are those of the 2019 contract, docs/contract-2019.md.
"""

from __future__ import annotations

import copy
import re
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import details

RULES = Path(__file__).resolve().parents[2] / "rules"

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSION_2019 = "1.0.0"  # the 2019 report's version; the active one may be newer
SERVICE = "jixiao.v1.EvaluationService"
ADMIN_SERVICE = "jixiao.v1.PackAdminService"
DEADLINE_S = 10

# The contract's 28 leaves: id → (method, 2019 score).
LEAVES_2019 = {
    "decision.initiation.basis": ("deductions", "3"),
    "decision.initiation.procedure": ("deductions", "2"),
    "decision.targets.reasonableness": ("deductions", "1"),
    "decision.targets.clarity": ("deductions", "0"),
    "decision.funding.budgeting": ("deductions", "2"),
    "decision.funding.allocation": ("deductions", "3"),
    "process.funds.arrival": ("ratio", "2"),
    "process.funds.execution": ("ratio", "2.39"),
    "process.funds.compliance": ("deductions", "4"),
    "process.organisation.rules": ("deductions", "2"),
    "process.organisation.execution": ("deductions", "0.5"),
    "process.organisation.quality": ("deductions", "1"),
    "output.quantity.selection": ("all_or_nothing", "5"),
    "output.quantity.applicants": ("ratio", "0.9"),
    "output.quantity.trainings": ("ratio", "5"),
    "output.quantity.awards": ("deductions", "5"),
    "output.quality.procedure": ("deductions", "4"),
    "output.quality.followup": ("deductions", "0"),
    "output.cost.rewards": ("deductions", "3"),
    "output.timeliness.on_time": ("all_or_nothing", "4"),
    "benefit.economic.excellence": ("survey", "4.65"),
    "benefit.social.awareness": ("survey", "3.49"),
    "benefit.social.quality_management": ("survey", "2.32"),
    "benefit.social.industry_upgrade": ("survey", "2.34"),
    "benefit.sustainability.brand_awareness": ("survey", "2.34"),
    "benefit.sustainability.brand_cultivation": ("survey", "2.34"),
    "benefit.satisfaction.training": ("bands", "3"),
    "benefit.satisfaction.participants": ("survey", "4.76"),
}
LEVEL_2_2019 = {
    "decision.initiation": "5", "decision.targets": "1", "decision.funding": "5",
    "process.funds": "8.39", "process.organisation": "3.5",
    "output.quantity": "15.9", "output.quality": "4", "output.cost": "3", "output.timeliness": "4",
    "benefit.economic": "4.65", "benefit.social": "8.15", "benefit.sustainability": "4.68",
    "benefit.satisfaction": "7.76",
}
# id → (weight, score, rate, grade)
LEVEL_1_2019 = [
    ("decision", "16", "11", "68.75", "中"),
    ("process", "18", "11.89", "66.06", "中"),
    ("output", "37", "26.9", "72.70", "中"),
    ("benefit", "29", "25.24", "87.03", "良"),
]


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message


def walk(nodes):
    for node in nodes:
        yield node
        yield from walk(node.children)


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def evaluation_2019(stub, golden_2019_facts) -> pb.Evaluation:
    request = pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION_2019, facts=struct(golden_2019_facts))
    return stub.Evaluate(request, timeout=DEADLINE_S)


# --- Evaluate ---------------------------------------------------------------------


def test_2019_facts_score_75_03_grade_zhong_with_version_1_0_0(evaluation_2019) -> None:
    assert (evaluation_2019.score, evaluation_2019.grade) == ("75.03", "中")
    assert (evaluation_2019.total_weight, evaluation_2019.score_rate) == ("100", "75.03")
    assert (evaluation_2019.pack_id, evaluation_2019.version) == (PACK_ID, VERSION_2019)
    assert re.fullmatch(r"[0-9a-f]{64}", evaluation_2019.digest)
    assert evaluation_2019.language == pb.LANGUAGE_ZH


def test_2019_dimensions_have_the_contracts_scores_rates_and_grades(evaluation_2019) -> None:
    assert [(n.id, n.weight, n.score, n.score_rate, n.grade) for n in evaluation_2019.indicators] == LEVEL_1_2019
    assert all(n.level == 1 for n in evaluation_2019.indicators)


def test_2019_level_two_scores_are_sums_of_their_leaves(evaluation_2019) -> None:
    level_2 = {n.id: n.score for n in walk(evaluation_2019.indicators) if n.level == 2}
    assert level_2 == LEVEL_2_2019


def test_2019_all_28_leaves_have_the_contracts_method_and_score(evaluation_2019) -> None:
    leaves = {n.id: (n.method, n.score) for n in walk(evaluation_2019.indicators) if not n.children}
    assert leaves == LEAVES_2019
    assert all(n.level == 3 and n.rationale for n in walk(evaluation_2019.indicators) if not n.children)


def test_execution_rate_79_75_percent_scores_2_39_with_its_reason(evaluation_2019) -> None:
    execution = next(n for n in walk(evaluation_2019.indicators) if n.id == "process.funds.execution")
    assert (execution.weight, execution.score, execution.score_rate) == ("3", "2.39", "79.67")
    assert "根据评分细则，扣0.61分，得2.39分" in execution.rationale
    (deduction,) = execution.deductions
    assert deduction.rule_id.startswith("process.funds.execution#")
    assert deduction.reason


def test_missing_declaration_form_deducts_all_3_points(evaluation_2019) -> None:
    clarity = next(n for n in walk(evaluation_2019.indicators) if n.id == "decision.targets.clarity")
    assert [(d.rule_id.split("#")[0], d.points) for d in clarity.deductions] == [("decision.targets.clarity", "3")]


def test_english_names_the_same_scores(stub, golden_2019_facts, evaluation_2019) -> None:
    request = pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=struct(golden_2019_facts),
                                 language=pb.LANGUAGE_EN)
    english = stub.Evaluate(request, timeout=DEADLINE_S)
    assert english.language == pb.LANGUAGE_EN
    assert [(n.id, n.score) for n in walk(english.indicators)] == \
        [(n.id, n.score) for n in walk(evaluation_2019.indicators)]
    decision = english.indicators[0]
    assert decision.name != evaluation_2019.indicators[0].name


def test_missing_and_ill_typed_facts_are_all_named_in_one_invalid_argument(stub, golden_2019_facts) -> None:
    facts = copy.deepcopy(golden_2019_facts)
    del facts["budget"]["spent"]
    facts["output"]["trainings_held"] = "abc"

    with pytest.raises(grpc.RpcError) as raised:
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(facts)), timeout=DEADLINE_S)

    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details(raised.value, error_details_pb2.BadRequest)
    violations = {v.field: v.description for v in bad_request.field_violations}
    assert set(violations) == {"facts.budget.spent", "facts.output.trainings_held"}
    assert all(violations.values())
    assert "budget.spent" in raised.value.details() and "output.trainings_held" in raised.value.details()


def test_empty_facts_name_every_required_fact_within_the_trailer_limit(stub) -> None:
    pack = stub.GetPack(pb.GetPackRequest(pack_id=PACK_ID), timeout=DEADLINE_S)
    required = {f"facts.{f.name}" for f in pack.facts if f.required}

    with pytest.raises(grpc.RpcError) as raised:
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID), timeout=DEADLINE_S)

    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details(raised.value, error_details_pb2.BadRequest)
    assert {v.field for v in bad_request.field_violations} == required


def test_unknown_pack_is_not_found(stub, golden_2019_facts) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.Evaluate(pb.EvaluateRequest(pack_id="no-such-pack", facts=struct(golden_2019_facts)),
                      timeout=DEADLINE_S)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    assert "no-such-pack" in raised.value.details()
    (resource,) = details(raised.value, error_details_pb2.ResourceInfo)
    assert resource.resource_type == "jixiao.v1.Pack"


def test_unknown_version_is_not_found(stub, golden_2019_facts) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version="9.9.9", facts=struct(golden_2019_facts)),
                      timeout=DEADLINE_S)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    assert "9.9.9" in raised.value.details()


# --- packs ------------------------------------------------------------------------


def test_list_packs_names_every_bundled_version_and_the_active_one_as_default(stub, golden_2019_facts) -> None:
    packs = stub.ListPacks(pb.ListPacksRequest(), timeout=DEADLINE_S).packs
    bundled = sorted(p.name for p in (RULES / PACK_ID).iterdir() if (p / "pack.yaml").is_file())
    assert sorted(p.version for p in packs if p.id == PACK_ID) == bundled
    assert all(p.title and re.fullmatch(r"[0-9a-f]{64}", p.digest) for p in packs)
    defaults = [p for p in packs if p.default_version]
    assert sorted(p.id for p in defaults) == sorted({p.id for p in packs})
    (default,) = [p for p in defaults if p.id == PACK_ID]
    unpinned = stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts)), timeout=DEADLINE_S)
    assert (unpinned.version, unpinned.digest) == (default.version, default.digest)


def test_get_pack_gives_the_indicator_tree(stub) -> None:
    pack = stub.GetPack(pb.GetPackRequest(pack_id=PACK_ID, version="1.0.0"), timeout=DEADLINE_S)
    assert (pack.id, pack.version, pack.total_weight) == (PACK_ID, "1.0.0", "100")
    assert [(g.grade, g.min_rate) for g in pack.grades] == [("优", "90"), ("良", "80"), ("中", "60"), ("差", "0")]
    assert [(i.id, i.weight, i.level) for i in pack.indicators] == [
        ("decision", "16", 1), ("process", "18", 1), ("output", "37", 1), ("benefit", "29", 1)]
    leaves = {i.id: i for i in walk(pack.indicators) if not i.children}
    assert {leaf_id: leaf.method for leaf_id, leaf in leaves.items()} == \
        {leaf_id: method for leaf_id, (method, _) in LEAVES_2019.items()}
    assert {"budget.spent", "budget.approved"} <= set(leaves["process.funds.execution"].facts)


def test_get_pack_gives_a_fact_schema_covering_every_fact_a_leaf_reads(stub) -> None:
    pack = stub.GetPack(pb.GetPackRequest(pack_id=PACK_ID), timeout=DEADLINE_S)
    facts = {f.name: f for f in pack.facts}
    spent = facts["budget.spent"]
    assert (spent.type, spent.required) == (pb.FACT_TYPE_DECIMAL, True)
    awareness = facts["survey.awareness"]
    assert awareness.type == pb.FACT_TYPE_SURVEY
    assert [o.key for o in awareness.options] == ["very_familiar", "familiar", "somewhat", "unfamiliar"]
    read = {name for leaf in walk(pack.indicators) for name in leaf.facts}
    assert read <= set(facts)


def test_get_pack_of_an_unknown_pack_is_not_found(stub) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetPack(pb.GetPackRequest(pack_id="no-such-pack"), timeout=DEADLINE_S)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


# --- health, reflection, logs -----------------------------------------------------


def test_health_is_serving_for_the_server_and_both_services(channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE, ADMIN_SERVICE):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE_S)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_lists_both_services_and_serves_their_proto_files(channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=ADMIN_SERVICE),
    ]
    listed, described, described_admin = reflection.ServerReflectionInfo(iter(requests), timeout=DEADLINE_S)
    names = {s.name for s in listed.list_services_response.service}
    assert {SERVICE, ADMIN_SERVICE, "grpc.health.v1.Health"} <= names
    assert described.file_descriptor_response.file_descriptor_proto
    assert described_admin.file_descriptor_response.file_descriptor_proto


def test_each_call_is_logged_with_its_outcome_but_not_its_facts(jixiao_server, stub, golden_2019_facts) -> None:
    facts = copy.deepcopy(golden_2019_facts)
    facts["output"]["trainings_held"] = "eleven-trainings"
    stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION_2019, facts=struct(golden_2019_facts)),
                  timeout=DEADLINE_S)
    with pytest.raises(grpc.RpcError):
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(facts)), timeout=DEADLINE_S)

    log = jixiao_server.log()

    assert '"method": "Evaluate"' in log and '"score": "75.03"' in log
    assert '"code": "INVALID_ARGUMENT"' in log
    assert "398761" not in log and "eleven-trainings" not in log


# --- shutdown ---------------------------------------------------------------------


SLOW_SERVER = Path(__file__).with_name("slow_server.py")


def test_sigterm_lets_a_call_in_flight_finish_then_exits_0(start_jixiao_server, golden_2019_facts) -> None:
    server = start_jixiao_server([sys.executable, str(SLOW_SERVER)])
    with grpc.insecure_channel(server.address) as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        call = stub.Evaluate.future(
            pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION_2019, facts=struct(golden_2019_facts)),
            timeout=DEADLINE_S)
        deadline = time.monotonic() + DEADLINE_S
        while "slow evaluation started" not in server.log():
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.02)

        exit_code = server.stop()

        assert call.result().score == "75.03"
    assert exit_code == 0, server.log()
    assert '"event": "stopped"' in server.log()
