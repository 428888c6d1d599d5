"""`jixiao template`'s workbook: labels then fact names, an example row marked as one, and
a list-of-texts column that says, in its header's comment and its cells' prompt, to put
one item a line."""

from __future__ import annotations

from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.template_workbook import template_workbook

PACK = pb.Pack(id="demo", version="1.0.0", title="示例", facts=[
    pb.FactSpec(name="budget.spent", type=pb.FACT_TYPE_DECIMAL, label="支出", unit="元", required=True, min="0"),
    pb.FactSpec(name="evaluation.observed_problems", type=pb.FACT_TYPE_TEXT_LIST, label="评价人员发现的其他问题",
                label_en="other problems found"),
])
EXAMPLE = {"budget": {"spent": "398761.00"},
           "evaluation": {"observed_problems": ["奖金过少、奖励面过窄", "宣传不够"]}}


def test_the_data_sheet_has_labels_then_names_then_the_example_keyed_as_one() -> None:
    sheet = template_workbook(PACK, ("2019", EXAMPLE), "zh").worksheets[0]
    assert [cell.value for cell in sheet[1]] == ["编号", "支出（元）", "评价人员发现的其他问题"]
    assert [cell.value for cell in sheet[2]] == ["key", "budget.spent", "evaluation.observed_problems"]
    assert sheet["A3"].value == "示例" and "不评分" in sheet["A3"].comment.text
    assert sheet["B3"].value == 398761


def test_a_list_of_texts_is_one_item_a_line_and_says_so() -> None:
    for language, words in (("zh", "每行一条"), ("en", "one a line")):
        book = template_workbook(PACK, ("2019", EXAMPLE), language)
        sheet = book.worksheets[0]
        assert sheet["C3"].value == "奖金过少、奖励面过窄\n宣传不够" and sheet["C3"].alignment.wrap_text
        assert words in sheet["C1"].comment.text
        [prompt] = [check for check in sheet.data_validations.dataValidation if str(check.sqref).startswith("C3")]
        assert prompt.type is None and words in prompt.prompt  # any text: only the prompt
        notes = [row for row in book.worksheets[1].iter_rows(values_only=True)
                 if row and row[1] == "evaluation.observed_problems"]
        assert words in notes[0][3]


def test_without_an_example_the_list_is_left_empty_and_may_stay_so() -> None:
    book = template_workbook(PACK, None, "zh")
    assert book.worksheets[0]["C3"].value is None
    notes = [row for row in book.worksheets[1].iter_rows(values_only=True)
             if row and row[1] == "evaluation.observed_problems"]
    assert notes[0][6] == "可空"


def test_a_cells_prompt_is_joined_in_its_own_languages_punctuation() -> None:
    prompts = {}
    for language in ("zh", "en"):
        sheet = template_workbook(PACK, ("2019", EXAMPLE), language).worksheets[0]
        [check] = [check for check in sheet.data_validations.dataValidation if str(check.sqref).startswith("B3")]
        prompts[language] = check.prompt
    assert "；" in prompts["zh"] and "; " not in prompts["zh"]
    assert "; " in prompts["en"] and "；" not in prompts["en"]
