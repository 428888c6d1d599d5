"""A batch's output files: the scores (.jsonl, .csv or .xlsx) and the errors (.jsonl).

Each score is written as soon as it is known, and flushed, so an interruption loses at
most the rows in flight. Opening an output that exists resumes it: the keys it holds
are done, a line cut short by the interruption is dropped, and new rows are appended.
An output written with another pack version (another digest) is refused rather than
mixed. An .xlsx cannot be appended to safely, so its rows go to a journal beside it
(`NAME.journal.jsonl`, the .jsonl form) and the workbook is built from the journal when
the run completes, after which the journal is removed; resuming a finished workbook
reads its rows back into a journal first.

The errors file is rewritten by every run: rows that failed are tried again, so it
lists the rows failing now. It is removed when no row failed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator, Protocol, TextIO

from jixiao.v1 import evaluation_pb2

from .batch_outcomes import RowFailure, RowScore
from .exit_codes import CliError
from .pack_view import in_language
from .table_files import FirstSheet, column_letter

OUTPUT_SUFFIXES = (".jsonl", ".csv", ".xlsx")
FIXED_COLUMNS = ("key", "version", "digest", "total", "grade")
TEXT_COLUMNS = frozenset({"key", "version", "digest", "grade"})  # the others hold scores
FIXED_NAMES = {"zh": ("编号", "版本", "摘要", "总分", "等级"),
               "en": ("key", "version", "digest", "total", "grade")}
SCORE_FORMAT = "0.00"


@dataclass(frozen=True)
class ScoreColumns:
    """The columns of a .csv or .xlsx output: key, version, digest, total, grade, then the
    level-1 indicators and the leaves, by id, in the order of the pack's tree."""

    level1: tuple[tuple[str, str], ...]  # (id, name)
    leaves: tuple[tuple[str, str], ...]
    language: str

    @classmethod
    def of(cls, pack: evaluation_pb2.Pack, language: str) -> "ScoreColumns":
        level1 = tuple((node.id, in_language(node.name, node.name_en, language)) for node in pack.indicators)
        tops = {id_ for id_, _name in level1}
        leaves = tuple((node.id, in_language(node.name, node.name_en, language))
                       for node in _leaves(pack.indicators) if node.id not in tops)
        return cls(level1, leaves, language)

    @property
    def ids(self) -> list[str]:
        return [*FIXED_COLUMNS, *(id_ for id_, _ in self.level1), *(id_ for id_, _ in self.leaves)]

    @property
    def names(self) -> list[str]:
        return [*FIXED_NAMES[self.language], *(name for _, name in self.level1),
                *(name for _, name in self.leaves)]

    def cells(self, score: RowScore) -> list[str]:
        return [score.key, score.version, score.digest, score.score, score.grade,
                *(score.level1.get(id_, "") for id_, _ in self.level1),
                *(score.leaves.get(id_, "") for id_, _ in self.leaves)]


def _leaves(nodes) -> Iterator[evaluation_pb2.IndicatorSpec]:
    for node in nodes:
        if node.children:
            yield from _leaves(node.children)
        else:
            yield node


class ScoreFile(Protocol):
    """Where a batch's scores go. `done` holds the keys already there when it was opened."""

    done: set[str]

    def write(self, score: RowScore) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


def open_score_file(path: Path, pack: evaluation_pb2.Pack, language: str) -> ScoreFile:
    """The output at `path`, resumed when it exists; its kind follows the suffix."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlScores(path, pack)
    if suffix == ".csv":
        return CsvScores(path, pack, ScoreColumns.of(pack, language))
    if suffix == ".xlsx":
        return XlsxScores(path, pack, ScoreColumns.of(pack, language))
    raise CliError(f"{path}: the output must be a .jsonl, .csv or .xlsx file")


def journal_path(path: Path) -> Path:
    """Where the rows of an .xlsx output wait until the workbook is built."""
    return path.with_name(f"{path.stem}.journal.jsonl")


def default_errors_path(output: Path) -> Path:
    """The errors file beside the output: results.csv → results.errors.jsonl."""
    return output.with_name(f"{output.stem}.errors.jsonl")


# --- .jsonl --------------------------------------------------------------------------


def score_record(score: RowScore) -> dict:
    """A score as one line of .jsonl output; overrides, not_applicable and ignored_facts
    only when the row has some."""
    record = {"key": score.key, "pack": score.pack, "version": score.version, "digest": score.digest,
              "score": score.score, "grade": score.grade, "level1": dict(score.level1),
              "leaves": dict(score.leaves)}
    for name in ("overrides", "not_applicable", "ignored_facts"):
        if getattr(score, name):
            record[name] = list(getattr(score, name))
    return record


class _AppendedScores:
    """A score file that rows are appended to as they come, opened at the first row (or at
    `finish`): a refused input leaves no file. Subclasses read what is done and `_open`."""

    path: Path
    _stream: TextIO | None = None

    def finish(self) -> None:
        """Every row is already in place; the file exists even if no row was scored."""
        self._opened()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _opened(self) -> TextIO:
        if self._stream is None:
            self._stream = self._open()
        return self._stream

    def _open(self) -> TextIO:
        raise NotImplementedError


class JsonlScores(_AppendedScores):
    """Scores as JSON lines, one object a row, appended as they come."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack):
        self.path = path
        self.done: set[str] = set()
        if path.exists():
            for number, line in _complete_lines(path):
                record = _json_record(path, number, line)
                _check_digest(path, number, record.get("digest"), record.get("version"), pack)
                self.done.add(str(record.get("key")))

    def write(self, score: RowScore) -> None:
        stream = self._opened()
        stream.write(json.dumps(score_record(score), ensure_ascii=False) + "\n")
        stream.flush()

    def _open(self) -> TextIO:
        return _append(self.path, "utf-8")


def _json_record(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or "key" not in record:
        raise CliError(f"{path}:{number} is not a line of `jixiao batch` output: "
                       f"choose another --out, or remove the file to start over")
    return record


# --- .csv ----------------------------------------------------------------------------


class CsvScores(_AppendedScores):
    """Scores as CSV with a header of ids, UTF-8 with the byte-order mark Excel needs."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns):
        self.path = path
        self.columns = columns
        self.done: set[str] = set()
        header_written = False
        if path.exists() and path.stat().st_size:
            lines = (line for _number, line in _complete_lines(path, encoding="utf-8-sig"))
            for number, cells in enumerate(csv.reader(lines), start=1):
                if number == 1:
                    if cells != columns.ids:
                        raise CliError(f"{path} has other columns than this batch writes (another pack?): "
                                       f"choose another --out, or remove the file to start over")
                    header_written = True
                    continue
                if len(cells) != len(columns.ids):
                    raise CliError(f"{path}:{number} is not a row of `jixiao batch` output")
                _check_digest(path, number, cells[2], cells[1], pack)
                self.done.add(cells[0])
        self._header_written = header_written

    def write(self, score: RowScore) -> None:
        stream = self._opened()
        csv.writer(stream).writerow(self.columns.cells(score))
        stream.flush()

    def _open(self) -> TextIO:
        """The file, with the header written first if it was not there yet."""
        stream = _append(self.path, "utf-8" if self._header_written else "utf-8-sig")
        if not self._header_written:
            csv.writer(stream).writerow(self.columns.ids)
            stream.flush()
        return stream


# --- .xlsx ---------------------------------------------------------------------------


class XlsxScores:
    """Scores in a workbook: row 1 the ids, row 2 the names, then a row per project.

    Rows go to the journal as they come; `finish` builds the workbook from it."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns):
        self.path = path
        self.columns = columns
        self.journal = journal_path(path)
        if path.exists() and not self.journal.exists():
            _journal_from_workbook(path, self.journal, pack, columns)
        self._scores = JsonlScores(self.journal, pack)
        self.done = self._scores.done

    def write(self, score: RowScore) -> None:
        self._scores.write(score)

    def finish(self) -> None:
        """Build the workbook from the journal, replace the old one, remove the journal."""
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self._scores.finish()
        self._scores.close()
        book = Workbook(write_only=True)
        sheet = book.create_sheet("scores")
        sheet.freeze_panes = "B3"
        for position, id_ in enumerate(self.columns.ids):
            sheet.column_dimensions[column_letter(position)].width = min(max(len(id_), 8) + 2, 30)
        grey = Font(color="666666")
        sheet.append(self.columns.ids)
        sheet.append([_styled(WriteOnlyCell(sheet, name), grey) for name in self.columns.names])
        numeric = [id_ not in TEXT_COLUMNS for id_ in self.columns.ids]
        for _number, line in _complete_lines(self.journal):
            score = _score_from_record(json.loads(line))
            sheet.append([_score_cell(sheet, text) if is_score else text
                          for is_score, text in zip(numeric, self.columns.cells(score))])
        partial = self.path.with_name(f"{self.path.name}.partial")
        try:
            book.save(partial)
            os.replace(partial, self.path)
        except OSError as error:
            raise CliError(f"cannot write {self.path}: {error.strerror}") from None
        self.journal.unlink()

    def close(self) -> None:
        self._scores.close()


def _styled(cell, font):
    cell.font = font
    return cell


def _score_cell(sheet, text: str):
    """A score as a number Excel can sum, shown with two places."""
    from openpyxl.cell import WriteOnlyCell

    if not text:
        return text
    cell = WriteOnlyCell(sheet, int(text) if text.lstrip("-").isdigit() else float(text))
    cell.number_format = SCORE_FORMAT
    return cell


def _score_from_record(record: dict) -> RowScore:
    return RowScore(str(record["key"]), 0, record.get("pack", ""), record.get("version", ""),
                    record.get("digest", ""), record.get("score", ""), record.get("grade", ""),
                    record.get("level1", {}), record.get("leaves", {}), tuple(record.get("overrides", ())),
                    tuple(record.get("not_applicable", ())), tuple(record.get("ignored_facts", ())))


def _journal_from_workbook(path: Path, journal: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns) -> None:
    """Read a finished workbook's rows back into a journal, so that a run can add to it."""
    workbook = FirstSheet(path)
    try:
        rows = workbook.rows()
        header = [_text(cell) for cell in next(rows, (0, ()))[1]]
        if header != columns.ids:
            raise CliError(f"{path} has other columns than this batch writes (another pack?): "
                           f"choose another --out, or remove the file to start over")
        next(rows, None)  # the names
        level1 = [id_ for id_, _ in columns.level1]
        leaves = [id_ for id_, _ in columns.leaves]
        partial = journal.with_name(f"{journal.name}.partial")
        with partial.open("w", encoding="utf-8") as stream:
            for number, cells in rows:
                texts = [_text(cell) for cell in cells] + [""] * (len(header) - len(cells))
                if not any(texts):
                    continue
                _check_digest(path, number, texts[2], texts[1], pack)
                values = dict(zip(header, texts))
                score = RowScore(texts[0], number, pack.id, texts[1], texts[2], texts[3], texts[4],
                                 {id_: values[id_] for id_ in level1},
                                 {id_: values[id_] for id_ in leaves})
                stream.write(json.dumps(score_record(score), ensure_ascii=False) + "\n")
        os.replace(partial, journal)
    finally:
        workbook.close()


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        try:
            return format(Decimal(repr(cell)).normalize(), "f")
        except InvalidOperation:
            return str(cell)
    return str(cell)


# --- errors --------------------------------------------------------------------------


class ErrorFile:
    """The rows that failed, one JSON object a line: key, row and message.

    Written as rows fail (so an interruption keeps them), which with several streams or
    workers is not input order; closing puts the lines in row order."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self._stream = _open(path, "w", "utf-8")

    def write(self, failure: RowFailure) -> None:
        record = {"key": failure.key, "row": failure.number, "message": failure.message}
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
        self.count += 1

    def close(self) -> None:
        self._stream.close()
        if not self.count:
            self.path.unlink(missing_ok=True)
        elif self.count > 1:
            self._sort_by_row()

    def _sort_by_row(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        ordered = sorted(lines, key=lambda line: json.loads(line)["row"])
        if ordered != lines:
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text("".join(ordered), encoding="utf-8")
            os.replace(partial, self.path)


# --- files ---------------------------------------------------------------------------


def _complete_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """The file's complete lines with their numbers; a last line without its newline,
    left by an interruption, is cut off the file first."""
    _drop_partial_line(path)
    try:
        with path.open(encoding=encoding, newline="") as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    yield number, line
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text: is it the output of `jixiao batch`?") from None
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


def _drop_partial_line(path: Path) -> None:
    try:
        with path.open("rb+") as stream:
            size = stream.seek(0, os.SEEK_END)
            if not size:
                return
            stream.seek(size - 1)
            if stream.read(1) == b"\n":
                return
            position = size
            while position > 0:
                step = min(position, 1 << 16)
                stream.seek(position - step)
                newline = stream.read(step).rfind(b"\n")
                if newline >= 0:
                    stream.truncate(position - step + newline + 1)
                    return
                position -= step
            stream.truncate(0)
    except OSError as error:
        raise CliError(f"cannot repair {path}: {error.strerror}") from None


def _check_digest(path: Path, number: int, digest: object, version: object, pack: evaluation_pb2.Pack) -> None:
    if digest != pack.digest:
        raise CliError(f"{path}:{number} was scored with {pack.id} {version or '?'} (another digest), "
                       f"not {pack.version}: choose another --out, or remove the file to start over")


def _append(path: Path, encoding: str):
    return _open(path, "a", encoding)


def _open(path: Path, mode: str, encoding: str):
    try:
        return path.open(mode, encoding=encoding, newline="")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None
