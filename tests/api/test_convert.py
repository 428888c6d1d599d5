"""Core results and packs become jixiao.v1 messages with decimals as exact strings."""

from __future__ import annotations

from decimal import Decimal

from google.protobuf import struct_pb2

from jixiao.api import convert
from jixiao.core.pack.model import (AllOrNothing, Apply, Compare, Derived, FactRef, FactSpec, FactType, Indicator,
                               NotApplicable, SurveyOption, Text)
from jixiao.core.evaluation.results import Deduction, Evaluation, NodeResult, OverrideResult
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


def test_overrides_ignored_facts_and_not_applicable_leaves_reach_the_reply() -> None:
    na_leaf = NodeResult(id="output.procurement", name="政府采购", level=2, weight=Decimal(4), score=Decimal(0),
                         rate=Decimal("0.00"), grade=None, method="all_or_nothing", effective_weight=Decimal(0),
                         not_applicable=True, not_applicable_reason="本年度未开展政府采购",
                         rationale="该指标不适用（本年度未开展政府采购），权重按得分率折算。")
    zeroed = NodeResult(id="effect", name="效益", level=1, weight=Decimal(30), score=Decimal(0),
                        rate=Decimal("0.00"), grade="差", overridden_by=("override#output_failed",))
    top = NodeResult(id="output", name="产出", level=1, weight=Decimal(70), score=Decimal(0), rate=Decimal("0.00"),
                     grade="差", effective_weight=Decimal(66), children=(na_leaf,))
    vetoed = OverrideResult("override#misappropriation", "grade", "total", "优", "差", "经核查，项目资金存在挪用问题")
    evaluation = Evaluation(pack_id="p", version="1.0.0", digest="ab", language="zh", total_weight=Decimal(100),
                            score=Decimal("93.98"), rate=Decimal("93.98"), grade="差", indicators=(top, zeroed),
                            overrides=(vetoed,), ignored_facts=("budget.spnt",), not_applicable_treatment="rescale",
                            applicable_weight=Decimal(96))

    message = convert.evaluation_message(evaluation)

    assert [(o.rule_id, o.action, o.node, o.before, o.after) for o in message.overrides] == [
        ("override#misappropriation", "grade", "total", "优", "差")]
    assert message.overrides[0].rationale == "经核查，项目资金存在挪用问题"
    assert list(message.ignored_facts) == ["budget.spnt"]
    assert (message.not_applicable_treatment, message.applicable_weight) == ("rescale", "96")
    output, effect = message.indicators
    assert (output.effective_weight, output.not_applicable) == ("66", False)
    leaf = output.children[0]
    assert (leaf.not_applicable, leaf.not_applicable_reason, leaf.effective_weight) == (True, "本年度未开展政府采购", "0")
    assert list(effect.overridden_by) == ["override#output_failed"] and effect.effective_weight == ""


def test_a_choice_fact_a_non_empty_text_derived_values_and_may_be_na_leaves_reach_get_pack() -> None:
    ecology = FactSpec(name="effect.ecology", type=FactType.CHOICE, label=Text("生态效益", "ecological benefit"),
                       options=(SurveyOption("good", Text("好", "good")), SurveyOption("poor", Text("差", "poor"))))
    summary = FactSpec(name="evidence.summary", type=FactType.TEXT, label=Text("佐证"), non_empty=True)
    choice, text = convert.fact_spec(ecology), convert.fact_spec(summary)
    assert choice.type == pb.FACT_TYPE_CHOICE and not choice.non_empty
    assert [(o.key, o.label, o.label_en) for o in choice.options] == [("good", "好", "good"), ("poor", "差", "poor")]
    assert text.non_empty and text.type == pb.FACT_TYPE_TEXT

    overrun = Derived("cost.overrun_rate", Text("成本超支率", "cost overrun rate"),
                      Apply("div", (FactRef("cost.actual"), FactRef("cost.budget"))), format="percent", places=4)
    assert convert.derived_spec(overrun) == pb.DerivedValueSpec(
        name="cost.overrun_rate", label="成本超支率", label_en="cost overrun rate", format="percent")

    may = Indicator("output.procurement", Text("政府采购"), Decimal(4),
                    scoring=AllOrNothing(Compare(FactRef("procurement.ok"), "eq", True), Text("未达标")),
                    not_applicable=NotApplicable(flag=FactRef("na.procurement"),
                                                 reason_fact=FactRef("na.procurement_reason")))
    always = Indicator("output.count", Text("数量"), Decimal(4),
                       scoring=AllOrNothing(Compare(FactRef("procurement.ok"), "eq", True), Text("未达标")))
    parent = Indicator("output", Text("产出"), Decimal(8), children=(may, always))
    spec = convert.indicator_spec(parent, 1, {"procurement.ok", "na.procurement"})
    assert not spec.may_be_not_applicable
    assert [(c.id, c.may_be_not_applicable) for c in spec.children] == [
        ("output.procurement", True), ("output.count", False)]


def test_get_pack_names_the_indicators_a_fact_is_needed_for_when_all_may_be_not_applicable() -> None:
    # The framework pack: 生态效益's conclusion is read only by 生态效益 (declared N/A by the
    # evaluators), the cost figures only by 成本超支率 (N/A when no cost target was set); the
    # budget figures are read by leaves that always apply.
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir
    loaded = load_pack_dir(BUNDLED_PACKS / "project-expenditure-framework" / "1.0.0")
    try:
        message = convert.pack_message(loaded.compiled)
    finally:
        loaded.compiled.close()
    needed = {f.name: list(f.needed_only_by) for f in message.facts if f.needed_only_by}
    assert needed == {"cost.budget": ["output.cost.overrun"], "cost.actual": ["output.cost.overrun"],
                      "benefit.ecology": ["benefit.effect.ecological"]}
    assert all(f.required for f in message.facts if f.name in needed)


def test_get_pack_says_how_many_texts_a_text_list_fact_may_hold() -> None:
    from jixiao.core.evaluation.compiler import plain_matcher
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir

    compiled = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / "1.0.1", plain_matcher).compiled
    message = convert.pack_message(compiled)
    lists = {spec.name: spec.max_items for spec in message.facts if spec.type == pb.FACT_TYPE_TEXT_LIST}
    assert lists == {"evaluation.observed_problems": 20, "evaluation.observed_recommendations": 20}
    assert all(spec.max_items == 0 for spec in message.facts if spec.type != pb.FACT_TYPE_TEXT_LIST)
