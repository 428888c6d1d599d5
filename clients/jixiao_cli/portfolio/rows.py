"""One line of `jixiao batch` JSONL output, checked and read into what the summary needs.

A row is input from outside (a file anyone can edit), so every field is checked with
full-string rules and size limits before use; a line that is not batch output is refused
with a message naming what is wrong. Rows written before batch outputs carried their
explanations (no `dimensions`, `details` or `findings`), and rows of a .csv output (the scores
alone: no overrides nor indicators found not applicable either), are read as they are: the
figures that need those fields say they could not be computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from jixiao.core.identifiers import echo

#: A score, weight, rate or deduction as the wire writes it: "2.39", "-0.5", "100".
DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
#: An id of the pack's language (indicator, finding, rule): letters, digits and . _ - # [ ] @.
IDENTIFIER = re.compile(r"[A-Za-z0-9_.#@\[\]-]{1,200}")
KEY_MAX = 256
TEXT_MAX = 5000
NAME_MAX = 500
#: More leaves or findings than any pack has: a row beyond these is not batch output.
ITEMS_MAX = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Half of a UTF-16 pair alone (JSON "\\ud800"): no file or page can hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
REQUIRED = ("key", "pack", "version", "digest", "score", "grade", "level1", "leaves")


class RowError(ValueError):
    """The record is not a row of `jixiao batch` output; the message says why."""


@dataclass(frozen=True)
class Dimension:
    """A level-1 indicator's result in a row."""

    id: str
    weight: Decimal
    score: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Detail:
    """A leaf's result in a row: what it lost, and whether it applied."""

    id: str
    deducted: Decimal
    not_applicable: bool


@dataclass(frozen=True)
class FindingRef:
    """A finding given to a row's project."""

    id: str
    text: str
    dimension: str
    observation: bool


@dataclass(frozen=True)
class Row:
    """What the summary reads of one scored project. `dimensions`, `details` and
    `findings` are None in a row written before batch outputs carried them; `overrides`
    and `not_applicable` too in a row of a .csv output, which holds the scores alone."""

    line: int
    key: str
    pack: str
    version: str
    digest: str
    score: Decimal
    grade: str
    level1: Mapping[str, Decimal]
    leaves: tuple[str, ...]  # the leaf ids, in the row's order
    overrides: tuple[str, ...] | None  # None: not known (a .csv output's row)
    not_applicable: tuple[str, ...] | None
    rate: Decimal | None
    dimensions: tuple[Dimension, ...] | None
    details: tuple[Detail, ...] | None
    findings: tuple[FindingRef, ...] | None


def parse_row(record: Any, line: int, scores_only: bool = False) -> Row:
    """The row in a decoded JSON line; RowError naming the field if it is not batch output.
    `scores_only`: the record comes from an output of the scores alone (a .csv), which
    does not say which overrides fired nor which indicators were not applicable."""
    if not isinstance(record, dict):
        raise RowError(f"a JSON {type(record).__name__}, not an object")
    missing = [name for name in REQUIRED if name not in record]
    if missing:
        raise RowError(f"no {', '.join(missing)} (a row of `jixiao batch` output has "
                       f"{', '.join(REQUIRED)})")
    level1 = _mapping(record["level1"], "level1")
    leaves = _mapping(record["leaves"], "leaves")
    return Row(
        line=line,
        key=_key(record["key"]),
        pack=_identifier(record["pack"], "pack"),
        version=_identifier(record["version"], "version"),
        digest=_identifier(record["digest"], "digest"),
        score=_decimal(record["score"], "score"),
        grade=_text(record["grade"], "grade", NAME_MAX, allow_empty=True),
        level1={_identifier(id_, "level1"): _decimal(value, f"level1.{id_}") for id_, value in level1.items()},
        leaves=tuple(_identifier(id_, "leaves") for id_ in leaves),
        overrides=None if scores_only else _identifiers(record, "overrides"),
        not_applicable=None if scores_only else _identifiers(record, "not_applicable"),
        rate=_decimal(record["rate"], "rate") if "rate" in record else None,
        dimensions=(tuple(_dimension(item, i) for i, item in enumerate(_list(record["dimensions"], "dimensions")))
                    if "dimensions" in record else None),
        details=(tuple(_detail(item, i) for i, item in enumerate(_list(record["details"], "details")))
                 if "details" in record else None),
        findings=(tuple(_finding(item, i) for i, item in enumerate(_list(record["findings"], "findings")))
                  if "findings" in record else None),
    )


def _identifiers(record: dict, field: str) -> tuple[str, ...]:
    """A list of ids a row writes only when it has some."""
    return tuple(_identifier(item, field) for item in _list(record.get(field, []), field))


def _dimension(item: Any, index: int) -> Dimension:
    field = f"dimensions[{index}]"
    item = _object(item, field)
    return Dimension(_id_of(item, field), *(_decimal_of(item, name, field) for name in ("weight", "score", "rate")))


def _detail(item: Any, index: int) -> Detail:
    field = f"details[{index}]"
    item = _object(item, field)
    return Detail(_id_of(item, field), _decimal_of(item, "deducted", field), _flag(item, "not_applicable", field))


def _finding(item: Any, index: int) -> FindingRef:
    field = f"findings[{index}]"
    item = _object(item, field)
    dimension = item.get("dimension", "")
    return FindingRef(_id_of(item, field), _text(_get(item, "text", field), f"{field}.text", TEXT_MAX),
                      _identifier(dimension, f"{field}.dimension") if dimension else "",
                      _flag(item, "observation", field))


def _id_of(item: dict, field: str) -> str:
    """The item's required id."""
    return _identifier(_get(item, "id", field), f"{field}.id")


def _decimal_of(item: dict, name: str, field: str) -> Decimal:
    """The item's required decimal `name`."""
    return _decimal(_get(item, name, field), f"{field}.{name}")


def _flag(item: dict, name: str, field: str) -> bool:
    """The item's true-or-false `name`, false when absent."""
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise RowError(f"{field}.{name} is not true or false")
    return value


def _get(item: dict, name: str, field: str) -> Any:
    if name not in item:
        raise RowError(f"{field} has no {name}")
    return item[name]


def _object(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise RowError(f"{field} is not an object")
    return value


def _mapping(value: Any, field: str) -> dict:
    value = _object(value, field)
    if len(value) > ITEMS_MAX:
        raise RowError(f"{field} has {len(value)} entries, more than {ITEMS_MAX}")
    return value


def _list(value: Any, field: str) -> list:
    if not isinstance(value, list):
        raise RowError(f"{field} is not a list")
    if len(value) > ITEMS_MAX:
        raise RowError(f"{field} has {len(value)} items, more than {ITEMS_MAX}")
    return value


def _text(value: Any, field: str, limit: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise RowError(f"{field} is not a text")
    if not value and not allow_empty:
        raise RowError(f"{field} is empty")
    if len(value) > limit:
        raise RowError(f"{field} has {len(value)} characters, more than {limit}")
    if _SURROGATE.search(value):
        raise RowError(f"{field} holds an unpaired surrogate (\\ud800-\\udfff), which is not text")
    return value


def _key(value: Any) -> str:
    key = _text(value, "key", KEY_MAX, allow_empty=True)
    if _CONTROL.search(key):
        raise RowError(f"key {echo(key)!r} holds a control character")
    return key


#: Ids already found valid: a batch repeats the same few hundred in every row.
_VALID_IDS: set[str] = set()
_VALID_IDS_MAX = 100_000


def _identifier(value: Any, field: str) -> str:
    if value.__class__ is str and value in _VALID_IDS:
        return value
    if not isinstance(value, str) or IDENTIFIER.fullmatch(value) is None:
        shown = echo(value) if isinstance(value, str) else type(value).__name__
        raise RowError(f"{field}: {shown!r} is not an id")
    if len(_VALID_IDS) < _VALID_IDS_MAX:
        _VALID_IDS.add(value)
    return value


def _decimal(value: Any, field: str) -> Decimal:
    if not isinstance(value, str) or DECIMAL.fullmatch(value) is None:
        shown = echo(value) if isinstance(value, str) else repr(value)[:64]
        raise RowError(f"{field}: {shown} is not a decimal such as \"2.39\"")
    return Decimal(value)
