"""不适用: both treatments on the same project, with the numbers worked by hand.

The project (scoring_language_pack): procurement declared not applicable by the evaluator,
no survey planned (so the survey leaf is not applicable by its condition). Applicable
leaves: vouchers 8.5/10, completion 7/10, execution 18/20, ecology 15/20.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.evaluation.applicability import _shares
from jixiao.core.errors import FactsError, PackError
from jixiao.core.evaluation.evaluator import evaluate

from .scoring_language_pack import compiled_scoring, edited, facts, scoring_pack

NOT_APPLICABLE = dict(na__procurement=True, na__procurement_reason="本年度未开展政府采购",
                      survey__planned=0, survey__done=0)


@pytest.fixture(scope="module", params=["durable", "plain"])
def engine(request):
    return request.param


@pytest.fixture(scope="module")
def rescale(engine):
    pack = compiled_scoring(engine, "rescale")
    yield pack
    pack.close()


@pytest.fixture(scope="module")
def redistribute(engine):
    pack = compiled_scoring(engine, "redistribute")
    yield pack
    pack.close()


def test_rescale_converts_the_total_through_the_applicable_weight(rescale):
    evaluation = evaluate(rescale, facts(**NOT_APPLICABLE))
    # raw = 15.5 + 18 + 15 = 48.5 on an applicable weight of 20 + 20 + 20 = 60:
    # total = round_half_up(48.5 × 100 ÷ 60, 2) = round_half_up(80.8333…) = 80.83 (良)
    assert evaluation.score == Decimal("80.83") and evaluation.grade == "良"
    assert evaluation.rate == Decimal("80.83")
    assert evaluation.applicable_weight == Decimal(60)
    assert evaluation.not_applicable_treatment == "rescale"
    # level 1 keeps raw sums, each on its effective weight: process 18 / 20 = 90 % (优)
    process = evaluation.node("process")
    assert (process.score, process.effective_weight, process.rate, process.grade) == (
        Decimal("18.00"), Decimal(20), Decimal("90.00"), "优")
    effect = evaluation.node("effect")
    assert (effect.score, effect.effective_weight, effect.rate) == (Decimal("15.00"), Decimal(20), Decimal("75.00"))


def test_rescale_marks_each_na_leaf_with_its_reason(rescale):
    evaluation = evaluate(rescale, facts(**NOT_APPLICABLE))
    procurement = evaluation.node("process.procurement")
    assert procurement.not_applicable and procurement.not_applicable_reason == "本年度未开展政府采购"
    assert (procurement.score, procurement.effective_weight) == (Decimal("0.00"), Decimal(0))
    assert procurement.rationale == "该指标不适用（本年度未开展政府采购），权重按得分率折算。"
    survey = evaluation.node("effect.survey")
    assert survey.not_applicable and survey.rationale == "该指标不适用（本年度未安排满意度调查），权重按得分率折算。"
    english = evaluate(rescale, facts(**NOT_APPLICABLE), "en").node("effect.survey")
    assert english.rationale == ("Not applicable (no survey was planned this year); "
                                 "the total is converted from the score rate on the applicable weight.")


def test_redistribute_gives_the_na_weight_to_the_siblings(redistribute):
    evaluation = evaluate(redistribute, facts(**NOT_APPLICABLE))
    # process 30: execution takes procurement's 10: e = 20 × 30 ÷ 20 = 30; 18 × 30 ÷ 20 = 27
    # effect 50: ecology takes the survey's 30: e = 20 × 50 ÷ 20 = 50; 15 × 50 ÷ 20 = 37.5
    # total = 15.5 + 27 + 37.5 = 80 (良)
    assert evaluation.score == Decimal("80.00") and evaluation.grade == "良"
    assert evaluation.not_applicable_treatment == "redistribute"
    execution = evaluation.node("process.execution")
    assert (execution.score, execution.effective_weight) == (Decimal("27.00"), Decimal(30))
    assert execution.rationale == ("预算执行率90%。根据评分细则，扣3分，得27分。（因同级指标不适用，权重由20调整为30）")
    ecology = evaluation.node("effect.ecology")
    assert (ecology.score, ecology.effective_weight) == (Decimal("37.50"), Decimal(50))
    assert evaluation.node("process").score == Decimal("27.00")
    assert evaluation.node("process.procurement").rationale == "该指标不适用（本年度未开展政府采购），权重按比例分配至同级指标。"
    english = evaluate(redistribute, facts(**NOT_APPLICABLE), "en").node("process.execution")
    assert english.rationale == ("execution rate 90%. Under the scoring rules, 3 points are deducted; score 27. "
                                 "(weight adjusted from 20 to 30 because a sibling indicator is not applicable)")


def test_the_same_project_differs_only_by_treatment(rescale, redistribute):
    one, other = evaluate(rescale, facts(**NOT_APPLICABLE)), evaluate(redistribute, facts(**NOT_APPLICABLE))
    assert (one.score, other.score) == (Decimal("80.83"), Decimal("80.00"))
    assert one.node("decision") == other.node("decision") and one.node("decision").score == Decimal("15.50")


def test_nothing_not_applicable_scores_as_without_the_construct(rescale, redistribute):
    # 15.5 + 24 + 37.5 = 77 under both treatments, and no N/A marks in the reply
    for compiled in (rescale, redistribute):
        evaluation = evaluate(compiled, facts())
        assert evaluation.score == Decimal("77.00") and evaluation.not_applicable_treatment == ""
        assert evaluation.applicable_weight is None
        assert all(n.effective_weight is None and not n.not_applicable for n in evaluation.nodes())


def test_a_parent_with_every_child_na_is_na_and_redistributed_at_its_level():
    # decision's two leaves both N/A by a flag: level 1 decision is N/A; process and effect
    # share 100: process 30 × 100 ÷ 80 = 37.5, effect 50 × 100 ÷ 80 = 62.5.
    text = edited(*[(f"        scoring:\n          method: {method}",
                     f"        not_applicable: {{flag: na.procurement, reason: na.procurement_reason}}\n"
                     f"        scoring:\n          method: {method}")
                    for method in ("per_item", "ratio\n          actual: output.completed")])
    compiled = compiled_scoring("plain", "redistribute", text=text)
    evaluation = evaluate(compiled, facts(na__procurement=True, na__procurement_reason="不涉及"))
    decision = evaluation.node("decision")
    assert decision.not_applicable and decision.effective_weight == 0 and decision.grade is None
    # process 37.5 of which procurement is N/A: execution e = 37.5; 18 × 37.5 ÷ 20 = 33.75
    # effect 62.5: ecology 15 × 25 ÷ 20 = 18.75 (e = 20 × 62.5 ÷ 50 = 25), survey 22.5 × 37.5 ÷ 30 = 28.125 → 28.13
    assert evaluation.node("process").effective_weight == Decimal("37.5")
    assert evaluation.node("process.execution").score == Decimal("33.75")
    assert evaluation.node("effect.ecology").score == Decimal("18.75")
    assert evaluation.node("effect.survey").score == Decimal("28.13")
    assert evaluation.score == Decimal("33.75") + Decimal("18.75") + Decimal("28.13")
    # decision's rate would read 0: an override reading a node that is not applicable does not fire
    assert evaluation.overrides == ()
    ecology = evaluation.node("effect.ecology")
    assert ecology.rationale.endswith("（因上级指标权重调整，权重由20调整为25）")


def test_redistributed_weights_add_up_to_the_parent_in_cents():
    # parent 10, children 3, 3 (N/A), 4: exact 4.2857… and 5.7142…; the largest remainder
    # (0.0057 against 0.0042) takes the last cent: 4.29 + 5.71 = 10
    assert _shares([Decimal(3), Decimal(3), Decimal(4)], [True, False, True], Decimal(10)) == [
        Decimal("4.29"), Decimal(0), Decimal("5.71")]


def test_every_leaf_na_is_an_input_error():
    text = edited(*[(f"        scoring:\n          method: {method}",
                     f"        not_applicable: {{flag: na.procurement, reason: na.procurement_reason}}\n"
                     f"        scoring:\n          method: {method}")
                    for method in ("per_item", "ratio\n          actual: output.completed",
                                   "ratio\n          actual: budget.spent", "bands")])
    compiled = compiled_scoring("plain", text=text)
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts(**NOT_APPLICABLE))
    assert [v.description for v in info.value.violations] == ["every indicator is not applicable: there is nothing left to score"]


def test_a_flag_without_a_reason_is_an_input_error(rescale):
    with pytest.raises(FactsError) as info:
        evaluate(rescale, facts(na__procurement=True))
    [violation] = info.value.violations
    assert violation.fact == "na.procurement_reason" and "must say why process.procurement is not applicable" in violation.description


def test_an_na_leaf_inputs_are_not_checked(rescale):
    # the survey's target 0 would be an input error for an applicable ratio leaf
    evaluate(rescale, facts(survey__planned=0, survey__done=5))
    with pytest.raises(FactsError) as info:
        evaluate(compiled_scoring("plain", text=edited(
            ("          when: {fact: survey.planned, eq: 0}", "          when: {fact: survey.done, eq: 99}"))),
            facts(survey__planned=0))
    assert "is 0, but it is the target of the ratio scoring effect.survey" in str(info.value)


def test_the_memo_holds_no_na_state(rescale):
    # the same leaf applicable, then N/A, then applicable again: each answer as fresh
    first = evaluate(rescale, facts())
    evaluate(rescale, facts(**NOT_APPLICABLE))
    assert evaluate(rescale, facts()) == first
    assert evaluate(rescale, facts(**NOT_APPLICABLE)).score == Decimal("80.83")


def _problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        scoring_pack(text=text)
    return [p.message for p in info.value.problems]


def test_a_pack_with_na_leaves_must_say_its_treatment():
    with pytest.raises(PackError) as info:
        scoring_pack(text=edited(("not_applicable:\n  treatment: rescale\n", "")))
    [problem] = [p for p in info.value.problems if "treatment" in p.message]
    # every leaf that may be N/A is named, and the line is the first one's not_applicable
    assert problem.message.startswith("leaves 'process.procurement', 'effect.survey' may be not applicable, "
                                      "so the pack must say at its top level how the weight")
    assert problem.path.endswith("not_applicable") and problem.line is not None and problem.line > 1


def test_a_flag_must_be_a_boolean_fact():
    messages = _problems(edited(("{flag: na.procurement,", "{flag: budget.spent,")))
    assert any("a not-applicable flag must be a boolean fact" in m for m in messages)
