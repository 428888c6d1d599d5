"""A batch's output (.jsonl, .csv or .xlsx) as a stream of rows for the summary, read by
the batch's own reader (batch_output: what each output's `records()` gives), never a
second one.

The rows come one at a time: a summary of any number of rows holds only the few numbers
each figure needs. A .jsonl output names each row's pack and version; a .csv or .xlsx
output does not name its pack, so its rows are read with the pack the batch was run with.
A .csv output holds the scores alone: its rows carry no rates, details, findings,
overrides or indicators found not applicable, and the summary says it could not compute
the figures that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from jixiao.v1 import evaluation_pb2

from ..batch_output import CsvScores, ScoreColumns, jsonl_records
from ..exit_codes import CliError, UnreadableOutput
from .rows import Row, RowError, parse_row

SUFFIXES = (".jsonl", ".csv", ".xlsx")
ROWS_MAX = 1_000_000


@dataclass(frozen=True)
class BatchOutput:
    """A batch output to summarize, by the kind its suffix names."""

    path: Path

    @property
    def kind(self) -> str:
        return self.path.suffix.lower()

    @property
    def names_its_pack(self) -> bool:
        """A .jsonl row names its pack and version; .csv and .xlsx rows do not name the pack."""
        return self.kind == ".jsonl"

    @property
    def scores_only(self) -> bool:
        """A .csv holds the scores alone: no overrides nor indicators found not applicable."""
        return self.kind == ".csv"

    def at(self, number: int) -> str:
        """Where the `number`th row is, for messages: a .jsonl's line, another output's project."""
        return f"{self.path}:{number}" if self.kind == ".jsonl" else f"{self.path}, project {number}"

    def rows(self, pack: evaluation_pb2.Pack | None = None, language: str = "zh") -> Iterator[Row]:
        """The output's rows in its order; `pack` (the version the batch was run with) for a
        .csv or .xlsx output."""
        if self.kind not in SUFFIXES:
            raise CliError(f"{self.path}: a batch output is a .jsonl, .csv or .xlsx file")
        if not self.path.is_file():
            raise CliError(f"cannot read {self.path}: "
                           f"{'not a file' if self.path.exists() else 'no such file'}")
        return rows_of(_summary_advice(self._records(pack, language), self), self)

    def _records(self, pack: evaluation_pb2.Pack | None, language: str) -> Iterator[dict]:
        if self.kind == ".jsonl":
            yield from jsonl_records(self.path)
            return
        assert pack is not None, "a .csv or .xlsx output is read with its pack"
        columns = ScoreColumns.of(pack, language)
        if self.kind == ".csv":
            yield from CsvScores(self.path, pack, columns).records()
            return
        from ..batch_workbook import workbook_records  # openpyxl: only an .xlsx output needs it

        yield from workbook_records(self.path, pack, columns)


def rows_of(records: Iterable[dict], source: BatchOutput) -> Iterator[Row]:
    """Rows from JSONL-record dicts (a batch output's `records()`), numbered from 1;
    `source` the output they come from, for its kind and for messages."""
    for number, record in enumerate(records, start=1):
        if number > ROWS_MAX:
            raise CliError(f"{source.at(number)}: more than {ROWS_MAX:,} rows: summarize them in parts")
        try:
            yield parse_row(record, number, scores_only=source.scores_only)
        except RowError as error:
            raise CliError(f"{source.at(number)} is not a row of `jixiao batch` output: {error}") from None


def _summary_advice(records: Iterator[dict], output: BatchOutput) -> Iterator[dict]:
    """The records; a row the batch's reader refuses is told with the summary's advice
    rather than the batch's (which would have the user choose another --out)."""
    try:
        yield from records
    except UnreadableOutput as error:
        advice = (f"is {output.path.name} unaltered `jixiao batch` output?" if output.names_its_pack else
                  "name the pack and version the batch was run with (--pack, --version)")
        raise CliError(f"{error.problem}: {advice}", error.exit_code) from None
