"""Findings over gRPC: a real server answers Evaluate with the findings and recommendations
of a pack that has them (observations sent as a Struct list), GetPack says which facts are
lists of texts and what each indicator measures, and a bad list is INVALID_ARGUMENT naming
the fact and the item."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from jixiao.core.pack.cases import load_case
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import details, struct
from conftest import RULES

PACK_ID = "quality-district-funding"
VERSION = "1.0.1"
DEADLINE_S = 30


@pytest.fixture(scope="module")
def case_2019():
    path = RULES / PACK_ID / VERSION / "cases" / "2019.yaml"
    if not path.exists():
        pytest.skip(f"{PACK_ID} {VERSION} is not bundled")
    return load_case(path.read_text(encoding="utf-8"), str(path))


def test_evaluate_answers_the_2019_findings_and_recommendations_word_for_word(channel, case_2019) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    reply = stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct(case_2019.facts)),
                          timeout=DEADLINE_S)
    assert reply.score == "75.03"
    assert [f.text for f in reply.findings] == list(case_2019.expected["findings"])
    assert [f.text for f in reply.recommendations] == list(case_2019.expected["recommendations"])
    rules = [f for f in reply.findings if not f.observation]
    observed = [f for f in reply.findings if f.observation]
    assert rules and observed and all(f.rule_ids and f.dimension for f in rules)
    assert all(f.id.startswith("evaluation.observed_problems[") and not f.rule_ids for f in observed)


def test_a_bad_list_is_an_invalid_argument_naming_the_fact_and_item(channel, case_2019) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    facts = dict(case_2019.facts)
    facts["evaluation"] = {"observed_problems": ["奖金过少", ["nested"], " ", 3]}
    with pytest.raises(grpc.RpcError) as info:
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct(facts)), timeout=DEADLINE_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    said = str(details(info.value, error_details_pb2.BadRequest)) + info.value.details()
    for item in ("evaluation.observed_problems[1]", "evaluation.observed_problems[2]",
                 "evaluation.observed_problems[3]"):
        assert item in said
    facts["evaluation"] = {"observed_problems": ["奖金过少"] * 10_000}
    with pytest.raises(grpc.RpcError) as info:
        stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct(facts)), timeout=DEADLINE_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "has 10,000 texts, more than the 20" in info.value.details() + str(
        details(info.value, error_details_pb2.BadRequest))


def test_get_pack_says_text_lists_and_descriptions(channel, case_2019) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    pack = stub.GetPack(pb.GetPackRequest(pack_id=PACK_ID, version=VERSION), timeout=DEADLINE_S)
    lists = {f.name for f in pack.facts if f.type == pb.FACT_TYPE_TEXT_LIST}
    assert lists == {"evaluation.observed_problems", "evaluation.observed_recommendations"}
    assert all(top.description for top in pack.indicators)
