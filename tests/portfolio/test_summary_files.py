"""The summary's workbook and page, read back: every sheet, the figures equal to what the
rows give when recomputed here, each figure's rows, the charts, and hostile text kept as
text."""

from __future__ import annotations

import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from bs4 import BeautifulSoup

from jixiao_cli.portfolio import charts
from jixiao_cli.portfolio.figures import summarize
from jixiao_cli.portfolio.page import render_page
from jixiao_cli.portfolio.workbook import write_workbook
from .demo import OUTLINE, five_records, record, rows

SHEETS_ZH = ["概览", "等级分布", "维度统计", "指标失分排名", "常见问题", "明细来源"]
SHEETS_EN = ["Overview", "Grades", "Dimensions", "Indicator losses", "Findings", "Sources"]
HOSTILE = '<script>alert("x")</script>=HYPERLINK("http://evil","click")'


def number(cell) -> Decimal:
    return Decimal(str(cell))


def written(records: list[dict], language: str, tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / f"summary-{language}.xlsx"
    write_workbook(summarize(rows(records), OUTLINE), language, path)
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def book_zh(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    return written(five_records(), "zh", tmp_path_factory.mktemp("summary"))


def table(sheet) -> list[tuple]:
    return [row for row in sheet.iter_rows(values_only=True)]


def test_the_workbook_has_every_sheet_and_its_figures_are_the_rows(book_zh: openpyxl.Workbook) -> None:
    records, book = five_records(), book_zh
    assert book.sheetnames == SHEETS_ZH

    grades = table(book["等级分布"])
    expected = Counter(r["grade"] for r in records)
    assert [(g, c, number(s)) for g, c, s, _ in grades[1:]] == [
        (g, expected[g], Decimal(expected[g] * 100) / len(records)) for g in ("优", "良", "中", "差")]

    losses = {row[2]: row for row in table(book["指标失分排名"])[1:]}
    for leaf in ("a.x", "a.y", "b.z"):
        deducted = [Decimal(d["deducted"]) for r in records for d in r["details"] if d["id"] == leaf]
        assert number(losses[leaf][4]) == sum(deducted)
        assert losses[leaf][5] == sum(1 for d in deducted if d > 0)
    assert [row[2] for row in table(book["指标失分排名"])[1:]] == ["b.z", "a.x", "a.y"]

    dimensions = {(row[0], row[1]): row for row in table(book["维度统计"])[1:]}
    scores_a = [Decimal(r["level1"]["A"]) for r in records]
    assert number(dimensions[("决策 (A)", "得分")][2]) == sum(scores_a) / len(scores_a)
    assert (dimensions[("决策 (A)", "得分")][4], dimensions[("决策 (A)", "得分")][5]) == (min(scores_a), max(scores_a))

    findings = {row[1]: row for row in table(book["常见问题"])[1:]}
    assert findings["f_targets"][5] == sum(any(f["id"] == "f_targets" for f in r["findings"]) for r in records)
    assert findings["f_targets"][3] == "决策"  # the dimension by its name


def test_the_sources_sheet_holds_each_rows_values_and_every_figure_names_its_column(
        book_zh: openpyxl.Workbook) -> None:
    records, book = five_records(), book_zh
    header, *lines = table(book["明细来源"])
    by_key = {line[0]: dict(zip(header, line)) for line in lines}
    assert list(by_key) == [r["key"] for r in records]
    for r in records:
        line = by_key[r["key"]]
        assert (line["等级"], number(line["总分"]), number(line["决策得分"])) == (
            r["grade"], Decimal(r["score"]), Decimal(r["level1"]["A"]))
        for detail in r["details"]:
            cell = line[f"{ {'a.x': '立项依据', 'a.y': '绩效目标', 'b.z': '产出数量'}[detail['id']]} ({detail['id']})失分"]
            if detail["not_applicable"]:
                assert cell == "不适用"
            else:
                assert (number(cell) if cell is not None else Decimal(0)) == Decimal(detail["deducted"])
    # each figure's 来源列 points at the column its numbers come from: recompute them there
    columns = {openpyxl.utils.get_column_letter(i + 1): [line[i] for line in lines] for i in range(len(header))}
    for grade, count, _share, where in table(book["等级分布"])[1:]:
        assert Counter(columns[where.split("!")[1]])[grade] == count
    for row in table(book["指标失分排名"])[1:]:
        values = [number(v) for v in columns[row[8].split("!")[1]] if isinstance(v, (int, float))]
        assert (sum(values), len(values)) == (number(row[4]), row[5])
    for row in table(book["常见问题"])[1:]:
        cells = columns[row[8].split("!")[1]]
        assert sum(row[1] in (cell or "").split("; ") for cell in cells) == row[5]


def test_english_sheets_and_labels(tmp_path: Path) -> None:
    book = written(five_records(), "en", tmp_path)
    assert book.sheetnames == SHEETS_EN
    assert [row[0] for row in table(book["Grades"])[1:]] == ["excellent", "good", "fair", "poor"]
    assert table(book["Overview"])[0][0] == "Demo framework: portfolio summary"


def test_the_charts_are_in_the_workbook(book_zh: openpyxl.Workbook) -> None:
    book = book_zh
    assert len(book["等级分布"]._images) == 1
    assert len(book["指标失分排名"]._images) == 1


def test_old_rows_leave_a_note_instead_of_the_figures_they_cannot_give(tmp_path: Path) -> None:
    book = written(five_records(explained=False), "zh", tmp_path)
    note = table(book["指标失分排名"])[0][0]
    assert note.startswith("指标失分排名：5 行没有 details 字段（首个：R1）")
    assert table(book["常见问题"])[0][0].startswith("常见问题：5 行没有 findings 字段")


def test_text_from_the_rows_never_becomes_a_formula(tmp_path: Path) -> None:
    records = [record("=1+1", {"a.x": "1"}, "优", [("f_evil", HOSTILE.split("</script>")[1], "A", False)])]
    book = written(records, "zh", tmp_path)
    finding = book["常见问题"]["E2"]
    assert (finding.value, finding.data_type) == (HOSTILE.split("</script>")[1], "s")
    key = book["明细来源"]["A2"]
    assert (key.value, key.data_type) == ("=1+1", "s")


# --- the page ------------------------------------------------------------------------


def page(records: list[dict], language: str = "zh") -> BeautifulSoup:
    return BeautifulSoup(render_page(summarize(rows(records), OUTLINE), language), "html.parser")


def details_keys(element) -> list[str]:
    return [li["data-key"] for li in element.find("details").find_all("li")]


def test_the_page_shows_each_figure_with_the_keys_behind_it() -> None:
    records = five_records()
    soup = page(records)
    grades = {tr["data-id"]: tr for tr in soup.select("#grades tr[data-id]")}
    assert [tr.find_all("td")[1].get_text() for tr in grades.values()] == ["2", "2", "0", "1"]
    assert details_keys(grades["优"]) == [r["key"] for r in records if r["grade"] == "优"]

    indicators = soup.select("#indicators tr[data-id]")
    assert [tr["data-id"] for tr in indicators] == ["b.z", "a.x", "a.y"]
    items = indicators[0].find("details").find_all("li")
    assert [(li["data-key"], li["data-value"]) for li in items] == [
        (r["key"], d["deducted"]) for r in records for d in r["details"] if d["id"] == "b.z" and d["deducted"] != "0"]

    score_a = soup.select_one('#dimensions tr[data-figure="A.score"]')
    assert [td.get_text() for td in score_a.find_all("td")[1:]] == ["7.40", "9.00", "3.00", "10.00", "2.58"]
    behind = score_a.find_next_sibling("tr")
    assert (behind.select_one("[data-min-keys]").get_text(), behind.select_one("[data-max-keys]").get_text()) == (
        "R5", "R4")
    values = behind.find_all("li")
    assert [(li["data-key"], li["data-value"]) for li in values] == [(r["key"], r["level1"]["A"]) for r in records]

    findings = soup.select("#findings tr[data-id]")
    assert details_keys(findings[0]) == ["R1", "R2", "R5"]
    assert len(soup.find_all("svg")) == 2
    assert "NotoSansCJKsc-Regular" in str(soup.select_one("#grades svg"))  # the labels' glyphs: the CJK font


def test_hostile_text_in_the_rows_stays_text() -> None:
    key = '"><img src=x onerror=alert(1)>'
    soup = page([record(key, {"a.x": "1"}, "优", [("f_evil", HOSTILE, "A", False)])])
    assert soup.find("script") is None and soup.find("img") is None
    assert HOSTILE in soup.select_one('#findings tr[data-id="f_evil"]').get_text()
    assert key in [li["data-key"] for li in soup.select("#grades li")]


def test_the_page_is_self_contained_and_byte_stable() -> None:
    records = five_records()
    first = render_page(summarize(rows(records), OUTLINE), "en")
    assert first == render_page(summarize(rows(records), OUTLINE), "en")
    soup = BeautifulSoup(first, "html.parser")
    assert not soup.find_all(["link", "script", "img", "iframe"])
    assert soup.find("h1").get_text() == "Demo framework: portfolio summary"


def test_old_rows_say_which_figures_the_page_lacks() -> None:
    soup = page(five_records(explained=False), "en")
    assert [li["data-figure"] for li in soup.select("#missing li")] == ["rates", "indicators", "findings"]
    assert soup.select("#indicators tr[data-id]") == []


# --- the charts' font ----------------------------------------------------------------


def test_the_charts_draw_every_chinese_label_with_the_cjk_font() -> None:
    summary = summarize(rows(five_records()), OUTLINE)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*Glyph .* missing")
        for fmt in ("png", "svg"):
            assert charts.grade_chart(summary, "zh", fmt)
            assert charts.indicator_chart(summary, "zh", fmt)


def test_without_the_cjk_font_the_glyph_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: drawn with DejaVu Sans alone, the Chinese labels are missing glyphs."""
    import jixiao.report.chart

    monkeypatch.setattr(jixiao.report.chart, "cjk_font_family", lambda: "DejaVu Sans")
    summary = summarize(rows(five_records()), OUTLINE)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*Glyph .* missing")
        with pytest.raises(UserWarning, match="missing"):
            charts.indicator_chart(summary, "zh", "png")




def test_several_versions_are_said_on_the_page_and_in_the_workbook(tmp_path: Path) -> None:
    records = five_records()
    records[4] = dict(records[4], version="1.0.1", digest="e" * 64)
    soup = page(records)
    assert soup.select_one("#several-versions").get_text() == "本汇总包含同一指标体系的 2 个版本的评分结果"
    assert [tr.find("td").get_text() for tr in soup.select("#versions tr")[1:]] == ["1.0.0", "1.0.1"]
    overview = table(written(records, "zh", tmp_path)["概览"])
    assert ("1.0.1", "e" * 64, 1) == overview[6][:3]
    assert overview[7][0] == "本汇总包含同一指标体系的 2 个版本的评分结果"
