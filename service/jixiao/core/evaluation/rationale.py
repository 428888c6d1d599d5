"""Rationale templates: `{name}` and `{name|format}` placeholders rendered the report's way."""

from __future__ import annotations

import re
from functools import lru_cache
from decimal import Decimal
from typing import Callable, Mapping

from .. import decimals
from ..pack.model import FactType, Pack

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)(?:\|([a-z_]+))?\}")

#: Values a leaf's templates may use besides facts, by scoring method (None: every method).
LEAF_VARIABLES: dict[str, str | None] = {
    "weight": None, "score": None, "deducted": None, "findings": None,
    "ratio": "ratio", "actual": "ratio", "target": "ratio",
    "value": "bands",
    "count": "per_item",
}

NUMERIC_FORMATS = ("money", "percent", "percent_value", "number")
FORMATS = NUMERIC_FORMATS + ("shares", "yesno")


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """(name, format) for every placeholder in a template."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]


def _yesno(value: object, language: str) -> str:
    if language == "en":
        return "yes" if value else "no"
    return "是" if value else "否"


def _shares(pack: Pack, name: str, shares: Mapping[str, Decimal], language: str) -> str:
    return _shares_formatter(pack, name, language)(shares)


_NUMBER_FORMATTERS: dict[str, Callable[[Decimal], str]] = {
    "money": decimals.money,
    "percent": decimals.percent,
    "percent_value": decimals.percent_value,
    "number": decimals.plain,
}


def _derived_percent(fraction: Decimal) -> str:
    """A derived value's percentage: always 2 places, "0.124" → "12.40%"."""
    return decimals.fixed2(fraction * decimals.HUNDRED) + "%"


def _number_formatter(pack: Pack, name: str, fmt: str) -> Callable[[Decimal], str]:
    """The formatter of a numeric format for a name: a derived value's percentage keeps
    its 2 places (the issue's "percent with 2 places"); a fact's drops trailing zeros, as
    rationales always have."""
    if fmt == "percent" and pack.derived and pack.derived_value(name) is not None:
        return _derived_percent
    return _NUMBER_FORMATTERS[fmt]


def _default_format(pack: Pack, name: str) -> str | None:
    """The format a placeholder without one takes: a derived value's declared format."""
    derived = pack.derived_value(name) if pack.derived else None
    return derived.format if derived is not None else None


def _choice_labels(pack: Pack, name: str, language: str) -> dict[str, str] | None:
    """A choice fact's option code → its label in `language`; None for other names."""
    spec = pack.fact(name)
    if spec is None or spec.type is not FactType.CHOICE:
        return None
    return {option.key: option.label.get(language) for option in spec.options}


def format_value(pack: Pack, name: str, value: object, fmt: str | None, language: str) -> str:
    if fmt is None:
        labels = _choice_labels(pack, name, language)
        if labels is not None and isinstance(value, str):
            return labels.get(value, value)
        fmt = _default_format(pack, name)
    if fmt == "shares" or (fmt is None and isinstance(value, Mapping)):
        return _shares(pack, name, value, language)  # type: ignore[arg-type]
    if fmt == "yesno" or (fmt is None and isinstance(value, bool)):
        return _yesno(value, language)
    if fmt in _NUMBER_FORMATTERS:
        return _number_formatter(pack, name, fmt)(Decimal(value))  # type: ignore[arg-type]
    if isinstance(value, Decimal):
        return decimals.plain(value)
    return str(value)


def value_formatter(pack: Pack, name: str, fmt: str | None, language: str) -> Callable[[object], str]:
    """`format_value` for one placeholder, with what the pack and format decide chosen once.

    Gives the same text as `format_value(pack, name, value, fmt, language)` for any value.
    """
    if fmt is None:
        labels = _choice_labels(pack, name, language)
        if labels is not None:
            return lambda code: labels.get(code, code) if type(code) is str else str(code)  # type: ignore[arg-type]
        fmt = _default_format(pack, name)
    if fmt == "shares":
        return _shares_formatter(pack, name, language)
    if fmt == "yesno":
        yes, no = _yesno(True, language), _yesno(False, language)
        return lambda value: yes if value else no
    if fmt in _NUMBER_FORMATTERS:
        number = _number_formatter(pack, name, fmt)
        return lambda value: number(value if type(value) is Decimal else Decimal(value))  # type: ignore[arg-type]
    plain = decimals.plain
    yes, no = _yesno(True, language), _yesno(False, language)

    def automatic(value: object) -> str:
        kind = type(value)
        if kind is Decimal:
            return plain(value)  # type: ignore[arg-type]
        if kind is str:
            return value  # type: ignore[return-value]
        if kind is bool:
            return yes if value else no
        if kind is int:
            return int.__repr__(value)  # type: ignore[arg-type]
        return format_value(pack, name, value, None, language)
    return automatic


def _shares_formatter(pack: Pack, name: str, language: str) -> Callable[[object], str]:
    """A survey's shares as the report lists them: each option's label and percentage."""
    spec = pack.fact(name)
    labels = tuple((option.key, option.label.get(language)) for option in (spec.options if spec else ()))
    sep, gap = (", ", " ") if language == "en" else ("、", "")
    percent_value = decimals.percent_value
    return lambda shares: sep.join(f"{label}{gap}{percent_value(shares[key])}" for key, label in labels)  # type: ignore[index]


@lru_cache(maxsize=4096)
def parse_template(template: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """A template as (literal text, placeholder name, format) triples, parsed once."""
    parts = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append((template[position:match.start()], match.group(1), match.group(2)))
        position = match.end()
    parts.append((template[position:], None, None))
    return tuple(parts)


def verdict(deducted: Decimal, score: Decimal, language: str) -> str:
    """The sentence a report closes each indicator with."""
    if language == "en":
        if deducted > 0:
            points = "1 point is" if deducted == 1 else f"{decimals.plain(deducted)} points are"
            return f"Under the scoring rules, {points} deducted; score {decimals.plain(score)}."
        return f"Under the scoring rules, full marks: {decimals.plain(score)}."
    if deducted > 0:
        return f"根据评分细则，扣{decimals.plain(deducted)}分，得{decimals.plain(score)}分。"
    return f"根据评分细则，得{decimals.plain(score)}分。"


def join_sentences(evidence: str, closing: str, language: str) -> str:
    """Evidence, then the verdict, with exactly one full stop between them."""
    evidence = evidence.strip().rstrip("。；;，,. ")
    if not evidence:
        return closing
    return f"{evidence}. {closing}" if language == "en" else f"{evidence}。{closing}"
