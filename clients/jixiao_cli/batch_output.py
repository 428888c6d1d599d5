"""A batch's output files: the scores (.jsonl, .csv or .xlsx) and the errors (.jsonl).

Each score is written as soon as it is known, and flushed, so an interruption loses at
most the rows in flight. Opening an output that exists resumes it: the keys it holds
are done, a line cut short by the interruption is dropped, and new rows are appended.
An output written with another pack version (another digest) is refused rather than
mixed. A .jsonl output holds each row's explanation (see batch_outcomes); a .csv output
the scores alone. An .xlsx output (batch_workbook) has its rows wait in a journal and is
built when the run completes.

Every output has its own errors file, `OUTPUT.errors.jsonl` (results.csv.errors.jsonl,
results.xlsx.errors.jsonl), so that runs of one input to two outputs keep theirs. It is
rewritten by every run: rows that failed are tried again, so it lists the rows failing
now. It is removed when no row failed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, TextIO

from jixiao.v1 import evaluation_pb2

from .batch_outcomes import RecordError, RowFailure, RowScore, score_from_record, score_record
from .exit_codes import CliError, UnreadableOutput
from .pack_view import in_language

OUTPUT_SUFFIXES = (".jsonl", ".csv", ".xlsx")
#: A row holds a project's rationales and findings: far below this even for a large pack.
MAX_RECORD_CHARS = 8_000_000
FIXED_COLUMNS = ("key", "version", "digest", "total", "grade")
TEXT_COLUMNS = frozenset({"key", "version", "digest", "grade"})  # the others hold scores
FIXED_NAMES = {"zh": ("编号", "版本", "摘要", "总分", "等级"),
               "en": ("Key", "Version", "Digest", "Total", "Grade")}


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

    def score(self, texts: list[str], pack_id: str, number: int = 0) -> RowScore:
        """The scores a row of these columns holds (`cells`' inverse), without an explanation."""
        values = dict(zip(self.ids, texts))
        return RowScore(texts[0], number, pack_id, texts[1], texts[2], texts[3], texts[4],
                        {id_: values.get(id_, "") for id_, _ in self.level1},
                        {id_: values.get(id_, "") for id_, _ in self.leaves})


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

    def fail(self, failure: RowFailure) -> None:
        """A row of this run failed (it goes to the errors file too)."""

    def finish(self) -> None: ...

    def close(self) -> None: ...

    def records(self) -> Iterator[dict]:
        """The output's rows as JSON objects (see batch_outcomes), those written so far
        included: .jsonl every key, .xlsx too, .csv the scores alone (no explanation)."""


def open_score_file(path: Path, pack: evaluation_pb2.Pack, language: str) -> ScoreFile:
    """The output at `path`, resumed when it exists; its kind follows the suffix."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return JsonlScores(path, pack)
    if suffix == ".csv":
        return CsvScores(path, pack, ScoreColumns.of(pack, language))
    if suffix == ".xlsx":
        from .batch_workbook import XlsxScores  # openpyxl: only an .xlsx output needs it

        return XlsxScores(path, pack, ScoreColumns.of(pack, language))
    raise CliError(f"{path}: the output must be a .jsonl, .csv or .xlsx file")


def journal_path(path: Path) -> Path:
    """Where the rows of an .xlsx output wait until the workbook is built."""
    return path.with_name(f"{path.stem}.journal.jsonl")


def default_errors_path(output: Path) -> Path:
    """The errors file beside the output, named after all of it: results.csv →
    results.csv.errors.jsonl, results.xlsx → results.xlsx.errors.jsonl."""
    return output.with_name(f"{output.name}.errors.jsonl")


# --- .jsonl --------------------------------------------------------------------------


class _AppendedScores:
    """A score file that rows are appended to as they come, opened at the first row (or at
    `finish`): a refused input leaves no file. Subclasses read what is done and `_open`."""

    path: Path
    _stream: TextIO | None = None

    def fail(self, failure: RowFailure) -> None:
        """Failed rows are the errors file's alone."""

    def finish(self) -> None:
        """Every row is already in place; the file exists even if no row was scored."""
        self._opened()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _flush(self) -> None:
        """What is written so far, on disk for a reader (records)."""
        if self._stream is not None and not self._stream.closed:
            self._stream.flush()

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
                record = json_record(f"{path}:{number}", line)
                check_digest(path, number, record.get("digest"), record.get("version"), pack)
                self.done.add(str(record["key"]))

    def write(self, score: RowScore) -> None:
        stream = self._opened()
        stream.write(json.dumps(score_record(score), ensure_ascii=False) + "\n")
        stream.flush()

    def records(self) -> Iterator[dict]:
        """Every row of the file as written, explained rows with their explanation."""
        self._flush()
        return jsonl_records(self.path)

    def _open(self) -> TextIO:
        return _append(self.path, "utf-8")


def jsonl_records(path: Path) -> Iterator[dict]:
    """The rows of a .jsonl output (or journal) as written, each checked to be a row
    (RecordError → CliError naming the line); a last line cut short is left out, and a
    file not written yet has none."""
    if not path.exists():
        return
    for number, line in _lines(path):
        yield json_record(f"{path}:{number}", line)


def json_record(where: str, line: str) -> dict:
    """The row a line (at `where`: "FILE:LINE") holds, checked field by field (an output
    may have been edited)."""
    if len(line) > MAX_RECORD_CHARS:
        raise UnreadableOutput(f"{where} is longer than {MAX_RECORD_CHARS:,} characters: not a row of `jixiao batch` "
                               f"output")
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    except (RecursionError, ValueError):  # nested too deeply to read, a number of thousands of digits
        raise UnreadableOutput(f"{where} is not a row of `jixiao batch` output (nested too deeply or a number too long "
                       f"to read)") from None
    try:
        score_from_record(record)
    except RecordError as error:
        raise UnreadableOutput(f"{where} is not a row of `jixiao batch` output ({error})") from None
    return record


# --- .csv ----------------------------------------------------------------------------


class CsvScores(_AppendedScores):
    """Scores as CSV with a header of ids, UTF-8 with the byte-order mark Excel needs."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack, columns: ScoreColumns):
        self.path = path
        self.pack_id = pack.id
        self.columns = columns
        self.done: set[str] = set()
        header_written = False
        if path.exists() and path.stat().st_size:
            lines = (line for _number, line in _complete_lines(path, encoding="utf-8-sig"))
            for number, cells in enumerate(csv.reader(lines), start=1):
                if number == 1:
                    if cells != columns.ids:
                        raise UnreadableOutput(f"{path} has other columns than this batch writes (another pack?)")
                    header_written = True
                    continue
                if len(cells) != len(columns.ids):
                    raise CliError(f"{path}:{number} is not a row of `jixiao batch` output")
                check_digest(path, number, cells[2], cells[1], pack)
                self.done.add(cells[0])
        self._header_written = header_written

    def write(self, score: RowScore) -> None:
        stream = self._opened()
        csv.writer(stream).writerow(self.columns.cells(score))
        stream.flush()

    def records(self) -> Iterator[dict]:
        """The rows' scores as JSON objects without an explanation: a CSV holds none."""
        self._flush()
        if not self.path.exists():
            return
        lines = (line for _number, line in _lines(self.path, encoding="utf-8-sig"))
        for number, cells in enumerate(csv.reader(lines), start=1):
            if number > 1 and len(cells) == len(self.columns.ids):
                yield score_record(self.columns.score(cells, self.pack_id, number))

    def _open(self) -> TextIO:
        """The file, with the header written first if it was not there yet."""
        stream = _append(self.path, "utf-8" if self._header_written else "utf-8-sig")
        if not self._header_written:
            csv.writer(stream).writerow(self.columns.ids)
            stream.flush()
        return stream


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


def _lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """The file's complete lines with their numbers, as `_complete_lines` but leaving a last
    line without its newline in the file (and out of the lines): for reading alone."""
    try:
        with path.open(encoding=encoding, newline="") as stream:
            for number, line in enumerate(stream, start=1):
                if line.endswith("\n") and line.strip():
                    yield number, line
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text: is it the output of `jixiao batch`?") from None
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


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


def check_digest(path: Path, number: int, digest: object, version: object, pack: evaluation_pb2.Pack) -> None:
    """Refuse a row scored with another pack version: an output is never mixed."""
    if digest != pack.digest:
        raise UnreadableOutput(f"{path}:{number} was scored with {pack.id} {version or '?'} (another digest), "
                       f"not {pack.version}")


def _append(path: Path, encoding: str):
    return _open(path, "a", encoding)


def _open(path: Path, mode: str, encoding: str):
    try:
        return path.open(mode, encoding=encoding, newline="")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None
