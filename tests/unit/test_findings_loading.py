"""Loading findings, observations, report.project, text_list facts and descriptions: what a
pack may say, and every mistake named with its file, line and closest name."""

from __future__ import annotations

import pytest

from jixiao.core.errors import PackError
from jixiao.core.pack.model import FactType, FindingRule, Text

from .findings_pack import FINDINGS_PACK, edited, findings_pack


def problems(*replacements: tuple[str, str], text: str = FINDINGS_PACK) -> list:
    with pytest.raises(PackError) as info:
        findings_pack(edited(*replacements, text=text))
    return list(info.value.problems)


def the_problem(found: list, *words: str):
    """The one problem whose message holds every word; it names its line."""
    hits = [p for p in found if all(word in p.message for word in words)]
    assert len(hits) == 1, [str(p) for p in found]
    assert hits[0].file == "pack.yaml" and hits[0].line is not None
    return hits[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- what loads ---------------------------------------------------------------------


def test_findings_observations_report_and_descriptions_load_into_the_model() -> None:
    pack = findings_pack()
    assert [f.id for f in pack.findings] == ["records_missing", "spending_slow", "targets_missing", "misused"]
    # no dimension given: that of the first node naming it, in tree order
    assert pack.findings[0] == FindingRule("records_missing", Text("项目管理不到位，{project.name}相关记录缺失",
                                                                   "Management records of {project.name} are missing"),
                                           Text("加强项目管理", "Strengthen project management"), "process")
    assert pack.findings[1].dimension == "process" and pack.findings[2].dimension == "decision"
    assert pack.observations.findings == "evaluation.problems"
    assert pack.observations.recommendations == "evaluation.advice"
    assert pack.report_project == (("name", "project.name"), ("budget", "budget.approved"), ("spent", "budget.spent"))
    problems_fact, advice = pack.fact("evaluation.problems"), pack.fact("evaluation.advice")
    assert problems_fact.type is FactType.TEXT_LIST and problems_fact.max_items == 20 and advice.max_items == 3
    assert problems_fact.has_default and problems_fact.default == ()
    top = pack.indicators[0]
    assert top.description == Text("考察项目决策", "How the project was decided")
    assert top.children[0].description == Text("是否设定绩效目标") and top.children[0].finding == "targets_missing"
    records = pack.indicators[1].children[0]
    assert [c.finding for c in records.scoring.checks] == ["records_missing", "records_missing"]
    assert [b.finding for b in pack.indicators[1].children[2].scoring.bands] == [None, "records_missing",
                                                                                "records_missing"]
    assert pack.overrides[0].finding == "misused"


def test_a_finding_of_an_override_on_a_node_takes_that_nodes_dimension() -> None:
    pack = findings_pack(edited(("    dimension: process\n    text: 存在挪用资金情况", "    text: 存在挪用资金情况")))
    assert pack.findings[-1].dimension == "process"  # the override zeroes process


# --- every load error ----------------------------------------------------------------


def test_an_unknown_finding_id_is_named_with_the_closest_one() -> None:
    text = edited(("reason: 记录乙未见, finding: records_missing", "reason: 记录乙未见, finding: record_missing"))
    problem = the_problem(problems(text=text), "'record_missing' is not one of the pack's findings",
                          "did you mean records_missing?")
    assert problem.line == line_of(text, "finding: record_missing")


def test_a_finding_named_on_a_band_a_leaf_or_an_override_must_be_declared_too() -> None:
    found = problems(("- {min: 5, deduct: 1, finding: records_missing}", "- {min: 5, deduct: 1, finding: nope_a}"),
                     ("    finding: targets_missing", "    finding: targets_missed"),
                     ("    finding: misused\n", "    finding: misuse\n"))
    the_problem(found, "'nope_a' is not one of the pack's findings")
    the_problem(found, "'targets_missed' is not one of the pack's findings", "did you mean targets_missing?")
    the_problem(found, "'misuse' is not one of the pack's findings", "did you mean misused?")


def test_a_finding_in_a_pack_without_findings_says_where_to_declare_it() -> None:
    start, end = FINDINGS_PACK.index("findings:\n"), FINDINGS_PACK.index("observations:")
    text = FINDINGS_PACK[:start] + FINDINGS_PACK[end:]
    found = problems(text=text)
    assert any("the pack declares no findings: list it under findings: at the top level" in p.message for p in found)


def test_a_finding_no_rule_names_is_refused() -> None:
    text = edited(("  - id: misused\n", "  - id: unused\n    text: 没有规则给出\n  - id: misused\n"))
    problem = the_problem(problems(text=text), "finding 'unused' is named by no check, band, leaf or override")
    assert problem.line == line_of(text, "id: unused")


def test_a_finding_id_used_twice_is_refused() -> None:
    text = edited(("  - id: misused\n", "  - id: spending_slow\n    text: 又一次\n  - id: misused\n"))
    problem = the_problem(problems(text=text), "finding id 'spending_slow' is used twice")
    assert problem.line == line_of(text, "text: 又一次") - 1


def test_a_dimension_must_be_a_level_1_indicator() -> None:
    found = problems(("    dimension: decision\n", "    dimension: decisions\n"),
                     ("    dimension: process\n", "    dimension: process.records\n"))
    the_problem(found, "'decisions' is not a level-1 indicator", "decision, process, effect", "did you mean decision?")
    the_problem(found, "'process.records' is not a level-1 indicator")


def test_a_finding_given_only_by_an_override_on_the_total_needs_a_dimension() -> None:
    found = problems(("    dimension: process\n    text: 存在挪用资金情况", "    text: 存在挪用资金情况"),
                     ("    zero: process\n", "    grade: 差\n"))
    the_problem(found, "finding 'misused' is given only by overrides acting on the total", "dimension:")


def test_finding_templates_read_facts_and_derived_values_only() -> None:
    found = problems(("text: {zh: 未设定绩效目标, en: No performance targets}",
                      "text: {zh: \"扣{deducted}分\", en: \"{project.nam}\"}"),
                     ("recommendation: {zh: 加快预算执行, en: Spend on time}",
                      "recommendation: {zh: \"加快{project.name|money}\", en: \"{budget.spent|moneys}\"}"))
    the_problem(found, "finding 'targets_missing'", "'deducted'", "not a leaf's score")
    the_problem(found, "finding 'targets_missing'", "'project.nam'", "did you mean project.name?")
    the_problem(found, "finding 'spending_slow'", "format 'money' needs a number, 'project.name' is text")
    the_problem(found, "finding 'spending_slow'", "unknown format 'moneys'", "did you mean money?")


@pytest.mark.parametrize("reader, replacement, words", [
    ("a condition", ("{id: a, when: {fact: records.a, eq: false}", "{id: a, when: {fact: evaluation.problems, eq: x}"),
     ("'evaluation.problems' is a text_list fact", "a condition cannot read it")),
    ("a condition's operand", ("{id: a, when: {fact: records.a, eq: false}",
                               "{id: a, when: {fact: project.name, eq: {fact: evaluation.problems}}"),
     ("'evaluation.problems' is a text_list fact", "a condition cannot read it")),
    ("a ratio", ("actual: budget.spent", "actual: evaluation.problems"),
     ("'evaluation.problems' is a text_list fact", "a ratio's actual value cannot read it")),
    ("a band", ("value: applicants", "value: evaluation.advice"),
     ("'evaluation.advice' is a text_list fact", "a bands leaf's value cannot read it")),
    ("a rationale", ("reason: \"预算执行率{ratio|percent}\"", "reason: \"问题{evaluation.problems}\""),
     ("leaf 'process.execution'", "'evaluation.problems' is a text_list fact", "a template cannot read it")),
    ("an override's reason", ("reason: 存在挪用\n", "reason: \"{evaluation.problems}\"\n"),
     ("override 'misuse'", "'evaluation.problems' is a text_list fact")),
    ("a finding's text", ("text: 存在挪用资金情况", "text: \"{evaluation.problems}\""),
     ("finding 'misused'", "'evaluation.problems' is a text_list fact")),
    ("a not-applicable reason", ("reason: survey.na_reason}", "reason: evaluation.problems}"),
     ("'evaluation.problems' is a text_list fact", "a not-applicable reason cannot read it")),
    ("report.project", ("project: {name: project.name,", "project: {name: evaluation.problems,"),
     ("'evaluation.problems' is a text_list fact", "report.project cannot read it")),
])
def test_a_text_list_fact_is_read_by_observations_only(reader, replacement, words) -> None:
    the_problem(problems(replacement), *words)


def test_observations_name_declared_text_list_facts() -> None:
    found = problems(("  findings: evaluation.problems\n  recommendations: evaluation.advice",
                      "  findings: project.name\n  recommendations: evaluation.advise"))
    the_problem(found, "observations take a text_list fact (a list of texts); 'project.name' is text")
    the_problem(found, "fact 'evaluation.advise' is not declared", "did you mean evaluation.advice?")


def test_report_project_names_declared_facts_under_known_keys() -> None:
    found = problems(("project: {name: project.name, budget: budget.approved, spent: budget.spent}",
                      "project: {name: project.nam, budgets: budget.approved, spent: budget.spent}"))
    the_problem(found, "fact 'project.nam' is not declared", "did you mean project.name?")
    assert any("budgets" in p.message and "did you mean budget" in p.message for p in found)


def test_a_text_list_default_is_the_empty_list_only_and_max_items_is_bounded() -> None:
    found = problems(("label: 其他建议, max_items: 3, default: []", "label: 其他建议, max_items: 300, default: [建议]"))
    assert any("default" in p.path and p.line is not None for p in found)
    assert any("max_items" in p.path and p.line is not None for p in found)
    text = edited(("label: 其他建议, max_items: 3, default: []", "label: 其他建议, max_items: 0"))
    assert any("max_items" in p.path for p in problems(text=text))


@pytest.mark.parametrize("default, got", [("[建议]", "got a list"), ("[1, 2]", "got a list"), ("建议", "got '建议'"),
                                          ("null", "got nothing"), ("{}", "got a mapping")])
def test_a_text_list_default_other_than_the_empty_list_is_said_in_the_packs_words(default, got) -> None:
    # once, in the words of text_list facts, not the schema's ("this list needs at most 0 items")
    found = problems(("label: 其他建议, max_items: 3, default: []", f"label: 其他建议, max_items: 3, default: {default}"))
    assert len(found) == 1, [str(p) for p in found]
    problem = the_problem(found, "fact evaluation.advice, field default: a text_list fact's only default is [] "
                                 "(no texts)", got)
    assert problem.path == "facts[11].default" and problem.line == line_of(FINDINGS_PACK, "其他建议")
    assert "at most 0" not in problem.message and "is a list (" not in problem.message


def test_max_items_is_for_text_list_facts_only() -> None:
    found = problems(("{name: records.b, type: boolean, label: 记录乙}",
                      "{name: records.b, type: boolean, label: 记录乙, max_items: 3}"))
    assert any("max_items" in p.path and p.line is not None for p in found)


def test_only_a_leaf_names_a_finding_of_its_own() -> None:
    found = problems(("    description: {zh: 考察项目决策, en: How the project was decided}\n",
                      "    description: {zh: 考察项目决策, en: How the project was decided}\n"
                      "    finding: targets_missing\n"))
    assert any("finding" in p.path and p.line is not None for p in found)


def test_a_description_is_a_text() -> None:
    found = problems(("        description: 是否设定绩效目标\n", "        description: [是否]\n"))
    assert any("description" in p.path and p.line is not None for p in found)


def test_a_text_list_fact_is_read_by_no_derived_value_nor_constraint() -> None:
    found = problems(text=FINDINGS_PACK.replace("indicators:\n", (
        "derived:\n  - {name: observed.count, label: 数, value: {add: [{fact: evaluation.problems}, 1]}}\n"
        "constraints:\n  - {id: c, require: {fact: evaluation.advice, ne: x}, message: 不可}\n"
        "indicators:\n"), 1))
    the_problem(found, "'evaluation.problems' is a text_list fact", "a derived value cannot read it")
    the_problem(found, "'evaluation.advice' is a text_list fact", "a condition cannot read it")
