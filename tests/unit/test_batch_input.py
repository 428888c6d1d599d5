"""Batch input rows: the template's example row is never scored, a key must be usable,
and a list-of-texts cell is one item a line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.batch_input import BatchInput, example_note
from jixiao_cli.fact_columns import TEXT_LIST, cell_value, fact_columns
from jixiao_cli.template_workbook import template_workbook

PACK = pb.Pack(id="demo", version="1.0.0", title="示例", facts=[
    pb.FactSpec(name="budget.spent", type=pb.FACT_TYPE_DECIMAL, label="支出", unit="元", required=True, min="0"),
    pb.FactSpec(name="evaluation.observed_problems", type=pb.FACT_TYPE_TEXT_LIST, label="评价人员发现的其他问题",
                label_en="other problems found"),
])


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def read(path: Path, done: set[str] = frozenset()) -> tuple[list, BatchInput]:
    with BatchInput(path, PACK, None, done) as rows:
        return list(rows), rows


@pytest.mark.parametrize("language, key", [("zh", "示例"), ("en", "example")])
def test_the_templates_example_row_left_in_is_not_scored_and_is_noted(tmp_path: Path, language: str,
                                                                      key: str) -> None:
    book = template_workbook(PACK, None, language)
    sheet = book.worksheets[0]
    assert sheet["A3"].value == key and sheet["A3"].comment is not None
    sheet.append(["p1", 100, "甲\n乙"])
    path = tmp_path / "filled.xlsx"
    book.save(path)

    rows, batch = read(path)

    assert [(row.number, row.key) for row in rows] == [(4, "p1")]
    assert rows[0].facts == {"budget": {"spent": "100"}, "evaluation": {"observed_problems": ["甲", "乙"]}}
    assert batch.examples == [(3, key)]
    assert example_note(batch.examples) == f"example row 3 ({key}) not scored"


def test_row_3_filled_over_the_example_with_a_projects_key_is_that_project(tmp_path: Path) -> None:
    book = template_workbook(PACK, None, "zh")
    book.worksheets[0]["A3"] = "p1"
    path = tmp_path / "filled.xlsx"
    book.save(path)

    rows, batch = read(path)

    assert [(row.number, row.key) for row in rows] == [(3, "p1")] and batch.examples == []


def test_example_rows_in_a_csv_are_skipped_too_but_a_jsonl_key_is_a_key(tmp_path: Path) -> None:
    table = write_csv(tmp_path / "rows.csv", [["key", "budget.spent"], ["示例", "1"], ["a", "2"], ["example", "3"],
                                              ["Example", "4"]])
    rows, batch = read(table)
    assert [row.key for row in rows] == ["a", "Example"]  # the markers are matched exactly
    assert example_note(batch.examples) == "2 example rows (2, 4) not scored"

    lines = tmp_path / "rows.jsonl"
    lines.write_text(json.dumps({"key": "示例", "facts": {"budget": {"spent": "1"}}}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    rows, batch = read(lines)
    assert [row.key for row in rows] == ["示例"] and batch.examples == []


@pytest.mark.parametrize("key, problem", [
    ("a\x07b", "the key is not usable: 'a\\\\x07b' contains control characters"),
    ("k" * 300, "the key is not usable: 300 characters, more than 256"),
], ids=["a control character", "too long"])
def test_a_key_that_cannot_key_a_row_fails_that_row(tmp_path: Path, key: str, problem: str) -> None:
    table = write_csv(tmp_path / "rows.csv", [["key", "budget.spent"], [key, "1"], ["good", "2"]])
    rows, _batch = read(table)
    assert [(row.key[:70], row.problem) for row in rows] == [(rows[0].key[:70], problem), ("good", "")]
    assert len(rows[0].key) <= 64 + len("… (300 characters)")  # the failure names it cut short

    lines = tmp_path / "rows.jsonl"
    lines.write_text(json.dumps({"key": key, "facts": {}}) + "\n", encoding="utf-8")
    [row], _batch = read(lines)
    assert row.problem == problem


@pytest.mark.parametrize("raw, items", [
    ("奖金过少、奖励面过窄\n\n  宣传不够  \n", ["奖金过少、奖励面过窄", "宣传不够"]),
    ("一条", ["一条"]), ("a\r\nb", ["a", "b"]), (2019, ["2019"]), ("\n \n", None), (None, None), ("", None),
])
def test_a_list_of_texts_cell_is_one_item_a_line_blank_lines_left_out(raw: object, items: list | None) -> None:
    [_spent, observations] = fact_columns(PACK)
    assert observations.kind == TEXT_LIST
    assert cell_value(observations, raw) == items
