"""The summary as an .xlsx workbook: 概览 (headline figures), 等级分布, 维度统计, 指标失分排名
and 常见问题, the charts as images, and 明细来源: a line per project with every value the
figures are computed from. Each figure names its column there (来源列), so it can be
recomputed from the rows. Sheet names and headings follow the language.

Scores, points, rates, shares and their statistics are numbers shown with two places
(NUMBER_FORMAT, as the batch's workbook shows its scores); counts are whole numbers."""

from __future__ import annotations

import io
from pathlib import Path

from .charts import grade_chart, indicator_chart
from .figures import Stats, Summary
from .labels import finding_wording, labels, missing_line
from .traceability import SourceTable, source_table

NUMBER_FORMAT = "0.00"


def write_workbook(summary: Summary, language: str, path: Path) -> None:
    """Write the workbook to `path` (the caller replaces the old file with it)."""
    from openpyxl import Workbook

    words = labels(language)
    table = source_table(summary, language)
    book = Workbook(write_only=True)
    sheets = _Sheets(book, words, table)
    sheets.overview(summary, language)
    sheets.grades(summary, language)
    sheets.dimensions(summary, language)
    sheets.indicators(summary, language)
    sheets.findings(summary, language)
    sheets.sources()
    book.save(path)


class _Sheets:
    def __init__(self, book, words: dict, table: SourceTable):
        self.book = book
        self.words = words
        self.table = table

    def column(self, *what: str) -> str:
        """Where a figure's values are: 明细来源!C."""
        from openpyxl.utils import get_column_letter

        return f"{self.words['sheet_sources']}!{get_column_letter(self.table.positions[what] + 1)}"

    def overview(self, summary: Summary, language: str) -> None:
        w = self.words
        sheet = self._sheet("sheet_overview", 30, 20, 14, 14, 14, 14, 18, 22)
        outline = summary.outline
        title = outline.title_en if language == "en" and outline.title_en else outline.title
        sheet.append(_bold(sheet, [w["title"].format(pack=title)]))
        sheet.append([w["pack"], outline.pack])
        sheet.append([w["projects"], summary.projects, None, None, None, None, None, self.column("key")])
        sheet.append([])
        sheet.append(_bold(sheet, [w["version"], w["digest"], w["rows"]]))
        for version in summary.versions:
            sheet.append([version.version, version.digest, version.count])
        if len(summary.versions) > 1:
            sheet.append([w["several_versions"].format(count=len(summary.versions))])
        sheet.append([])
        sheet.append(_bold(sheet, ["", w["figure"], w["mean"], w["median"], w["min"], w["max"], w["std"],
                                   w["source_column"]]))
        sheet.append(_stats_row(sheet, w["overall"], w["score"], summary.total, self.column("total", "score")))
        if summary.total_rate is not None:
            sheet.append(_stats_row(sheet, w["overall"], w["rate"], summary.total_rate,
                                    self.column("total", "rate")))
        sheet.append([])
        sheet.append(_bold(sheet, [w["grade"], w["count"], w["share"]]))
        for grade in summary.grades:
            sheet.append([grade.grade.called(language), grade.count, _number(sheet, grade.share)])
        sheet.append([])
        sheet.append(_bold(sheet, [w["overrides"], w["count"], w["source_column"]]))
        if summary.overrides is None:
            sheet.append([missing_line(summary, "overrides", w)])
        for override in summary.overrides or ():
            sheet.append([_text(sheet, override.id), override.count, self.column("overrides")])
        if summary.overrides == ():
            sheet.append([w["none"]])
        sheet.append([])
        sheet.append(_bold(sheet, [w["not_applicable"], w["count"], w["source_column"]]))
        names = {leaf.id: leaf.called(language) for leaf in outline.leaves}
        if summary.not_applicable is None:
            sheet.append([missing_line(summary, "not_applicable", w)])
        for leaf in summary.not_applicable or ():
            sheet.append([f"{names[leaf.id]} ({leaf.id})", leaf.count, self.column("not_applicable")])
        if summary.not_applicable == ():
            sheet.append([w["none"]])
        if summary.missing:
            sheet.append([])
            sheet.append(_bold(sheet, [w["missing"]]))
            for missing in summary.missing:
                sheet.append([missing_line(summary, missing.figure, w)])

    def grades(self, summary: Summary, language: str) -> None:
        w = self.words
        sheet = self._sheet("sheet_grades", 14, 12, 12, 20)
        sheet.append(_bold(sheet, [w["grade"], w["count"], w["share"], w["source_column"]]))
        for grade in summary.grades:
            sheet.append([grade.grade.called(language), grade.count, _number(sheet, grade.share),
                          self.column("grade")])
        _image(sheet, grade_chart(summary, language, "png"), "F2")

    def dimensions(self, summary: Summary, language: str) -> None:
        w = self.words
        sheet = self._sheet("sheet_dimensions", 24, 10, 12, 12, 12, 12, 18, 20)
        sheet.append(_bold(sheet, [w["dimension"], w["figure"], w["mean"], w["median"], w["min"], w["max"],
                                   w["std"], w["source_column"]]))
        for figures in summary.dimensions:
            dimension = figures.dimension
            name = f"{dimension.called(language)} ({dimension.id})"
            sheet.append(_stats_row(sheet, name, w["score"], figures.score,
                                    self.column("dimension", dimension.id, "score")))
            if figures.rate is not None:
                sheet.append(_stats_row(sheet, name, w["rate"], figures.rate,
                                        self.column("dimension", dimension.id, "rate")))

    def indicators(self, summary: Summary, language: str) -> None:
        w = self.words
        sheet = self._sheet("sheet_indicators", 8, 36, 40, 12, 12, 14, 14, 14, 20)
        if summary.indicators is None:
            sheet.append([missing_line(summary, "indicators", w)])
            return
        dimensions = {d.id: d.called(language) for d in summary.outline.dimensions}
        sheet.append(_bold(sheet, [w["rank"], w["indicator"], "id", w["dimension"], w["lost_total"],
                                   w["lost_projects"], w["applicable"], w["lost_mean"], w["source_column"]]))
        for loss in summary.indicators:
            sheet.append([loss.rank, loss.leaf.called(language), loss.leaf.id, dimensions[loss.leaf.dimension],
                          _number(sheet, loss.total), loss.projects, loss.applicable, _number(sheet, loss.mean),
                          self.column("leaf", loss.leaf.id)])
        chart = indicator_chart(summary, language, "png")
        if chart is not None:
            _image(sheet, chart, "K2")

    def findings(self, summary: Summary, language: str) -> None:
        w = self.words
        sheet = self._sheet("sheet_findings", 8, 30, 14, 12, 70, 10, 10, 10, 20)
        if summary.findings is None:
            sheet.append([missing_line(summary, "findings", w)])
            return
        sheet.append(_bold(sheet, [w["rank"], w["finding_id"], w["kind"], w["dimension"], w["finding"],
                                   w["count"], w["share"], w["wordings"], w["source_column"]]))
        dimensions = {d.id: d.called(language) for d in summary.outline.dimensions}
        for finding in summary.findings:
            kind = w["kind_observation"] if finding.observation else w["kind_rule"]
            sheet.append([finding.rank, _text(sheet, finding.id), kind, dimensions.get(finding.dimension, ""),
                          _text(sheet, finding_wording(finding, w)), finding.count, _number(sheet, finding.share),
                          finding.texts, self.column("findings")])
        if not summary.findings:
            sheet.append([w["none"]])

    def sources(self) -> None:
        sheet = self._sheet("sheet_sources", 16, 10, 8, *(14 for _ in self.table.headers[3:]))
        sheet.freeze_panes = "B2"
        sheet.append(_bold(sheet, list(self.table.headers)))
        for cells in self.table.lines():
            sheet.append([_text(sheet, cell) if isinstance(cell, str) else _number(sheet, cell) for cell in cells])

    def _sheet(self, name: str, *widths: int):
        from openpyxl.utils import get_column_letter

        sheet = self.book.create_sheet(self.words[name])
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        return sheet


def _stats_row(sheet, name: str, measure: str, stats: Stats, column: str) -> list:
    return [name, measure, *(_number(sheet, value) for value in (stats.mean, stats.median, stats.min, stats.max,
                                                                  stats.std)), column]


def _number(sheet, value):
    """A score, points, rate or share: a number cell shown with two places (None stays empty)."""
    from decimal import Decimal

    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, Decimal):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = NUMBER_FORMAT
    return cell


def _bold(sheet, values: list) -> list:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _text(sheet, text: str):
    """Text from the rows as text: a cell that starts with = stays words, never a formula;
    a character no worksheet can hold (a control character an observation may carry) is
    written as U+FFFD, as the batch workbook writes it."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell


def _image(sheet, png: bytes, anchor: str) -> None:
    from openpyxl.drawing.image import Image

    sheet.add_image(Image(io.BytesIO(png)), anchor)
