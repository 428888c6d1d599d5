"""Ten typical pack-authoring mistakes, each made in a small real pack and loaded through
the real loader (and the `jixiao` command where a pack author meets it there).

Each message must name the place (the file and line, the place in words) and say what to
fix, in words: no regular expression, no Python repr or type name, nothing of jsonschema
or PyYAML's own vocabulary.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jixiao.core.pack.bundle import load_bundle, make_bundle
from jixiao.core.pack.cases import run_case
from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.errors import PackError
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

PACK_FILE = "district-training/1.0.0/pack.yaml"

PACK = textwrap.dedent(
    """\
    schema: jixiao.pack/v1
    id: district-training
    version: 1.0.0
    title: {zh: 区级培训项目绩效评价, en: District training project evaluation}
    framework: 财预〔2020〕10号 附件2
    total_weight: 20
    not_applicable: {treatment: rescale}
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 良, en: good, min: 80}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    facts:
      - {name: budget.approved, type: decimal, label: 预算批复金额, unit: 元, min: 0}
      - {name: budget.spent, type: decimal, label: 实际支出金额, unit: 元, min: 0}
      - {name: records.complete, type: boolean, label: 台账是否齐全}
      - {name: trainings.held, type: integer, label: 培训场次, min: 0}
      - {name: procurement.not_applicable, type: boolean, label: 本年度未开展政府采购, default: false}
      - {name: procurement.reason, type: text, label: 不适用的原因, default: ""}
      - {name: procurement.compliant, type: boolean, label: 采购程序合规, default: true}
      - name: effect.ecology
        type: choice
        label: {zh: 生态效益, en: ecological benefit}
        options:
          - {key: good, label: {zh: 好, en: good}}
          - {key: fairly_good, label: {zh: 较好, en: fairly good}}
          - {key: average, label: {zh: 一般, en: average}}
          - {key: poor, label: {zh: 差, en: poor}}
    indicators:
      - id: process
        name: {zh: 过程, en: Process}
        weight: 10
        children:
          - id: process.execution
            name: {zh: 预算执行率, en: Budget execution rate}
            weight: 4
            scoring:
              method: ratio
              actual: budget.spent
              target: budget.approved
              reason: {zh: "预算执行率{ratio|percent}，未达100%"}
          - id: process.records
            name: {zh: 台账管理, en: Records}
            weight: 3
            scoring:
              method: deductions
              checks:
                - {id: incomplete, when: {fact: records.complete, eq: false}, points: 3, reason: 台账不齐全}
          - id: process.procurement
            name: {zh: 政府采购合规性, en: Procurement}
            weight: 3
            not_applicable: {flag: procurement.not_applicable, reason: procurement.reason}
            scoring:
              method: all_or_nothing
              pass: {fact: procurement.compliant, eq: true}
              reason: 采购程序不合规
      - id: output
        name: {zh: 产出与效益, en: Output and effect}
        weight: 10
        children:
          - id: output.trainings
            name: {zh: 培训场次, en: Trainings held}
            weight: 6
            scoring:
              method: bands
              value: trainings.held
              bands:
                - {min: 10, deduct: 0}
                - {min: 6, deduct: 2, reason: "培训{value}场，少于10场"}
                - {deduct: 6, reason: "培训{value}场，少于6场"}
          - id: output.ecology
            name: {zh: 生态效益, en: Ecological benefit}
            weight: 4
            scoring:
              method: deductions
              checks:
                - {id: weak, when: {fact: effect.ecology, in: [average, poor]}, points: 2, reason: "生态效益{effect.ecology}"}
    """
)

CASE_FILE = "cases/typical.yaml"

CASE = textwrap.dedent(
    """\
    name: 一般项目
    description: |
      预算执行率 90000 ÷ 100000 = 90%，得 4 × 0.9 = 3.6 分；台账不齐全，扣 3 分，得 0 分；
      政府采购合规，得 3 分；培训 8 场，扣 2 分，得 4 分；生态效益较好，得 4 分。
      合计 3.6 + 0 + 3 + 4 + 4 = 14.6 分，得分率 73%，等级为中。
    facts:
      budget: {approved: "100000.00", spent: "90000.00"}
      records: {complete: false}
      trainings: {held: 8}
      effect: {ecology: fairly_good}
    expected:
      score: "14.6"
      grade: 中
      nodes:
        process.execution: {score: "3.6"}
        output.trainings: {score: "4"}
    """
)

#: What a message to a pack author must never contain: a regular expression, a Python
#: repr or type name, jsonschema's or PyYAML's own words.
LEAKS = re.compile(
    r"\^|\$\(|\(\?|\\d|\[0-9\]|\[a-z|Decimal\(|jsonschema|\b(?:dict|str|int|float|bool|tuple|NoneType)\b"
    r"|<class|is not of type|is not valid under any|Additional properties|does not match '|<block|<scalar"
    r"|Traceback|MarkedYAMLError|ScannerError|ParserError"
)


def replace(old: str, new: str, text: str = PACK) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    [line] = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    return line


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(text, PACK_FILE, schema=pack_schema())
    return [str(p) for p in info.value.problems]


def the_problem(text: str) -> str:
    """The one problem a mistake causes, checked for leaks of internals."""
    found = problems(text)
    assert len(found) == 1, found
    assert_readable(found[0])
    return found[0]


def assert_readable(message: str) -> None:
    leak = LEAKS.search(message)
    assert leak is None, f"{leak.group()!r} in {message}"


def write_pack(folder: Path, pack: str = PACK, case: str = CASE) -> Path:
    (folder / "cases").mkdir(parents=True)
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    (folder / CASE_FILE).write_text(case, encoding="utf-8")
    return folder


def jixiao(*args: str | Path) -> subprocess.CompletedProcess:
    """The real command, in a terminal wide enough that no message is wrapped."""
    env = {k: v for k, v in os.environ.items() if k not in ("JIXIAO_DEBUG", "JIXIAO_SERVER")} | {"COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_the_sample_pack_and_its_case_are_fine():
    """The mistakes below are each one change away from a pack that loads and passes."""
    loaded = load_bundle(make_bundle({"pack.yaml": PACK, CASE_FILE: CASE}), pack_schema())
    [case] = loaded.cases
    assert "14.6" in case.description
    assert run_case(compile_pack(loaded.pack, plain_matcher), case).passed


# --- the ten mistakes ------------------------------------------------------------------


def test_1_weights_that_do_not_add_up_name_the_parent_its_weight_and_the_sum():
    text = replace("    weight: 3\n        scoring:\n          method: deductions",
                   "    weight: 4\n        scoring:\n          method: deductions")
    message = the_problem(text)
    rows = text.splitlines()
    parent_weight = rows.index("  - id: process") + 3  # id, name, weight; 1-based
    assert rows[parent_weight - 1] == "    weight: 10"
    assert message.startswith(f"{PACK_FILE}:{parent_weight} ")
    assert "'process' weighs 10 but its children add up to 11" in message


def test_2_a_misspelt_fact_is_named_with_the_closest_declared_one():
    text = replace("when: {fact: records.complete, eq: false}", "when: {fact: record.complete, eq: false}")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line_of(text, 'record.complete,')} ")
    assert "check incomplete of indicator process.records" in message
    assert "'record.complete' is not declared" in message and "did you mean records.complete?" in message


def test_3_a_bad_placeholder_names_the_leaf_and_what_it_could_be():
    text = replace("培训{value}场，少于10场", "培训{trainings.hold}场，少于10场")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line_of(text, 'id: output.trainings')} ")
    assert "'output.trainings'" in message and "'trainings.hold'" in message
    assert "did you mean trainings.held?" in message
    # A format that does not exist is named with the formats that do.
    message = the_problem(replace("{ratio|percent}", "{ratio|percnt}"))
    assert "'process.execution'" in message and "unknown format 'percnt'" in message
    assert "did you mean percent?" in message


def test_4_a_duplicate_id_points_at_the_second_one():
    text = replace("- id: output.ecology", "- id: output.trainings")
    message = the_problem(text)
    second = [i for i, row in enumerate(text.splitlines(), 1) if "id: output.trainings" in row][-1]
    assert message.startswith(f"{PACK_FILE}:{second} ")
    assert "indicator id 'output.trainings' is used more than once" in message


def test_5_bad_indentation_is_explained_with_the_line_and_the_column_expected(tmp_path):
    text = replace("        weight: 6\n", "         weight: 6\n")
    line = line_of(text, "weight: 6")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line}: not valid YAML: the indentation of line {line} (9 spaces) "
                              "does not match the lines above it")
    assert "indented 8 spaces" in message
    # `jixiao pack validate` says the same, with the file's path.
    folder = write_pack(tmp_path / "district-training" / "1.0.0", pack=text)
    result = jixiao("pack", "validate", folder)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    [row] = [row.strip() for row in result.stderr.splitlines() if "pack.yaml:" in row]
    assert row.startswith(f"{folder / 'pack.yaml'}:{line}: not valid YAML: the indentation of line {line}")
    assert_readable(row)


def test_6_unordered_bands_point_at_the_band_out_of_order():
    text = replace("{min: 6, deduct: 2,", "{min: 12, deduct: 2,")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line_of(text, 'min: 12')} ")
    assert "band 2 of indicator output.trainings" in message
    assert "highest first" in message


def test_7_a_wrong_case_expectation_points_at_the_line_of_the_case_file(tmp_path):
    case = replace('score: "14.6"', 'score: "15.6"', CASE)
    line = line_of(case, 'score: "15.6"')
    loaded = load_bundle(make_bundle({"pack.yaml": PACK, CASE_FILE: case}), pack_schema())
    [mismatch] = run_case(compile_pack(loaded.pack, plain_matcher), loaded.cases[0]).mismatches
    assert (mismatch.node, mismatch.field, mismatch.expected, mismatch.actual, mismatch.line) == (
        "total", "score", "15.6", "14.6", line)
    node_case = replace('output.trainings: {score: "4"}', 'output.trainings: {score: "6"}', CASE)
    loaded = load_bundle(make_bundle({"pack.yaml": PACK, CASE_FILE: node_case}), pack_schema())
    [mismatch] = run_case(compile_pack(loaded.pack, plain_matcher), loaded.cases[0]).mismatches
    assert (mismatch.node, mismatch.line) == ("output.trainings", line_of(node_case, "output.trainings:"))
    # `jixiao pack test` shows the line beside what was expected and what came out.
    folder = write_pack(tmp_path / "district-training" / "1.0.0", case=case)
    result = jixiao("pack", "test", folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL 一般项目  {CASE_FILE}" in result.stdout
    [row] = [row for row in result.stdout.splitlines() if "15.6" in row]
    assert [cell.strip() for cell in row.strip(" │").split("│")] == [str(line), "total", "score", "15.6", "14.6"]


def test_7b_a_case_whose_facts_the_pack_refuses_is_named_with_its_file_and_line(tmp_path):
    """`pack validate`, `pack test` and the publish gate check the golden cases' facts as a
    request's; a version already published is served without that check."""
    case = replace("records: {complete: false}", "records: {complete: false, compelte: true}", CASE)
    line = line_of(case, "compelte")
    bundle = make_bundle({"pack.yaml": PACK, CASE_FILE: case})
    with pytest.raises(PackError) as info:
        load_bundle(bundle, pack_schema(), "district-training/1.0.0", check_case_facts=True)
    [message] = [str(p) for p in info.value.problems]
    assert_readable(message)
    assert message.startswith(f"district-training/1.0.0/{CASE_FILE}:{line} at facts.records.compelte: ")
    assert "golden case '一般项目'" in message and "did you mean records.complete?" in message
    assert load_bundle(bundle, pack_schema()).cases[0].name == "一般项目"  # served as published

    from jixiao.registry.trial import try_in_this_process
    report = try_in_this_process(bundle)
    assert not report.passed and any("did you mean records.complete?" in p for p in report.problems)

    folder = write_pack(tmp_path / "district-training" / "1.0.0", case=case)
    for command in ("validate", "test"):
        result = jixiao("pack", command, folder)
        assert result.returncode == 2 and result.stdout == "", (command, result.stdout + result.stderr)
        [row] = [row.strip() for row in result.stderr.splitlines() if "compelte" in row]
        assert row.startswith(f"{folder / CASE_FILE}:{line} at facts.records.compelte: golden case"), row


def test_7c_a_misspelt_expectation_in_a_case_is_refused_not_silently_unchecked(tmp_path):
    """An expectation under a misspelt key would check nothing: the case schema names it."""
    case = replace('process.execution: {score: "3.6"}', 'process.execution: {scroe: "3.6"}', CASE)
    folder = write_pack(tmp_path / "district-training" / "1.0.0", case=case)
    result = jixiao("pack", "test", folder)
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    [row] = [row.strip() for row in result.stderr.splitlines() if "scroe" in row]
    assert_readable(row)
    assert row == (f"{folder / CASE_FILE}:{line_of(case, 'scroe')} at expected.nodes.process.execution.scroe: "
                   "the expectation of node process.execution, field scroe: 'scroe' is not a field here; "
                   "did you mean score?")


def test_8_a_missing_reason_of_an_evaluator_declared_not_applicable_leaf_names_the_field():
    text = replace("not_applicable: {flag: procurement.not_applicable, reason: procurement.reason}",
                   "not_applicable: {flag: procurement.not_applicable}")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line_of(text, 'not_applicable: {flag')} ")
    assert "indicator process.procurement, field not_applicable" in message
    assert "the field 'reason' is required here but missing" in message
    assert "text fact holding the evaluator's reason" in message


def test_9_a_weight_that_is_not_a_number_says_what_a_weight_looks_like():
    text = replace("        weight: 6\n", "        weight: 两分\n")
    message = the_problem(text)  # once: not again as "children add up to …" or "deduct must be in [0, 0]"
    assert message.startswith(f"{PACK_FILE}:{line_of(text, '两分')} ")
    assert message.endswith("indicator output.trainings, field weight: a weight is a number above 0, "
                            "such as 2.5; got '两分'")


def test_10_a_misspelt_option_code_is_named_with_the_options_and_the_closest_one():
    text = replace("in: [average, poor]", "in: [average, pour]")
    message = the_problem(text)
    assert message.startswith(f"{PACK_FILE}:{line_of(text, 'pour')} ")
    assert "check weak of indicator output.ecology" in message
    assert "'pour' is not an option of effect.ecology" in message and "did you mean poor?" in message


# --- the schema's words ------------------------------------------------------------------


def test_schema_and_meaning_problems_come_together_each_once():
    text = replace("        weight: 4\n        scoring:\n          method: ratio",
                   "        wieght: 4\n        scoring:\n          method: ratios")
    text = replace("when: {fact: records.complete, eq: false}", "when: {fact: record.complete, eq: false}", text)
    found = problems(text)
    for message in found:
        assert_readable(message)
    assert len(found) == 3, found
    assert any("did you mean ratio?" in m for m in found)
    assert any("did you mean records.complete?" in m for m in found)
    # The misspelt key says it: not again as a missing weight, a weight of 0 or a wrong sum.
    assert any("'wieght' is not a field here; did you mean weight?" in m for m in found)


@pytest.mark.parametrize("old, new, words", [
    ("type: integer", "type: number", "a fact type is one of decimal, integer"),
    ("version: 1.0.0", "version: one", "a version is three numbers joined by dots, such as 1.0.0; got 'one'"),
    ("- {grade: 良, en: good, min: 80}", "- {grade: 良, en: good, min: 180}",
     "a lower bound is a percentage from 0 to 100, such as 90; got 180"),
    ("when: {fact: records.complete, eq: false}", "when: [records.complete]",
     "a condition is written as {fact: NAME, eq: VALUE}"),
    ("when: {fact: records.complete, eq: false}", "when: {fact: records.complete, eq: false, ne: true}",
     "a condition is a comparison"),
    ("name: {zh: 台账管理, en: Records}", "name: {en: Records}", "the field 'zh' is required here but missing"),
    ("when: {fact: records.complete, eq: false}", "when: {fact: records.complete, false: 1}",
     "field when.false: the key false (YAML reads an unquoted false as true or false: quote it if you mean the "
     "text) is not a field here"),
    ("- {name: records.complete, type: boolean, label: 台账是否齐全}",
     "- {name: records.complete, type: boolean, label: 台账是否齐全, min: 1}",
     "min/max only apply to decimal and integer facts"),
])
def test_schema_problems_say_what_the_value_must_look_like(old, new, words):
    found = problems(replace(old, new))
    for message in found:
        assert_readable(message)
    assert any(words in m for m in found), found


@pytest.mark.parametrize("schema_file", ["pack.schema.json", "case.schema.json"])
def test_every_pattern_of_the_schemas_has_words(schema_file):
    """A pattern added to a schema without words would leave its errors unexplained."""
    import json
    from importlib import resources

    from jixiao.core.pack.schema_messages import PATTERN_WORDS

    text = resources.files("jixiao.schemas").joinpath(schema_file).read_text(encoding="utf-8")
    patterns = set()

    def collect(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(json.loads(text))
    assert patterns and not patterns - set(PATTERN_WORDS), patterns - set(PATTERN_WORDS)


@pytest.mark.parametrize("text, words", [
    ("a:\n\tb: 1\n", "line 2 contains a tab character"),
    ("a: 1\nb\nc: 2\n", "line 2 has no colon"),
    ('a: "hello\nb: 2\n', "the quoted text that starts at line 1 is never closed"),
    ("a: [1, 2\nb: 2\n", "the list opened with '[' at line 1 is not closed with ']'"),
    ("a: {x: 1\nb: 2\n", "the mapping opened with '{' at line 1 is not closed with '}'"),
    ("a: 1\nb:\n  c: 1\n  c: 2\n", "line 4 states the key 'c' a second time in the same mapping (first at line 3)"),
    ("a:\n  - x: 1\n  y: 2\n", "line 3 is a 'key: value' line in the same column as the '- ' items"),
    ("a: b: c\n", "line 1 has a ':' where no new key can start"),
])
def test_yaml_syntax_errors_are_said_in_words(text, words):
    [message] = problems(text)
    assert_readable(message)
    assert message.startswith(f"{PACK_FILE}:") and words in message, message


def test_a_document_of_odd_shapes_is_reported_not_crashed_on():
    """The builder runs on a schema-invalid document: a part it cannot read is skipped."""
    text = replace("        checks:\n            - {id: incomplete", "        checks: incomplete\n        x:\n            - {id: incomplete")
    text = replace("  - id: output.ecology", "  - just a name\n      - id: output.ecology", text)
    found = problems(text)
    for message in found:
        assert_readable(message)
    assert any("each item of this list is an indicator" in m for m in found), found


@pytest.mark.parametrize("old, new, words", [
    ("type: integer", "type: integr", "unknown fact type 'integr'; expected one of decimal, integer"),
    ("method: ratio", "method: ratios", "unknown scoring method 'ratios'"),
])
def test_without_the_schema_the_loader_says_it_in_words_too(old, new, words):
    """The loader's own checks (a pack loaded without the schema) suggest the closest name."""
    with pytest.raises(PackError) as info:
        load_pack(replace(old, new), PACK_FILE)
    found = [str(p) for p in info.value.problems]
    for message in found:
        assert_readable(message)
    assert any(words in m and "did you mean" in m for m in found), found


@pytest.mark.parametrize("old, new, words", [
    ("not_applicable: {flag: procurement.not_applicable, reason: procurement.reason}",
     "not_applicable: {flag: procurement.not_applicable, reason: procurement.reason, when: {fact: records.complete, eq: true}}",
     "a not-applicable rule is written as {when: CONDITION, reason: TEXT} (the rules decide) or {flag: BOOLEAN FACT, "
     "reason: TEXT FACT} (the evaluator declares it); this one has flag, reason, when"),
    ("indicators:\n", "derived:\n  - {name: budget.rate, label: 执行率, value: {divide: [{fact: budget.spent}, 1]}}\n"
                      "indicators:\n", "'divide' is not a field here; did you mean div?"),
    ("not_applicable: {treatment: rescale}", "not_applicable: {treatment: rescal}",
     "the treatment is one of rescale, redistribute; got 'rescal'; did you mean rescale?"),
])
def test_the_new_constructs_are_explained_through_their_most_likely_form(old, new, words):
    found = problems(replace(old, new))
    for message in found:
        assert_readable(message)
    assert any(words in m for m in found), found


def test_a_misspelt_survey_option_in_the_weights_is_named_with_the_options_and_the_closest_one():
    from .packs import METHODS_PACK

    with pytest.raises(PackError) as info:
        load_pack(METHODS_PACK.replace("somewhat: 0.4", "somewhta: 0.4"), "methods/pack.yaml", schema=pack_schema())
    found = [str(p) for p in info.value.problems]
    for message in found:
        assert_readable(message)
    assert any("'somewhta' is not an option of survey.s (its options: strongly, yes, somewhat, no); "
               "did you mean somewhat?" in m for m in found), found


@pytest.mark.parametrize("name", ["score", "deducted", "findings"])
def test_a_reason_reading_the_leafs_score_is_refused_at_load_since_reasons_are_written_before_it(name):
    # It once loaded, then every evaluation whose check fired failed with KeyError.
    text = replace('reason: "生态效益{effect.ecology}"', f'reason: "生态效益{{effect.ecology}}，得{{{name}}}分"')
    message = the_problem(text)
    assert f"leaf 'output.ecology': {{{name}}} is known only to the leaf's rationale" in message


def test_a_rationale_may_read_the_leafs_score():
    check = 'reason: "生态效益{effect.ecology}"}'
    text = replace(check, check + '\n        rationale: {zh: "{findings}，扣{deducted}分，得{score}分"}')
    leaf = next(node for node in load_pack(text, PACK_FILE, schema=pack_schema()).leaves() if node.id == "output.ecology")
    assert leaf.rationale.zh == "{findings}，扣{deducted}分，得{score}分"
