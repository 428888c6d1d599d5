"""Each scoring method of docs/domain.md, with the report's worked numbers and the edges."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate

from .packs import BASE_FACTS, compiled_methods


@pytest.fixture(scope="module", params=["durable", "plain"])
def compiled(request):
    pack = compiled_methods(request.param)
    yield pack
    pack.close()


def facts(**changes):
    """BASE_FACTS with dotted-path changes applied."""
    out = copy.deepcopy(BASE_FACTS)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return out


_DELETE = object()


def leaf(compiled, node_id, **changes):
    return evaluate(compiled, facts(**changes)).node(node_id)


def violations(compiled, payload):
    with pytest.raises(FactsError) as info:
        evaluate(compiled, payload)
    return {v.fact: v.description for v in info.value.violations}


# --- ratio -------------------------------------------------------------------------


def test_execution_rate_79_75_percent_scores_2_39(compiled):
    node = leaf(compiled, "all.x.ratio")
    assert node.score == Decimal("2.39")
    assert node.rationale == "项目经费预算500,000.00元，实际使用398,761.00元。预算执行率79.75%。根据评分细则，扣0.61分，得2.39分。"
    assert [d.rule_id for d in node.deductions] == ["all.x.ratio#shortfall"]


def test_ratio_above_target_is_capped_at_the_weight(compiled):
    node = leaf(compiled, "all.x.ratio", budget__spent="600000")
    assert node.score == Decimal("3") and node.deductions == ()
    assert node.rationale.endswith("根据评分细则，得3分。")


def test_ratio_9_of_50_scores_0_9_of_5():
    # 参评企业数量: 5 × 9 ÷ 50 = 0.9, through the same arithmetic with other numbers.
    from jixiao.core.decimals import round_score
    assert round_score(Decimal(5) * Decimal(9) / Decimal(50)) == Decimal("0.90")


def test_ratio_target_zero_is_an_input_error_naming_the_target(compiled):
    problems = violations(compiled, facts(budget__approved="0"))
    assert "budget.approved" in problems and "target" in problems["budget.approved"]


def test_ratio_nothing_spent_scores_0(compiled):
    assert leaf(compiled, "all.x.ratio", budget__spent="0").score == 0


# --- deductions --------------------------------------------------------------------


def test_deductions_subtract_each_failed_check(compiled):
    node = leaf(compiled, "all.x.deductions")
    assert node.score == Decimal("1.5")
    assert [(d.rule_id, d.points) for d in node.deductions] == [
        ("all.x.deductions#a", Decimal(1)), ("all.x.deductions#b", Decimal("0.5"))]
    assert node.rationale == "记录甲未见；记录乙未见。根据评分细则，扣1.5分，得1.5分。"


def test_deductions_never_go_below_zero(compiled):
    node = leaf(compiled, "all.x.deductions", records__c=False, awards__granted=4)
    assert sum(d.points for d in node.deductions) == Decimal("6.5")
    assert node.score == 0


def test_deductions_compare_two_facts(compiled):
    assert leaf(compiled, "all.x.deductions", awards__granted=3).score == Decimal("1.5")
    node = leaf(compiled, "all.x.deductions", awards__granted=4, records__a=True, records__b=True)
    assert node.score == 0
    assert node.deductions[-1].reason == "获奖4个，超过上限3个"


def test_met_texts_explain_a_full_score(compiled):
    node = leaf(compiled, "all.x.deductions", records__a=True, records__b=True)
    assert node.score == 3
    assert node.rationale == "记录甲齐全。根据评分细则，得3分。"


def test_a_default_fills_a_missing_fact(compiled):
    # records.c defaults to true: no deduction although the request omits it.
    assert "all.x.deductions#c" not in [d.rule_id for d in leaf(compiled, "all.x.deductions").deductions]


# --- all or nothing ------------------------------------------------------------------


def test_all_or_nothing(compiled):
    assert leaf(compiled, "all.x.done").score == 5
    node = leaf(compiled, "all.x.done", done=False)
    assert node.score == 0
    assert node.rationale == "未按期完成。根据评分细则，扣5分，得0分。"


# --- survey ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shares, expected",
    [
        # 促进卓越绩效: 64.81/35.19/0/0 → 4.65
        (("64.81", "35.19", "0", "0"), "4.65"),
        # 政策知晓率: 27.5/47.5/10.83/14.17 → 3.49
        (("27.5", "47.5", "10.83", "14.17"), "3.49"),
        (("100", "0", "0", "0"), "5"),
        (("0", "0", "0", "100"), "0"),
        # Unanswered shares carry no deduction.
        (("50", "0", "0", "0"), "5"),
    ],
)
def test_survey_scores(compiled, shares, expected):
    survey = dict(zip(("strongly", "yes", "somewhat", "no"), shares))
    assert leaf(compiled, "all.x.survey", survey__s=survey).score == Decimal(expected)


def test_survey_shares_over_100_percent_are_an_input_error(compiled):
    problems = violations(compiled, facts(survey__s={"strongly": "60", "yes": "41", "somewhat": "0", "no": "0"}))
    assert "more than 100%" in problems["survey.s"]


def test_survey_negative_share_is_an_input_error(compiled):
    problems = violations(compiled, facts(survey__s={"strongly": "-1", "yes": "41", "somewhat": "0", "no": "0"}))
    assert "survey.s.strongly" in problems


def test_survey_missing_and_unknown_options_are_named(compiled):
    problems = violations(compiled, facts(survey__s={"strongly": "60", "yes": "40", "somewhat": "0", "nope": "0"}))
    assert "survey.s.no" in problems and "survey.s.nope" in problems


# --- bands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "very, expected",
    [("95", "4"), ("90", "4"), ("89.99", "3.5"), ("80", "3.5"), ("75.93", "3"), ("70", "3"),
     ("60", "2"), ("59.99", "0"), ("0", "0")],
)
def test_bands_lower_bounds_are_inclusive(compiled, very, expected):
    rest = str(100 - Decimal(very))
    survey = {"strongly": very, "yes": rest, "somewhat": "0", "no": "0"}
    assert leaf(compiled, "all.x.bands", survey__s=survey).score == Decimal(expected)


def test_an_inferred_band_rule_says_so(compiled):
    assert leaf(compiled, "all.x.bands").rationale.endswith("（注：规则系据报告得分推定）")


# --- judgement -----------------------------------------------------------------------


def test_judgement_takes_the_evaluators_score_and_reason(compiled):
    node = leaf(compiled, "all.x.judgement")
    assert node.score == Decimal("8.5")
    assert node.deductions[0].reason == "专家认为成效明显但宣传不足"


@pytest.mark.parametrize("score", ["10.5", "-1"])
def test_judgement_outside_0_and_weight_is_an_input_error(compiled, score):
    assert "judge.score" in violations(compiled, facts(judge__score=score))


def test_judgement_needs_a_reason(compiled):
    assert "judge.reason" in violations(compiled, facts(judge__reason="  "))


# --- facts -------------------------------------------------------------------------


def test_every_missing_and_ill_typed_fact_is_named_at_once(compiled):
    problems = violations(compiled, facts(budget__spent=_DELETE, awards__granted="abc", done="yes", judge__reason=3))
    assert set(problems) == {"budget.spent", "awards.granted", "done", "judge.reason"}
    assert problems["budget.spent"].startswith("missing")
    assert "expected an integer" in problems["awards.granted"] and "'abc'" in problems["awards.granted"]
    assert "boolean" in problems["done"]


def test_negative_money_is_out_of_range(compiled):
    problems = violations(compiled, facts(budget__spent="-5"))
    assert "out of range" in problems["budget.spent"]


def test_integers_reject_fractions_and_accept_integral_numbers(compiled):
    assert "awards.granted" in violations(compiled, facts(awards__granted=1.5))
    assert leaf(compiled, "all.x.deductions", awards__granted=2.0).score == Decimal("1.5")


def test_non_finite_numbers_are_rejected(compiled):
    assert "budget.spent" in violations(compiled, facts(budget__spent="NaN"))
    assert "budget.spent" in violations(compiled, facts(budget__spent="Infinity"))


def test_unknown_extra_facts_are_refused_unless_the_request_asks_to_ignore_them(compiled):
    with pytest.raises(FactsError) as refused:
        evaluate(compiled, facts(extra__thing="whatever"))
    assert [(v.fact, v.description) for v in refused.value.violations] == [
        ("extra", "unknown fact; the pack declares no fact of that name")]
    ignoring = evaluate(compiled, facts(extra__thing="whatever"), ignore_unknown=True)
    assert ignoring.score == evaluate(compiled, facts()).score and ignoring.ignored_facts == ("extra",)


# --- the tree ------------------------------------------------------------------------


def test_parents_are_sums_of_rounded_leaves_and_level_1_is_graded(compiled):
    evaluation = evaluate(compiled, facts())
    top = evaluation.indicators[0]
    assert top.score == sum(c.score for c in top.children[0].children)
    assert evaluation.score == Decimal("25.15") and evaluation.grade == "良"
    assert top.grade == "良" and top.rate == Decimal("83.83")


def test_english_rationales(compiled):
    node = evaluate(compiled, facts(), "en").node("all.x.ratio")
    assert node.name == "Budget execution rate"
    assert node.rationale == ("Budget 500,000.00, spent 398,761.00; execution rate 79.75%. "
                              "Under the scoring rules, 0.61 points are deducted; score 2.39.")


def test_same_facts_same_evaluation(compiled):
    assert evaluate(compiled, facts()) == evaluate(compiled, facts())
