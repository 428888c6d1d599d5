"""Reading a batch's JSONL output as a stream of rows, refusing what is not batch output.

The file is read a line at a time: a summary of any number of rows holds only the few
numbers each figure needs, never the file. A line that is not a row of `jixiao batch`
output stops the summary with a message naming the file and the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from ..exit_codes import CliError
from .rows import Row, RowError, parse_row

#: A row holds a project's rationales and findings: far below this even for a large pack.
LINE_MAX_BYTES = 8 * 1024 * 1024
ROWS_MAX = 1_000_000


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a `jixiao batch` .jsonl output, in file order."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    with stream:
        number = 0
        while True:
            try:
                line = stream.readline(LINE_MAX_BYTES + 1)
            except OSError as error:
                raise CliError(f"cannot read {path}: {error.strerror}") from None
            if not line:
                return
            number += 1
            if len(line) > LINE_MAX_BYTES:
                raise CliError(f"{path}:{number} is longer than {LINE_MAX_BYTES} bytes: "
                               f"not a line of `jixiao batch` output")
            if not line.strip():
                continue
            if number > ROWS_MAX:
                raise CliError(f"{path} has more than {ROWS_MAX} lines: summarize it in parts")
            yield _row(path, number, line)


def rows_of(records: Iterable[dict], where: str) -> Iterator[Row]:
    """Rows from JSONL-record dicts (a batch output's `records()`), numbered from 1."""
    for number, record in enumerate(records, start=1):
        try:
            yield parse_row(record, number)
        except RowError as error:
            raise CliError(f"{where}: row {number} is not a row of `jixiao batch` output: {error}") from None


def _row(path: Path, number: int, line: bytes) -> Row:
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise CliError(f"{path}:{number} is not UTF-8 text: is {path.name} the .jsonl output of "
                       f"`jixiao batch`?") from None
    except json.JSONDecodeError as error:
        raise CliError(f"{path}:{number} is not JSON ({error.msg} at column {error.colno}): is "
                       f"{path.name} the .jsonl output of `jixiao batch`?") from None
    except (RecursionError, ValueError):  # nesting too deep to read, a number of thousands of digits
        raise CliError(f"{path}:{number} is not a line of `jixiao batch` output: nested too deeply or a number "
                       f"too long to read") from None
    try:
        return parse_row(record, number)
    except RowError as error:
        raise CliError(f"{path}:{number} is not a row of `jixiao batch` output: {error}") from None
