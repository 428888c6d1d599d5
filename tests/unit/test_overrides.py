"""Overrides: 一票否决, a zeroed subtree, a capped node and total, their order and the
loader's refusals, with the numbers worked by hand (see scoring_language_pack)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.errors import PackError
from jixiao.core.evaluation.evaluator import evaluate

from .scoring_language_pack import compiled_scoring, edited, facts, scoring_pack

#: vouchers 2: 10 − 1 = 9; completion 100 %: 10; procurement 10; execution 99.9 %:
#: 20 × 0.999 = 19.98; ecology 较好 15; survey 40/40: 30. Total 93.98 (优).
EXCELLENT = dict(vouchers__noncompliant=2, output__completed="100", procurement__irregular=False,
                 budget__spent="99.9", survey__done=40)


@pytest.fixture(scope="module", params=["durable", "plain"])
def compiled(request):
    pack = compiled_scoring(request.param)
    yield pack
    pack.close()


def test_the_excellent_project_is_excellent_without_the_veto(compiled):
    # 9 + 10 + 10 + 19.98 + 15 + 30 = 93.98
    evaluation = evaluate(compiled, facts(**EXCELLENT))
    assert (evaluation.score, evaluation.grade, evaluation.overrides) == (Decimal("93.98"), "优", ())


def test_misappropriation_grades_a_93_98_project_poor(compiled):
    evaluation = evaluate(compiled, facts(**EXCELLENT, funds__misappropriated=True))
    assert evaluation.score == Decimal("93.98")  # the total is unchanged
    assert evaluation.grade == "差"
    [override] = evaluation.overrides
    assert (override.rule_id, override.action, override.node, override.before, override.after) == (
        "override#misappropriation", "grade", "total", "优", "差")
    assert override.rationale == "经核查，项目资金存在挪用问题，实行一票否决，评价等级由“优”定为“差”"
    english = evaluate(compiled, facts(**EXCELLENT, funds__misappropriated=True), "en")
    assert english.grade == "poor" and english.overrides[0].after == "poor"
    assert english.overrides[0].rationale == "funds were misappropriated: the grade is poor whatever the total"


def test_a_failed_output_zeroes_the_effect_subtree(compiled):
    # vouchers 10 → 10 − 3 (cap) = 7; completion 50 %: below the floor, 0. decision 7 of 20 = 35 % < 60 %:
    # effect (37.5) is zeroed. process 24 → effect 0 < 10 fires process_after_effect: process capped at 20.
    # total = 7 + 20 + 0 = 27 (差)
    evaluation = evaluate(compiled, facts(vouchers__noncompliant=10, output__completed="50"))
    assert [o.rule_id for o in evaluation.overrides] == ["override#output_failed", "override#process_after_effect"]
    zero, cap = evaluation.overrides
    assert (zero.action, zero.node, zero.before, zero.after) == ("zero", "effect", "37.5", "0")
    assert (cap.action, cap.node, cap.before, cap.after) == ("cap", "process", "24", "20")
    assert cap.rationale == "效益指标得分低于10分，过程指标得分由24分调整为20分"
    for node_id in ("effect", "effect.ecology", "effect.survey"):
        node = evaluation.node(node_id)
        assert node.score == 0 and node.overridden_by == ("override#output_failed",)
        assert node.effective_weight is None  # its weight stays
    # the leaf's own verdict (扣5分，得15分) gives way to what it would have scored and why it scores 0
    assert evaluation.node("effect.ecology").rationale == (
        "生态效益较好。按评分细则应得15分；因决策指标得分率低于60%，效益类指标不得分，该指标不得分（得0分）。")
    process = evaluation.node("process")
    # a capped parent is min(Σ children, cap): its children keep 6 and 18
    assert process.score == Decimal(20) and sum(c.score for c in process.children) == Decimal(24)
    assert process.overridden_by == ("override#process_after_effect",)
    assert process.rate == Decimal("66.67") and process.grade == "中"
    assert (evaluation.score, evaluation.grade) == (Decimal(27), "差")


def test_an_override_reading_a_node_acts_after_the_one_changing_it_whatever_the_pack_order():
    # process_after_effect is listed first but reads effect, which output_failed changes.
    compiled = compiled_scoring("plain")
    assert compiled.overrides.layers == ((1, 2, 3), (0,))


def test_a_capped_total(compiled):
    # the ordinary project: 77 → capped at 59.99 (差)
    evaluation = evaluate(compiled, facts(audit__major=True))
    assert (evaluation.score, evaluation.grade) == (Decimal("59.99"), "差")
    [override] = evaluation.overrides
    assert (override.action, override.node, override.before, override.after) == ("cap", "total", "77", "59.99")
    assert override.rationale == "审计发现重大问题，总分由77分调整为59.99分"
    assert evaluation.node("process").score == Decimal(24)  # the tree is unchanged


def test_a_cap_above_the_score_changes_nothing_but_is_reported(compiled):
    evaluation = evaluate(compiled, facts(audit__major=True, vouchers__noncompliant=10, output__completed="50"))
    # 27 (above) is already below 59.99; the layer reading no node acts first, on 7 + 24 + 0 = 31
    assert evaluation.score == Decimal(27)
    [cap] = [o for o in evaluation.overrides if o.rule_id == "override#audit_cap"]
    assert cap.before == cap.after == "31"


def test_every_override_at_once(compiled):
    evaluation = evaluate(compiled, facts(vouchers__noncompliant=10, output__completed="50",
                                          funds__misappropriated=True, audit__major=True))
    # layer 0 in pack order (misappropriation, output_failed, audit_cap), then process_after_effect
    assert [o.action for o in evaluation.overrides] == ["grade", "zero", "cap", "cap"]
    assert evaluation.overrides[-1].rule_id == "override#process_after_effect"
    assert (evaluation.score, evaluation.grade) == (Decimal(27), "差")


def test_a_forced_grade_never_raises_the_grade():
    # 中 forced on a project graded 差 by its total: 15.5 + (6 + 0) + (8 + 0) = 29.5 stays 差
    compiled = compiled_scoring("plain", text=edited(("    grade: 差\n", "    grade: 中\n")))
    evaluation = evaluate(compiled, facts(budget__spent="0", eco__level="poor", survey__done=0,
                                          funds__misappropriated=True))
    assert evaluation.score == Decimal("29.5")
    [forced] = [o for o in evaluation.overrides if o.action == "grade"]
    assert evaluation.grade == "差" and (forced.before, forced.after) == ("差", "差")


def _problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        scoring_pack(text=text)
    return [p.message for p in info.value.problems]


def test_overrides_waiting_on_each_other_are_refused_naming_the_loop():
    # output_failed reads decision and changes effect; this one reads effect and changes decision
    messages = _problems(edited(("  - id: misappropriation\n", "  - id: loop_back\n"
                                 "    when: {score: effect, lt: 10}\n"
                                 "    zero: decision\n"
                                 "    reason: 效益过低\n"
                                 "  - id: misappropriation\n")))
    assert any("overrides output_failed → loop_back → output_failed wait on each other" in m for m in messages), messages


def test_an_unknown_node_is_refused_with_a_suggestion():
    messages = _problems(edited(("    zero: effect\n", "    zero: efect\n"), ("{rate: decision, lt: 60}", "{rate: decison, lt: 60}")))
    assert any("'efect' is not an indicator id; did you mean effect?" in m for m in messages), messages
    assert any("'decison' is not an indicator id nor total; did you mean decision?" in m for m in messages), messages


def test_an_unknown_grade_is_refused_with_a_suggestion():
    messages = _problems(edited(("    grade: 差\n", "    grade: 差的\n")))
    assert any("'差的' is not one of the pack's grades (优, 良, 中, 差); did you mean 差?" in m for m in messages), messages


def test_an_override_needs_exactly_one_action():
    messages = _problems(edited(("    grade: 差\n", "    grade: 差\n    zero: effect\n")))
    assert any("needs exactly one action" in m for m in messages), messages


def test_a_node_value_is_only_read_by_overrides():
    # {score: ...} in a leaf's check is not a comparison of facts
    messages = _problems(edited(("{id: irregular, when: {fact: procurement.irregular, eq: true}",
                                 "{id: irregular, when: {score: decision, lt: 3}")))
    assert messages


def test_an_override_and_a_per_item_count_read_derived_values():
    # derived: twice the non-compliant vouchers counted (each voucher has two pages);
    # per_item counts pages at 0.5 each (cap 3); an override caps decision at 12 from 8 pages on.
    text = edited(
        ("indicators:\n", "derived:\n"
                          "  - {name: vouchers.pages, label: {zh: 不合规页数, en: non-compliant pages}, "
                          "value: {mul: [{fact: vouchers.noncompliant}, 2]}, places: 0}\n"
                          "indicators:\n"),
        ("          count: vouchers.noncompliant\n", "          count: vouchers.pages\n"),
        ("  - id: audit_cap\n", "  - id: many_pages\n"
                                "    when: {fact: vouchers.pages, ge: 8}\n"
                                "    cap: {node: decision, score: 12}\n"
                                "    reason: {zh: \"不合规{vouchers.pages}页\"}\n"
                                "  - id: audit_cap\n"))
    for engine in ("durable", "plain"):
        pack = compiled_scoring(engine, text=text)
        try:
            # 2 vouchers → 4 pages: 10 − 2 = 8; decision 8 + 7 = 15 (75 %), no cap
            assert evaluate(pack, facts(vouchers__noncompliant=2)).node("decision").score == Decimal(15)
            # 4 vouchers → 8 pages: 10 − 3 (cap) = 7; decision 7 + 7 = 14 → capped at 12
            evaluation = evaluate(pack, facts(vouchers__noncompliant=4))
            assert evaluation.node("decision").score == Decimal(12)
            [override] = evaluation.overrides
            assert (override.rule_id, override.before, override.after, override.rationale) == (
                "override#many_pages", "14", "12", "不合规8页")
        finally:
            pack.close()


def test_a_zeroed_leaf_whose_weight_was_redistributed_says_what_it_would_have_scored():
    # redistribute, no survey planned: ecology takes the survey's 30, e = 20 × 50 ÷ 20 = 50,
    # 15 × 50 ÷ 20 = 37.5; decision 7 + 0 = 7 on 20 (35 %) zeroes the effect subtree.
    compiled = compiled_scoring("plain", "redistribute")
    try:
        evaluation = evaluate(compiled, facts(vouchers__noncompliant=10, output__completed="50",
                                              survey__planned=0, survey__done=0))
    finally:
        compiled.close()
    ecology = evaluation.node("effect.ecology")
    assert ecology.score == 0 and ecology.effective_weight == Decimal(50)
    assert ecology.rationale == ("生态效益较好。按评分细则应得37.5分；因决策指标得分率低于60%，效益类指标不得分，"
                                 "该指标不得分（得0分）。（因同级指标不适用，权重由20调整为50）")


def test_a_zeroed_leaf_that_scored_0_anyway_keeps_its_verdict_and_says_the_override():
    from jixiao.core.evaluation.overrides import _with_notes
    from jixiao.core.evaluation.results import NodeResult
    # weight 5, 5 deducted by its own rules: 0 before the override zeroes its dimension
    leaf = NodeResult("effect.x", "经济效益", 3, Decimal(5), Decimal("0.00"), Decimal("0.00"), None, "deductions",
                      (), "未达到预期经济效益。根据评分细则，扣5分，得0分。")
    notes = [("zero", "产出指标得分率低于60%")]
    assert _with_notes(leaf, notes, "zh") == "未达到预期经济效益。根据评分细则，扣5分，得0分；因产出指标得分率低于60%，该指标亦不得分。"
    english = leaf._replace(rationale="No economic benefit. Under the scoring rules, 5 points are deducted; score 0.")
    assert _with_notes(english, [("zero", "output scored below 60%")], "en") == (
        "No economic benefit. Under the scoring rules, 5 points are deducted; score 0; because output scored below "
        "60%, it would score 0 in any case.")


def test_an_override_reason_formatting_a_value_of_another_type_is_refused_at_load():
    # A boolean printed as money would fail every evaluation firing the override.
    messages = _problems(edited(("项目资金存在挪用问题，", "项目资金存在挪用问题（{procurement.irregular|money}），")))
    assert any("format 'money' needs a number, 'procurement.irregular' is boolean" in m for m in messages), messages
