"""The report's outline, built from hand-made packs and evaluations: 基本情况 from the facts,
the chapters and their numbering, the tables, N/A leaves and overrides, findings, grade bands."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from jixiao.core.evaluation.results import Finding, OverrideResult
from jixiao.core.pack.model import FactSpec, FactType, FindingRule, Observations, SurveyOption, Text
from jixiao.report.numbering import chinese_numeral
from jixiao.report.outline import (WIDE_TABLE_MAX, Chart, NumberedList, Paragraph, Table, build_outline,
                                   clean, project_facts)
from jixiao.report.phrases import phrases

from .synthetic import decimal_fact, evaluate_by_hand, make_pack, text_fact

PROJECT_FACTS = (text_fact("project.name"), text_fact("project.unit"), decimal_fact("budget.approved"),
                 decimal_fact("budget.spent"))


def texts(outline, kind: str) -> list[str]:
    return [b.text for b in outline.blocks if b.kind == kind]


def table(outline, role: str, index: int = 0) -> Table:
    return [b for b in outline.blocks if b.kind == "table" and b.role == role][index]


@pytest.mark.parametrize("n, text", [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五"),
                                     (99, "九十九"), (100, "100")])
def test_chinese_numerals(n, text):
    assert chinese_numeral(n) == text


def test_project_facts_by_the_packs_report_mapping():
    pack = make_pack(facts=(text_fact("p.title"), decimal_fact("money.plan"), decimal_fact("money.used")),
                     report_project=(("name", "p.title"), ("budget", "money.plan"), ("spent", "money.used")))
    shown = project_facts(pack, {"p": {"title": " 某项目 "}, "money": {"plan": "500000", "used": 398761}},
                          phrases("zh"))
    assert shown == {"name": "某项目", "budget": "500,000.00元", "spent": "398,761.00元", "execution": "79.75%"}


def test_project_facts_by_conventional_names_flat_or_nested_and_blank_skipped():
    pack = make_pack(facts=PROJECT_FACTS)
    shown = project_facts(pack, {"project.name": "甲", "project": {"unit": "  "}, "budget": {"approved": "0"}},
                          phrases("en"))
    assert shown == {"name": "甲", "budget": "0.00 yuan"}  # no unit (blank), no rate (no spend, zero budget)


def test_a_choice_fact_shows_its_label_and_a_text_too_large_for_money_shows_as_given():
    unit = FactSpec("org.unit", FactType.CHOICE, Text("单位"),
                    options=(SurveyOption("bureau", Text("区市场监督管理局", "District market bureau")),))
    pack = make_pack(facts=(unit, text_fact("money.plan")), report_project=(("unit", "org.unit"), ("budget", "money.plan")))
    facts = {"org": {"unit": "bureau"}, "money": {"plan": "1e999999"}}
    assert project_facts(pack, facts, phrases("zh")) == {"unit": "区市场监督管理局", "budget": "1e999999"}
    assert project_facts(pack, facts, phrases("en"))["unit"] == "District market bureau"


def test_conventional_names_the_pack_does_not_declare_are_not_read():
    shown = project_facts(make_pack(), {"project": {"name": "甲"}}, phrases("zh"))
    assert shown == {}


def test_no_project_facts_says_so():
    outline = build_outline(make_pack(), evaluate_by_hand(make_pack()), {})
    assert outline.blocks[1] == Paragraph("评价请求未提供项目基本情况。")
    assert outline.title == "合成指标体系绩效评价报告"


def test_chapters_sections_and_items_are_numbered():
    pack = make_pack(facts=PROJECT_FACTS)
    outline = build_outline(pack, evaluate_by_hand(pack), {"project": {"name": "甲项目"}})
    chapters = [b.text for b in outline.blocks if b.kind == "heading" and b.level == 1]
    assert chapters == ["一、基本情况", "二、综合评价情况及评价结论", "三、绩效评价指标分析", "四、存在的问题",
                        "五、有关建议", "附件1 级别评定对照表", "附件2 指标评分表"]
    sections = [b.text for b in outline.blocks if b.kind == "heading" and b.level == 2]
    assert sections == ["（一）评分结果", "（二）主要结论", "（一）项目维度1情况", "（二）项目维度2情况",
                        "（三）项目维度3情况", "（四）项目维度4情况"]
    items = [b.text for b in outline.blocks if b.kind == "heading" and b.level == 3]
    assert items[:7] == [f"{n}、指标1.{(n - 1) // 3 + 1}.{(n - 1) % 3 + 1}（1分）" for n in range(1, 7)] + ["1、指标2.1.1（1分）"]
    assert outline.title == "甲项目绩效评价报告"


def test_score_table_and_chart_follow_the_evaluation():
    pack = make_pack()
    evaluation = evaluate_by_hand(pack, {"d2.g1.l1": Decimal("0.5"), "d2.g1.l2": Decimal(0)})
    outline = build_outline(pack, evaluation, {})
    scores = table(outline, "scores")
    assert [c.text for c in scores.header[0]] == ["项目", "维度1", "维度2", "维度3", "维度4", "合计"]
    assert scores.rows == (("标准分值", "6", "6", "6", "6", "24"),
                           ("实际得分", "5.5", "4.25", "5.5", "5.5", "20.75"))
    [chart] = outline.of_kind("chart")
    assert chart == Chart(labels=("维度1", "维度2", "维度3", "维度4"),
                          rates=(Decimal("91.67"), Decimal("70.83"), Decimal("91.67"), Decimal("91.67")),
                          thresholds=((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中")),
                          caption="一级指标得分率", axis="得分率（%）")
    assert "维度2指标满分为6分，根据评分细则，维度2评价得分为4.25分，评价结果为中。" in texts(outline, "paragraph")
    assert ("综上，项目绩效评价综合得分为20.75分，评价等级为良：维度1、维度3、维度4评价结果为优，维度2评价结果为中。"
            "本评价指标体系未设定存在问题的认定规则，问题及建议由评价人员补充。") in texts(outline, "paragraph")


def test_a_dimension_up_to_eight_leaves_gets_the_reports_wide_table():
    pack = make_pack(dimensions=1, groups=2, leaves=4)
    leaves = table(build_outline(pack, evaluate_by_hand(pack), {}), "leaves")
    assert [(c.text, c.span) for c in leaves.header[0]] == [("项目", 1), ("二级1.1", 4), ("二级1.2", 4)]
    assert [c.text for c in leaves.header[1]][1:3] == ["指标1.1.1", "指标1.1.2"]
    assert leaves.rows[0] == ("标准分值",) + ("1",) * 8
    assert leaves.rows[1][1:3] == ("0.75", "1")


def test_a_larger_dimension_gets_a_tall_table():
    pack = make_pack(dimensions=1, groups=3, leaves=3)
    assert 9 > WIDE_TABLE_MAX
    leaves = table(build_outline(pack, evaluate_by_hand(pack), {}), "leaves")
    assert [(c.text, c.span) for c in leaves.header[0]] == [("项目", 2), ("标准分值", 1), ("实际得分", 1)]
    assert leaves.rows[0] == ("二级1.1", "指标1.1.1", "1", "0.75") and len(leaves.rows) == 9


def test_names_with_long_words_get_a_tall_table_where_a_narrow_column_would_break_them():
    pack = make_pack(dimensions=1, groups=1, leaves=2)
    short = table(build_outline(pack, evaluate_by_hand(pack, language="en"), {}), "leaves")
    assert [c.text for c in short.header[-1]] == ["", "Indicator 1.1.1", "Indicator 1.1.2"]  # "Indicator": 9 letters
    evaluation = evaluate_by_hand(pack, language="en")
    leaf = evaluation.indicators[0].children[0].children[0]._replace(name="Reasonableness of targets")
    group = evaluation.indicators[0].children[0]._replace(children=(leaf,) + evaluation.indicators[0].children[0].children[1:])
    evaluation = replace(evaluation, indicators=(evaluation.indicators[0]._replace(children=(group,)),))
    tall = table(build_outline(pack, evaluation, {}), "leaves")
    assert [c.text for c in tall.header[0]] == ["Item", "Weight", "Score"] and tall.columns == 4


def test_descriptions_shown_when_given_and_omitted_when_none():
    pack = make_pack(dimensions=1, groups=1, leaves=2)
    paragraphs = texts(build_outline(pack, evaluate_by_hand(pack), {}), "paragraph")
    assert "说明1.1.1" in paragraphs and "维度1的说明" in paragraphs
    bare = make_pack(dimensions=1, groups=1, leaves=2, with_descriptions=False)
    paragraphs = texts(build_outline(bare, evaluate_by_hand(bare), {}), "paragraph")
    assert not [p for p in paragraphs if p.startswith("说明")]


def test_not_applicable_leaves_and_overrides_are_stated():
    pack = make_pack(dimensions=2, groups=1, leaves=2)
    override = OverrideResult("override#veto", "zero", "d1.g1.l2", "1", "0", "发现挪用资金，实行一票否决")
    evaluation = evaluate_by_hand(pack, not_applicable={"d2.g1.l1": "项目无生态效益"}, overrides=(override,))
    outline = build_outline(pack, evaluation, {})
    paragraphs = texts(outline, "paragraph")
    assert "该指标不适用：项目无生态效益" in paragraphs
    assert "该指标得分经以下规则调整：发现挪用资金，实行一票否决。" in paragraphs
    assert "部分指标不适用，不计分；总分按适用指标分值之和（3分）折算为4分制。" in paragraphs
    sections = [b.text for b in outline.blocks if b.kind == "heading" and b.level == 2]
    assert sections[:3] == ["（一）评分结果", "（二）一票否决及得分调整", "（三）主要结论"]
    overrides = [b for b in outline.blocks if b.kind == "numbered" and b.role == "overrides"]
    assert overrides == [NumberedList("overrides", ("发现挪用资金，实行一票否决",), ("1、",))]
    annex = table(outline, "annex")
    assert ("3级", "指标2.1.1（不适用）", "0", "0", "", "项目无生态效益") in annex.rows


def test_a_not_applicable_leaf_whose_rationale_says_so_is_not_said_twice():
    pack = make_pack(dimensions=1, groups=1, leaves=2)
    evaluation = evaluate_by_hand(pack, not_applicable={"d1.g1.l1": "无此目标"}, not_applicable_rationale=True)
    outline = build_outline(pack, evaluation, {})
    paragraphs = texts(outline, "paragraph")
    assert "该指标不适用（无此目标），权重按得分率折算。" in paragraphs
    assert [p for p in paragraphs if p.startswith("该指标不适用：") or p.startswith("该指标按")] == []
    assert ("3级", "指标1.1.1（不适用）", "0", "0", "", "该指标不适用（无此目标），权重按得分率折算。") in table(outline, "annex").rows


def test_a_leaf_scored_on_another_weight_says_so():
    pack = make_pack(dimensions=1, groups=1, leaves=2)
    evaluation = evaluate_by_hand(pack)
    leaf = evaluation.indicators[0].children[0].children[1]
    moved = leaf._replace(effective_weight=Decimal("1.5"))
    group = evaluation.indicators[0].children[0]._replace(children=(evaluation.indicators[0].children[0].children[0], moved))
    dim = evaluation.indicators[0]._replace(children=(group,))
    outline = build_outline(pack, replace(evaluation, indicators=(dim,)), {})
    assert "该指标按1.5分计分。" in texts(outline, "paragraph")


WITH_RULES = (FindingRule("f", Text("问题。", "A problem."), Text("建议。", "A recommendation.")),)


def section_texts(outline, chapter: str) -> list[str]:
    """The texts of the paragraphs and lists of the chapter whose heading ends with `chapter`."""
    start = next(i for i, b in enumerate(outline.blocks) if b.kind == "heading" and b.level == 1
                 and b.text.endswith(chapter))
    out = []
    for block in outline.blocks[start + 1:]:
        if block.kind == "heading" and block.level == 1:
            break
        out.extend([block.text] if block.kind == "paragraph" else list(getattr(block, "items", ())))
    return out


def conclusion(outline) -> str:
    [text] = [t for t in texts(outline, "paragraph") if t.startswith(("综上", "In sum"))]
    return text


def test_findings_and_recommendations_numbered_when_given():
    pack = replace(make_pack(dimensions=1, groups=1, leaves=1), findings=WITH_RULES)
    findings = (Finding("a", "问题甲。", "d1"), Finding("f[0]", "  ", "", observation=True),
                Finding("f[1]", "问题乙。", "", observation=True))
    outline = build_outline(pack, evaluate_by_hand(pack, findings=findings, recommendations=findings[:1]), {})
    lists = {b.role: b for b in outline.blocks if b.kind == "numbered"}
    assert lists["findings"] == NumberedList("findings", ("问题甲。", "问题乙。"), ("1、", "2、"))
    assert lists["recommendations"].items == ("问题甲。",)
    assert conclusion(outline).endswith("评价结果为中。存在的问题及有关建议见下文。")


@pytest.mark.parametrize("rules", [
    {"findings": WITH_RULES},
    {"observations": Observations("evaluation.problems", "evaluation.advice")},
])
def test_a_pack_that_looks_for_problems_and_found_none_says_none_found(rules):
    pack = replace(make_pack(dimensions=1, groups=1, leaves=1), **rules)
    outline = build_outline(pack, evaluate_by_hand(pack), {})
    assert section_texts(outline, "存在的问题") == ["本次评价未发现需要说明的问题。"]
    assert section_texts(outline, "有关建议") == ["本次评价未提出建议。"]
    assert conclusion(outline).endswith("评价结果为中。本次评价未发现需要说明的问题。")
    english = build_outline(pack, evaluate_by_hand(pack, language="en"), {})
    assert section_texts(english, "Problems found") == ["The evaluation found no problem to report."]
    assert section_texts(english, "Recommendations") == ["The evaluation makes no recommendation."]
    assert conclusion(english).endswith("graded fair. The evaluation found no problem to report.")


def test_a_pack_without_rules_for_problems_does_not_claim_it_found_none():
    """Nothing looked for problems: the report says the indicator system defines no rules for
    them (the evaluators add them), and its conclusion promises nothing below."""
    pack = make_pack(dimensions=2, groups=1, leaves=2)
    assert pack.findings == () and pack.observations == Observations()
    outline = build_outline(pack, evaluate_by_hand(pack), {})
    assert section_texts(outline, "存在的问题") == [
        "本评价指标体系未设定存在问题的认定规则，本部分不列示问题，由评价人员根据评价情况补充。"]
    assert section_texts(outline, "有关建议") == [
        "本评价指标体系未设定有关建议的提出规则，本部分不列示建议，由评价人员根据评价情况补充。"]
    assert conclusion(outline).endswith("。本评价指标体系未设定存在问题的认定规则，问题及建议由评价人员补充。")
    assert not [t for t in texts(outline, "paragraph") if "未发现" in t or "未提出" in t or "见下文" in t]
    english = build_outline(pack, evaluate_by_hand(pack, language="en"), {})
    assert section_texts(english, "Problems found") == [
        "The indicator system defines no rules for problems, so this section lists none; "
        "the evaluators add the problems they find."]
    assert section_texts(english, "Recommendations") == [
        "The indicator system defines no rules for recommendations, so this section lists none; "
        "the evaluators add their recommendations."]
    assert conclusion(english).endswith(
        ". The indicator system defines no rules for problems; the evaluators add any problems and recommendations.")
    assert not [t for t in texts(english, "paragraph") if "found no" in t or "makes no" in t or " follow." in t]


def test_findings_without_recommendation_rules_say_so_in_the_recommendations_only():
    pack = replace(make_pack(dimensions=1, groups=1, leaves=1),
                   findings=(FindingRule("f", Text("问题。", "A problem.")),))
    outline = build_outline(pack, evaluate_by_hand(pack, findings=(Finding("f", "问题。", "d1"),)), {})
    assert section_texts(outline, "存在的问题") == ["问题。"]
    assert section_texts(outline, "有关建议") == [
        "本评价指标体系未设定有关建议的提出规则，本部分不列示建议，由评价人员根据评价情况补充。"]
    assert conclusion(outline).endswith("评价结果为中。存在的问题见下文。")


def test_recommendations_alone_are_promised_alone():
    pack = replace(make_pack(dimensions=1, groups=1, leaves=1), observations=Observations(recommendations="e.advice"))
    advice = (Finding("e.advice[0]", "建议甲。", "", observation=True),)
    english = build_outline(pack, evaluate_by_hand(pack, language="en", recommendations=advice), {})
    assert section_texts(english, "Problems found") == [
        "The indicator system defines no rules for problems, so this section lists none; "
        "the evaluators add the problems they find."]
    assert section_texts(english, "Recommendations") == ["建议甲。"]
    assert conclusion(english).endswith("graded fair. The recommendations follow.")


@pytest.mark.parametrize("total, scores, rates", [
    (Decimal(100), ("[100,90]", "(90,80]", "(80,60]", "(60,0]"), ("[100%,90%]", "(90%,80%]", "(80%,60%]", "(60%,0%]")),
    (Decimal(50), ("[50,45]", "(45,40]", "(40,30]", "(30,0]"), ("[100%,90%]", "(90%,80%]", "(80%,60%]", "(60%,0%]")),
])
def test_grade_bands_as_the_report_writes_them(total, scores, rates):
    pack = make_pack(total=total)
    outline = build_outline(pack, evaluate_by_hand(pack), {})
    assert table(outline, "grades").rows == (("得分区间",) + scores,)
    assert table(outline, "rates").rows == (("得分率区间",) + rates,)
    assert [c.text for c in table(outline, "grades").header[0]] == ["评价等级", "优", "良", "中", "差"]


def test_annex_lists_every_node_with_deductions():
    pack = make_pack(dimensions=1, groups=1, leaves=1)
    annex = table(build_outline(pack, evaluate_by_hand(pack), {}), "annex")
    assert [c.text for c in annex.header[0]] == ["层级", "指标", "标准分值", "实际得分", "扣分明细", "评分说明"]
    assert annex.rows == (("1级", "维度1", "1", "0.75", "扣0.25分", ""), ("2级", "二级1.1", "1", "0.75", "扣0.25分", ""),
                          ("3级", "指标1.1.1", "1", "0.75", "扣0.25分：扣分原因d1.g1.l1",
                           "d1.g1.l1的评分依据。根据评分细则，得0.75分。"))


def test_english_outline():
    pack = make_pack(dimensions=1, groups=1, leaves=1)
    outline = build_outline(pack, evaluate_by_hand(pack, language="en"), {})
    assert outline.title == "Performance evaluation report: Synthetic system"
    assert texts(outline, "heading")[:3] == ["1. Basic information", "2. Overall evaluation and conclusion", "2.1 Scores"]
    assert "1. Indicator 1.1.1 (1 point)" in texts(outline, "heading")
    assert table(outline, "grades").header[0][1].text == "excellent"


def test_a_count_of_one_point_is_singular_in_english():
    pack = make_pack(dimensions=2, groups=1, leaves=1)  # dimensions, leaves and total of 1 or 2 points
    paragraphs = texts(build_outline(pack, evaluate_by_hand(pack, language="en"), {}), "paragraph")
    assert "Dimension 1: 0.75 of 1 point under the scoring rules, grade fair." in paragraphs
    assert "Out of 2 points, the grades are:" in paragraphs
    wider = make_pack(dimensions=1, groups=1, leaves=2)
    outline = build_outline(wider, evaluate_by_hand(wider, language="en"), {})
    assert "Dimension 1: 1.75 of 2 points under the scoring rules, grade good." in texts(outline, "paragraph")
    assert "2. Indicator 1.1.2 (1 point)" in texts(outline, "heading")
    assert not [t for t in texts(outline, "paragraph") + texts(outline, "heading") if re.search(r"\b1 points\b", t)]


def test_a_leaf_scored_on_one_point_says_point():
    pack = make_pack(dimensions=1, groups=1, leaves=2)
    for language, weight, text in (("en", "1", "Scored on 1 point."), ("en", "1.5", "Scored on 1.5 points."),
                                   ("zh", "1", "该指标按1分计分。")):
        evaluation = evaluate_by_hand(pack, language=language)
        group = evaluation.indicators[0].children[0]
        moved = group.children[1]._replace(weight=Decimal(2), effective_weight=Decimal(weight))
        dim = evaluation.indicators[0]._replace(children=(group._replace(children=(group.children[0], moved)),))
        assert text in texts(build_outline(pack, replace(evaluation, indicators=(dim,)), {}), "paragraph")


def test_unprintable_characters_are_dropped_everywhere():
    pack = make_pack(dimensions=1, groups=1, leaves=1, facts=PROJECT_FACTS)
    outline = build_outline(pack, evaluate_by_hand(pack, rationale="\x00\x1b[31m\ud800"),
                            {"project": {"name": "甲\x07乙\r\n丙\t丁"}})
    assert outline.title == "甲乙\n丙 丁绩效评价报告"
    assert "d1.g1.l1的评分依据[31m。根据评分细则，得0.75分。" in texts(outline, "paragraph")
    assert clean("a\x7fb\x85c\ufffe") == "abc"


def test_a_callers_text_cannot_reorder_itself_in_the_report():
    # Bidirectional overrides, embeddings and isolates are dropped; joiners that scripts and
    # emoji need (U+200C, U+200D) stay.
    assert clean("项目\u202e甲乙\u202c\u2066丙\u2069\u202a丁\u202b") == "项目甲乙丙丁"
    assert clean("a\u200db\u200cc") == "a\u200db\u200cc"
