"""The .xlsx output of `jixiao batch`, read back with openpyxl: the scores sheet headed as
the template is (names, then ids), a row per project and leaf in 说明, a row per finding
and recommendation in 问题与建议, the failed rows in 错误; resuming a finished workbook
builds the workbook an uninterrupted run builds; every output yields its rows as records."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from jixiao_cli.batch_outcomes import RowFailure, RowScore, row_score, score_record
from jixiao_cli.batch_output import ScoreColumns, default_errors_path, open_score_file
from jixiao_cli.batch_workbook import RECORD_CHUNK, RECORDS_SHEET, write_workbook
from jixiao_cli.exit_codes import CliError

from .batch_rows import evaluation_2019, not_applicable, pack_2019, with_findings, with_leaf

PACK = pack_2019()
LEAVES = 28


def rows(count: int) -> list[RowScore]:
    """`count` scored rows k0, k1 ...: k0 the 2019 facts with findings, k1 with a leaf not
    applicable, the others with other amounts spent."""
    made = []
    for index in range(count):
        evaluation = evaluation_2019(spent=None if index < 2 else f"{300000 + index * 1000}.00")
        if index == 0:
            evaluation = with_findings(evaluation)
        if index == 1:
            evaluation = not_applicable(evaluation)
        made.append(row_score(f"k{index}", index + 3, evaluation))
    return made


def sheet_values(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()


def write_output(path: Path, scores: list[RowScore], failures: list[RowFailure] = (), language: str = "zh") -> None:
    output = open_score_file(path, PACK, language)
    for score in scores:
        output.write(score)
    for failure in failures:
        output.fail(failure)
    output.finish()
    output.close()


FAILURES = [RowFailure("bad", 9, "invalid facts: budget.spent: expected a decimal number such as 1234.56, got '不详'"),
            RowFailure("", 4, "no key: the key column A is empty")]


def test_the_workbook_explains_every_project_leaf_by_leaf_and_lists_the_failed_rows(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_output(path, rows(3), FAILURES)

    sheets = sheet_values(path)
    assert list(sheets) == ["评分", "说明", "问题与建议", "错误", RECORDS_SHEET]
    scores = sheets["评分"]
    assert scores[0][:6] == ("编号", "版本", "摘要", "总分", "等级", "决策")  # names first, as in the template
    assert scores[1][:6] == ("key", "version", "digest", "total", "grade", "decision")
    assert [row[0] for row in scores[2:]] == ["k0", "k1", "k2"] and scores[2][3] == 75.03

    details = sheets["说明"]
    assert details[0] == ("编号", "一级指标", "指标", "标准分值", "得分", "扣分", "扣分原因", "评分说明", "不适用")
    assert len(details) == 1 + 3 * LEAVES
    by_leaf = {(row[0], row[2]): row + (None,) * (9 - len(row)) for row in details[1:]}  # empty cells: none
    execution = by_leaf[("k0", "预算执行率")]
    assert execution[1] == "过程" and execution[3:6] == (3, 2.39, 0.61)
    assert execution[6] == "预算执行率79.75%，未达100%（扣0.61分）"
    assert execution[7].endswith("根据评分细则，扣0.61分，得2.39分。") and execution[8] is None
    organisation = by_leaf[("k0", "制度执行有效性")]
    assert organisation[6].split("\n") == ["资料评审结果由强区办反馈企业的档案资料无相关档案（扣1分）",
                                           "职能及街道推荐意见未见（扣0.5分）", "强区办资格审查意见未见（扣0.5分）",
                                           "强区办无申报资料签收表（扣0.5分）"]
    assert by_leaf[("k1", "资金到位率")][3:] == (0, 0, 0, None, None, "是：资金一次性拨付，不考核到位率")
    assert by_leaf[("k1", "预算执行率")][3] == 5  # scored on the weight redistributed to it

    findings = sheets["问题与建议"]
    assert findings[0] == ("编号", "类别", "序号", "内容", "所属维度", "来源规则")
    assert findings[1:] == [
        ("k0", "存在的问题", 1, "未申报预算绩效指标，绩效目标不明确", "决策",
         "decision.targets.reasonableness#specific_indicators\ndecision.targets.clarity#declaration_form"),
        ("k0", "存在的问题", 2, "奖金过少、奖励面过窄", "评价人员", "evaluation.observed_problems[0]"),
        ("k0", "有关建议", 1, "强化绩效管理理念，按要求申报绩效目标", "决策",
         "decision.targets.reasonableness#specific_indicators")]

    assert sheets["错误"] == [("行号", "编号", "错误信息"), (4, None, FAILURES[1].message),
                              (9, "bad", FAILURES[0].message)]  # in row order
    book = openpyxl.load_workbook(path)
    assert book[RECORDS_SHEET].sheet_state == "hidden"
    assert round(book["说明"].column_dimensions["H"].width) in (80, 81) and book["说明"]["H2"].alignment.wrap_text
    assert book["评分"].freeze_panes == "B3"
    assert not (tmp_path / "results.journal.jsonl").exists()


def test_an_english_workbook_names_its_sheets_and_headings_in_english(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_output(path, [row_score("k0", 2, with_findings(evaluation_2019(language="en")))], FAILURES, "en")

    sheets = sheet_values(path)
    assert list(sheets) == ["Scores", "Details", "Findings", "Errors", RECORDS_SHEET]
    assert sheets["Details"][0] == ("Key", "Dimension", "Indicator", "Weight", "Score", "Deducted", "Deductions",
                                    "Rationale", "Not applicable")
    assert sheets["Findings"][1][1:3] == ("Finding", 1) and sheets["Findings"][3][1] == "Recommendation"
    assert sheets["Errors"][0] == ("Row", "Key", "Message")
    assert sheets["Scores"][0][:5] == ("Key", "Version", "Digest", "Total", "Grade")
    assert sheets["Scores"][1][:5] == ("key", "version", "digest", "total", "grade")


def test_resuming_a_finished_workbook_builds_the_workbook_one_run_builds(tmp_path: Path) -> None:
    scored = rows(5)
    whole = tmp_path / "whole.xlsx"
    write_output(whole, scored, FAILURES)
    resumed = tmp_path / "resumed.xlsx"
    write_output(resumed, scored[:3], [RowFailure("k3", 6, "the server ended the stream without answering")])

    again = open_score_file(resumed, PACK, "zh")  # reads the workbook back into a journal
    assert again.done == {"k0", "k1", "k2"}
    assert list(again.records()) == [score_record(score) for score in scored[:3]]
    for score in scored[3:]:
        again.write(score)
    for failure in FAILURES:
        again.fail(failure)
    again.finish()
    again.close()

    assert sheet_values(resumed) == sheet_values(whole)
    assert list(open_score_file(resumed, PACK, "zh").records()) == [score_record(score) for score in scored]


def test_a_record_longer_than_a_cell_holds_is_split_and_joined_back(tmp_path: Path) -> None:
    long_text = "评价说明" * (RECORD_CHUNK // 2)  # two cells' worth in one rationale
    row = row_score("long", 2, with_leaf(evaluation_2019(), "process.funds.execution", rationale=long_text))
    path = tmp_path / "results.xlsx"
    write_output(path, [row])

    kept = sheet_values(path)[RECORDS_SHEET][1]
    assert len([cell for cell in kept if cell]) == 3
    assert list(open_score_file(path, PACK, "zh").records()) == [score_record(row)]


def test_control_characters_are_replaced_in_the_sheets_and_kept_in_the_records(tmp_path: Path) -> None:
    row = row_score("k0", 2, with_leaf(evaluation_2019(), "process.funds.execution", rationale="甲\x01乙"))
    path = tmp_path / "results.xlsx"
    write_output(path, [row])

    assert any(cell == "甲\ufffd乙" for line in sheet_values(path)["说明"] for cell in line)
    [record] = open_score_file(path, PACK, "zh").records()
    assert next(d for d in record["details"] if d["id"] == "process.funds.execution")["rationale"] == "甲\x01乙"


def test_a_workbook_from_before_the_explanation_resumes_with_its_scores(tmp_path: Path) -> None:
    """Written as outputs were: ids in row 1, names in row 2, one sheet."""
    columns = ScoreColumns.of(PACK, "zh")
    old = openpyxl.Workbook()
    sheet = old.active
    sheet.append(columns.ids)
    sheet.append(columns.names)
    [score] = rows(1)
    sheet.append([float(cell) if position >= 3 and position != 4 else cell
                  for position, cell in enumerate(columns.cells(score))])
    path = tmp_path / "results.xlsx"
    old.save(path)

    resumed = open_score_file(path, PACK, "zh")
    assert resumed.done == {"k0"}
    [record] = resumed.records()
    assert record == score_record(replace(score, number=0, overrides=(), language="", total_weight="", rate="",
                                          dimensions=(), details=(), findings=(), recommendations=()))
    resumed.write(rows(3)[2])
    resumed.finish()
    resumed.close()
    sheets = sheet_values(path)
    assert [row[0] for row in sheets["评分"][2:]] == ["k0", "k2"]
    assert {row[0] for row in sheets["说明"][1:]} == {"k2"}  # the old row has no explanation to show


def test_a_workbook_of_another_pack_or_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_output(path, rows(1))
    other = type(PACK)()
    other.CopyFrom(PACK)
    other.digest = "0" * 64
    with pytest.raises(CliError, match=r"results.xlsx:3 was scored with quality-district-funding 1.0.0 "):
        open_score_file(path, other, "zh")
    del other.indicators[-1]
    with pytest.raises(CliError, match="has other columns than this batch writes"):
        open_score_file(path, other, "zh")


def test_an_edited_record_in_the_hidden_sheet_is_refused_naming_its_row(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_output(path, rows(2))
    book = openpyxl.load_workbook(path)
    record = json.loads(book[RECORDS_SHEET]["A3"].value)
    record["details"] = "none"
    book[RECORDS_SHEET]["A3"].value = json.dumps(record, ensure_ascii=False)
    book.save(path)

    with pytest.raises(CliError, match=r"\(sheet records, row 3\) is not a row of `jixiao batch` output "
                                       r"\(the row: 'details' is not a list\)"):
        open_score_file(path, PACK, "zh")


def test_a_project_deleted_from_the_scores_sheet_is_scored_again(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    write_output(path, rows(3))
    book = openpyxl.load_workbook(path)
    book["评分"].delete_rows(4)  # k1
    book.save(path)

    resumed = open_score_file(path, PACK, "zh")
    assert resumed.done == {"k0", "k2"}
    assert [record["key"] for record in resumed.records()] == ["k0", "k2"]
    resumed.close()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_every_output_yields_its_rows_as_records_while_running_and_when_finished(tmp_path: Path,
                                                                                  suffix: str) -> None:
    scored = rows(3)
    output = open_score_file(tmp_path / f"results{suffix}", PACK, "zh")
    assert list(output.records()) == []
    output.write(scored[0])
    output.write(scored[1])
    expected = [score_record(score) for score in scored]
    if suffix == ".csv":  # the scores alone
        expected = [score_record(RowScore(*(getattr(s, name) for name in ("key", "number", "pack", "version",
                                                                            "digest", "score", "grade", "level1",
                                                                            "leaves")))) for s in scored]
    assert list(output.records()) == expected[:2]
    output.write(scored[2])
    output.finish()
    output.close()
    assert list(output.records()) == expected
    assert list(open_score_file(tmp_path / f"results{suffix}", PACK, "zh").records()) == expected


def test_each_output_has_its_own_errors_file() -> None:
    assert default_errors_path(Path("out/results.csv")) == Path("out/results.csv.errors.jsonl")
    assert default_errors_path(Path("out/results.xlsx")) == Path("out/results.xlsx.errors.jsonl")
    assert default_errors_path(Path("results.jsonl")) == Path("results.jsonl.errors.jsonl")


def test_writing_leaves_no_file_but_the_workbook(tmp_path: Path) -> None:
    write_workbook(tmp_path / "only.xlsx", ScoreColumns.of(PACK, "zh"), rows(1), [])
    assert [path.name for path in tmp_path.iterdir()] == ["only.xlsx"]
    write_output(tmp_path / "results.xlsx", rows(1))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["only.xlsx", "results.xlsx"]


def test_a_jsonl_output_of_rows_without_the_explanation_resumes_and_keeps_them_as_they_are(tmp_path: Path) -> None:
    old, new = rows(2)
    legacy = {key: value for key, value in score_record(old).items()
              if key in ("key", "pack", "version", "digest", "score", "grade", "level1", "leaves")}
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(legacy, ensure_ascii=False) + "\n", encoding="utf-8")

    resumed = open_score_file(path, PACK, "zh")
    assert resumed.done == {"k0"}
    resumed.write(new)
    resumed.finish()
    resumed.close()

    assert list(resumed.records()) == [legacy, score_record(new)]
    assert path.read_text(encoding="utf-8").splitlines()[0] == json.dumps(legacy, ensure_ascii=False)


def test_a_line_too_long_to_be_a_row_is_refused_before_it_is_parsed(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "results.jsonl"
    write_output(path, rows(1))
    monkeypatch.setattr("jixiao_cli.batch_output.MAX_RECORD_CHARS", 1000)
    with pytest.raises(CliError, match=r"results.jsonl:1 is longer than 1,000 characters"):
        open_score_file(path, PACK, "zh")


def test_a_table_longer_than_a_sheet_goes_on_in_a_sheet_of_its_own_headed_as_the_first(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("jixiao_cli.batch_workbook.MAX_ROWS", 40)
    path = tmp_path / "results.xlsx"
    write_output(path, rows(2))

    sheets = sheet_values(path)
    assert list(sheets) == ["评分", "说明", "问题与建议", "错误", RECORDS_SHEET, "说明 (2)"]
    assert sheets["说明 (2)"][0] == sheets["说明"][0] and len(sheets["说明"]) == 40
    assert [row[:3] for row in sheets["说明"][1:] + sheets["说明 (2)"][1:]] == [
        (row.key, dimension, detail.name) for row in rows(2) for detail in row.details
        for dimension in [{d.id: d.name for d in row.dimensions}[detail.dimension]]]
    assert list(open_score_file(path, PACK, "zh").records()) == [score_record(row) for row in rows(2)]


def test_more_projects_than_a_sheet_has_rows_are_refused_and_stay_in_the_journal(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    monkeypatch.setattr("jixiao_cli.batch_workbook.MAX_ROWS", 3)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where XlsxWriter's row files go
    path = tmp_path / "out" / "results.xlsx"
    path.parent.mkdir()
    with pytest.raises(CliError, match=r"more projects than an .xlsx sheet has rows \(3\): write this batch to "
                                       r"a .jsonl output"):
        write_output(path, rows(2))
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.journal.jsonl"]  # nothing half-written
    assert len((path.parent / "results.journal.jsonl").read_text("utf-8").splitlines()) == 2
    assert list(scratch.iterdir()) == []
