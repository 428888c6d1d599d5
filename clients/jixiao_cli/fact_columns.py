"""A pack's facts as the columns of a spreadsheet, and a cell's content as a fact value.

One column per fact, and one per option of a survey fact holding that option's share
in percent. A column is headed by the fact's name (`budget.spent`, and for a survey
share `survey.awareness.familiar`) or by its label: the Chinese or the English label,
with or without the unit in parentheses (`预算批复金额`, `预算批复金额（元）`). A survey
share's label is `<survey label>.<option label>`, as its name is `<survey>.<option>`:
`问卷：首义质量奖政策知晓率.非常了解（%）`. `jixiao template` writes the label with its
unit in row 1 and the name in row 2; `jixiao batch` reads either.

A cell becomes the fact's type: a decimal its text ("398761.00"; thousands separators
and, for shares, a trailing % dropped), an integer an int, a boolean True or False
(TRUE/FALSE, true/false, 是/否, 1/0), a text itself, and so does a choice: its option's
code or label (好), which the pack reads as the option. A list of texts (an evaluator's
observations) is one item a line of the cell, blank lines left out. An empty cell is a
missing fact.
A cell that does not convert is passed on as its text, so that the evaluation reports
it, naming the fact and the type expected, together with every other problem of the row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal, InvalidOperation
from typing import Iterable

from jixiao.v1 import evaluation_pb2

DECIMAL, INTEGER, BOOLEAN, TEXT, SHARE, CHOICE = "decimal", "integer", "boolean", "text", "share", "choice"
TEXT_LIST = "text_list"
KINDS = {
    evaluation_pb2.FACT_TYPE_DECIMAL: DECIMAL,
    evaluation_pb2.FACT_TYPE_INTEGER: INTEGER,
    evaluation_pb2.FACT_TYPE_BOOLEAN: BOOLEAN,
    evaluation_pb2.FACT_TYPE_TEXT: TEXT,
    evaluation_pb2.FACT_TYPE_CHOICE: CHOICE,
    evaluation_pb2.FACT_TYPE_TEXT_LIST: TEXT_LIST,
}
TRUE_TEXTS = frozenset({"true", "是", "1"})
FALSE_TEXTS = frozenset({"false", "否", "0"})
PERCENT = "%"


@dataclass(frozen=True)
class FactColumn:
    """One column of an input sheet: a fact, or one option's share of a survey fact."""

    name: str  # "budget.spent"; a survey share "survey.awareness.familiar"
    fact: str  # the fact it feeds: "budget.spent"; for a share "survey.awareness"
    kind: str  # DECIMAL, INTEGER, BOOLEAN, TEXT, SHARE, CHOICE or TEXT_LIST
    label: str  # Chinese label; a share's is "<survey label>.<option label>"
    label_en: str
    unit: str
    minimum: str  # inclusive bounds as the pack writes them; "" when unbounded
    maximum: str
    required: bool
    options: tuple[tuple[str, str, str], ...] = ()  # a choice: each option's (code, label, English label)

    def title(self, language: str = "zh") -> str:
        """The label in `language` (Chinese when the pack has no English one)."""
        return self.label_en if language == "en" and self.label_en else self.label

    def header(self, language: str = "zh") -> str:
        """The label `jixiao template` heads the column with: "预算批复金额（元）"."""
        if not self.unit:
            return self.title(language)
        return f"{self.label_en} ({self.unit})" if language == "en" and self.label_en \
            else f"{self.label}（{self.unit}）"

    def option_labels(self, language: str = "zh") -> list[str]:
        """A choice's options as an evaluator picks them: their labels in `language`."""
        return [label_en if language == "en" and label_en else label for _code, label, label_en in self.options]

    def option_code(self, text: str) -> str:
        """A choice cell's option code: the option whose code or zh or en label it is; else the
        text itself, which the evaluation then refuses naming the options."""
        for code, label, label_en in self.options:
            if text in (code, label, label_en):
                return code
        return text

    @property
    def in_percent(self) -> bool:
        return self.kind == SHARE or self.unit == PERCENT

    @cached_property
    def path(self) -> tuple[str, ...]:
        """The dotted name's parts: where the value goes in a nested facts object."""
        return tuple(self.name.split("."))


def fact_columns(pack: evaluation_pb2.Pack) -> tuple[FactColumn, ...]:
    """The pack's input columns in the order of its fact schema."""
    columns: list[FactColumn] = []
    for fact in pack.facts:
        if fact.type == evaluation_pb2.FACT_TYPE_SURVEY:
            columns.extend(
                FactColumn(f"{fact.name}.{option.key}", fact.name, SHARE,
                           f"{fact.label}.{option.label}",
                           f"{fact.label_en}.{option.label_en}" if fact.label_en and option.label_en else "",
                           fact.unit or PERCENT, "0", "100", fact.required)
                for option in fact.options)
        else:
            options = tuple((o.key, o.label, o.label_en) for o in fact.options) \
                if fact.type == evaluation_pb2.FACT_TYPE_CHOICE else ()
            columns.append(FactColumn(fact.name, fact.name, KINDS.get(fact.type, TEXT), fact.label,
                                      fact.label_en, fact.unit, fact.min, fact.max, fact.required, options))
    return tuple(columns)


class HeaderIndex:
    """Finds the column a header text names: a fact name, a label, or a label with its unit."""

    def __init__(self, columns: Iterable[FactColumn]):
        self._columns: dict[str, FactColumn] = {}
        self._ambiguous: dict[str, list[str]] = {}
        for column in columns:
            for text in _header_texts(column):
                known = self._columns.get(text)
                if known is not None and known != column:
                    self._ambiguous.setdefault(text, [known.name]).append(column.name)
                self._columns.setdefault(text, column)
        self.names = frozenset(column.name for column in self._columns.values())

    def find(self, header: str) -> FactColumn | None:
        """The column `header` names; None when it names none. A fact name always wins;
        a label that several columns share is refused with ValueError."""
        text = header.strip()
        if text in self.names:
            return self._columns[text]
        if text in self._ambiguous:
            raise ValueError(f"'{text}' is the label of several facts ({', '.join(self._ambiguous[text])}): "
                             f"head the column with the fact's name")
        return self._columns.get(text)


def _header_texts(column: FactColumn) -> list[str]:
    texts = [column.name, column.label]
    if column.unit:
        texts += [f"{column.label}（{column.unit}）", f"{column.label}({column.unit})"]
    if column.label_en:
        texts.append(column.label_en)
        if column.unit:
            texts += [f"{column.label_en} ({column.unit})", f"{column.label_en}({column.unit})"]
    return [text for text in texts if text]


class Percent(float):
    """A spreadsheet number shown as a percentage: 0.275 displayed as 27.5%."""


def cell_value(column: FactColumn, raw: object) -> object | None:
    """The fact value a cell holds for `column`; None when the cell is empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if column.kind == BOOLEAN:
        return _boolean(raw)
    if column.kind == CHOICE:
        return column.option_code(_text(raw))
    if column.kind == TEXT:
        return _text(raw)
    if column.kind == TEXT_LIST:
        return text_items(raw)
    number = _number(raw, column.in_percent)
    if number is None:
        return _text(raw)
    if column.kind == INTEGER:
        return int(number) if number == number.to_integral_value() else _text(raw)
    return str(number)


def text_items(raw: object) -> list[str] | None:
    """A list-of-texts cell's items: one a line, each stripped, blank lines left out;
    None when there is none (the fact is missing, and its default, an empty list, applies)."""
    items = [line.strip() for line in _text(raw).splitlines() if line.strip()]
    return items or None


def put_fact(facts: dict, column: FactColumn, value: object) -> None:
    """Set `value` at the column's dotted name in a nested facts object."""
    path = column.path
    node = facts
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _boolean(raw: object) -> object:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = _text(raw)
    if text.lower() in TRUE_TEXTS:
        return True
    if text.lower() in FALSE_TEXTS:
        return False
    return text


def _number(raw: object, in_percent: bool) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Percent):
        number = Decimal(repr(float(raw)))
        return number * 100 if in_percent else number
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if not isinstance(raw, str):
        return None
    text = raw.strip().replace(",", "").replace("，", "")
    if in_percent and text.endswith(("%", "％")):
        text = text[:-1].rstrip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (datetime.date, datetime.time)):
        return raw.isoformat()
    return str(raw).strip()


def key_text(raw: object) -> str:
    """A row key as text: 7 and 7.0 both give "7"; "" for an empty cell."""
    return "" if raw is None else _text(raw)
