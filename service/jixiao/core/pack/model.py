"""The pack model: an indicator system and its scoring rules, immutable once loaded.

Everything here is plain data. `loader.load_pack` builds it from a pack document and
`validate.check_pack` proves its invariants; nothing in this module does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Callable, Mapping, Union


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
    CHOICE = "choice"  # one of declared options, by code; templates print its label
    TEXT_LIST = "text_list"  # a list of texts (an evaluator's observations); no rule reads it


@dataclass(frozen=True)
class SurveyOption:
    """An option of a survey (a share per option) or of a choice (one option): code and label."""

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
    options: tuple[SurveyOption, ...] = ()  # survey and choice facts
    non_empty: bool = False  # text facts: an empty or blank text is an input error
    max_items: int | None = None  # text_list facts: the most texts a request may send

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

#: Names of computed node values in the values an override's condition reads: the score
#: or the rate (percent) of a node, or of the total (`NODE_TOTAL`).
SCORE_PREFIX = "@score:"
RATE_PREFIX = "@rate:"
NODE_TOTAL = "total"

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
    finding: str | None = None  # the id of the finding it gives when it deducts


@dataclass(frozen=True)
class Slope:
    """Deduct `points` for each `per` a ratio falls below 1, in proportion."""

    per: Decimal
    points: Decimal


@dataclass(frozen=True)
class Ratio:
    actual: FactRef
    target: FactRef
    reason: Text
    floor: Decimal | None = None  # a ratio below it scores 0
    slope: Slope | None = None  # instead of weight × ratio
    below_floor: Text | None = None  # the reason when the ratio is below the floor


@dataclass(frozen=True)
class PerItem:
    """`points` deducted per item counted, at most `cap` (the weight when None)."""

    count: FactRef
    points: Decimal
    reason: Text
    cap: Decimal | None = None
    met: Text | None = None


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
    minimum: Decimal | None  # None: the catch-all last band (or a band of choice options)
    deduct: Decimal
    reason: Text | None = None  # shown whenever the band applies, also when it deducts 0
    options: tuple[str, ...] = ()  # bands over a choice fact: the option codes in this band
    finding: str | None = None  # the id of the finding it gives when the value falls in it


@dataclass(frozen=True)
class Bands:
    value: FactRef
    bands: tuple[Band, ...]
    inferred: Text | None = None


@dataclass(frozen=True)
class Judgement:
    score: FactRef
    reason: FactRef


Scoring = Union[Ratio, Deductions, AllOrNothing, Survey, Bands, Judgement, PerItem]

METHOD_NAMES = {
    PerItem: "per_item",
    Ratio: "ratio",
    Deductions: "deductions",
    AllOrNothing: "all_or_nothing",
    Survey: "survey",
    Bands: "bands",
    Judgement: "judgement",
}


def method_name(scoring: Scoring) -> str:
    return METHOD_NAMES[type(scoring)]


# --- not applicable (不适用) -------------------------------------------------------


@dataclass(frozen=True)
class NotApplicable:
    """How a leaf is found not applicable: by a condition over facts (with the pack's
    reason), or by the evaluator through a boolean fact (with a text fact as the reason)."""

    when: Condition | None = None
    reason: Text | None = None  # with `when`
    flag: FactRef | None = None  # a boolean fact: true means not applicable
    reason_fact: FactRef | None = None  # with `flag`: a text fact, required when flag is true


TREATMENTS = ("rescale", "redistribute")


# --- derived values, constraints, overrides --------------------------------------


@dataclass(frozen=True)
class Apply:
    """An operation of a derived value's expression: add, sub, mul, div (two args), min,
    max (two or more), abs (one), round (the value and a literal number of places)."""

    op: str
    args: tuple["Expression", ...]


Expression = Union[FactRef, Apply, Decimal]
DERIVED_OPS = ("add", "sub", "mul", "div", "min", "max", "abs", "round")
DERIVED_FORMATS = ("number", "percent", "money")


@dataclass(frozen=True)
class Derived:
    """A named value computed from facts, declared once, read like a decimal fact."""

    name: str
    label: Text
    expression: Expression
    format: str = "number"  # one of DERIVED_FORMATS: a template's default
    places: int = 6  # rounded half up to this many decimal places


@dataclass(frozen=True)
class Constraint:
    """A check between facts; when `require` does not hold the request is refused."""

    id: str
    require: Condition
    message: Text


OVERRIDE_ACTIONS = ("grade", "cap", "zero")


@dataclass(frozen=True)
class Override:
    """A rule that acts after the tree is scored: force the total grade, cap a node (or
    the total) at a score, or zero a node's whole subtree."""

    id: str
    when: Condition
    action: str  # one of OVERRIDE_ACTIONS
    reason: Text
    node: str = NODE_TOTAL  # cap and zero: a node id, or "total" (cap only)
    grade: str | None = None  # grade: the grade forced
    cap: Decimal | None = None  # cap: the highest score the node may keep
    finding: str | None = None  # the id of the finding it gives when it fires


@dataclass(frozen=True)
class FindingRule:
    """A problem (存在的问题) the pack's rules may find, and what to recommend (有关建议).

    Checks, bands, leaves and overrides name it by id (`finding: <id>`); it is reported once
    however many of them fire. Its texts are templates like rationales."""

    id: str
    text: Text
    recommendation: Text | None = None
    dimension: str | None = None  # a level-1 node id; None: that of the first node naming it


@dataclass(frozen=True)
class Observations:
    """Text-list facts through which the evaluator adds findings and recommendations that no
    rule can derive; appended after the rule-derived ones."""

    findings: str | None = None  # a text_list fact name
    recommendations: str | None = None


#: What a report's 基本情况 may take from the facts: key → the fact that gives it.
REPORT_PROJECT_KEYS = ("name", "unit", "year", "budget", "spent", "background")


# --- the tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    id: str
    name: Text
    weight: Decimal
    children: tuple["Indicator", ...] = ()
    scoring: Scoring | None = None  # leaves only
    rationale: Text | None = None  # leaves only: evidence template
    not_applicable: NotApplicable | None = None  # leaves only: how it may be found N/A
    description: Text | None = None  # what it measures (指标解释), for the report's analysis
    finding: str | None = None  # leaves only: the finding it gives when it loses points

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
    derived: tuple[Derived, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    overrides: tuple[Override, ...] = ()
    not_applicable_treatment: str | None = None  # one of TREATMENTS when a leaf may be N/A
    findings: tuple[FindingRule, ...] = ()
    observations: Observations = Observations()
    report_project: tuple[tuple[str, str], ...] = ()  # (REPORT_PROJECT_KEYS key, fact name) pairs

    def fact(self, name: str) -> FactSpec | None:
        return _fact_index(self).get(name)

    def derived_value(self, name: str) -> Derived | None:
        index = self.__dict__.get("_derived_index")
        if index is None:
            index = {d.name: d for d in self.derived}
            object.__setattr__(self, "_derived_index", index)
        return index.get(name)

    def value_type(self, name: str) -> FactType | None:
        """The type of a name a rule or template reads: a fact's own type; DECIMAL for a
        survey option's share, a derived value and a node's score or rate; None if unknown."""
        spec = self.fact(name)
        if spec is not None:
            return spec.type
        if self.derived_value(name) is not None or name.startswith((SCORE_PREFIX, RATE_PREFIX)):
            return FactType.DECIMAL
        survey, _, option = name.rpartition(".")
        spec = self.fact(survey)
        if spec is not None and spec.type is FactType.SURVEY and spec.option(option) is not None:
            return FactType.DECIMAL
        return None

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


def node_paths(indicators: tuple[Indicator, ...], test: Callable[[Indicator], bool]) -> dict[str, tuple]:
    """Each node passing `test`, by id, with its path in the pack document
    (("indicators", 0, "children", 2, ...)), in the pack's order."""
    found: dict[str, tuple] = {}
    todo = [(node, ("indicators", i)) for i, node in reversed(list(enumerate(indicators)))]
    while todo:
        node, path = todo.pop()
        if test(node):
            found[node.id] = path
        todo.extend((child, path + ("children", j)) for j, child in reversed(list(enumerate(node.children))))
    return found


def grade_for(grades: tuple[GradeBand, ...], rate_percent: Decimal) -> GradeBand:
    """The band a score rate (in percent) falls in: the first whose lower bound it reaches."""
    for band in grades:
        if rate_percent >= band.minimum:
            return band
    return grades[-1]
