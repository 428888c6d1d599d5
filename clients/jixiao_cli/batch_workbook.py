"""A batch's .xlsx output: the scores, and what explains them, in sheets a person reads.

The sheets, named and headed in the batch's language (--lang):
  评分 / Scores          row 1 the columns' names, row 2 their ids (the template's order:
                         labels, then ids), then a row per project: key, version, digest,
                         total, grade, each level-1 indicator and each leaf
  说明 / Details         a row per project and leaf: its weight, score, points deducted, the
                         deductions' reasons, the rationale, and whether it applied
  问题与建议 / Findings  a row per project and finding (存在的问题) or recommendation (有关建议)
  错误 / Errors          the rows of this run that failed: row, key, message
  records (hidden)       each project's whole row as JSON (batch_outcomes), for resuming

The workbook is written with XlsxWriter (read back with openpyxl). An .xlsx cannot be
appended to safely, so rows go to a journal beside the workbook
(`NAME.journal.jsonl`, the .jsonl output's lines) as they are scored, and the workbook is
built from the journal when the run completes; the journal is then removed. Resuming a
finished workbook reads its rows back into a journal: the projects its scores sheet
holds, each with the whole row the hidden sheet keeps of it (a workbook written before
there was one gives the scores alone), so that the workbook a resumed run builds is the
one an uninterrupted run builds.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable, Iterator

import xlsxwriter
import xlsxwriter.exceptions
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from jixiao.core.decimals import plain, round_score
from jixiao.v1 import evaluation_pb2

from .batch_outcomes import FindingText, LeafDetail, RowFailure, RowScore, score_from_record, score_record
from .batch_output import (TEXT_COLUMNS, JsonlScores, ScoreColumns, check_digest, json_record,
                           journal_path, jsonl_records)
from .exit_codes import CliError, UnreadableOutput
from .table_files import FirstSheet
from .template_workbook import HEADER_FILL, NAME_FONT, display_width

SCORE_FORMAT = "0.00"
RECORDS_SHEET = "records"
RECORD_CHUNK = 16_000  # characters a records cell holds: Excel takes 32,767 UTF-16 units
MAX_CELL_TEXT = 32_000  # a longer text is cut, with "…", in the sheets people read
MAX_ROWS = 1_048_576  # the rows of an Excel sheet
HEADING_COLOUR = "#" + HEADER_FILL.fgColor.rgb[-6:]  # the template's header colours
IDS_COLOUR = "#" + NAME_FONT.color.rgb[-6:]

WORDS = {
    "zh": {
        "sheets": ("评分", "说明", "问题与建议", "错误"),
        "details": ("编号", "一级指标", "指标", "标准分值", "得分", "扣分", "扣分原因", "评分说明", "不适用"),
        "findings": ("编号", "类别", "序号", "内容", "所属维度", "来源规则"),
        "errors": ("行号", "编号", "错误信息"),
        "kinds": ("存在的问题", "有关建议"),
        "deduction": "{reason}（扣{points}分）",
        "not_applicable": "是", "not_applicable_because": "是：{reason}",
        "observation": "评价人员",
        "records_note": "jixiao batch 续跑所用的完整记录（JSON），请勿修改",
    },
    "en": {
        "sheets": ("Scores", "Details", "Findings", "Errors"),
        "details": ("Key", "Dimension", "Indicator", "Weight", "Score", "Deducted", "Deductions", "Rationale",
                    "Not applicable"),
        "findings": ("Key", "Kind", "No.", "Text", "Dimension", "Rules"),
        "errors": ("Row", "Key", "Message"),
        "kinds": ("Finding", "Recommendation"),
        "deduction": "{reason} (−{points})",
        "not_applicable": "yes", "not_applicable_because": "yes: {reason}",
        "observation": "evaluator",
        "records_note": "the whole rows (JSON) jixiao batch resumes from: keep as they are",
    },
}
DETAIL_WIDTHS = (14, 10, 28, 9, 8, 8, 48, 80, 24)
FINDING_WIDTHS = (14, 12, 6, 80, 12, 40)
ERROR_WIDTHS = (8, 16, 100)


class XlsxScores:
    """Scores in a workbook of the sheets above; rows wait in the journal until `finish`."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns):
        self.path = path
        self.pack = pack
        self.columns = columns
        self.journal = journal_path(path)
        self._failures: list[RowFailure] = []
        if path.exists() and not self.journal.exists():
            _write_journal(workbook_records(path, pack, columns), self.journal)
        self._scores = JsonlScores(self.journal, pack)
        self.done = self._scores.done

    def write(self, score: RowScore) -> None:
        self._scores.write(score)

    def fail(self, failure: RowFailure) -> None:
        """A failed row of this run, for the errors sheet."""
        self._failures.append(failure)

    def finish(self) -> None:
        """Build the workbook from the journal, replace the old one, remove the journal."""
        self._scores.finish()
        self._scores.close()
        scores = (score_from_record(record) for record in jsonl_records(self.journal))
        failures = sorted(self._failures, key=lambda failure: failure.number)
        partial = self.path.with_name(f"{self.path.name}.partial")
        try:
            write_workbook(partial, self.columns, scores, failures)
            os.replace(partial, self.path)
        except OSError as error:
            raise CliError(f"cannot write {self.path}: {error.strerror}") from None
        finally:
            partial.unlink(missing_ok=True)
        self.journal.unlink()

    def close(self) -> None:
        self._scores.close()

    def records(self) -> Iterator[dict]:
        """The rows: those in the journal while the run goes on, else the finished workbook's."""
        if self.journal.exists():
            return self._scores.records()
        if self.path.exists():
            return workbook_records(self.path, self.pack, self.columns)
        return iter(())


# --- building the workbook -----------------------------------------------------------


def write_workbook(target: Path, columns: ScoreColumns, scores: Iterable[RowScore],
                   failures: Iterable[RowFailure]) -> None:
    """Write the output workbook of `scores` (in their order) and `failures`, in
    columns.language, to `target`. XlsxWriter writes it a row at a time (constant
    memory), twice as fast as openpyxl: an output of thousands of projects has a
    hundred thousand rows of explanation."""
    with tempfile.TemporaryDirectory(prefix="jixiao-xlsx-") as scratch:  # its row files, whatever happens
        _write_workbook(target, columns, scores, failures, scratch)


def _write_workbook(target: Path, columns: ScoreColumns, scores: Iterable[RowScore], failures: Iterable[RowFailure],
                    scratch: str) -> None:
    words = WORDS[columns.language]
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True, "tmpdir": scratch,
                                             "strings_to_formulas": False, "strings_to_numbers": False,
                                             "strings_to_urls": False})
    styles = _Styles(book)
    score_sheet = _Sheet(book, words["sheets"][0], lambda sheet: _start_scores(sheet, columns, styles))
    details, findings, errors = (
        _Sheet(book, title, lambda sheet, headings=headings, widths=widths:
               _start_table(sheet, headings, widths, styles), continued=True)
        for title, headings, widths in zip(words["sheets"][1:], (words["details"], words["findings"], words["errors"]),
                                           (DETAIL_WIDTHS, FINDING_WIDTHS, ERROR_WIDTHS)))
    records = _Sheet(book, RECORDS_SHEET, lambda sheet: sheet.append([(words["records_note"], None)]))
    records.sheet.hide()
    numeric = [id_ not in TEXT_COLUMNS for id_ in columns.ids]
    for score in scores:
        score_sheet.append([_number(text, styles.score) if is_number else (_clean(text), None)
                            for is_number, text in zip(numeric, columns.cells(score))])
        dimensions = {dimension.id: dimension.name for dimension in score.dimensions}
        for detail in score.details:
            details.append(_detail_row(score.key, detail, dimensions, words, styles))
        for kind, items in zip(words["kinds"], (score.findings, score.recommendations)):
            for number, finding in enumerate(items, start=1):
                findings.append(_finding_row(score.key, kind, number, finding, dimensions, words, styles))
        record = json.dumps(score_record(score), ensure_ascii=False)
        records.append([(record[start:start + RECORD_CHUNK], None) for start in range(0, len(record), RECORD_CHUNK)])
    for failure in failures:
        errors.append([(failure.number, styles.top), (_clean(failure.key), styles.top),
                       (_clean(failure.message), styles.wrapped)])
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as error:
        raise CliError(f"cannot write {target}: {getattr(error, 'strerror', None) or error}") from None


class _Styles:
    """The workbook's cell formats."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.heading = book.add_format({"bold": True, "bg_color": HEADING_COLOUR, "text_wrap": True, "valign": "top"})
        self.ids = book.add_format({"font_color": IDS_COLOUR, "font_size": 9})
        self.top = book.add_format({"valign": "top"})
        self.wrapped = book.add_format({"text_wrap": True, "valign": "top"})
        self.score = book.add_format({"num_format": SCORE_FORMAT, "valign": "top"})


class _Sheet:
    """A worksheet written a row at a time: each cell a (value, format), or None when empty.

    `start` writes its heading rows. A sheet `continued` goes on in a sheet of its own when
    it is full ("说明 (2)" after Excel's 1,048,576 rows, headed as the first); one that is
    not (the scores, the records: a project a row) refuses the row that does not fit."""

    def __init__(self, book: xlsxwriter.Workbook, title: str, start: Callable[["_Sheet"], None],
                 continued: bool = False):
        self.book = book
        self.title = title
        self.start = start
        self.continued = continued
        self.parts = 0
        self._next_part()

    def append(self, cells: Iterable[tuple[object, object] | None]) -> None:
        if self.row >= MAX_ROWS:
            if not self.continued:
                raise CliError(f"more projects than an .xlsx sheet has rows ({MAX_ROWS:,}): "
                               f"write this batch to a .jsonl output")
            self._next_part()
        for column, cell in enumerate(cells):
            if cell is None:
                continue
            value, style = cell
            if isinstance(value, str):
                if value:
                    self.sheet.write_string(self.row, column, value, style)
            else:
                self.sheet.write_number(self.row, column, value, style)
        self.row += 1

    def _next_part(self) -> None:
        self.parts += 1
        self.sheet = self.book.add_worksheet(self.title if self.parts == 1 else f"{self.title} ({self.parts})")
        self.row = 0
        self.start(self)


def _start_scores(sheet: _Sheet, columns: ScoreColumns, styles: _Styles) -> None:
    """The scores sheet's two header rows: the names (as people read them), then the ids."""
    sheet.sheet.freeze_panes(2, 1)
    for position, (id_, name) in enumerate(zip(columns.ids, columns.names)):
        sheet.sheet.set_column(position, position, min(max(len(id_), display_width(name) / 2, 8) + 2, 30))
    sheet.append([(name, styles.heading) for name in columns.names])
    sheet.append([(id_, styles.ids) for id_ in columns.ids])


def _start_table(sheet: _Sheet, headings: tuple[str, ...], widths: tuple[int, ...], styles: _Styles) -> None:
    sheet.sheet.freeze_panes(1, 1)
    for position, width in enumerate(widths):
        sheet.sheet.set_column(position, position, width)
    sheet.append([(heading, styles.heading) for heading in headings])


def _detail_row(key: str, detail: LeafDetail, dimensions: dict[str, str], words: dict, styles: _Styles) -> list:
    reasons = "\n".join(words["deduction"].format(reason=d.reason, points=_points(d.points))
                        for d in detail.deductions)
    if not detail.not_applicable:
        applies = ""
    elif detail.not_applicable_reason:
        applies = words["not_applicable_because"].format(reason=detail.not_applicable_reason)
    else:
        applies = words["not_applicable"]
    top, wrapped = styles.top, styles.wrapped
    return [(_clean(key), top), (_clean(dimensions.get(detail.dimension, detail.dimension)), top),
            (_clean(detail.name), wrapped), _number(detail.scored_weight, styles.score),
            _number(detail.score, styles.score), _number(detail.deducted, styles.score),
            (_clean(reasons), wrapped), (_clean(detail.rationale), wrapped), (_clean(applies), top)]


def _finding_row(key: str, kind: str, number: int, finding: FindingText, dimensions: dict[str, str],
                 words: dict, styles: _Styles) -> list:
    dimension = words["observation"] if finding.observation else dimensions.get(finding.dimension, finding.dimension)
    sources = "\n".join(finding.rule_ids) if finding.rule_ids else finding.id
    top, wrapped = styles.top, styles.wrapped
    return [(_clean(key), top), (kind, top), (number, top), (_clean(finding.text), wrapped),
            (_clean(dimension), top), (_clean(sources), wrapped)]


def _points(text: str) -> str:
    """Points deducted as people read them: rounded half up to 2 places ("0.607434" → "0.61")."""
    try:
        return plain(round_score(Decimal(text)))
    except (InvalidOperation, ValueError):
        return text


def _number(text: str, style) -> tuple[object, object] | None:
    """A score or weight as a number Excel can sum (shown with two places); None when empty."""
    if not text:
        return None
    try:
        number = float(text) if "." in text or "e" in text.lower() else int(text)
    except ValueError:
        return _clean(text), style
    if not math.isfinite(number):
        return _clean(text), style
    return number, style


def _clean(text: str) -> str:
    """A text as a cell may hold it: no control characters Excel refuses, at most MAX_CELL_TEXT long."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "…"


# --- reading a finished workbook back ------------------------------------------------


def workbook_records(path: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns) -> Iterator[dict]:
    """The rows of a finished output workbook as JSON objects, in the order they were
    written: the projects of its scores sheet, each the whole row the records sheet keeps
    of it, or, without one there, the scores the scores sheet shows. Refused (CliError) when
    its columns are not this batch's or a row was scored with another pack version."""
    book = FirstSheet(path)
    try:
        keys = _scored_keys(path, book, pack, columns)
        written: set[str] = set()
        kept = book.sheet_rows(RECORDS_SHEET)
        if kept is not None:
            next(kept, None)  # the note
            for number, cells in kept:
                text = "".join(cell for cell in cells if isinstance(cell, str))
                if not text:
                    continue
                record = json_record(f"{path} (sheet {RECORDS_SHEET}, row {number})", text)
                key = str(record["key"])
                if key in keys and key not in written:
                    check_digest(path, keys[key], record.get("digest"), record.get("version"), pack)
                    written.add(key)
                    yield record
        if len(written) < len(keys):
            for number, texts in _score_rows(book, columns):
                if texts[0] not in written:
                    written.add(texts[0])
                    yield score_record(columns.score(texts, pack.id, number))
    finally:
        book.close()


def _scored_keys(path: Path, book: FirstSheet, pack: evaluation_pb2.Pack, columns: ScoreColumns) -> dict[str, int]:
    """The keys of the scores sheet, each with its row; every row's digest checked."""
    rows = book.rows()
    header = [[_text(cell) for cell in cells] for _number, cells in (next(rows, (0, ())), next(rows, (0, ())))]
    if columns.ids not in (header[1][:len(columns.ids)], header[0][:len(columns.ids)]):
        raise UnreadableOutput(f"{path} has other columns than this batch writes (another pack?)")
    keys: dict[str, int] = {}
    for number, texts in _score_rows(book, columns):
        check_digest(path, number, texts[2], texts[1], pack)
        keys.setdefault(texts[0], number)
    return keys


def _score_rows(book: FirstSheet, columns: ScoreColumns) -> Iterator[tuple[int, list[str]]]:
    """The scores sheet's project rows as texts, past its two header rows (a workbook
    written before the names came first has the ids in row 1: both are headers)."""
    width = len(columns.ids)
    for number, cells in book.rows():
        texts = ([_text(cell) for cell in cells] + [""] * width)[:width]
        if number > 2 and any(texts):
            yield number, texts


def _write_journal(records: Iterable[dict], journal: Path) -> None:
    """Write `records` as a journal, all or nothing."""
    partial = journal.with_name(f"{journal.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(partial, journal)
    except OSError as error:
        raise CliError(f"cannot write {journal}: {error.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        try:
            return format(Decimal(repr(cell)).normalize(), "f")
        except InvalidOperation:
            return str(cell)
    return str(cell)
