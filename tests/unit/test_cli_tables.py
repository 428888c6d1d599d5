"""The CLI's tables in a 120-column terminal: `score`, `rescore`, `pack show`, `pack diff`.

Each is rendered by rich with the console's width set to 120, from the bundled 2019
facts and packs, and checked line by line: nothing wider than 120 cells, no number split
across lines, no line starting with closing punctuation, names keeping their tree indent.
"""

from __future__ import annotations

import os
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from jixiao.core.pack.diff import diff_packs
from jixiao.core.pack.yaml12 import parse_yaml
from jixiao.packs import BUNDLED_PACKS
from jixiao_cli.diff_view import render_diff
from jixiao_cli.grades import evaluation_grade_names, named
from jixiao_cli.local import LocalJixiao
from jixiao_cli.pack_folder import read_pack
from jixiao_cli.pack_view import render_pack
from jixiao_cli.rescore_view import render_rescore
from jixiao_cli.score_table import render_score_table
from jixiao_cli.wrapping import units, wrap

PACK_ID = "quality-district-funding"
WIDTH = 120
CLOSING = "。，、；：）」』》？！"
NUMBER = re.compile(r"\d[\d,.]*\d|\d")


@pytest.fixture(scope="module")
def service():
    with LocalJixiao.from_folder(BUNDLED_PACKS) as local:
        yield local


@pytest.fixture(scope="module")
def facts() -> dict:
    case, _lines = parse_yaml((BUNDLED_PACKS / PACK_ID / "1.0.0" / "cases" / "2019.yaml").read_text("utf-8"))
    return case["facts"]


def rendered(renderable, width: int = WIDTH) -> list[str]:
    console = Console(width=width, record=True, color_system=None, file=open(os.devnull, "w"))
    console.print(renderable)
    return console.export_text().splitlines()


def cells(line: str) -> list[str]:
    return line.strip().strip("│").split("│") if line.startswith("│") else []


def check_lines(renderable) -> list[str]:
    """The table at 120 columns: no line too wide, no cell's line starting with closing
    punctuation, and every number on a line a whole number of the table (as printed
    unwrapped, 1000 columns wide); returns the lines."""
    lines = rendered(renderable)
    whole = {number for line in rendered(renderable, 1000) for number in NUMBER.findall(line)}
    assert max(cell_len(line) for line in lines) <= WIDTH
    for line in lines:
        for cell in cells(line):
            assert not cell.strip() or cell.strip()[0] not in CLOSING, line
        for number in NUMBER.findall(line):
            assert number in whole, (number, line)
    return lines


def check_indent(rows: list[list[str]]) -> int:
    """Every continuation of a name (a line with nothing in column 1) starts at its first
    line's indent; returns how many continuations there were."""
    indent = None
    continued = 0
    for row in rows:
        name = row[0][1:]  # the cell's padding off
        if row[1].strip():
            indent = len(name) - len(name.lstrip(" "))
        elif name.strip():
            assert len(name) - len(name.lstrip(" ")) == indent, row
            continued += 1
    return continued


def test_score_table_in_120_columns_wraps_reasons_between_numbers_and_keeps_the_tree_indent(service, facts):
    evaluation = service.evaluate(PACK_ID, facts, version="1.0.0", language="zh")
    lines = check_lines(render_score_table(evaluation, "zh"))
    text = "".join(cells(line)[4].strip() for line in lines if len(cells(line)) == 5)
    for number in ("500,000.00", "398,761.00", "79.75%"):
        assert number in text
    assert check_indent([cells(line) for line in lines if len(cells(line)) == 5]) > 0


def test_score_table_reasons_are_whole_numbers_on_each_line(service, facts):
    evaluation = service.evaluate(PACK_ID, facts, version="1.0.0", language="zh")
    lines = rendered(render_score_table(evaluation, "zh"))
    reason_lines = [cells(line)[4].strip() for line in lines if len(cells(line)) == 5]
    for line in reason_lines:
        for number in NUMBER.findall(line):
            assert number in ("500,000.00", "398,761.00", "79.75", "2019", "0.61", "2.39") or \
                "".join(reason_lines).count(number)  # every number read on a line is in the text whole
    joined = "".join(reason_lines)
    assert "500,000.00元" in joined and "2019年度" in joined
    assert not any(line.startswith("。") for line in reason_lines)


def test_rescore_in_120_columns_gives_names_room_and_keeps_their_indent(service, facts):
    old, new = (service.evaluate(PACK_ID, facts, version=v, language="zh") for v in ("1.0.0", "1.1.0"))
    lines = check_lines(render_rescore(old, new, "zh"))
    rows = [cells(line) for line in lines if len(cells(line)) == 7]
    name_width = cell_len(rows[0][0])
    assert name_width >= 24  # the table gave the names 12 cells
    body = rows[:next(index for index, row in enumerate(rows) if row[0].strip() == "合计")]
    assert check_indent(body) > 0
    ids = [row[1].strip() for row in rows if row[1].strip()]
    assert "benefit.social.industry_upgrade" in ids  # ids never wrap


def test_pack_show_in_120_columns_breaks_fact_names_only_after_a_dot(service):
    pack = service.get_pack(PACK_ID, version="1.1.0")
    lines = check_lines(render_pack(pack, "zh"))
    facts = {fact.name for fact in pack.facts}
    parts = {part for name in facts for part in re.split(r"(?<=\.)", name)}
    for line in lines:
        row = cells(line)
        if len(row) == 5 and row[4].strip():
            assert row[4].strip() in facts or row[4].strip() in parts, row[4]


def test_pack_diff_in_120_columns_splits_no_identifier_mid_name():
    old = read_pack(BUNDLED_PACKS / PACK_ID / "1.0.0")
    new = read_pack(BUNDLED_PACKS / PACK_ID / "1.1.0")
    lines = check_lines(render_diff(diff_packs(old, new), "zh"))
    for line in lines:
        for cell in cells(line):
            # a piece of a fact or indicator name ends a line only at a dot, never mid-word
            assert not re.search(r"[a-z]_$", cell.rstrip()), cell


def test_english_grades_come_from_the_pack(service, facts):
    evaluation = service.evaluate(PACK_ID, facts, version="1.0.0", language="en")
    names = evaluation_grade_names(service, evaluation, "en")
    assert evaluation.grade == "fair"  # an English reply names the grade as the pack does
    assert named(evaluation.grade, names) == "fair"
    lines = rendered(render_score_table(evaluation, "en", names))
    assert "grade fair" in lines[0]


@pytest.mark.parametrize("text, unbroken", [
    ("预算500,000.00元，实际到位500,000.00元。", ["500,000.00", "元，", "元。"]),
    ("2019年度对获奖单位奖200,000.00元/家。", ["2019", "200,000.00"]),
    ("您认为“武昌区首义质量奖经费”项目（第六届）", ["“武", "费”", "（第", "届）"]),
])
def test_units_keep_numbers_whole_and_punctuation_with_its_neighbour(text, unbroken):
    pieces = [unit.text for unit in units(text)]
    for piece in unbroken:
        assert any(piece in unit for unit in pieces), pieces


@pytest.mark.parametrize("width", range(14, 40))
def test_wrap_never_starts_a_line_with_closing_punctuation_nor_splits_a_number(width):
    text = ("质量强区工作经费预算500,000.00元，实际到位500,000.00元，资金到位率100%。根据评分细则，"
            "得2分。2019年度（第六届）deduct 2 if rewards.award_amount < rewards.award_standard")
    lines = wrap(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert all(line[:1] not in CLOSING for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        for number in NUMBER.findall(line):
            assert number in ("500,000.00", "100", "2", "2019")


@pytest.mark.parametrize("language, expected", [
    ("zh", {"x.done": "默认 否", "x.checked": "默认 是", "x.note": "默认 （空）", "x.count": "默认 3",
            "x.title": '默认 "无"'}),
    ("en", {"x.done": "default no", "x.checked": "default yes", "x.note": "default (empty)",
            "x.count": "default 3", "x.title": 'default "无"'}),
])
def test_pack_show_gives_yes_no_and_empty_defaults_in_the_tables_language(language, expected):
    from google.protobuf import struct_pb2

    from jixiao.v1 import evaluation_pb2 as pb
    from jixiao_cli.pack_view import render_fact_table

    def fact(name, kind, **value):
        return pb.FactSpec(name=name, type=kind, label=name, default_value=struct_pb2.Value(**value))

    pack = pb.Pack(facts=[fact("x.done", pb.FACT_TYPE_BOOLEAN, bool_value=False),
                          fact("x.checked", pb.FACT_TYPE_BOOLEAN, bool_value=True),
                          fact("x.note", pb.FACT_TYPE_TEXT, string_value=""),
                          fact("x.count", pb.FACT_TYPE_INTEGER, number_value=3),
                          fact("x.title", pb.FACT_TYPE_TEXT, string_value="无")])
    rows = [[cell.strip() for cell in cells(line)] for line in rendered(render_fact_table(pack, language))]
    assert {row[0]: row[-1] for row in rows if row} == expected


def test_a_fact_needed_only_by_indicators_that_may_be_not_applicable_says_so_by_their_names() -> None:
    from jixiao.api.convert import pack_message
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir
    from jixiao_cli.pack_view import render_fact_table
    loaded = load_pack_dir(BUNDLED_PACKS / "project-expenditure-framework" / "1.0.0")
    try:
        message = pack_message(loaded.compiled)
    finally:
        loaded.compiled.close()
    zh = "".join(line.split("│")[-2].strip() for line in rendered(render_fact_table(message, "zh"), 200)
                 if line.startswith("│ benefit.ecology "))
    assert zh == "必填（仅当生态效益适用时）"
    lines = rendered(render_fact_table(message, "en"), 200)
    first = next(i for i, line in enumerate(lines) if line.startswith("│ cost.budget "))
    cell = " ".join(line.split("│")[-2].strip() for line in lines[first:first + 2])
    assert cell.startswith("required (only when Cost overrun rate applies)")
