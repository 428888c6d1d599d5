"""Rows of cells from a .csv or .xlsx file, read lazily, and a line count for progress.

CSV is read as UTF-8 (with or without the byte-order mark Excel writes), or as GB18030
when it is not UTF-8: what Excel saves as "CSV" on a Chinese Windows. An .xlsx is read
from its first sheet, cached formula results rather than formulas; a number shown as a
percentage comes as `Percent`, so that 27.5% can mean a share of 27.5.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .exit_codes import CliError
from .fact_columns import Percent

Row = tuple[int, tuple[object, ...]]  # the row's number as a spreadsheet shows it, its cells
CHUNK_BYTES = 1 << 20
PERCENT_FORMAT = "%"


@dataclass(frozen=True)
class TextFile:
    """A text file's encoding and how many lines it has."""

    encoding: str
    lines: int


def inspect_text(path: Path, fallback: str | None = "gb18030") -> TextFile:
    """Count the lines and tell UTF-8 (BOM or not) from `fallback`, in one pass over the bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, lines, last = True, 0, b""
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                lines += chunk.count(b"\n")
                last = chunk
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if last and not last.endswith(b"\n"):
        lines += 1
    if not utf8 and fallback is None:
        raise CliError(f"{path} is not UTF-8 text")
    return TextFile("utf-8-sig" if utf8 else fallback, lines)


def csv_rows(path: Path, encoding: str) -> Iterator[Row]:
    """Every record of a CSV file with its row number (the header is row 1)."""
    try:
        with path.open(encoding=encoding, newline="") as stream:
            for number, record in enumerate(csv.reader(stream), start=1):
                yield number, tuple(record)
    except UnicodeDecodeError:
        raise CliError(f"{path} is neither UTF-8 nor GB18030 text") from None
    except csv.Error as error:
        raise CliError(f"{path}: not a readable CSV file: {error}") from None


class FirstSheet:
    """The first sheet of an .xlsx file, open for reading rows (and any other sheet by its
    title); close it when done."""

    def __init__(self, path: Path):
        import openpyxl  # only .xlsx needs it; importing it costs a tenth of a second

        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not an .xlsx workbook"
            raise CliError(f"cannot read {path}: {reason}") from None
        if not self._book.worksheets:
            self.close()
            raise CliError(f"{path} has no sheet")
        self._sheet = self._book.worksheets[0]
        self.path = path

    @property
    def row_count(self) -> int | None:
        """The sheet's last row as the file declares it, or None when it does not say."""
        return self._sheet.max_row

    def rows(self) -> Iterator[Row]:
        return _rows(self._sheet)

    def sheet_rows(self, title: str) -> Iterator[Row] | None:
        """The rows of the workbook's sheet called `title` (hidden or not); None when it has none."""
        if title not in self._book.sheetnames:
            return None
        return _rows(self._book[title])

    def close(self) -> None:
        self._book.close()


def column_letter(index: int) -> str:
    """A spreadsheet's name for the column at 0-based `index`: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _rows(sheet) -> Iterator[Row]:
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        yield number, tuple(_cell_value(cell) for cell in cells)


def _cell_value(cell: object) -> object:
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and PERCENT_FORMAT in (getattr(cell, "number_format", None) or ""):
        return Percent(value)
    return value

