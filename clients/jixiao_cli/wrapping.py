"""Table cells that wrap the way Chinese reports are typeset.

Rich wraps at spaces and folds anything longer character by character, which splits
`500,000.00` and `2019`, fact names such as `budget.spent`, and leaves `。` at the start
of a line. Here a cell's text is cut into units that are never split: a run of
non-space characters other than CJK (a number, an identifier, an English word, with the
punctuation stuck to it), or a single CJK character. A line may break between any two
units. Closing punctuation (。，、；：）」 …) sticks to the unit before it and opening
punctuation (（「《 …) to the unit after it, so no line starts with the first kind or ends
with the second (the 禁则 of Chinese line breaking). Only a unit wider than the whole
cell is split: after a `.` or `_` when it can, else between characters.

A wrapped cell keeps its indent on every line, so an indicator tree stays a tree.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterator, Mapping

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

#: Never at the start of a line.
CLOSING = set("。，、；：？！）」』》〕】〉］｝’”…·%％,.;:?!)]}")
#: Never at the end of a line.
OPENING = set("（「『《〔【〈［｛‘“([{")
#: Where an over-long identifier may still be split: after these when a letter follows,
#: the first kind preferred (between the parts of a dotted name), then the second. A
#: number (500,000.00) has no such place and is split only when nothing else fits.
SOFT_BREAKS = ("./", "_-")


@dataclass(frozen=True)
class Unit:
    """A piece of text never split across lines, and whether a space precedes it."""

    text: str
    spaced: bool


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def units(text: str) -> list[Unit]:
    """The text's unbreakable units, in order (spaces only recorded, not kept)."""
    pieces: list[list] = []  # [text, spaced]
    run_open = False  # the last piece is a non-CJK run that the next such character extends
    spaced = False  # a space came since the last piece
    prefix = ""  # opening punctuation waiting for the unit it belongs to

    def start(piece: str, extendable: bool) -> None:
        nonlocal prefix, spaced, run_open
        pieces.append([prefix + piece, spaced and bool(pieces)])
        prefix, spaced, run_open = "", False, extendable

    for char in text:
        if char.isspace():
            spaced, run_open = True, False
        elif char in CLOSING and pieces and not spaced and not prefix:
            pieces[-1][0] += char
            run_open = run_open and not _is_cjk(char)  # after 。 a line may break again
        elif char in OPENING and not (run_open and not spaced and not _is_cjk(char)):
            prefix += char
            run_open = False
        elif _is_cjk(char):
            start(char, extendable=False)
        elif run_open and not spaced:
            pieces[-1][0] += char
        else:
            start(char, extendable=True)
    if prefix:
        start("", extendable=False)
    return [Unit(piece, was_spaced) for piece, was_spaced in pieces]


def wrap(text: str, width: int) -> list[str]:
    """The text in lines at most `width` cells wide, broken only between units (and
    within a unit only when it alone is wider than `width`). Newlines are kept."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, width))
    return lines


def _wrap_paragraph(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for unit in units(text):
        joined = f"{line} {unit.text}" if line and unit.spaced else line + unit.text
        if cell_len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        line = ""
        for piece in _split_long(unit.text, width):
            if line:
                lines.append(line)
            line = piece
    lines.append(line)
    return lines


def _split_long(text: str, width: int) -> Iterator[str]:
    """A unit in pieces that fit: after a soft break where one falls in the line,
    else between characters."""
    while cell_len(text) > width:
        cut = 0
        used = 0
        for index, char in enumerate(text):
            used += cell_len(char)
            if used > width:
                break
            cut = index + 1
        for breaks in SOFT_BREAKS:
            soft = max((i + 1 for i in range(cut) if _soft_break_after(text, i, breaks)), default=0)
            if soft:
                cut = soft
                break
        cut = max(cut, 1)
        yield text[:cut]
        text = text[cut:]
    yield text


def _soft_break_after(text: str, index: int, breaks: str) -> bool:
    return (text[index] in breaks and index + 1 < len(text) and text[index + 1].isalpha()
            and index > 0 and text[index - 1].isalnum())


def narrowest(text: str) -> int:
    """As narrow as the text can wrap: its widest unit, or for a dotted name its widest
    part (a name may break after a dot, a number never)."""
    widest = 0
    for unit in units(text):
        start = 0
        for index in range(len(unit.text)):
            if _soft_break_after(unit.text, index, SOFT_BREAKS[0]):
                widest = max(widest, cell_len(unit.text[start:index + 1]))
                start = index + 1
        widest = max(widest, cell_len(unit.text[start:]))
    return widest


class Wrapped:
    """A table cell whose text wraps on unit boundaries, each line after an indent."""

    def __init__(self, text: str, indent: int = 0, style: StyleType = ""):
        self.text = text
        self.indent = indent
        self.style = style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(line) for line in self.text.split("\n")), default=0)
        return Measurement(self.indent + narrowest(self.text), self.indent + widest)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        pad = " " * self.indent
        lines = wrap(self.text, options.max_width - self.indent)
        yield Text("\n".join(pad + line for line in lines), style=self.style, no_wrap=True,
                   overflow="ignore", end="")


class Fitted:
    """A table whose columns share a too-narrow width so that nothing is split that
    need not be.

    When a table is too wide, rich narrows its widest wrapping column first, without
    regard to what its cells can wrap to: a tree of names and a long reason column end
    equally narrow, and identifiers and numbers get folded. Here each wrapping column
    first gets its minimum (its widest unbreakable piece, see `Wrapped`), columns that
    never wrap their full width, and what is left is shared among the wrapping columns
    by `weights` (1 when not given), none wider than it needs. A table that fits as it
    is (a wide terminal, a pipe) is left alone, each cell on one line.
    """

    def __init__(self, table: Table, weights: Mapping[int, float] | None = None):
        self.table = table
        self.weights = dict(weights or {})

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for column in self.table.columns:  # measured afresh at every width it is printed in
            column.width = None
        widths = self._widths(console, options)
        for column, width in zip(self.table.columns, widths or [None] * len(self.table.columns)):
            column.width = width
        yield self.table

    def _widths(self, console: Console, options: ConsoleOptions) -> list[int] | None:
        table = self.table
        wide = options.update(width=10 ** 6)
        measures = [table._measure_column(console, wide, column) for column in table.columns]
        padding = [table._get_padding_width(column._index) for column in table.columns]
        available = options.max_width - table._extra_width
        if sum(m.maximum for m in measures) <= available:
            return None
        flexible = [index for index, column in enumerate(table.columns) if not column.no_wrap]
        widths = [m.minimum if index in flexible else m.maximum for index, m in enumerate(measures)]
        if sum(widths) > available or not flexible:
            return None  # nothing fits whole: rich's own narrowing
        low, high = 0.0, float(available)
        for _ in range(40):  # the water level at which the flexible columns fill the width
            level = (low + high) / 2
            if sum(self._at(level, index, measures) for index in flexible) + \
                    sum(widths[i] for i in range(len(widths)) if i not in flexible) > available:
                high = level
            else:
                low = level
        for index in flexible:
            widths[index] = self._at(low, index, measures)
        return [max(width - pad, 1) for width, pad in zip(widths, padding)]

    def _at(self, level: float, index: int, measures: list[Measurement]) -> int:
        measure = measures[index]
        return min(measure.maximum, max(measure.minimum, int(level * self.weights.get(index, 1))))


def add_wrapped_row(table: Table, *cells: RenderableType, style: StyleType | None = None) -> None:
    """Add a row whose text cells wrap on unit boundaries, except in no_wrap columns."""
    table.add_row(*(Wrapped(cell) if isinstance(cell, str) and not column.no_wrap else cell
                    for cell, column in zip(cells, table.columns)), style=style)
