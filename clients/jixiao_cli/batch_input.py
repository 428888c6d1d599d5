"""The rows of a batch's input file (.csv, .xlsx, .jsonl), each as a key and a facts object.

A table (.csv, .xlsx) has a header in row 1: fact names or labels (see fact_columns),
and a key column headed `key` or `编号` (or as --key-column names it; without one a
row's key is its row number). When row 2 holds fact names, as in the workbook
`jixiao template` writes, row 2 is the header and row 1 is only for people; data starts
in row 3. A header naming no fact is refused before any row is read: a misspelt
column would otherwise leave a fact to its default without a word.

A .jsonl file has one object a line: {"key": ..., "facts": {...}}, or the facts object
itself, keyed by its line number (or by the field --key-column names, taken out of it).

Rows are read lazily. A key is at most 256 characters without control characters, and
keys must be unique: a repeated key is that row's error. A row whose key `done` holds
(it is already in the output) is skipped and counted. A table's row keyed 示例 or
example is the example row of `jixiao template`'s workbook, which an evaluator may leave
in: it is never scored, and its number is kept for the batch's summary line. (Filling
row 3 over the example with a project's own key makes it that project.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

from jixiao.core.identifiers import InvalidIdentifier, check_key, echo
from jixiao.v1 import evaluation_pb2

from .exit_codes import CliError
from .fact_columns import FactColumn, HeaderIndex, cell_value, fact_columns, key_text, put_fact
from .table_files import FirstSheet, Row, column_letter, csv_rows, inspect_text

KEY_HEADERS = ("key", "编号")
#: The key of the example row `jixiao template` writes, in each language: never scored.
EXAMPLE_KEYS = {"zh": "示例", "en": "example"}
INPUT_SUFFIXES = (".csv", ".xlsx", ".jsonl")
MAX_LISTED = 5


@dataclass(frozen=True)
class BatchRow:
    """One input row: where it is, its key, and its facts, or why it cannot be scored."""

    number: int  # the row as a spreadsheet shows it (header = 1), or the .jsonl line
    key: str
    facts: dict
    problem: str = ""
    cells: tuple = ()  # a table row's cells, until they are read into `facts`


@dataclass(frozen=True)
class Layout:
    """Which cell of a table row is the key and which are facts."""

    header_rows: int
    key_index: int | None
    facts: tuple[tuple[int, FactColumn], ...]
    ignored: str = ""  # the columns naming no fact, left out (--ignore-unknown-facts), listed

    @property
    def key_column(self) -> str:
        return column_letter(self.key_index) if self.key_index is not None else ""

    def read_cells(self, row: BatchRow) -> BatchRow:
        """The row with its cells read into a facts object."""
        if row.problem:
            return row
        facts: dict = {}
        cells = row.cells
        for position, column in self.facts:
            value = cell_value(column, cells[position]) if position < len(cells) else None
            if value is not None:
                put_fact(facts, column, value)
        return BatchRow(row.number, row.key, facts)


class BatchInput:
    """An input file's rows to score, read lazily; `skipped` counts rows already done."""

    def __init__(self, path: Path, pack: evaluation_pb2.Pack, key_column: str | None,
                 done: set[str] | frozenset[str] = frozenset(), ignore_unknown: bool = False):
        self.path = path
        self.skipped = 0
        self.examples: list[tuple[int, str]] = []  # the template's example rows left in: (row, key)
        self.ignored_columns = ""  # with ignore_unknown: the header's columns naming no fact, listed
        self._done = done
        self._seen: dict[str, int] = {}
        suffix = path.suffix.lower()
        if suffix not in INPUT_SUFFIXES:
            raise CliError(f"{path}: the input must be a .csv, .xlsx or .jsonl file")
        if not path.is_file():
            raise CliError(f"input file not found: {path}")
        self._close: Callable[[], None] = lambda: None
        self._read_cells: Callable[[BatchRow], BatchRow] = lambda row: row
        self._table = suffix != ".jsonl"
        if suffix == ".jsonl":
            text = inspect_text(path, fallback=None)
            self.estimate: int | None = text.lines
            self._rows = _jsonl_rows(path, text.encoding, key_column)
            return
        if suffix == ".csv":
            text = inspect_text(path)
            table, self.estimate = csv_rows(path, text.encoding), text.lines
        else:
            workbook = FirstSheet(path)
            self._close = workbook.close
            table, self.estimate = workbook.rows(), workbook.row_count
        try:
            self._rows = _table_rows(path, table, fact_columns(pack), key_column, ignore_unknown)
            self.layout = next(self._rows)  # reads the header now: a bad one fails before any work
            self.ignored_columns = self.layout.ignored
        except BaseException:
            self.close()
            raise
        if self.estimate is not None:
            self.estimate = max(self.estimate - self.layout.header_rows, 0)
        self._read_cells = self.layout.read_cells

    def __iter__(self) -> Iterator[BatchRow]:
        examples = EXAMPLE_KEYS.values() if self._table else ()
        for row in self._rows:
            if not row.problem:
                if row.key in examples:
                    self.examples.append((row.number, row.key))
                    continue
                first = self._seen.setdefault(row.key, row.number)
                if first != row.number:
                    yield BatchRow(row.number, row.key, {}, f"duplicate key '{row.key}': also on row {first}")
                    continue
                if row.key in self._done:
                    self.skipped += 1
                    continue
            yield self._read_cells(row)  # only now: a row skipped costs no conversion

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "BatchInput":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _table_rows(path: Path, table: Iterator[Row], columns: tuple[FactColumn, ...],
                key_column: str | None, ignore_unknown: bool = False) -> Iterator:
    """First the Layout, then a BatchRow for every row that is not blank."""
    header = next(table, None)
    if header is None:
        raise CliError(f"{path} is empty: expected a header row of fact names or labels")
    second = next(table, None)
    index = HeaderIndex(columns)
    key_names = (key_column,) if key_column else KEY_HEADERS
    layout = _layout(path, header[1], second[1] if second else (), index, key_names, key_column, ignore_unknown)
    yield layout
    if second is not None and layout.header_rows == 1:
        yield from _table_row(second, layout)
    for row in table:
        yield from _table_row(row, layout)


def _layout(path: Path, first: tuple, second: tuple, index: HeaderIndex,
            key_names: tuple[str, ...], key_column: str | None, ignore_unknown: bool = False) -> Layout:
    names_in_second = [_header_text(cell) for cell in second if _header_text(cell)]
    two_rows = bool(names_in_second) and any(name in index.names for name in names_in_second) \
        and all(name in index.names or name in key_names for name in names_in_second)
    key_index: int | None = None
    facts: list[tuple[int, FactColumn]] = []
    unknown: list[str] = []
    for position in range(max(len(first), len(second) if two_rows else 0)):
        texts = [_header_text(row[position]) if position < len(row) else "" for row in
                 ((second, first) if two_rows else (first,))]
        texts = [text for text in texts if text]
        if not texts:
            continue
        letter = column_letter(position)
        if any(text in key_names for text in texts):
            if key_index is not None:
                raise CliError(f"{path}: two key columns, {column_letter(key_index)} and {letter}")
            key_index = position
            continue
        try:
            column = index.find(texts[0])
        except ValueError as error:
            raise CliError(f"{path}: column {letter}: {error}") from None
        if column is None:
            unknown.append(f"{letter} '{texts[0]}'")
            continue
        if (clash := next((at for at, known in facts if known == column), None)) is not None:
            raise CliError(f"{path}: columns {column_letter(clash)} and {letter} are both {column.name}")
        facts.append((position, column))
    listed = ", ".join(unknown[:MAX_LISTED]) + (f" and {len(unknown) - MAX_LISTED} more"
                                                if len(unknown) > MAX_LISTED else "")
    if unknown and not ignore_unknown:
        raise CliError(f"{path}: columns not in the pack: {listed}. Head each column with a fact's "
                       f"name or label (see `jixiao template`), or the key column ({' or '.join(key_names)}); "
                       "--ignore-unknown-facts leaves them out")
    if key_column and key_index is None:
        raise CliError(f"{path}: no key column '{key_column}' in the header")
    if not facts:
        raise CliError(f"{path}: the header names no fact of the pack: expected fact names or labels in row 1")
    return Layout(2 if two_rows else 1, key_index, tuple(facts), listed)


def _header_text(cell: object) -> str:
    return key_text(cell).lstrip("\ufeff").strip()


def _table_row(row: Row, layout: Layout) -> Iterator[BatchRow]:
    number, cells = row
    if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
        return
    if layout.key_index is None:
        key = str(number)
    else:
        key = key_text(cells[layout.key_index]) if layout.key_index < len(cells) else ""
        if not key:
            yield BatchRow(number, "", {}, f"no key: the key column {layout.key_column} is empty")
            return
        if problem := _key_problem(key):
            yield BatchRow(number, echo(key), {}, problem)
            return
    yield BatchRow(number, key, {}, cells=cells)


def _key_problem(key: str) -> str:
    """Why `key` cannot key a row (too long, control characters), or ""."""
    try:
        check_key(key)
    except InvalidIdentifier as error:
        return f"the key is not usable: {error.problem}"
    return ""


def example_note(examples: list[tuple[int, str]]) -> str:
    """The summary line's note on the template's example rows left in the input."""
    if len(examples) == 1:
        number, key = examples[0]
        return f"example row {number} ({key}) not scored"
    rows = ", ".join(str(number) for number, _key in examples[:MAX_LISTED])
    more = f" and {len(examples) - MAX_LISTED} more" if len(examples) > MAX_LISTED else ""
    return f"{len(examples)} example rows ({rows}{more}) not scored"


def _jsonl_rows(path: Path, encoding: str, key_field: str | None) -> Iterator[BatchRow]:
    try:
        with path.open(encoding=encoding) as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    yield _jsonl_row(number, line, key_field)
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


def _jsonl_row(number: int, line: str, key_field: str | None) -> BatchRow:
    fallback = str(number)
    try:
        document = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as error:
        return BatchRow(number, fallback, {}, f"invalid JSON at column {error.colno}: {error.msg}")
    if not isinstance(document, dict):
        return BatchRow(number, fallback, {}, "expected a JSON object of facts, or {\"key\": ..., \"facts\": {...}}")
    key_name = key_field or "key"
    if isinstance(document.get("facts"), dict) and set(document) <= {"facts", key_name}:
        raw_key, facts = document.get(key_name), document["facts"]
    elif key_field:
        facts = dict(document)
        raw_key = facts.pop(key_field, None)
    else:
        raw_key, facts = None, document
    if raw_key is None:
        return BatchRow(number, fallback, facts) if not key_field else \
            BatchRow(number, fallback, {}, f"no key: the object has no field '{key_field}'")
    if isinstance(raw_key, (dict, list, bool)):
        return BatchRow(number, fallback, {}, f"the key must be a text or a number, got {json.dumps(raw_key)}")
    key = str(raw_key).strip()
    if not key:
        return BatchRow(number, fallback, {}, "no key: the key is empty")
    if problem := _key_problem(key):
        return BatchRow(number, echo(key), {}, problem)
    return BatchRow(number, key, facts)
