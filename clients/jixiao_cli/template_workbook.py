"""The workbook `jixiao template` writes for evaluators to fill in, and `jixiao batch` reads.

Sheet 1 holds the data: row 1 the labels with their units, for people; row 2 the fact
names, the header `jixiao batch` reads; from row 3 one project a row, starting with an
example keyed 示例 (example), which `jixiao batch` never scores: an evaluator may leave
it in, or fill row 3 over it with a project's own key. Column A is the key (编号), then
a column per fact and per survey option in the order of the pack's fact schema (see
fact_columns). Cells check what they can as they are typed: a TRUE/FALSE list for
booleans, a list of its options' labels for a choice (好, 较好 ...; `jixiao batch` reads
a label or a code), whole or decimal numbers within the fact's bounds, shares from 0 to
100; a list of texts (an evaluator's observations) takes one item a line, as its
header's comment and its cells' prompt say. Sheet 2 explains each column.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any, Mapping

from google.protobuf import json_format
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.core.evaluation.facts import lookup
from jixiao.v1 import evaluation_pb2

from .batch_input import EXAMPLE_KEYS
from .fact_columns import BOOLEAN, CHOICE, DECIMAL, INTEGER, SHARE, TEXT, TEXT_LIST, FactColumn, fact_columns
from .pack_view import in_language, range_text
from .table_files import column_letter

FIRST_DATA_ROW = 3
LAST_CHECKED_ROW = 1_048_576  # the last row Excel has
UNBOUNDED = ("-999999999999", "999999999999")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
KEY_FILL = PatternFill("solid", fgColor="FCE4D6")
NAME_FONT = Font(color="808080", size=9)
EXAMPLE_FONT = Font(color="808080", italic=True)

WORDS = {
    "zh": {
        "data": "评价数据", "notes": "说明", "key": "编号", "example": EXAMPLE_KEYS["zh"],
        "kinds": {DECIMAL: "数字（可带小数）", INTEGER: "整数", BOOLEAN: "是/否：TRUE 或 FALSE",
                  TEXT: "文本", SHARE: "问卷选项占比，百分数 0–100", CHOICE: "从下拉列表中选择一项",
                  TEXT_LIST: "多条文本：每行一条（单元格内换行按 Alt+Enter），空行忽略"},
        "example_comment": "示例行：编号为“示例”的行不评分。参照填写后可删除，或改为项目编号作为该项目评分。",
        "key_kind": "每行唯一的项目编号",
        "headings": ("列", "事实名称", "标签", "类型", "单位", "范围", "必填/默认"),
        "required": "必填", "optional": "可空", "default": "默认 {value}", "unit": "单位：{unit}",
        "invalid": "输入无效", "expected": "应为{kind}{range}",
        "lines": [
            "{title}（{pack} {version}）批量评分模板",
            "第 1 行是标签，供人阅读；第 2 行是事实名称，jixiao batch 按第 2 行识别各列，请勿修改。",
            "从第 3 行起每行填写一个项目；A 列“编号”每行唯一，用于识别结果和续跑。",
            "是/否类填写 TRUE 或 FALSE（也接受 是/否、1/0）；问卷各选项填写占比的百分数（如 27.5），同一问卷各项之和不超过 100。",
            "空单元格表示未提供：有默认值的使用默认值，必填项为空时该行报错。",
            "第 3 行是示例（{example}）：编号为“示例”的行不评分，可参照填写后删除；改为项目编号即作为该项目评分。",
            "多条文本（如评价人员发现的问题）在一个单元格内每行填写一条（换行按 Alt+Enter），空行忽略。",
            "评分：jixiao batch 本文件.xlsx --pack {pack} --version {version} --out 结果.xlsx --local（或 --server 主机:端口）",
        ],
        "from_case": "数据取自黄金案例“{name}”", "from_defaults": "数据为各项的默认值或同类型的示意值",
    },
    "en": {
        "data": "data", "notes": "notes", "key": "key", "example": EXAMPLE_KEYS["en"],
        "kinds": {DECIMAL: "a number (decimals allowed)", INTEGER: "a whole number",
                  BOOLEAN: "yes/no: TRUE or FALSE", TEXT: "text", SHARE: "a survey option's share, percent 0–100",
                  CHOICE: "one of the options in the cell's list",
                  TEXT_LIST: "texts: one a line (a new line in the cell: Alt+Enter), blank lines ignored"},
        "example_comment": "The example row: a row keyed \"example\" is not scored. Delete it once you have "
                           "filled in your projects, or give it a project's key to score it as that project.",
        "key_kind": "the project's key, unique in the sheet",
        "headings": ("Column", "Fact", "Label", "Type", "Unit", "Range", "Required/default"),
        "required": "required", "optional": "may be empty", "default": "default {value}", "unit": "unit: {unit}",
        "invalid": "Invalid value", "expected": "Expected {kind}{range}",
        "lines": [
            "{title} ({pack} {version}): batch scoring template",
            "Row 1 holds labels for people; row 2 the fact names jixiao batch reads the columns by: keep it.",
            "From row 3 on, one project a row; column A (key) must be unique: results and resuming go by it.",
            "Yes/no facts take TRUE or FALSE (also 是/否, 1/0); survey options take their share in percent "
            "(27.5), a survey's shares adding up to 100 at most.",
            "An empty cell is a fact not given: its default is used, and a required one makes the row fail.",
            "Row 3 is an example ({example}): a row keyed \"example\" is not scored; delete it when done, or give "
            "it a project's key to score it as that project.",
            "Lists of texts (such as an evaluator's findings) take one item a line in the cell (Alt+Enter), "
            "blank lines ignored.",
            "Score it: jixiao batch THIS.xlsx --pack {pack} --version {version} --out results.xlsx --local "
            "(or --server HOST:PORT)",
        ],
        "from_case": "the facts of the golden case \"{name}\"",
        "from_defaults": "each fact's default, or a value of its type",
    },
}


def template_workbook(pack: evaluation_pb2.Pack, example: tuple[str, Mapping[str, Any]] | None,
                      language: str = "zh") -> Workbook:
    """The workbook for `pack`. `example` is a golden case's (name, facts) for row 3;
    without one, row 3 holds each fact's default or a value of its type."""
    words = WORDS[language]
    columns = fact_columns(pack)
    defaults = {fact.name: json_format.MessageToDict(fact.default_value)
                for fact in pack.facts if fact.default_value.WhichOneof("kind")}
    book = Workbook()
    data = book.active
    data.title = words["data"]
    _write_data_sheet(data, columns, words, language, example[1] if example else None, defaults)
    notes = book.create_sheet(words["notes"])
    source = words["from_case"].format(name=example[0]) if example else words["from_defaults"]
    _write_notes_sheet(notes, pack, columns, words, language, source, defaults)
    return book


def _write_data_sheet(sheet: Worksheet, columns: tuple[FactColumn, ...], words: dict, language: str,
                      example: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> None:
    sheet.append([words["key"], *(column.header(language) for column in columns)])
    sheet.append(["key", *(column.name for column in columns)])
    sheet.append([words["example"], *(_example_value(column, example, defaults, language) for column in columns)])
    marker = sheet.cell(FIRST_DATA_ROW, 1)
    marker.font = EXAMPLE_FONT
    marker.comment = Comment(words["example_comment"], "jixiao")
    sheet.freeze_panes = f"B{FIRST_DATA_ROW}"
    sheet.row_dimensions[1].height = 48
    for position, column in enumerate((None, *columns)):
        letter = column_letter(position)
        label, name = sheet.cell(1, position + 1), sheet.cell(2, position + 1)
        label.font = Font(bold=True)
        label.fill = KEY_FILL if column is None else HEADER_FILL
        label.alignment = Alignment(wrap_text=True, vertical="center")
        name.font = NAME_FONT
        sheet.column_dimensions[letter].width = _width(label.value, name.value)
        if column is not None and column.kind == TEXT_LIST:
            label.comment = Comment(words["kinds"][TEXT_LIST], "jixiao")
            sheet.cell(FIRST_DATA_ROW, position + 1).alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[letter].width = 40
        if column is not None and (check := _validation(column, words, language)) is not None:
            sheet.add_data_validation(check)
            check.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_CHECKED_ROW}")


#: The longest list Excel takes written out in a validation formula.
MAX_LIST_FORMULA = 255


def _validation(column: FactColumn, words: dict, language: str = "zh") -> DataValidation | None:
    kind = words["kinds"][column.kind]
    bounds = range_text(column.minimum, column.maximum)
    if column.kind == BOOLEAN:
        check = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
    elif column.kind == CHOICE:
        labels = column.option_labels(language)
        bounds = " / ".join(labels)
        listed = '"' + ",".join(labels) + '"'
        if len(listed) > MAX_LIST_FORMULA or any("," in label or '"' in label for label in labels):
            return None  # Excel cannot list them in the formula; sheet 2 does
        check = DataValidation(type="list", formula1=listed, allow_blank=True)
    elif column.kind in (INTEGER, DECIMAL, SHARE):
        low, high = column.minimum, column.maximum
        check_type = "whole" if column.kind == INTEGER else "decimal"
        if low and high:
            check = DataValidation(type=check_type, operator="between", formula1=low, formula2=high)
        elif low:
            check = DataValidation(type=check_type, operator="greaterThanOrEqual", formula1=low)
        elif high:
            check = DataValidation(type=check_type, operator="lessThanOrEqual", formula1=high)
        else:
            check = DataValidation(type=check_type, operator="between", formula1=UNBOUNDED[0],
                                   formula2=UNBOUNDED[1])
    elif column.kind == TEXT_LIST:
        check = DataValidation(allow_blank=True)  # any text: only the prompt, one item a line
    else:
        return None
    check.allow_blank = True
    check.showErrorMessage = check.showInputMessage = True
    check.errorTitle = words["invalid"]
    check.error = words["expected"].format(kind=kind, range=f" {bounds}" if bounds else "")[:255]
    check.promptTitle = column.name[:32]
    prompt = [kind, bounds, words["unit"].format(unit=column.unit) if column.unit else "",
              words["required"] if column.required else words["optional"]]
    check.prompt = ("; " if language == "en" else "；").join(part for part in prompt if part)[:255]
    return check


def _example_value(column: FactColumn, example: Mapping[str, Any] | None,
                   defaults: Mapping[str, Any], language: str = "zh") -> object:
    value = lookup(example, column.name) if example is not None else None
    expected = (list, tuple) if column.kind == TEXT_LIST else (str, int, float, bool, Decimal)
    if value is None or not isinstance(value, expected):
        value = _default(column, defaults)
    if value is None:
        return None
    if column.kind == BOOLEAN:
        return bool(value)
    if column.kind == CHOICE:
        return _option_label(column, str(value), language)
    if column.kind == TEXT:
        return str(value)
    if column.kind == TEXT_LIST:  # one item a line
        items = value if isinstance(value, (list, tuple)) else [value]
        return "\n".join(str(item) for item in items) or None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _default(column: FactColumn, defaults: Mapping[str, Any]) -> object:
    if column.fact in defaults:
        default = defaults[column.fact]
        return default.get(column.name.rsplit(".", 1)[-1]) if column.kind == SHARE else default
    if column.kind == BOOLEAN:
        return True
    if column.kind in (TEXT, TEXT_LIST):
        return ""
    if column.kind == CHOICE:
        return column.options[0][0] if column.options else None
    if column.kind == SHARE:
        return 0
    low, high = Decimal(column.minimum or 0), Decimal(column.maximum) if column.maximum else None
    value = max(low, Decimal(1))
    return min(value, high) if high is not None else value


def _write_notes_sheet(sheet: Worksheet, pack: evaluation_pb2.Pack, columns: tuple[FactColumn, ...],
                       words: dict, language: str, example_source: str, defaults: Mapping[str, Any]) -> None:
    title = in_language(pack.title, pack.title_en, language)
    for line in words["lines"]:
        sheet.append([line.format(title=title, pack=pack.id, version=pack.version, example=example_source)])
    sheet.cell(1, 1).font = Font(bold=True, size=12)
    sheet.append([])
    sheet.append(list(words["headings"]))
    heading_row = sheet.max_row
    for cell in sheet[heading_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    sheet.append(["A", "key", words["key"], words["key_kind"], "", "", words["required"]])
    for position, column in enumerate(columns, start=1):
        if column.required:
            presence = words["required"]
        elif column.fact in defaults and defaults[column.fact] != []:
            default = _default(column, defaults)
            if column.kind == CHOICE:
                default = _option_label(column, str(default), language)
            presence = words["default"].format(value=_default_text(default))
        else:
            presence = words["optional"]
        allowed = " / ".join(column.option_labels(language)) if column.kind == CHOICE \
            else range_text(column.minimum, column.maximum)
        sheet.append([column_letter(position), column.name, column.title(language), words["kinds"][column.kind],
                      column.unit, allowed, presence])
    for letter, width in zip("ABCDEFG", (6, 40, 50, 28, 6, 16, 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{heading_row + 1}"


def _option_label(column: FactColumn, code: str, language: str) -> str:
    """A choice's option as the workbook's list offers it: its label (a code it lacks stays as it is)."""
    for option_code, label in zip((o[0] for o in column.options), column.option_labels(language)):
        if code == option_code:
            return label
    return code


def _default_text(default: object) -> str:
    if isinstance(default, bool):
        return "TRUE" if default else "FALSE"
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return '""' if default == "" else str(default)


def _width(label: str, name: str) -> float:
    """Wide enough for the name on one line and the label on at most three."""
    return min(max(display_width(name) + 2, display_width(label) / 3 + 2, 10), 40)


def display_width(text: str) -> int:
    """How many columns `text` takes in a sheet: a CJK character two, others one."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text or "")
