"""Core results and packs become jixiao.v1 messages with decimals as exact strings."""

from __future__ import annotations

from decimal import Decimal

from google.protobuf import struct_pb2

from jixiao.api import convert
from jixiao.core.model import FactSpec, FactType, SurveyOption, Text
from jixiao.core.results import Deduction, Evaluation, NodeResult
from jixiao.v1 import evaluation_pb2 as pb


def struct(value: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def test_scores_weights_and_points_travel_without_trailing_zeros() -> None:
    assert convert.decimal_text(Decimal("2.390")) == "2.39"
    assert convert.decimal_text(Decimal("3.00")) == "3"
    assert convert.decimal_text(Decimal("0.50")) == "0.5"
    assert convert.decimal_text(Decimal("1E+2")) == "100"
    assert convert.decimal_text(Decimal("0.000")) == "0"
    assert convert.decimal_text(None) == ""


def test_rates_travel_with_two_places() -> None:
    assert convert.rate_text(Decimal("72.7")) == "72.70"
    assert convert.rate_text(Decimal("68.75")) == "68.75"
    assert convert.rate_text(Decimal("100")) == "100.00"


def test_struct_numbers_become_ints_when_integral_and_floats_otherwise() -> None:
    facts = convert.facts_from_struct(struct({
        "output": {"applicants_target": 50, "ratio": 2.5},
        "budget": {"spent": "398761.00"},
        "flags": [True, None],
    }))
    assert facts == {
        "output": {"applicants_target": 50, "ratio": 2.5},
        "budget": {"spent": "398761.00"},
        "flags": [True, None],
    }
    assert type(facts["output"]["applicants_target"]) is int
    assert repr(facts["output"]["ratio"]) == "2.5"


def test_non_finite_numbers_reach_the_core_to_be_named_as_bad_facts() -> None:
    facts = convert.facts_from_struct(struct({"budget": {"spent": float("nan"), "approved": float("inf")}}))
    assert facts["budget"]["approved"] == float("inf")
    assert facts["budget"]["spent"] != facts["budget"]["spent"]


def test_unspecified_language_means_chinese() -> None:
    assert convert.language_code(pb.LANGUAGE_UNSPECIFIED) == "zh"
    assert convert.language_code(pb.LANGUAGE_ZH) == "zh"
    assert convert.language_code(pb.LANGUAGE_EN) == "en"
    assert convert.language_enum("en") == pb.LANGUAGE_EN
    assert convert.language_enum("zh") == pb.LANGUAGE_ZH


def test_evaluation_tree_keeps_deductions_rationales_and_level_one_grades() -> None:
    leaf = NodeResult(
        id="process.funds.execution", name="预算执行率", level=3, weight=Decimal(3),
        score=Decimal("2.39"), rate=Decimal("79.67"), grade=None, method="ratio",
        deductions=(Deduction("process.funds.execution#shortfall", Decimal("0.6075"), "预算执行率79.75%"),),
        rationale="根据评分细则，扣0.61分，得2.39分。")
    top = NodeResult(id="process", name="过程", level=1, weight=Decimal(18), score=Decimal("2.39"),
                     rate=Decimal("13.3"), grade="差", children=(leaf,))
    evaluation = Evaluation(pack_id="p", version="1.0.0", digest="ab", language="en",
                            total_weight=Decimal(100), score=Decimal("75.03"), rate=Decimal("75.03"),
                            grade="中", indicators=(top,))

    message = convert.evaluation_message(evaluation)

    assert (message.score, message.score_rate, message.grade, message.total_weight) == ("75.03", "75.03", "中", "100")
    assert message.language == pb.LANGUAGE_EN
    process = message.indicators[0]
    assert (process.grade, process.method, process.score_rate) == ("差", "", "13.30")
    execution = process.children[0]
    assert (execution.level, execution.weight, execution.score, execution.grade) == (3, "3", "2.39", "")
    assert execution.method == "ratio"
    assert [(d.rule_id, d.points) for d in execution.deductions] == [
        ("process.funds.execution#shortfall", "0.6075")]
    assert execution.rationale.endswith("得2.39分。")


def test_fact_spec_says_type_bounds_requiredness_default_and_options() -> None:
    budget = FactSpec(name="budget.spent", type=FactType.DECIMAL, label=Text("预算执行金额", "spent"),
                      unit="元", minimum=Decimal(0), maximum=None)
    optional = FactSpec(name="budget.reserve", type=FactType.DECIMAL, label=Text("储备"),
                        default=Decimal("0.00"), has_default=True)
    survey = FactSpec(name="survey.awareness", type=FactType.SURVEY, label=Text("知晓率"),
                      options=(SurveyOption("very_familiar", Text("非常了解", "very familiar")),))

    spent, reserve, awareness = (convert.fact_spec(s) for s in (budget, optional, survey))

    assert (spent.type, spent.min, spent.max, spent.required, spent.unit) == (pb.FACT_TYPE_DECIMAL, "0", "", True, "元")
    assert not spent.HasField("default_value")
    assert (reserve.required, reserve.default_value.string_value) == (False, "0")
    assert awareness.type == pb.FACT_TYPE_SURVEY
    assert [(o.key, o.label, o.label_en) for o in awareness.options] == [("very_familiar", "非常了解", "very familiar")]
