"""The HTML report parsed back with BeautifulSoup: chapters in order, table cells equal to the
evaluation's, the chart inline as SVG with its text as paths, and caller texts escaped."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from jixiao.core.decimals import plain
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.report import render_report

from .hostile import HOSTILE_NAME, HOSTILE_PROBLEM, hostile_facts
from .test_docx import CHAPTERS_ZH


@pytest.fixture(scope="module")
def soup(reports_2019):
    return BeautifulSoup(reports_2019["html"].content.decode("utf-8"), "html.parser")


def rows(table) -> list[list[str]]:
    return [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]


def test_media_type_and_name(reports_2019):
    assert reports_2019["html"].media_type == "text/html; charset=utf-8"
    assert reports_2019["html"].file_name == "quality-district-funding-1.0.1-report.html"


def test_chapters_in_order(soup):
    assert soup.find("h1").get_text() == "质量强区工作经费绩效评价报告"
    assert [h.get_text() for h in soup.find_all("h2")] == CHAPTERS_ZH
    assert soup.html["lang"] == "zh"


def test_score_table_cells_are_the_evaluations(soup, evaluation_2019):
    table = rows(soup.find("table", class_="scores"))
    dims = evaluation_2019.indicators
    assert table[0] == ["项目"] + [d.name for d in dims] + ["合计"]
    assert table[1] == ["标准分值"] + [plain(d.weight) for d in dims] + ["100"]
    assert table[2] == ["实际得分", "11", "11.89", "26.9", "25.24", "75.03"]


def test_grouped_header_spans_its_leaves(soup):
    output = soup.find_all("table", class_="leaves")[2]
    first = output.find("tr").find_all("th")
    assert [(th.get_text(), th.get("colspan")) for th in first] == [
        ("项目", None), ("产出数量", "4"), ("产出质量", "2"), ("产出成本", None), ("产出时效", None)]
    assert first[0]["rowspan"] == "2"  # the corner covers the leaf names' row too
    second = output.find_all("tr")[1].find_all("th")
    assert len(second) == 8 and second[1].get_text() == "参评企业完成数量"


def test_findings_and_recommendations_in_order(soup, case_2019):
    for role in ("findings", "recommendations"):
        items = soup.find("ol", class_=role).find_all("li")
        expected = case_2019.expected[role]
        assert [li.get_text() for li in items] == [f"{i}、{t}" for i, t in enumerate(expected, start=1)]


def test_chart_is_inline_svg_with_text_as_paths(soup):
    figure = soup.find("figure", class_="chart")
    svg = figure.find("svg")
    assert svg is not None and svg.find_all("path")
    assert svg.find_all("text") == []  # glyphs drawn as paths: no font needed to view it
    assert figure.find("figcaption").get_text() == "一级指标得分率"
    assert "<?xml" not in str(soup) and "<!--" not in str(figure)


def test_annex_has_every_node(soup, evaluation_2019):
    annex = rows(soup.find("table", class_="annex"))
    assert [r[1] for r in annex[1:]] == [n.name for n in evaluation_2019.nodes()]
    strong = soup.find("table", class_="annex").find_all("tr", class_="strong")
    assert [tr.find_all("td")[1].get_text() for tr in strong] == ["决策", "过程", "产出", "效益"]


def test_caller_texts_are_escaped(loaded_pack, pack, facts_2019):
    facts = hostile_facts(facts_2019)
    evaluation = evaluate(loaded_pack.compiled, facts)
    html = render_report(pack, evaluation, facts, "html").content.decode("utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert page.find_all("script") == [] and page.find_all("img") == [] and page.find_all("b") == []
    assert "<script>" not in html
    basics = rows(page.find("table", class_="basics"))
    assert basics[1] == ["项目名称", "".join(line.strip() for line in HOSTILE_NAME.splitlines())]
    assert basics[2] == ["项目实施单位", "<b>单位</b>&amp;"]
    items = page.find("ol", class_="findings").find_all("li")
    assert items[-1].get_text() == f"{len(items)}、" + "".join(line.strip() for line in HOSTILE_PROBLEM.splitlines())
    assert len(items[-1].find_all("br")) == 1  # its newline kept as a line break, nothing else
