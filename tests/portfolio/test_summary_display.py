"""How the summary shows its figures: numbers with one rule per kind in the workbook and
the page, empty sections said as such, a finding worded differently by project shown as
one project's example, and its charts (whole-number axes of counts, long names wrapped
rather than cut), drawn by the report's chart helper."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
from bs4 import BeautifulSoup

from jixiao.report.chart import bar_chart
from jixiao_cli.portfolio import charts
from jixiao_cli.portfolio.figures import summarize
from jixiao_cli.portfolio.outline import Named, Outline
from jixiao_cli.portfolio.page import render_page
from jixiao_cli.portfolio.workbook import write_workbook
from .demo import OUTLINE, five_records, record, rows

TWO_PLACES = re.compile(r"-?[0-9]+\.[0-9]{2}")
WHOLE = re.compile(r"[0-9]+")


def book(records: list[dict], tmp_path: Path, language: str = "zh", outline: Outline = OUTLINE) -> openpyxl.Workbook:
    path = tmp_path / f"summary-{language}.xlsx"
    write_workbook(summarize(rows(records), outline), language, path)
    return openpyxl.load_workbook(path)


def page(records: list[dict], language: str = "zh") -> BeautifulSoup:
    return BeautifulSoup(render_page(summarize(rows(records), OUTLINE), language), "html.parser")


def with_points(records: list[dict]) -> list[dict]:
    """The five rows with their deductions written as a pack may write them: "3.0", "1.50"."""
    for row in records:
        for detail in row["details"]:
            if detail["deducted"] != "0":
                detail["deducted"] = f"{Decimal(detail['deducted']):.1f}"
    return records


# --- numbers ---------------------------------------------------------------------------


def test_the_page_shows_scores_points_rates_and_shares_with_two_places() -> None:
    soup = page(with_points(five_records()))
    for tr in soup.select("#indicators tr[data-id]"):
        cells = [td.get_text(" ", strip=True).split(" ")[0] for td in tr.find_all("td")]
        rank, _name, _dimension, lost, projects, applicable, mean = cells
        assert WHOLE.fullmatch(rank) and WHOLE.fullmatch(projects) and WHOLE.fullmatch(applicable), cells
        assert TWO_PLACES.fullmatch(lost) and TWO_PLACES.fullmatch(mean), cells
        for li in tr.select("details li"):
            assert TWO_PLACES.fullmatch(li.get_text().split(": ")[1]), li  # data-value keeps the row's own text
    for tr in soup.select("#dimensions tr[data-figure], #totals tr[data-figure]"):
        assert all(TWO_PLACES.fullmatch(td.get_text()) for td in tr.find_all("td")[1:]), tr
    for tr in soup.select("#grades tr[data-id], #findings tr[data-id]"):
        count, share = (td.get_text(" ", strip=True).split(" ")[0] for td in tr.find_all("td")[-2:])
        assert WHOLE.fullmatch(count) and TWO_PLACES.fullmatch(share), tr


def test_the_workbook_writes_numbers_as_numbers_shown_with_two_places(tmp_path: Path) -> None:
    workbook = book(with_points(five_records()), tmp_path)
    two_places = {"等级分布": {3}, "维度统计": {3, 4, 5, 6, 7}, "指标失分排名": {5, 8}, "常见问题": {7}}
    for name, columns in two_places.items():  # the other number columns are counts and ranks
        for row in workbook[name].iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, (int, float)):
                    expected = "0.00" if cell.column in columns else "General"
                    assert cell.number_format == expected, (name, cell.coordinate, cell.value)
                    assert expected == "0.00" or float(cell.value).is_integer()
    overview = list(workbook["概览"].iter_rows())
    statistics = [row for row in overview if row[1].value in ("得分", "得分率（%）")]
    assert len(statistics) == 2 and all(cell.number_format == "0.00" for row in statistics for cell in row[2:7])
    shares = [row[2] for row in overview if row[0].value in ("优", "良", "中", "差")]
    assert len(shares) == 4 and all(cell.number_format == "0.00" for cell in shares)
    sources = list(workbook["明细来源"].iter_rows(min_row=2))
    numbers = [cell for row in sources for cell in row if isinstance(cell.value, (int, float))]
    assert numbers and all(cell.number_format == "0.00" for cell in numbers)


# --- empty sections and repeated labels ------------------------------------------------------


def test_a_version_without_findings_says_none(tmp_path: Path) -> None:
    records = [record(key, {"a.x": "1"}, "优") for key in ("R1", "R2")]  # explained, findings []
    soup = page(records)
    assert soup.select_one("#findings table") is None
    assert soup.select_one("#no-findings").get_text() == "无"
    assert [row for row in book(records, tmp_path)["常见问题"].iter_rows(values_only=True)][1][0] == "无"
    assert page(records, "en").select_one("#no-findings").get_text() == "none"


def test_the_overview_names_each_statistics_row_once(tmp_path: Path) -> None:
    overview = list(book(five_records(), tmp_path)["概览"].iter_rows(values_only=True))
    statistics = [row[:2] for row in overview if row[1] in ("得分", "得分率（%）")]
    assert statistics == [("总体", "得分"), ("总体", "得分率（%）")]
    assert all(row[0] != row[1] for row in overview if row[0] is not None)
    english = list(book(five_records(), tmp_path, "en")["Overview"].iter_rows(values_only=True))
    assert [row[:2] for row in english if row[1] in ("Score", "Score rate (%)")] == [
        ("Overall", "Score"), ("Overall", "Score rate (%)")]


# --- findings worded differently by project --------------------------------------------------


def test_a_finding_worded_with_each_projects_figures_is_shown_as_one_projects_example(tmp_path: Path) -> None:
    # f_budget: R2 "预算执行率为79%", R3 "…85%", R5 "…50%"; f_targets is worded alike in every row
    soup = page(five_records())
    budget = soup.select_one('#findings tr[data-id="f_budget"] td:nth-of-type(2)').get_text()
    assert budget.startswith("例（R2）：预算执行率为79%（各项目表述不同，共 3 种）")
    targets = soup.select_one('#findings tr[data-id="f_targets"] td:nth-of-type(2)').get_text()
    assert targets.startswith("未设置绩效目标") and "例" not in targets
    english = page(five_records(), "en").select_one('#findings tr[data-id="f_budget"]').get_text()
    assert "e.g. (R2): 预算执行率为79% (worded differently by project: 3 wordings)" in english
    findings = {row[1]: row for row in book(five_records(), tmp_path)["常见问题"].iter_rows(values_only=True)}
    assert findings["f_budget"][4] == "例（R2）：预算执行率为79%（各项目表述不同，共 3 种）"
    assert findings["f_targets"][4] == "未设置绩效目标"


# --- charts -----------------------------------------------------------------------------------


def chart_texts(svg: bytes) -> list[str]:
    """The texts matplotlib draws (it copies each into a comment beside its glyphs)."""
    return [text.strip() for text in re.findall(r"<!--(.*?)-->", svg.decode("utf-8"), re.DOTALL)]


def test_the_grade_chart_counts_whole_projects() -> None:
    one = [record("R1", {"a.x": "1"}, "优"), record("R2", {"a.x": "1"}, "良"), record("R3", {}, "良")]
    for records in (one, five_records()):
        summary = summarize(rows(records), OUTLINE)
        numbers = [text for text in chart_texts(charts.grade_chart(summary, "zh", "svg"))
                   if re.fullmatch(r"[0-9.]+", text)]
        assert numbers and all(WHOLE.fullmatch(text) for text in numbers), numbers


LONG = "Periodic follow-up and dynamic management of awardees"


def test_long_indicator_names_wrap_onto_two_lines() -> None:
    assert charts.indicator_label("Budget execution rate") == "Budget execution rate"
    assert charts.indicator_label(LONG) == "Periodic follow-up and dynamic\nmanagement of awardees"
    assert charts.indicator_label("参加首义质量奖企业对该项目满意度") == "参加首义质量奖企业对该项目满意度"
    assert charts.indicator_label("推" * 30) == "推" * 17 + "\n" + "推" * 13
    assert charts.indicator_label("推" * 40) == "推" * 17 + "\n" + "推" * 16 + "…"  # past two lines: cut


def test_the_english_chart_shows_a_long_name_whole() -> None:
    outline = Outline(OUTLINE.pack, OUTLINE.title, OUTLINE.title_en, OUTLINE.grades, OUTLINE.dimensions,
                      (Named("a.x", "获奖组织定期回访及动态管理制度", LONG, "A"), *OUTLINE.leaves[1:]))
    summary = summarize(rows(five_records()), outline)
    texts = chart_texts(charts.indicator_chart(summary, "en", "svg"))
    assert "Periodic follow-up and dynamic" in texts and "management of awardees" in texts
    assert not any(text.endswith("…") for text in texts)


def test_the_charts_are_the_report_helpers() -> None:
    """The summary draws no chart of its own: its charts are bar_chart's, byte for byte."""
    summary = summarize(rows(five_records()), OUTLINE)
    losing = [loss for loss in summary.indicators if loss.total > 0]
    assert charts.indicator_chart(summary, "zh", "svg") == bar_chart(
        [loss.leaf.name for loss in losing], [loss.total for loss in losing], fmt="svg",
        title="失分最多的指标（前 3 个）", axis_label="累计失分", top=losing[0].total,
        value_labels=["9.00", "6.00", "3.00"], horizontal=True, wrap=charts.indicator_label, colour=charts.COLOUR)


def test_the_page_inlines_its_charts_as_the_report_does() -> None:
    """report.chart.inline_svg: no XML prologue and none of the comments in which matplotlib
    repeats each label's text (here one that tries to close a comment)."""
    records = five_records()
    records[0]["grade"] = "优"
    outline = Outline(OUTLINE.pack, OUTLINE.title, OUTLINE.title_en, OUTLINE.grades, OUTLINE.dimensions,
                      (Named("a.x", "--><img src=x onerror=alert(1)><!--", "", "A"), *OUTLINE.leaves[1:]))
    soup = BeautifulSoup(render_page(summarize(rows(records), outline), "zh"), "html.parser")
    assert soup.find("img") is None and "<!--" not in str(soup.select_one("#indicators figure"))
