"""A spreadsheet cell becomes a fact value of the column's type; headers find their column."""

from __future__ import annotations

import datetime

import pytest

from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.fact_columns import HeaderIndex, Percent, cell_value, fact_columns, put_fact

PACK = pb.Pack(facts=[
    pb.FactSpec(name="budget.spent", type=pb.FACT_TYPE_DECIMAL, label="实际使用资金", label_en="funds spent",
                unit="元", min="0"),
    pb.FactSpec(name="output.trainings_held", type=pb.FACT_TYPE_INTEGER, label="培训次数", unit="次"),
    pb.FactSpec(name="selection.publicity_done", type=pb.FACT_TYPE_BOOLEAN, label="进行了公示审批"),
    pb.FactSpec(name="project.name", type=pb.FACT_TYPE_TEXT, label="项目名称"),
    pb.FactSpec(name="survey.awareness", type=pb.FACT_TYPE_SURVEY, label="问卷：知晓率", unit="%", options=[
        pb.SurveyOption(key="familiar", label="了解", label_en="familiar"),
        pb.SurveyOption(key="unfamiliar", label="不了解")]),
    pb.FactSpec(name="survey.training", type=pb.FACT_TYPE_SURVEY, label="问卷：满意度", options=[
        pb.SurveyOption(key="satisfied", label="了解")]),
])
COLUMNS = {column.name: column for column in fact_columns(PACK)}


def test_a_survey_has_a_column_per_option_labelled_survey_dot_option() -> None:
    share = COLUMNS["survey.awareness.familiar"]
    assert (share.fact, share.kind, share.header()) == ("survey.awareness", "share", "问卷：知晓率.了解（%）")
    assert (share.minimum, share.maximum) == ("0", "100")
    assert list(COLUMNS) == ["budget.spent", "output.trainings_held", "selection.publicity_done",
                             "project.name", "survey.awareness.familiar", "survey.awareness.unfamiliar",
                             "survey.training.satisfied"]


@pytest.mark.parametrize("header", ["budget.spent", "实际使用资金", "实际使用资金（元）", "实际使用资金(元)",
                                    "funds spent", "funds spent (元)", " 实际使用资金 "])
def test_a_column_is_found_by_its_name_or_label_with_or_without_the_unit(header: str) -> None:
    assert HeaderIndex(COLUMNS.values()).find(header) is COLUMNS["budget.spent"]


def test_a_header_naming_nothing_finds_nothing() -> None:
    assert HeaderIndex(COLUMNS.values()).find("实际使用资金（万元）") is None


@pytest.mark.parametrize("raw, value", [
    ("398761.00", "398761.00"), ("398,761.00", "398761.00"), (398761, "398761"), (2.39, "2.39"),
    ("", None), ("  ", None), (None, None), ("abc", "abc"), (True, "True"),
])
def test_a_decimal_cell_becomes_its_text(raw: object, value: object) -> None:
    assert cell_value(COLUMNS["budget.spent"], raw) == value


@pytest.mark.parametrize("raw, value", [
    ("27.5", "27.5"), ("27.5%", "27.5"), (Percent(0.275), "27.500"), (27.5, "27.5"), ("120", "120"),
])
def test_a_share_is_a_percentage_however_it_is_written(raw: object, value: str) -> None:
    assert cell_value(COLUMNS["survey.awareness.familiar"], raw) == value


@pytest.mark.parametrize("raw, value", [("3", 3), (3.0, 3), ("3.0", 3), ("3.5", "3.5"), ("abc", "abc")])
def test_an_integer_cell_becomes_an_int_or_stays_text_for_the_engine_to_refuse(raw: object, value: object) -> None:
    assert cell_value(COLUMNS["output.trainings_held"], raw) == value


@pytest.mark.parametrize("raw, value", [
    ("TRUE", True), ("false", False), ("True", True), ("是", True), ("否", False), ("1", True), ("0", False),
    (True, True), (0, False), (1.0, True), ("maybe", "maybe"), ("2", "2"),
])
def test_a_boolean_cell_reads_excel_english_and_chinese_words(raw: object, value: object) -> None:
    assert cell_value(COLUMNS["selection.publicity_done"], raw) == value


@pytest.mark.parametrize("raw, value", [(" 质量强区 ", "质量强区"), (2019.0, "2019"),
                                        (datetime.date(2019, 12, 31), "2019-12-31")])
def test_a_text_cell_is_its_text(raw: object, value: str) -> None:
    assert cell_value(COLUMNS["project.name"], raw) == value


def test_values_nest_under_their_dotted_names() -> None:
    facts: dict = {}
    put_fact(facts, COLUMNS["budget.spent"], "1")
    put_fact(facts, COLUMNS["survey.awareness.familiar"], "27.5")
    put_fact(facts, COLUMNS["survey.awareness.unfamiliar"], "72.5")
    assert facts == {"budget": {"spent": "1"}, "survey": {"awareness": {"familiar": "27.5", "unfamiliar": "72.5"}}}


def test_a_label_two_facts_share_must_be_replaced_by_a_fact_name() -> None:
    twins = fact_columns(pb.Pack(facts=[pb.FactSpec(name="a.count", type=pb.FACT_TYPE_INTEGER, label="数量"),
                                        pb.FactSpec(name="b.count", type=pb.FACT_TYPE_INTEGER, label="数量")]))
    index = HeaderIndex(twins)
    with pytest.raises(ValueError, match=r"'数量' is the label of several facts \(a.count, b.count\)"):
        index.find("数量")
    assert index.find("b.count") is twins[1]
