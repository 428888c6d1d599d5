"""The pack model: an indicator system and its scoring rules, immutable once loaded.

Everything here is plain data. `loader.load_pack` builds it from a pack document and
`validate.check_pack` proves its invariants; nothing in this module does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Mapping, Union


@dataclass(frozen=True)
class Text:
    """A reader-facing text: Chinese always, English when the pack gives it."""

    zh: str
    en: str | None = None

    def get(self, language: str) -> str:
        if language == "en" and self.en:
            return self.en
        return self.zh


class FactType(str, Enum):
    DECIMAL = "decimal"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"
    SURVEY = "survey"


@dataclass(frozen=True)
class SurveyOption:
    key: str
    label: Text


@dataclass(frozen=True)
class FactSpec:
    """One declared fact: its name (a dotted path), type and allowed values."""

    name: str
    type: FactType
    label: Text
    unit: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    default: object | None = None
    has_default: bool = False
    options: tuple[SurveyOption, ...] = ()

    @property
    def required(self) -> bool:
        return not self.has_default

    def option(self, key: str) -> SurveyOption | None:
        # Read for every survey deduction of every evaluation: index the options once.
        index = self.__dict__.get("_option_index")
        if index is None:
            index = {o.key: o for o in self.options}
            object.__setattr__(self, "_option_index", index)
        return index.get(key)


# --- conditions -------------------------------------------------------------------


@dataclass(frozen=True)
class FactRef:
    """A reference to a fact's value, or to one survey option's share."""

    name: str


@dataclass(frozen=True)
class Arithmetic:
    op: str  # add | sub | mul | div
    left: "Operand"
    right: "Operand"


Operand = Union[FactRef, Arithmetic, Decimal, bool, str]

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
NEGATED = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt"}


@dataclass(frozen=True)
class Compare:
    fact: FactRef
    op: str  # one of COMPARISONS
    operand: Operand


@dataclass(frozen=True)
class AllOf:
    conditions: tuple["Condition", ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    condition: "Condition"


Condition = Union[Compare, AllOf, AnyOf, Not]


# --- scoring methods ----------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A deduction check: `points` are deducted when `when` holds."""

    id: str
    when: Condition
    points: Decimal
    reason: Text
    met: Text | None = None


@dataclass(frozen=True)
class Ratio:
    actual: FactRef
    target: FactRef
    reason: Text


@dataclass(frozen=True)
class Deductions:
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class AllOrNothing:
    passes: Condition
    reason: Text
    met: Text | None = None


@dataclass(frozen=True)
class Survey:
    fact: FactRef
    weights: Mapping[str, Decimal]  # option key -> weight in [0, 1], in the fact's option order


@dataclass(frozen=True)
class Band:
    minimum: Decimal | None  # None: the catch-all last band
    deduct: Decimal
    reason: Text | None = None


@dataclass(frozen=True)
class Bands:
    value: FactRef
    bands: tuple[Band, ...]
    inferred: Text | None = None


@dataclass(frozen=True)
class Judgement:
    score: FactRef
    reason: FactRef


Scoring = Union[Ratio, Deductions, AllOrNothing, Survey, Bands, Judgement]

METHOD_NAMES = {
    Ratio: "ratio",
    Deductions: "deductions",
    AllOrNothing: "all_or_nothing",
    Survey: "survey",
    Bands: "bands",
    Judgement: "judgement",
}


def method_name(scoring: Scoring) -> str:
    return METHOD_NAMES[type(scoring)]


# --- the tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    id: str
    name: Text
    weight: Decimal
    children: tuple["Indicator", ...] = ()
    scoring: Scoring | None = None  # leaves only
    rationale: Text | None = None  # leaves only: evidence template

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self):
        """This node and all its descendants, depth first, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class GradeBand:
    grade: str  # e.g. 优
    minimum: Decimal  # inclusive lower bound, percent
    en: str | None = None


@dataclass(frozen=True)
class Pack:
    id: str
    version: str
    title: Text
    framework: str
    total_weight: Decimal
    grades: tuple[GradeBand, ...]
    facts: tuple[FactSpec, ...]
    indicators: tuple[Indicator, ...]
    digest: str = ""  # sha256 of the pack's files (see digest.py); set by bundle.load_bundle

    def fact(self, name: str) -> FactSpec | None:
        return _fact_index(self).get(name)

    def nodes(self):
        for top in self.indicators:
            yield from top.walk()

    def leaves(self):
        return (n for n in self.nodes() if n.is_leaf)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def _fact_index(pack: Pack) -> dict[str, FactSpec]:
    cached = pack.__dict__.get("_fact_index")
    if cached is None:
        cached = {f.name: f for f in pack.facts}
        object.__setattr__(pack, "_fact_index", cached)
    return cached


def grade_for(grades: tuple[GradeBand, ...], rate_percent: Decimal) -> GradeBand:
    """The band a score rate (in percent) falls in: the first whose lower bound it reaches."""
    for band in grades:
        if rate_percent >= band.minimum:
            return band
    return grades[-1]
