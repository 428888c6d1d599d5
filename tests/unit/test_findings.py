"""Findings (存在的问题) and recommendations (有关建议) of an evaluation: which rules give them,
their order, merging, not-applicable leaves, overrides and the evaluator's observations; in
golden cases, on the wire and in `jixiao score`."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rich.console import Console

from jixiao.api import convert
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.results import Finding
from jixiao.core.pack.cases import load_case, run_case
from jixiao.engine.durable import durable_matcher
from jixiao.packs import case_schema

from .findings_pack import CLEAN, FINDINGS_PACK, compiled_findings_pack, edited
from .packs import compiled_methods


@pytest.fixture(scope="module")
def compiled():
    return compiled_findings_pack()


def facts(**changes) -> dict:
    out = copy.deepcopy(CLEAN)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


#: Every rule of the pack fires.
EVERYTHING = facts(records__a=False, records__b=False, applicants=3, budget__spent="50", misused=True,
                   targets__set=False)


def test_a_project_that_loses_no_point_has_no_findings(compiled) -> None:
    evaluation = evaluate(compiled, CLEAN)
    assert evaluation.findings == () and evaluation.recommendations == ()


def test_a_pack_without_findings_prepares_nothing_for_them() -> None:
    assert compiled_methods("plain").findings is None
    assert compiled_findings_pack().findings is not None


def test_findings_follow_the_dimensions_then_the_packs_order_with_their_firing_rules(compiled) -> None:
    evaluation = evaluate(compiled, EVERYTHING)
    assert [(f.id, f.dimension) for f in evaluation.findings] == [
        ("targets_missing", "decision"), ("records_missing", "process"), ("spending_slow", "process"),
        ("misused", "process")]
    records = evaluation.findings[1]
    assert records == Finding("records_missing", "项目管理不到位，质量强区相关记录缺失", "process",
                              ("process.records#a", "process.records#b", "process.applicants", "effect.survey#low"),
                              ("process.records", "process.applicants", "effect.survey"))
    assert evaluation.findings[0].rule_ids == ("decision.targets",)  # a leaf that lost points
    assert evaluation.findings[3].rule_ids == ("override#misuse",) and evaluation.findings[3].node_ids == ("process",)


def test_each_finding_comes_from_the_rules_that_fired_only(compiled) -> None:
    evaluation = evaluate(compiled, facts(records__b=False))
    assert [(f.id, f.rule_ids) for f in evaluation.findings] == [("records_missing", ("process.records#b",))]
    evaluation = evaluate(compiled, facts(applicants=7))  # the middle band
    assert [(f.id, f.rule_ids) for f in evaluation.findings] == [("records_missing", ("process.applicants",))]
    evaluation = evaluate(compiled, facts(applicants=10))  # the top band names no finding
    assert evaluation.findings == ()


def test_a_band_that_deducts_nothing_still_gives_its_finding() -> None:
    compiled = compiled_findings_pack(edited(("- {min: 10, deduct: 0}", "- {min: 10, deduct: 0, finding: spending_slow}")))
    evaluation = evaluate(compiled, facts(applicants=12))
    assert evaluation.score == 20  # nothing deducted
    assert [(f.id, f.rule_ids) for f in evaluation.findings] == [("spending_slow", ("process.applicants",))]
    assert evaluation.node("process.applicants").rationale == evaluate(compiled_findings_pack(),
                                                                       facts(applicants=12)).node(
        "process.applicants").rationale  # and its rationale is unchanged


def test_a_leaf_found_not_applicable_gives_no_finding(compiled) -> None:
    evaluation = evaluate(compiled, facts(records__a=False, survey__na=True, survey__na_reason="未开展问卷"))
    assert evaluation.node("effect.survey").not_applicable
    assert evaluation.findings[0].rule_ids == ("process.records#a",)  # effect.survey#low fired, but N/A


def test_a_leaf_finding_is_about_its_own_scoring_not_an_override(compiled) -> None:
    evaluation = evaluate(compiled, facts(misused=True))
    assert evaluation.node("process.execution").score == 0  # zeroed by the override
    assert [f.id for f in evaluation.findings] == ["misused"]  # the leaf itself lost nothing


def test_recommendations_follow_the_findings_and_equal_texts_merge(compiled) -> None:
    evaluation = evaluate(compiled, EVERYTHING)
    assert [(r.id, r.text) for r in evaluation.recommendations] == [
        ("targets_missing", "加强项目管理"), ("spending_slow", "加快预算执行")]  # misused recommends nothing
    merged = evaluation.recommendations[0]
    assert merged.rule_ids == ("decision.targets", "process.records#a", "process.records#b", "process.applicants",
                               "effect.survey#low")
    assert merged.node_ids == ("decision.targets", "process.records", "process.applicants", "effect.survey")


def test_observations_come_last_in_order_with_exact_duplicates_merged(compiled) -> None:
    evaluation = evaluate(compiled, facts(records__a=False, evaluation={
        "problems": ["奖金过少", "宣传不足", "奖金过少", " 培训少 "], "advice": ["多宣传", "加强项目管理"]}))
    assert [(f.id, f.text, f.observation, f.dimension) for f in evaluation.findings] == [
        ("records_missing", "项目管理不到位，质量强区相关记录缺失", False, "process"),
        ("evaluation.problems[0]", "奖金过少", True, ""),
        ("evaluation.problems[1]", "宣传不足", True, ""),
        ("evaluation.problems[3]", "培训少", True, "")]
    # the evaluator's "加强项目管理" is already recommended by a rule: said once
    assert [(r.id, r.text, r.observation) for r in evaluation.recommendations] == [
        ("records_missing", "加强项目管理", False), ("evaluation.advice[0]", "多宣传", True)]


def test_texts_are_in_the_evaluations_language_chinese_when_the_pack_gives_no_english(compiled) -> None:
    evaluation = evaluate(compiled, EVERYTHING, "en")
    assert [f.text for f in evaluation.findings] == [
        "No performance targets", "Management records of 质量强区 are missing", "Slow spending: 50.00 spent",
        "存在挪用资金情况"]
    assert [r.text for r in evaluation.recommendations] == ["Strengthen project management", "Spend on time"]


def test_the_rule_engine_gives_the_findings_the_reference_gives() -> None:
    engine = compiled_findings_pack(matcher=durable_matcher)
    try:
        for request in (CLEAN, EVERYTHING, facts(applicants=7, survey__na=True, survey__na_reason="无")):
            assert evaluate(engine, request).findings == evaluate(compiled_findings_pack(), request).findings
    finally:
        engine.close()


def test_the_same_request_twice_gives_the_same_findings(compiled) -> None:
    assert evaluate(compiled, EVERYTHING) == evaluate(compiled, EVERYTHING)  # the second from the leaf memos


# --- golden cases ---------------------------------------------------------------------


CASE = """\
name: 各类问题
facts:
  project: {name: 质量强区}
  budget: {approved: "100", spent: "50"}
  targets: {set: false}
  records: {a: false, b: true}
  applicants: 12
  evaluation:
    problems: [奖金过少]
expected:
  score: "10.5"
  grade: 差
  findings:
    - 未设定绩效目标
    - 项目管理不到位，质量强区相关记录缺失
    - 预算执行率偏低，执行50.00元
    - 奖金过少
  recommendations:
    - 加强项目管理
    - 加快预算执行
"""


def test_a_case_expecting_the_findings_word_for_word_passes(compiled) -> None:
    case = load_case(CASE, "cases/a.yaml", case_schema())
    assert run_case(compiled, case).mismatches == ()


def test_a_case_mismatch_names_the_first_differing_item_and_its_line(compiled) -> None:
    case = load_case(CASE.replace("    - 加快预算执行\n", "    - 加快执行\n"), "cases/a.yaml", case_schema())
    [mismatch] = run_case(compiled, case).mismatches
    assert (mismatch.field, mismatch.expected, mismatch.actual, mismatch.line) == (
        "recommendation 2", "加快执行", "加快预算执行", 20)


def test_a_missing_or_extra_item_is_named_as_such(compiled) -> None:
    case = load_case(CASE.replace("    - 奖金过少\n", ""), "cases/a.yaml", case_schema())
    [mismatch] = run_case(compiled, case).mismatches
    assert (mismatch.field, mismatch.expected, mismatch.actual) == ("finding 4", "no finding 4 (only 3 expected)",
                                                                    "奖金过少")
    case = load_case(CASE.replace("    - 奖金过少\n", "    - 奖金过少\n    - 还有\n"), "cases/a.yaml", case_schema())
    [mismatch] = run_case(compiled, case).mismatches
    assert (mismatch.field, mismatch.expected, mismatch.actual, mismatch.line) == (
        "finding 5", "还有", "no finding 5 (only 4 given)", 18)


def test_jixiao_pack_test_shows_a_findings_mismatch_like_any_other(compiled) -> None:
    from jixiao_cli.pack_test_report import render_case_result

    case = load_case(CASE.replace("    - 未设定绩效目标\n", "    - 未设定目标\n"), "cases/a.yaml", case_schema())
    console = Console(width=120, record=True)
    console.print(render_case_result(run_case(compiled, case), Path(".")))
    shown = console.export_text()
    assert "FAIL" in shown and "finding 1" in shown and "未设定目标" in shown and "未设定绩效目标" in shown


def test_the_case_schema_refuses_findings_that_are_not_texts() -> None:
    from jixiao.core.errors import PackError

    with pytest.raises(PackError) as info:
        load_case(CASE.replace("    - 奖金过少\n", "    - {text: 奖金过少}\n"), "cases/a.yaml", case_schema())
    assert any(p.line == 17 for p in info.value.problems)


# --- the wire and the CLI ---------------------------------------------------------------


def test_the_fast_reply_and_the_message_agree_on_findings(compiled) -> None:
    import dataclasses

    from jixiao.v1 import evaluation_pb2 as pb

    def reference_evaluation(evaluation):  # the tree as before, the findings set field by field
        message = convert.evaluation_message(dataclasses.replace(evaluation, findings=(), recommendations=()))
        for field in ("findings", "recommendations"):
            getattr(message, field).extend(
                pb.Finding(id=f.id, text=f.text, dimension=f.dimension, rule_ids=f.rule_ids, node_ids=f.node_ids,
                           observation=f.observation) for f in getattr(evaluation, field))
        return message

    for language in ("zh", "en"):
        evaluation = evaluate(compiled, facts(records__a=False, misused=True, evaluation={"problems": ["奖金过少"]}),
                              language)
        assert convert.evaluation_bytes(evaluation) == reference_evaluation(evaluation).SerializeToString()
        message = convert.evaluation_message(evaluation)
        assert [(f.id, f.text, f.dimension, tuple(f.rule_ids), tuple(f.node_ids), f.observation)
                for f in message.findings] == [tuple(f) for f in evaluation.findings]
        assert [f.text for f in message.recommendations] == [r.text for r in evaluation.recommendations]
        assert message.findings[-1].observation and not message.findings[0].observation


def test_get_pack_says_text_list_facts_and_descriptions(compiled) -> None:
    from jixiao.v1 import evaluation_pb2 as pb

    message = convert.pack_message(compiled)
    lists = [f for f in message.facts if f.type == pb.FACT_TYPE_TEXT_LIST]
    assert [f.name for f in lists] == ["evaluation.problems", "evaluation.advice"]
    assert not lists[0].required and lists[0].default_value.WhichOneof("kind") == "list_value"
    top = message.indicators[0]
    assert (top.description, top.description_en) == ("考察项目决策", "How the project was decided")
    assert (top.children[0].description, top.children[0].description_en) == ("是否设定绩效目标", "")
    assert message.indicators[1].description == ""


@pytest.mark.parametrize("language, headings", [("zh", ("存在的问题", "有关建议")),
                                                ("en", ("Problems found", "Recommendations"))])
def test_jixiao_score_lists_findings_and_recommendations_numbered_in_120_columns(compiled, language, headings) -> None:
    from jixiao_cli.score_table import render_score_table

    long = "奖金过少、奖励面过窄，激励作用有限，" * 8
    evaluation = evaluate(compiled, facts(records__a=False, budget__spent="50",
                                          evaluation={"problems": [long]}), language)
    console = Console(width=120, record=True)
    console.print(render_score_table(convert.evaluation_message(evaluation), language))
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 120  # (CJK characters take 2 columns: checked below)
    from rich.cells import cell_len
    assert max(cell_len(line.rstrip()) for line in lines) <= 120
    found, advised = lines.index(headings[0]), lines.index(headings[1])
    assert found > next(i for i, line in enumerate(lines) if "合计" in line or "Total" in line)
    assert lines[found + 1].startswith("1. ") and lines[found + 2].startswith("2. ")
    assert lines[found + 3].startswith("3. ")  # the long observation, wrapped under itself
    assert lines[found + 4].startswith("   ") and lines[advised + 1].startswith("1. ")
    text = "".join(line.strip() for line in lines[found + 3:advised])
    assert text == "3. " + long


def test_jixiao_score_shows_nothing_more_without_findings(compiled) -> None:
    from jixiao_cli.score_table import render_score_table

    console = Console(width=120, record=True)
    console.print(render_score_table(convert.evaluation_message(evaluate(compiled, CLEAN))))
    assert "存在的问题" not in console.export_text() and "有关建议" not in console.export_text()


def test_the_example_pack_text_is_what_the_tests_load() -> None:
    assert "findings:" in FINDINGS_PACK and "observations:" in FINDINGS_PACK


# --- pack diff ----------------------------------------------------------------------


def test_pack_diff_lists_added_removed_and_changed_findings_and_what_names_them() -> None:
    from jixiao.core.pack.diff import ChangeKind, diff_packs

    from .findings_pack import findings_pack

    old = findings_pack()
    new = findings_pack(edited(
        ("  - id: misused\n    dimension: process\n    text: 存在挪用资金情况\n",
         "  - id: misused\n    dimension: process\n    text: 存在挪用财政资金情况\n"
         "  - id: late\n    text: 进度滞后\n"),
        ("reason: 记录乙未见, finding: records_missing", "reason: 记录乙未见, finding: late"),
        ("        description: 是否设定绩效目标\n", "        description: 是否设定了绩效目标\n"),
        ("  recommendations: evaluation.advice\n", ""),
        ("project: {name: project.name, budget: budget.approved, spent: budget.spent}",
         "project: {name: project.name, budget: budget.approved}"),
        ("label: 其他建议, max_items: 3, default: []", "label: 其他建议, max_items: 5, default: []")))
    changes = [(c.kind, c.subject, c.detail, c.old, c.new) for c in diff_packs(old, new).changes]
    assert (ChangeKind.RULE_CHANGED, "process.records", "check b finding", "records_missing", "late") in changes
    assert (ChangeKind.TEXT_CHANGED, "decision.targets", "description", "是否设定绩效目标", "是否设定了绩效目标") in changes
    assert (ChangeKind.FACT_CHANGED, "evaluation.advice", "max_items", "3", "5") in changes
    assert (ChangeKind.FINDING_CHANGED, "misused", "finding", "存在挪用资金情况 · in process",
            "存在挪用财政资金情况 · in process") in changes
    assert (ChangeKind.FINDING_ADDED, "late", "finding", None, "进度滞后 · in process") in changes
    assert (ChangeKind.OBSERVATIONS_CHANGED, "", "observations recommendations", "evaluation.advice", None) in changes
    assert (ChangeKind.REPORT_CHANGED, "", "report project spent", "budget.spent", None) in changes
    removed = diff_packs(new, old).of_kind(ChangeKind.FINDING_REMOVED)
    assert [(c.subject, c.old) for c in removed] == [("late", "进度滞后 · in process")]


def test_memoised_findings_are_those_computed_afresh() -> None:
    from jixiao.core.evaluation.compiler import compile_pack, plain_matcher

    from .findings_pack import findings_pack

    memo, fresh = compiled_findings_pack(), compile_pack(findings_pack(), plain_matcher, cache_entries=0)
    assert fresh.findings.memo_entries == 0
    requests = [CLEAN, EVERYTHING, facts(records__a=False), facts(budget__spent="60", project__name="另一项目"),
                facts(records__a=False, evaluation={"problems": ["奖金过少"]}), facts(records__a=False)]
    for _ in range(2):
        for request in requests:
            for language in ("zh", "en"):
                got, want = evaluate(memo, request, language), evaluate(fresh, request, language)
                assert (got.findings, got.recommendations) == (want.findings, want.recommendations)
    assert not fresh.findings.memo and memo.findings.memo
    # the project's name is read by a finding's text: a new name is a new text, not a memo hit
    named = evaluate(memo, facts(records__a=False, project__name="另一项目")).findings[0].text
    assert named == "项目管理不到位，另一项目相关记录缺失"
