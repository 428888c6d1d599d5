"""Hostile files at the CLI's boundaries: every one gets a clear error naming the file and
what is wrong (never a traceback), and nothing is half-written.

- JSONL that is not batch output, as `jixiao summary` (and a resumed `jixiao batch`) read
  it: nesting too deep for the JSON reader, numbers of thousands of digits, lone
  surrogates, NaN and Infinity, wrong types, duplicate keys, a line past the size limit,
  bytes that are not UTF-8;
- the summary workbook of rows whose texts hold control characters (an evaluator's
  observation may: the text_list fact accepts them) and formulas: written, never a formula;
- the batch workbook of projects whose key and observations are formulas, control
  characters, \\r line ends and 10,000 lines: no cell of any sheet is a formula;
- `jixiao report --out` naming a folder, a missing folder, a file as folder, a name too long;
- facts files nested too deeply (for the JSON reader, or for the request's protobuf
  Struct), holding a number of thousands of digits or half a UTF-16 pair.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao.core.evaluation.facts import lookup
from jixiao.core.pack.cases import load_case
from jixiao_cli import main
from jixiao_cli.batch_output import MAX_RECORD_CHARS, json_record, jsonl_records
from jixiao_cli.exit_codes import CliError
from jixiao_cli.fact_columns import fact_columns
from jixiao_cli.local import LocalJixiao
from jixiao_cli.portfolio.figures import summarize
from jixiao_cli.portfolio.rows import RowError, parse_row
from jixiao_cli.portfolio.workbook import write_workbook
from jixiao_cli.whole_files import write_whole

from tests.portfolio.demo import OUTLINE, record, rows

REPO = Path(__file__).resolve().parents[2]
FORMULA = '=HYPERLINK("http://evil.example/","click")'


def cell(value: object) -> str:
    """A fact as a CSV cell: booleans as Excel writes them, a list of texts one item a line."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, list):
        return "\n".join(value)
    return "" if value is None else str(value)


def good_line(key: str = "R1") -> str:
    return json.dumps(record(key, {"a.x": "1"}, "优", [("f_x", "问题", "A", False)]), ensure_ascii=False)


def spoiled(field: str, raw_json: str) -> str:
    """A good row whose `field` is replaced by `raw_json` written as it is (not a Python value)."""
    line = good_line()
    marker = '"__SPOILED__"'
    replaced = json.dumps({**json.loads(line), field: "__SPOILED__"}, ensure_ascii=False)
    assert marker in replaced
    return replaced.replace(marker, raw_json)


#: name → (line, words the refusal must hold)
HOSTILE_LINES = {
    "deep list": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "deep object": ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    "5,000-digit number": (spoiled("score", "1" + "0" * 5_000), "number too long"),
    "lone surrogate in the key": (spoiled("key", '"\\ud800x"'), "unpaired surrogate"),
    "lone surrogate in a finding": (good_line().replace('"问题"', '"\\udfff"'), "unpaired surrogate"),
    "NaN": (spoiled("score", "NaN"), "score"),
    "Infinity": (spoiled("score", "-Infinity"), "score"),
    "a list for an object": (spoiled("level1", "[1, 2]"), "level1"),
    "a number for a list": (spoiled("details", "7"), "details"),
    "a duplicate key, the last one bad": (good_line()[:-1] + ', "score": {}}', "score"),
    "an array": ("[1, 2, 3]", "not a row"),
    "null": ("null", "not a row"),
    "BOM": ("\ufeff" + good_line(), "not a row"),
    "not JSON": ("{'key': 1}", "not a row"),
    "longer than a row may be": ('{"key": "' + "x" * (MAX_RECORD_CHARS + 1) + '"}', "longer than"),
}


def refusal(line: str) -> str:
    """What reading `line` as the second line of scores.jsonl says, as `jixiao summary` (and
    a resumed `jixiao batch`) read it: the batch's reader, then the summary's row checks."""
    try:
        record = json_record("scores.jsonl:2", line + "\n")
        parse_row(record, 2)
    except (CliError, RowError) as error:
        return str(error)
    raise AssertionError("the line was read as a row")


@pytest.mark.parametrize("name", HOSTILE_LINES)
def test_a_hostile_jsonl_line_is_refused_saying_what_is_wrong(name: str) -> None:
    line, words = HOSTILE_LINES[name]
    message = refusal(line)
    assert words in message, message
    assert len(message) < 600  # the caller's text is not echoed whole


def test_a_jsonl_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scores.jsonl"
    path.write_bytes(good_line().encode() + b"\n\xff\xfe{}\n")
    with pytest.raises(CliError, match=r"scores.jsonl is not UTF-8"):
        list(jsonl_records(path))


def test_the_summary_command_says_a_deep_line_is_not_batch_output_and_writes_nothing(tmp_path: Path) -> None:
    scores, out = tmp_path / "scores.jsonl", tmp_path / "summary.xlsx"
    scores.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["summary", str(scores), "--local", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "scores.jsonl:1 is not a" in result.output and "nested too deeply" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.jsonl"]


def test_the_summary_workbook_holds_control_characters_and_formulas_as_text(tmp_path: Path) -> None:
    """An observation with control characters (accepted by the text_list fact, kept in the
    JSONL) once stopped the workbook with an internal error (openpyxl's IllegalCharacterError)."""
    observation = "x\x00y\x1bz\x0b" + FORMULA
    records = [record(FORMULA[:30], {"a.x": "1"}, "优", [("evaluation.observed_problems[0]", observation, "", True),
                                                       ("f_x", "=1+1", "A", False)])]
    path = tmp_path / "summary.xlsx"
    write_workbook(summarize(rows(records), OUTLINE), "zh", path)
    book = openpyxl.load_workbook(path)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    assert "x\ufffdy\ufffdz\ufffd" + FORMULA in texts and "=1+1" in texts and FORMULA[:30] in texts


# --- the batch workbook ----------------------------------------------------------------


def test_no_cell_of_the_batch_workbook_is_a_formula(tmp_path: Path) -> None:
    """Keys and observations that are formulas, control characters, \\r line ends, a cell of
    10,000 lines (refused: more texts than the fact may have) and a text one character too
    long (refused): every sheet read back, no cell a formula, the texts kept."""
    case = REPO / "rules" / "quality-district-funding" / "1.0.1" / "cases" / "2019.yaml"
    facts = load_case(case.read_text(encoding="utf-8"), str(case)).facts
    with LocalJixiao.from_folder() as service:
        columns = fact_columns(service.get_pack("quality-district-funding", "1.0.1"))
    names = [column.name for column in columns]
    base = {name: cell(lookup(facts, name)) for name in names}
    observations = [FORMULA, "=1+1\r\n@SUM(A1)\r+2+3\n-4", "a\rb\rc", "x\x00y\x1bz",
                    "\n".join(f"=行{n}" for n in range(10_000)), "=" + "x" * 5_000]
    keys = [FORMULA, "=1+1", "@SUM(A1)", "+1", "-1", "k\u202e"]
    table = []
    for key, observation in zip(keys, observations):
        cells = dict(base, **{"evaluation.observed_problems": observation,
                              "evaluation.observed_recommendations": observation, "project.name": FORMULA})
        table.append([key, *(cells[name] for name in names)])
    source = tmp_path / "projects.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["key", *names], *table])
    out = tmp_path / "scores.xlsx"
    result = CliRunner().invoke(main.cli, ["batch", str(source), "--pack", "quality-district-funding", "--version",
                                           "1.0.1", "--out", str(out), "--local"])
    assert result.exit_code == 1, result.output  # two rows refused
    book = openpyxl.load_workbook(out)
    cells = [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if cell.value is not None]
    assert not [f"{title}!{cell.coordinate}" for title, cell in cells if cell.data_type == "f"]
    texts = {cell.value for _title, cell in cells if isinstance(cell.value, str)}
    assert {FORMULA, "=1+1", "@SUM(A1)"} <= texts
    errors_sheet = book.worksheets[3]
    assert [row[1] for row in errors_sheet.iter_rows(min_row=2, values_only=True)] == keys[4:]


# --- jixiao report --out -----------------------------------------------------------------


@pytest.fixture
def facts_file(tmp_path: Path) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"project": {"name": "x"}}), encoding="utf-8")
    return path


def report(facts: Path, out: str) -> object:
    return CliRunner().invoke(main.cli, ["report", str(facts), "--pack", "quality-district-funding", "--local",
                                         "--out", out])


@pytest.mark.parametrize("out, words", [
    ("folder.md", "is a directory"),
    ("missing/r.md", "the folder"),
    ("facts.json/r.md", "is not a folder"),
    ("r.txt", "its suffix chooses the report's format"),
    ("r.md.", "its suffix chooses the report's format"),
])
def test_report_out_that_cannot_be_a_report_file_is_a_clear_error_before_any_work(
        tmp_path: Path, facts_file: Path, out: str, words: str) -> None:
    (tmp_path / "folder.md").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = report(facts_file, str(tmp_path / out))
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list((tmp_path / "folder.md").iterdir())


def test_a_report_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    """A name too long for the file system, and a rename over a folder: CliError naming the
    file, no temporary file left, the folder as it was."""
    with pytest.raises(CliError, match="cannot write the report .*: File name too long"):
        write_whole(tmp_path / ("n" * 300 + ".md"), [b"# report"], "the report ")
    (tmp_path / "taken.md").mkdir()
    with pytest.raises(CliError, match="cannot write the report .*taken.md"):
        write_whole(tmp_path / "taken.md", [b"# report"], "the report ")
    assert [p.name for p in tmp_path.iterdir()] == ["taken.md"]
    assert not os.listdir(tmp_path / "taken.md")


# --- facts files (jixiao score, report, rescore) ------------------------------------------


@pytest.mark.parametrize("text, words", [
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid JSON: nested too deeply"),
    ('{"budget": {"spent": 1' + "0" * 5_000 + "}}", "a number too long to read"),
    # Deep enough for the JSON reader, too deep for the request's protobuf Struct (its
    # building failed with "DecodeError: ... Exceeded upb_DecodeOptions_MaxDepth").
    ('{"a": ' + "[" * 60 + "]" * 60 + "}", "nested more than 32 levels deep"),
    ('{"a": ' + "[" * 960 + "]" * 960 + "}", "nested"),  # the JSON reader's limit or ours, by the stack left
    # A JSON escape of half a UTF-16 pair (was UnicodeEncodeError building the request).
    ('{"evaluation": {"observed_problems": ["ok \\ud800"]}}', "evaluation.observed_problems[0] holds an unpaired"),
    ('{"\\udfffkey": 1}', "a key under the top level holds an unpaired surrogate"),
])
def test_a_facts_file_too_deep_with_a_number_too_long_or_a_lone_surrogate_is_a_clear_error(tmp_path: Path, text: str,
                                                                           words: str) -> None:
    """Once an internal error (RecursionError, ValueError, DecodeError, UnicodeEncodeError) from
    jixiao report and score."""
    facts = tmp_path / "facts.json"
    facts.write_text(text, encoding="utf-8")
    result = report(facts, str(tmp_path / "r.md"))
    assert result.exit_code == 2, result.output
    assert words in result.output and "internal error" not in result.output, result.output
    assert len(result.output) < 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facts.json"]


def test_facts_nested_as_deep_as_the_limit_are_read(tmp_path: Path) -> None:
    from jixiao_cli.facts_file import MAX_DEPTH, read_facts

    facts = tmp_path / "facts.json"
    facts.write_text('{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}", encoding="utf-8")
    value = read_facts(facts)["a"]
    for _level in range(MAX_DEPTH - 2):
        (value,) = value
    assert value == []


def test_a_long_name_the_file_system_takes_is_written(tmp_path: Path) -> None:
    """A name of 243 bytes is legal; its temporary file's name (once the name with a dot before
    and a random part and .tmp after) was not, so the report could not be written."""
    target = tmp_path / ("n" * 240 + ".md")
    write_whole(target, [b"# report"], "the report ")
    assert [p.name for p in tmp_path.iterdir()] == [target.name] and target.read_bytes() == b"# report"


@pytest.mark.parametrize("suffix, errors, beside", [(".xlsx", "e.jsonl", "the journal the workbook is built from"),
                                                    (".jsonl", None, "the errors file")])
def test_a_batch_output_name_too_long_for_the_files_beside_it_is_refused_before_any_work(
        tmp_path: Path, suffix: str, errors: str | None, beside: str) -> None:
    """An --out name the file system takes, but whose errors file (NAME.errors.jsonl) or
    workbook journal (STEM.journal.jsonl) it does not: refused up front (it was an internal
    'File name too long' once the rows were scored), and nothing is written."""
    source = tmp_path / "projects.csv"
    source.write_text("key,budget.spent\nk1,1\n", encoding="utf-8")
    out = tmp_path / ("r" * (250 - len(suffix)) + suffix)
    errors_option = ["--errors", str(tmp_path / errors)] if errors else []
    result = CliRunner().invoke(main.cli, ["batch", str(source), "--pack", "quality-district-funding",
                                           "--out", str(out), "--local", *errors_option])
    assert result.exit_code == 2, result.output
    assert f"cannot write {beside} " in result.output and "more than the 255 its folder's file system takes" \
        in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["projects.csv"]
