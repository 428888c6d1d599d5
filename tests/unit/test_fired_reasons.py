"""`{fired_reasons}` in a finding's text: the reasons of the rules that gave it this time.

A check's reason as its deduction says it, a band's reason (also one deducting nothing; the
engine's words when it has none), a leaf's deduction reasons, an override's rationale; in
tree order, each once, joined ；(or "; " in English). Known in a finding's text only.
The first examples are those rules/README.md shows.
"""

from __future__ import annotations

import pytest

from jixiao.core.errors import PackError
from jixiao.core.evaluation.evaluator import evaluate

from .findings_pack import compiled_findings_pack, edited, findings_pack
from .test_findings import facts

RECORDS_TEXT = ('text: {zh: "项目管理不到位，{project.name}相关记录缺失", en: "Management records of {project.name} are missing"}',
                'text: {zh: "项目管理不到位：{fired_reasons}。", en: "Management falls short: {fired_reasons}."}')


def texts(compiled, request, language: str = "zh") -> list[str]:
    return [f.text for f in evaluate(compiled, request, language).findings]


@pytest.fixture(scope="module")
def compiled():
    return compiled_findings_pack(edited(RECORDS_TEXT))


def test_a_grouped_finding_says_which_of_its_rules_fired(compiled) -> None:
    # a check's reason, then a band's (it gives none of its own: the value and its band)
    assert texts(compiled, facts(records__b=False, applicants=3)) == ["项目管理不到位：记录乙未见；申报数为3，低于5。"]
    assert texts(compiled, facts(records__b=False)) == ["项目管理不到位：记录乙未见。"]
    assert texts(compiled, facts(records__b=False, applicants=3), "en") == [
        "Management falls short: 记录乙未见; 申报数 is 3, below 5."]


def test_the_reasons_follow_the_tree_and_a_not_applicable_leaf_gives_none(compiled) -> None:
    everything = facts(records__a=False, records__b=False, applicants=3)
    assert texts(compiled, everything) == ["项目管理不到位：记录甲未见；记录乙未见；申报数为3，低于5；满意度低。"]
    everything["survey"] = {"na": True, "na_reason": "未开展问卷"}
    assert texts(compiled, everything) == ["项目管理不到位：记录甲未见；记录乙未见；申报数为3，低于5。"]


def test_the_same_rules_firing_with_other_reasons_say_those(compiled) -> None:
    # the same sources fire and the finding's own facts are the same: only the reason differs
    assert texts(compiled, facts(applicants=3)) == ["项目管理不到位：申报数为3，低于5。"]
    assert texts(compiled, facts(applicants=4)) == ["项目管理不到位：申报数为4，低于5。"]
    assert texts(compiled, facts(applicants=3)) == ["项目管理不到位：申报数为3，低于5。"]


def test_a_band_deducting_nothing_says_its_reason_or_its_value_and_band() -> None:
    plain = compiled_findings_pack(edited(RECORDS_TEXT, ("- {min: 10, deduct: 0}",
                                                         "- {min: 10, deduct: 0, finding: records_missing}")))
    assert texts(plain, facts(applicants=12)) == ["项目管理不到位：申报数为12，落在10及以上一档。"]
    reasoned = compiled_findings_pack(edited(RECORDS_TEXT, (
        "- {min: 10, deduct: 0}", '- {min: 10, deduct: 0, reason: "申报充分（{value}家，满分{weight}分）", '
                                  'finding: records_missing}')))
    assert texts(reasoned, facts(applicants=12)) == ["项目管理不到位：申报充分（12家，满分3分）。"]
    assert evaluate(reasoned, facts(applicants=12)).node("process.applicants").deductions == ()


def test_a_leaf_says_its_deduction_reasons_and_an_override_its_rationale() -> None:
    compiled = compiled_findings_pack(edited(
        ('text: {zh: "预算执行率偏低，执行{budget.spent|money}元", en: "Slow spending: {budget.spent|money} spent"}',
         'text: {zh: "预算执行率偏低（{fired_reasons}）", en: "Slow spending ({fired_reasons})"}'),
        ("    text: 存在挪用资金情况", '    text: "存在挪用资金情况：{fired_reasons}"'),
        ("reason: 存在挪用\n", 'reason: "存在挪用，{project.name}过程得分由{before}分调整为{after}分"\n')))
    assert texts(compiled, facts(budget__spent="50")) == ["预算执行率偏低（预算执行率50%）"]
    assert texts(compiled, facts(misused=True)) == ["存在挪用资金情况：存在挪用，质量强区过程得分由10分调整为0分"]


def test_a_reason_two_sources_say_is_said_once() -> None:
    # the leaf itself and its check name the finding: the check's reason is the leaf's too
    compiled = compiled_findings_pack(edited(RECORDS_TEXT, (
        "        name: 制度执行\n", "        name: 制度执行\n        finding: records_missing\n")))
    finding = evaluate(compiled, facts(records__b=False)).findings[0]
    assert finding.rule_ids == ("process.records#b", "process.records")
    assert finding.text == "项目管理不到位：记录乙未见。"


def test_recommendations_and_other_findings_are_unchanged(compiled) -> None:
    evaluation = evaluate(compiled, facts(records__b=False, budget__spent="50"))
    assert [f.text for f in evaluation.findings] == ["项目管理不到位：记录乙未见。", "预算执行率偏低，执行50.00元"]
    assert [r.text for r in evaluation.recommendations] == ["加强项目管理", "加快预算执行"]


# --- where it may be said ---------------------------------------------------------------


def problems(*replacements: tuple[str, str]) -> list[str]:
    with pytest.raises(PackError) as info:
        findings_pack(edited(*replacements))
    found = list(info.value.problems)
    assert all(p.line is not None for p in found)
    return [p.message for p in found]


def test_a_recommendation_cannot_say_fired_reasons() -> None:
    found = problems(("recommendation: {zh: 加快预算执行, en: Spend on time}",
                      'recommendation: {zh: "加快预算执行：{fired_reasons}", en: Spend on time}'))
    assert len(found) == 1 and "finding 'spending_slow': {fired_reasons} says why a finding was given" in found[0]
    assert "known in a finding's text only; a recommendation cannot use it" in found[0]


def test_fired_reasons_is_a_text_and_takes_no_format() -> None:
    found = problems(RECORDS_TEXT, ("{fired_reasons}。", "{fired_reasons|money}。"))
    assert len(found) == 1 and "{fired_reasons} is a text" in found[0] and "cannot be formatted as money" in found[0]


@pytest.mark.parametrize("old, new, reader", [
    ("reason: 记录甲未见,", 'reason: "记录甲未见{fired_reasons}",', "a leaf (its own reasons are {findings})"),
    ("reason: 存在挪用\n", 'reason: "存在挪用{fired_reasons}"\n', "this text"),
])
def test_no_other_template_knows_fired_reasons(old, new, reader) -> None:
    found = problems((old, new))
    assert len(found) == 1, found
    assert f"known in a finding's text only; {reader} cannot use it" in found[0]
