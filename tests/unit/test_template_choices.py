"""`jixiao template`'s workbook offers a choice fact's options as an in-cell list of their
labels, and `jixiao batch` reads a label (or a code) back as the option's code."""

from __future__ import annotations

from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.fact_columns import CHOICE, cell_value, fact_columns
from jixiao_cli.template_workbook import template_workbook


def pack(*options: tuple[str, str, str]) -> pb.Pack:
    return pb.Pack(id="demo", version="1.0.0", title="示例", facts=[
        pb.FactSpec(name="effect.ecology", type=pb.FACT_TYPE_CHOICE, label="生态效益", label_en="ecological benefit",
                    required=True, options=[pb.SurveyOption(key=k, label=zh, label_en=en) for k, zh, en in options]),
        pb.FactSpec(name="budget.spent", type=pb.FACT_TYPE_DECIMAL, label="支出", required=True, min="0"),
    ])


GRADES = (("good", "好", "good"), ("fairly_good", "较好", "fairly good"), ("poor", "差", "poor"))


def lists(book) -> dict[str, str]:
    sheet = book.worksheets[0]
    return {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}


def test_the_data_sheet_lists_the_labels_in_the_workbooks_language_and_the_example_is_a_label() -> None:
    zh, en = template_workbook(pack(*GRADES), None, "zh"), template_workbook(pack(*GRADES), None, "en")
    assert lists(zh) == {"B3": '"好,较好,差"'}
    assert lists(en) == {"B3": '"good,fairly good,poor"'}
    assert zh.worksheets[0]["B3"].value == "好" and en.worksheets[0]["B3"].value == "good"
    notes = [row for row in zh.worksheets[1].iter_rows(values_only=True) if row and row[1] == "effect.ecology"]
    assert notes[0][3] == "从下拉列表中选择一项" and notes[0][5] == "好 / 较好 / 差"


def test_labels_excel_cannot_list_in_a_formula_get_no_list_but_stay_in_the_notes() -> None:
    book = template_workbook(pack(("a", "好，但有, 逗号", ""), ("b", "差", "")), None, "zh")
    assert lists(book) == {}
    notes = [row for row in book.worksheets[1].iter_rows(values_only=True) if row and row[1] == "effect.ecology"]
    assert notes[0][5] == "好，但有, 逗号 / 差"


def test_a_cell_holding_a_label_or_a_code_reads_as_the_code_and_anything_else_as_it_is() -> None:
    (column, _spent) = fact_columns(pack(*GRADES))
    assert column.kind == CHOICE
    assert [cell_value(column, raw) for raw in ("较好", "fairly good", "fairly_good", " 好 ", "很好", None)] == [
        "fairly_good", "fairly_good", "fairly_good", "good", "很好", None]
