"""Diffing pack versions: exactly what a release changed, in pack order, rendered for review."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.pack.diff import Change, ChangeKind, diff_packs, render_condition, render_scoring
from jixiao.core.pack.loader import load_pack
from jixiao.core.pack.model import AllOf, AnyOf, Arithmetic, Compare, FactRef, Not
from jixiao.packs import BUNDLED_PACKS, load_pack_dir, pack_schema

from .packs import METHODS_PACK, methods_pack

K = ChangeKind
QUALITY_DISTRICT = BUNDLED_PACKS / "quality-district-funding"


def pack_from(text: str):
    return load_pack(text, "synthetic/pack.yaml", schema=pack_schema())


def edited(*replacements: tuple[str, str]):
    """METHODS_PACK with each (old, new) replaced once; every `old` must be there."""
    text = METHODS_PACK
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return pack_from(text)


def rows(diff) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(c.kind.value, c.subject, c.detail, c.old, c.new) for c in diff.changes]


@pytest.fixture(scope="module")
def quality_district():
    old, new = load_pack_dir(QUALITY_DISTRICT / "1.0.0"), load_pack_dir(QUALITY_DISTRICT / "1.1.0")
    yield old.pack, new.pack
    old.compiled.close()
    new.compiled.close()


# --- the bundled revision -----------------------------------------------------------------


def test_1_0_0_to_1_1_0_is_the_decision_rebalance_and_the_rewards_floor_and_nothing_else(quality_district):
    old, new = quality_district
    diff = diff_packs(old, new)
    assert (diff.old_ref, diff.new_ref) == ("quality-district-funding@1.0.0", "quality-district-funding@1.1.0")
    assert [(c.kind, c.subject, c.detail) for c in diff.changes] == [
        (K.WEIGHT_CHANGED, "decision.initiation", "weight"),
        (K.WEIGHT_CHANGED, "decision.initiation.basis", "weight"),
        (K.RULE_CHANGED, "decision.initiation.basis", "check policy_basis"),
        (K.WEIGHT_CHANGED, "decision.targets", "weight"),
        (K.WEIGHT_CHANGED, "decision.targets.clarity", "weight"),
        (K.RULE_CHANGED, "decision.targets.clarity", "check declaration_form"),
        (K.RULE_CHANGED, "output.cost.rewards", "check award_amount"),
        (K.TEXT_CHANGED, "output.cost.rewards", "check award_amount reason"),
        (K.TEXT_CHANGED, "output.cost.rewards", "check award_amount met"),
        (K.RULE_CHANGED, "output.cost.rewards", "check nomination_amount"),
        (K.TEXT_CHANGED, "output.cost.rewards", "check nomination_amount reason"),
        (K.TEXT_CHANGED, "output.cost.rewards", "check nomination_amount met"),
    ]


def test_1_1_0_moves_one_decision_point_from_the_basis_to_the_indicators(quality_district):
    weights = {c.subject: (c.old, c.new) for c in diff_packs(*quality_district).of_kind(K.WEIGHT_CHANGED)}
    assert weights == {
        "decision.initiation": ("5", "4"), "decision.initiation.basis": ("3", "2"),
        "decision.targets": ("5", "6"), "decision.targets.clarity": ("3", "4"),
    }
    assert "decision" not in weights  # 决策 stays 16


def test_1_1_0_deducts_a_prize_below_its_standard_instead_of_one_that_differs(quality_district):
    [award, nomination] = [c for c in diff_packs(*quality_district).of_kind(K.RULE_CHANGED)
                           if c.subject == "output.cost.rewards"]
    assert (award.old, award.new) == (
        "deduct 2 if rewards.award_amount != rewards.award_standard",
        "deduct 2 if rewards.award_amount < rewards.award_standard",
    )
    assert (nomination.old, nomination.new) == (
        "deduct 1 if rewards.nomination_amount != rewards.nomination_standard",
        "deduct 1 if rewards.nomination_amount < rewards.nomination_standard",
    )


def test_1_1_0_declares_the_same_facts_and_grades(quality_district):
    diff = diff_packs(*quality_district)
    assert not diff.of_kind(K.FACT_ADDED, K.FACT_REMOVED, K.FACT_CHANGED, K.GRADES_CHANGED, K.TOTAL_WEIGHT_CHANGED)


def test_the_reverse_diff_undoes_every_change(quality_district):
    old, new = quality_district
    forward, backward = diff_packs(old, new), diff_packs(new, old)
    assert [(c.kind, c.subject, c.detail, c.new, c.old) for c in backward.changes] == [
        (c.kind, c.subject, c.detail, c.old, c.new) for c in forward.changes]


def test_a_pack_diffed_with_itself_is_empty(quality_district):
    assert diff_packs(quality_district[1], quality_district[1]).is_empty
    assert diff_packs(methods_pack(), methods_pack()).changes == ()


def test_formatting_alone_is_no_change():
    # 3 and 3.00 are the same weight; flow and block YAML are the same check.
    same = edited(
        ("weight: 3\n            scoring:\n              method: ratio",
         "weight: 3.00\n            scoring:\n              method: ratio"),
        ("{id: a, when: {fact: records.a, eq: false}, points: 1, reason: 记录甲未见, met: 记录甲齐全}",
         "id: a\n                  when: {fact: records.a, eq: false}\n                  points: 1.0\n"
         "                  reason: 记录甲未见\n                  met: 记录甲齐全"),
    )
    assert diff_packs(methods_pack(), same).is_empty


# --- indicators -------------------------------------------------------------------------


def test_an_added_leaf_is_listed_where_it_sits_with_the_weight_it_took():
    new = edited(
        ("weight: 10\n            scoring:\n              method: judgement",
         "weight: 8\n            scoring:\n              method: judgement"),
        ("          - id: all.x.done\n",
         "          - id: all.x.extra\n            name: {zh: 新增指标, en: New indicator}\n"
         "            weight: 2\n            scoring:\n              method: all_or_nothing\n"
         "              pass: {fact: done, eq: true}\n              reason: 未完成\n"
         "          - id: all.x.done\n"),
    )
    assert rows(diff_packs(methods_pack(), new)) == [
        ("indicator_added", "all.x.extra", "", None,
         "新增指标 / New indicator · weight 2 · all_or_nothing: pass if done = true · under all.x"),
        ("weight_changed", "all.x.judgement", "weight", "10", "8"),
    ]


def test_a_removed_leaf_is_listed_right_after_the_leaf_before_it():
    new = edited(
        ("          - id: all.x.done\n            name: 完成情况\n            weight: 5\n"
         "            scoring:\n              method: all_or_nothing\n"
         "              pass: {fact: done, eq: true}\n              reason: 未按期完成\n"
         "              met: 按期完成\n", ""),
        ("weight: 10\n            scoring:\n              method: judgement",
         "weight: 15\n            scoring:\n              method: judgement"),
    )
    diff = diff_packs(methods_pack(), new)
    assert [(c.kind, c.subject) for c in diff.changes] == [
        (K.INDICATOR_REMOVED, "all.x.done"), (K.WEIGHT_CHANGED, "all.x.judgement")]
    assert diff.changes[0].old == "完成情况 · weight 5 · all_or_nothing: pass if done = true · under all.x"
    assert diff.changes[0].new is None


def test_a_renamed_indicator_keeps_its_id_and_shows_both_names():
    new = edited(("name: {zh: 预算执行率, en: Budget execution rate}", "name: {zh: 预算执行进度, en: Budget progress}"))
    assert rows(diff_packs(methods_pack(), new)) == [
        ("indicator_renamed", "all.x.ratio", "name", "预算执行率 / Budget execution rate", "预算执行进度 / Budget progress"),
    ]


def test_a_leaf_moved_under_a_new_parent_is_a_move_not_a_removal():
    bands_leaf = METHODS_PACK[METHODS_PACK.index("          - id: all.x.bands\n"):
                              METHODS_PACK.index("          - id: all.x.judgement\n")]
    new = edited(
        ("    weight: 30\n    children:\n      - id: all.x\n        name: 样例\n        weight: 30\n",
         "    weight: 30\n    children:\n      - id: all.x\n        name: 样例\n        weight: 26\n"),
        (bands_leaf, ""),
        ("              reason: judge.reason\n",
         "              reason: judge.reason\n      - id: all.y\n        name: 满意度\n"
         "        weight: 4\n        children:\n" + bands_leaf),
    )
    assert [(c.kind.value, c.subject, c.old, c.new) for c in diff_packs(methods_pack(), new).changes] == [
        ("weight_changed", "all.x", "30", "26"),
        ("indicator_added", "all.y", None, "满意度 · weight 4 · sum of children · under all"),
        ("indicator_moved", "all.x.bands", "all.x", "all.y"),
    ]


def test_a_changed_method_shows_the_whole_old_and_new_rule():
    new = edited((
        "              method: all_or_nothing\n              pass: {fact: done, eq: true}\n"
        "              reason: 未按期完成\n              met: 按期完成\n",
        "              method: deductions\n              checks:\n"
        "                - {id: late, when: {fact: done, eq: false}, points: 5, reason: 未按期完成}\n",
    ))
    assert rows(diff_packs(methods_pack(), new)) == [
        ("method_changed", "all.x.done", "method", "all_or_nothing: pass if done = true",
         "deductions: late: deduct 5 if done = false"),
    ]


# --- rules ------------------------------------------------------------------------------


def test_checks_added_removed_and_changed_by_check_id():
    new = edited(
        ("{id: a, when: {fact: records.a, eq: false}, points: 1, reason: 记录甲未见, met: 记录甲齐全}",
         "{id: a, when: {fact: records.a, eq: false}, points: 1.5, reason: 记录甲缺失, met: 记录甲齐全}"),
        ("{id: b, when: {not: {fact: records.b, eq: true}}, points: 0.5, reason: 记录乙未见}",
         "{id: b, when: {any: [{fact: records.b, eq: false}, {fact: records.a, eq: false}]}, points: 0.5, reason: 记录乙未见}"),
        ("{id: c, when: {fact: records.c, eq: false}, points: 2, reason: 记录丙未见}",
         "{id: d, when: {fact: awards.granted, lt: {mul: [{fact: awards.cap}, 0.5]}}, points: 1, reason: 获奖过少}"),
    )
    assert rows(diff_packs(methods_pack(), new)) == [
        ("rule_changed", "all.x.deductions", "check a",
         "deduct 1 if records.a = false", "deduct 1.5 if records.a = false"),
        ("text_changed", "all.x.deductions", "check a reason", "记录甲未见", "记录甲缺失"),
        ("rule_changed", "all.x.deductions", "check b",
         "deduct 0.5 if not(records.b = true)", "deduct 0.5 if any(records.b = false, records.a = false)"),
        ("rule_removed", "all.x.deductions", "check c", "deduct 2 if records.c = false", None),
        ("rule_added", "all.x.deductions", "check d", None, "deduct 1 if awards.granted < awards.cap * 0.5"),
    ]


def test_checks_added_removed_and_changed_with_the_fact_dropped():
    new = edited(
        ("{id: c, when: {fact: records.c, eq: false}, points: 2, reason: 记录丙未见}",
         "{id: d, when: {fact: awards.granted, lt: {mul: [{fact: awards.cap}, 0.5]}}, points: 1, reason: 获奖过少}"),
        ("  - {name: records.c, type: boolean, label: 记录丙, default: true}\n", ""),
    )
    assert rows(diff_packs(methods_pack(), new)) == [
        ("rule_removed", "all.x.deductions", "check c", "deduct 2 if records.c = false", None),
        ("rule_added", "all.x.deductions", "check d", None, "deduct 1 if awards.granted < awards.cap * 0.5"),
        ("fact_removed", "records.c", "", "记录丙 · boolean, default true", None),
    ]


def test_ratio_survey_bands_and_pass_rules_report_what_moved():
    new = edited(
        ("actual: budget.spent\n              target: budget.approved",
         "actual: budget.spent\n              target: budget.planned"),
        ("  - {name: budget.spent, type: decimal, label: 支出, unit: 元, min: 0}\n",
         "  - {name: budget.spent, type: decimal, label: 支出, unit: 元, min: 0}\n"
         "  - {name: budget.planned, type: decimal, label: 计划支出, unit: 元, min: 0}\n"),
        ("pass: {fact: done, eq: true}", "pass: {all: [{fact: done, eq: true}, {fact: records.a, eq: true}]}"),
        ('weights: {strongly: 1, "yes": 0.8, somewhat: 0.4, "no": 0}',
         'weights: {strongly: 1, "yes": 0.7, somewhat: 0.4, "no": 0}'),
        ("- {min: 80, deduct: 0.5}", "- {min: 85, deduct: 0.5}"),
        ("inferred: 规则系据报告得分推定", "inferred: 规则系据上年报告得分推定"),
    )
    assert rows(diff_packs(methods_pack(), new)) == [
        ("rule_changed", "all.x.ratio", "ratio", "budget.spent / budget.approved", "budget.spent / budget.planned"),
        ("rule_changed", "all.x.done", "pass", "done = true", "all(done = true, records.a = true)"),
        ("rule_changed", "all.x.survey", "option yes", "0.8", "0.7"),
        ("rule_changed", "all.x.bands", "bands",
         ">= 90: -0, >= 80: -0.5, >= 70: -1, >= 60: -2, else: -4",
         ">= 90: -0, >= 85: -0.5, >= 70: -1, >= 60: -2, else: -4"),
        ("text_changed", "all.x.bands", "inferred", "规则系据报告得分推定", "规则系据上年报告得分推定"),
        ("fact_added", "budget.planned", "", None, "计划支出 · decimal, unit 元, min 0, required"),
    ]


def test_a_changed_rationale_template_is_a_text_change():
    new = edited(('rationale: "调查问卷结果为：{survey.s|shares}"', 'rationale: "问卷调查结果为：{survey.s|shares}"'))
    assert rows(diff_packs(methods_pack(), new)) == [
        ("text_changed", "all.x.survey", "rationale", "调查问卷结果为：{survey.s|shares}", "问卷调查结果为：{survey.s|shares}"),
    ]


# --- facts, grades, total ---------------------------------------------------------------


def test_facts_added_removed_and_changed_in_declaration_order():
    new = edited(
        ("  - {name: budget.approved, type: decimal, label: 预算, unit: 元, min: 0}\n",
         "  - {name: budget.approved, type: decimal, label: 预算批复金额, unit: 万元, min: 1, max: 100000}\n"),
        ("  - {name: records.b, type: boolean, label: 记录乙}\n",
         "  - {name: records.b, type: boolean, label: 记录乙, default: false}\n"
         "  - {name: records.d, type: text, label: 记录丁, default: \"\"}\n"),
        ("  - {name: awards.cap, type: integer, label: 获奖上限, min: 0}\n",
         "  - {name: awards.cap, type: decimal, label: 获奖上限, min: 0}\n"),
        ("  - {name: judge.reason, type: text, label: 专家评分理由}\n",
         "  - {name: judge.reason, type: text, label: 专家评分理由}\n"
         "  - {name: extra.count, type: integer, label: 新增计数, min: 0}\n"),
        ('      - {key: somewhat, label: {zh: 一般促进, en: somewhat}}\n',
         '      - {key: somewhat, label: {zh: 一般, en: somewhat}}\n'),
    )
    assert rows(diff_packs(methods_pack(), new)) == [
        ("fact_changed", "budget.approved", "unit", "元", "万元"),
        ("fact_changed", "budget.approved", "min", "0", "1"),
        ("fact_changed", "budget.approved", "max", "(none)", "100000"),
        ("text_changed", "budget.approved", "label", "预算", "预算批复金额"),
        ("fact_changed", "records.b", "default", "required", "default false"),
        ("fact_added", "records.d", "", None, '记录丁 · text, default ""'),
        ("fact_changed", "awards.cap", "type", "integer", "decimal"),
        ("text_changed", "survey.s", "option somewhat label", "一般促进 / somewhat", "一般 / somewhat"),
        ("fact_added", "extra.count", "", None, "新增计数 · integer, min 0, required"),
    ]


def test_grades_and_total_weight_are_pack_level_changes_listed_first():
    new = edited(
        ("total_weight: 30", "total_weight: 40"),
        ("              reason: judge.reason\n",
         "              reason: judge.reason\n"
         "  - id: more\n    name: 附加\n    weight: 10\n    children:\n"
         "      - id: more.x\n        name: 附加二级\n        weight: 10\n        children:\n"
         "          - id: more.x.judged\n            name: 附加评分\n            weight: 10\n"
         "            scoring: {method: judgement, score: judge.score, reason: judge.reason}\n"),
        ("{grade: 良, en: good, min: 80}", "{grade: 良, en: good, min: 75}"),
    )
    diff = diff_packs(methods_pack(), new)
    assert rows(diff)[:2] == [
        ("total_weight_changed", "", "total_weight", "30", "40"),
        ("grades_changed", "", "grades", "优 >= 90, 良 >= 80, 中 >= 60, 差 >= 0", "优 >= 90, 良 >= 75, 中 >= 60, 差 >= 0"),
    ]
    assert [(c.kind, c.subject) for c in diff.changes[2:]] == [
        (K.INDICATOR_ADDED, "more"), (K.INDICATOR_ADDED, "more.x"), (K.INDICATOR_ADDED, "more.x.judged")]


def test_changes_are_frozen_values():
    change = Change(K.WEIGHT_CHANGED, "a", "weight", "1", "2")
    with pytest.raises(AttributeError):
        change.new = "3"  # type: ignore[misc]
    assert change == Change(K.WEIGHT_CHANGED, "a", "weight", "1", "2")


# --- rendering --------------------------------------------------------------------------


@pytest.mark.parametrize("condition, text", [
    (Compare(FactRef("targets.declaration_form_filed"), "eq", False), "targets.declaration_form_filed = false"),
    (Compare(FactRef("output.awards_granted"), "gt", FactRef("output.awards_cap")),
     "output.awards_granted > output.awards_cap"),
    (Compare(FactRef("budget.spent"), "lt", Arithmetic("mul", FactRef("budget.approved"), Decimal("0.90"))),
     "budget.spent < budget.approved * 0.9"),
    (Compare(FactRef("a"), "ge", Arithmetic("div", Arithmetic("add", FactRef("b"), Decimal(1)), Decimal(2))),
     "a >= (b + 1) / 2"),
    (Compare(FactRef("project.unit"), "ne", "区市场监督管理局"), 'project.unit != "区市场监督管理局"'),
    (AllOf((Compare(FactRef("a"), "le", Decimal(3)), Not(Compare(FactRef("b"), "eq", True)))),
     "all(a <= 3, not(b = true))"),
    (AnyOf((Compare(FactRef("a"), "eq", True), Compare(FactRef("b"), "eq", True))), "any(a = true, b = true)"),
])
def test_render_condition(condition, text):
    assert render_condition(condition) == text


def test_render_scoring_of_each_method():
    leaves = {leaf.id: render_scoring(leaf.scoring) for leaf in methods_pack().leaves()}
    assert leaves == {
        "all.x.ratio": "ratio: budget.spent / budget.approved",
        "all.x.deductions": "deductions: a: deduct 1 if records.a = false; b: deduct 0.5 if not(records.b = true); "
                            "c: deduct 2 if records.c = false; cap: deduct 3 if awards.granted > awards.cap",
        "all.x.done": "all_or_nothing: pass if done = true",
        "all.x.survey": "survey: survey.s: strongly 1, yes 0.8, somewhat 0.4, no 0",
        "all.x.bands": "bands: survey.s.strongly: >= 90: -0, >= 80: -0.5, >= 70: -1, >= 60: -2, else: -4",
        "all.x.judgement": "judgement: score judge.score, reason judge.reason",
    }
    assert render_scoring(None) == "sum of children"


# --- the second language: methods, not-applicable leaves, derived values, constraints, overrides


def _with(pack, **changes):
    import dataclasses
    return dataclasses.replace(pack, **changes)


def _leaf(pack, leaf_id, **changes):
    """`pack` with one leaf replaced by a copy carrying `changes`."""
    import dataclasses

    def rebuild(node):
        if node.id == leaf_id:
            return dataclasses.replace(node, **changes)
        return dataclasses.replace(node, children=tuple(rebuild(c) for c in node.children))

    return dataclasses.replace(pack, indicators=tuple(rebuild(n) for n in pack.indicators))


def test_ratio_floor_and_slope_and_per_item_rules_render_and_diff():
    from jixiao.core.pack.model import PerItem, Ratio, Slope, Text
    base = methods_pack()
    ratio = next(leaf for leaf in base.leaves() if leaf.id == "all.x.ratio").scoring
    floored = Ratio(ratio.actual, ratio.target, ratio.reason, floor=Decimal("0.6"),
                    slope=Slope(Decimal("0.01"), Decimal("0.1")))
    assert render_scoring(floored) == "ratio: budget.spent / budget.approved, 0 below 0.6, -0.1 per 0.01 below 1"
    per_item = PerItem(FactRef("records.bad"), Decimal("0.5"), Text("每份扣0.5分"), cap=Decimal("2"))
    assert render_scoring(per_item) == "per_item: -0.5 per records.bad, at most 2"
    diff = diff_packs(base, _leaf(base, "all.x.ratio", scoring=floored))
    assert rows(diff) == [("rule_changed", "all.x.ratio", "ratio", "budget.spent / budget.approved",
                           "budget.spent / budget.approved, 0 below 0.6, -0.1 per 0.01 below 1")]


def test_not_applicable_rules_and_the_treatment_are_changes():
    from jixiao.core.pack.model import NotApplicable, Text
    base = methods_pack()
    rule = NotApplicable(when=Compare(FactRef("done"), "eq", False), reason=Text("本年度未开展"))
    new = _with(_leaf(base, "all.x.done", not_applicable=rule), not_applicable_treatment="rescale")
    assert rows(diff_packs(base, new)) == [
        ("not_applicable_changed", "", "treatment", "(none)", "rescale"),
        ("not_applicable_changed", "all.x.done", "not applicable", None, "when done = false (本年度未开展)"),
    ]
    flagged = _leaf(base, "all.x.done", not_applicable=NotApplicable(flag=FactRef("na.done"),
                                                                     reason_fact=FactRef("na.reason")))
    assert rows(diff_packs(base, flagged))[0][4] == "when the evaluator sets na.done, reason na.reason"


def test_derived_values_constraints_and_overrides_are_listed_by_name_after_the_facts():
    from jixiao.core.pack.model import Apply, Constraint, Derived, Override, Text
    base = methods_pack()
    overrun = Derived("cost.overrun", Text("成本超支率"),
                      Apply("div", (Apply("sub", (FactRef("cost.actual"), FactRef("cost.budget"))),
                                    FactRef("cost.budget"))), format="percent", places=4)
    within = Constraint("within", Compare(FactRef("a"), "le", FactRef("b")), Text("a 不能多于 b"))
    veto = Override("veto", Compare(FactRef("done"), "eq", False), "grade", Text("一票否决"), grade="差")
    zero = Override("output_failed", Compare(FactRef("@rate:output"), "lt", Decimal(60)), "zero",
                    Text("产出不合格"), node="effect")
    new = _with(base, derived=(overrun,), constraints=(within,), overrides=(veto, zero))
    assert rows(diff_packs(base, new)) == [
        ("derived_added", "cost.overrun", "derived value", None,
         "成本超支率 · (cost.actual - cost.budget) / cost.budget · percent, 4 places"),
        ("constraint_added", "within", "constraint", None, "require a <= b · a 不能多于 b"),
        ("override_added", "veto", "override", None, "grade 差 if done = false · 一票否决"),
        ("override_added", "output_failed", "override", None, "zero effect if rate(output) < 60 · 产出不合格"),
    ]
    capped = Override("veto", veto.when, "cap", veto.reason, node="total", cap=Decimal("59.99"))
    assert rows(diff_packs(new, _with(new, overrides=(capped,)))) == [
        ("override_changed", "veto", "override", "grade 差 if done = false · 一票否决",
         "cap total at 59.99 if done = false · 一票否决"),
        ("override_removed", "output_failed", "override", "zero effect if rate(output) < 60 · 产出不合格", None),
    ]
    assert diff_packs(new, new).is_empty
