"""The portfolio summary's figures, computed from batch rows: pure, Decimal end to end.

Every figure keeps the keys of the rows behind it (a grade its projects, an indicator the
projects that lost points on it with what each lost, a finding the projects given it, a
statistic the values it was computed from), so that it can be checked against the rows.

Rows of one pack only. Rows of several versions of it are summarized together when the
versions share one indicator tree (the same dimensions and leaves), and the summary lists
the versions with their row counts; rows whose tree differs from the pack's are refused.

Definitions (all rounded half up to 2 places at the end, never in between):
- a grade's share: its projects ÷ all projects, in percent;
- a dimension's mean, median, min, max and population standard deviation
  (√(Σ(x − mean)² ÷ n)) of its score and of its score rate over all projects;
- an indicator's points lost: the sum of its `deducted` over all projects; its projects
  losing points: those whose `deducted` > 0; its mean: the sum ÷ the projects it applied
  to (not found not applicable). Ranked by points lost, then by tree order;
- a finding: rule findings by id, an evaluator's observations by their text; its count:
  the projects given it; its share: that ÷ all projects in percent. Ranked by count, then
  rule findings before observations, then dimension order, then first appearance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Callable, Iterable

from jixiao.core.identifiers import echo

from .outline import Named, Outline
from .rows import Row

CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

#: The figures that need fields old rows lack, and those fields.
OPTIONAL_FIGURES = {"rates": "dimensions", "indicators": "details", "findings": "findings",
                    "overrides": "overrides", "not_applicable": "not_applicable"}


class SummaryError(ValueError):
    """A row cannot be summarized with the others; `line` is its line in the file."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class VersionCount:
    version: str
    digest: str
    count: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class GradeCount:
    grade: Named
    count: int
    share: Decimal  # percent of the projects
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Stats:
    """Statistics of a set of values, with the keys of the rows at the minimum and maximum."""

    count: int
    mean: Decimal
    median: Decimal
    min: Decimal
    max: Decimal
    std: Decimal  # population
    min_keys: tuple[str, ...]
    max_keys: tuple[str, ...]


@dataclass(frozen=True)
class DimensionFigures:
    dimension: Named
    score: Stats
    rate: Stats | None  # None when some rows carry no rates
    values: tuple[tuple[str, Decimal, Decimal | None], ...]  # (key, score, rate) per row


@dataclass(frozen=True)
class IndicatorLoss:
    rank: int
    leaf: Named
    total: Decimal  # points lost over all projects
    projects: int  # projects that lost points on it
    applicable: int  # projects it applied to
    mean: Decimal | None  # total ÷ applicable
    losses: tuple[tuple[str, Decimal], ...]  # (key, deducted) of the projects that lost points


@dataclass(frozen=True)
class FindingCount:
    rank: int
    id: str  # the finding's id; an observation: the id it had in its first row
    text: str  # as the first row giving it words it
    dimension: str
    observation: bool
    count: int
    share: Decimal
    texts: int  # how many different wordings the rows give it
    keys: tuple[str, ...]


@dataclass(frozen=True)
class KeyedCount:
    """An override rule or a leaf found not applicable, and the projects it concerns."""

    id: str
    name: str
    count: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Missing:
    """A figure that could not be computed: `rows` rows lack `field` (the first: `first_key`)."""

    figure: str
    field: str
    rows: int
    first_key: str


@dataclass(frozen=True)
class Summary:
    outline: Outline
    projects: int
    versions: tuple[VersionCount, ...]
    total: Stats
    total_rate: Stats | None
    totals: tuple[tuple[str, Decimal, Decimal | None], ...]  # (key, score, rate) per row
    grades: tuple[GradeCount, ...]
    dimensions: tuple[DimensionFigures, ...]
    indicators: tuple[IndicatorLoss, ...] | None
    findings: tuple[FindingCount, ...] | None
    overrides: tuple[KeyedCount, ...] | None  # None when some rows do not say (a .csv output's)
    not_applicable: tuple[KeyedCount, ...] | None
    missing: tuple[Missing, ...]


def summarize(rows: Iterable[Row], outline: Outline | Callable[[Row], Outline]) -> Summary:
    """The figures of `rows`, read once (a stream will do). `outline` is the pack's, or gives
    each row its version's (asked for every row: cache it). SummaryError for a row that does
    not fit (another pack or tree, a duplicate key, a grade the pack lacks, no rows)."""
    outline_of = (lambda _row: outline) if isinstance(outline, Outline) else outline
    tally: _Tally | None = None
    for row in rows:
        version_outline = outline_of(row)
        if tally is None:
            tally = _Tally(version_outline)
        elif version_outline is not tally.version_outline:
            tally.widen(version_outline, row)
        tally.add(row)
    if tally is None:
        raise SummaryError(0, "no rows: there is nothing to summarize")
    return tally.summary()


class _Tally:
    """What the figures need, gathered row by row."""

    def __init__(self, outline: Outline):
        self.outline = outline
        self.version_outline = outline
        self.dimension_ids = tuple(d.id for d in outline.dimensions)
        self.leaf_ids = tuple(leaf.id for leaf in outline.leaves)
        self.leaf_set = frozenset(self.leaf_ids)
        self.dimension_set = frozenset(self.dimension_ids)
        self.own_leaves = self.leaf_set - self.dimension_set
        self.grade_index = {}
        for index, grade in enumerate(outline.grades):
            self.grade_index.setdefault(grade.id, index)
            if grade.name_en:
                self.grade_index.setdefault(grade.name_en, index)
        self.lines: dict[str, int] = {}
        self.versions: dict[tuple[str, str], list[str]] = {}
        self.totals: list[tuple[str, Decimal, Decimal | None]] = []
        self.grades: list[list[str]] = [[] for _ in outline.grades]
        self.scores: dict[str, list[tuple[str, Decimal]]] = {id_: [] for id_ in self.dimension_ids}
        self.rates: dict[str, list[Decimal]] = {id_: [] for id_ in self.dimension_ids}
        self.losses: dict[str, list[tuple[str, Decimal]]] = {id_: [] for id_ in self.leaf_ids}
        self.lost: dict[str, Decimal] = {id_: Decimal(0) for id_ in self.leaf_ids}
        self.applicable: dict[str, int] = {id_: 0 for id_ in self.leaf_ids}
        self.findings: dict[tuple[bool, str], dict] = {}
        self.overrides: dict[str, list[str]] = {}
        self.not_applicable: dict[str, list[str]] = {}
        self.lacking: dict[str, list[str]] = {figure: [] for figure in OPTIONAL_FIGURES}

    def widen(self, outline: Outline, row: Row) -> None:
        """Take in another version's outline: the same tree, perhaps more grades."""
        self.version_outline = outline
        if outline.pack != self.outline.pack:
            return  # add() refuses the row, naming the pack
        if outline.tree != self.outline.tree:
            raise SummaryError(row.line, f"scored with {outline.pack} {echo(row.version)}, whose indicator tree "
                                         f"differs from that of the rows before it: summarize the rows of "
                                         f"each version separately")
        self.outline = self.outline.with_grades_of(outline)
        for grade in self.outline.grades[len(self.grades):]:
            self.grades.append([])
            self.grade_index.setdefault(grade.id, len(self.grades) - 1)
            if grade.name_en:
                self.grade_index.setdefault(grade.name_en, len(self.grades) - 1)

    def add(self, row: Row) -> None:
        self._check(row)
        key = row.key
        self.lines[key] = row.line
        self.versions.setdefault((row.version, row.digest), []).append(key)
        self.grades[self.grade_index[row.grade]].append(key)
        self.totals.append((key, row.score, row.rate))
        if row.rate is None or row.dimensions is None:
            self.lacking["rates"].append(key)
        rates = {d.id: d.rate for d in row.dimensions or ()}
        for id_ in self.dimension_ids:
            self.scores[id_].append((key, row.level1[id_]))
            if id_ in rates:
                self.rates[id_].append(rates[id_])
        if row.details is None:
            self.lacking["indicators"].append(key)
        else:
            for detail in row.details:
                if detail.not_applicable:
                    continue
                self.applicable[detail.id] += 1
                if detail.deducted > 0:
                    self.lost[detail.id] += detail.deducted
                    self.losses[detail.id].append((key, detail.deducted))
        if row.findings is None:
            self.lacking["findings"].append(key)
        else:
            for finding in row.findings:
                group = self.findings.setdefault(
                    (finding.observation, finding.text if finding.observation else finding.id),
                    {"first": finding, "order": len(self.findings), "keys": [], "texts": set()})
                if not group["keys"] or group["keys"][-1] != key:
                    group["keys"].append(key)
                group["texts"].add(finding.text)
        if row.overrides is None:
            self.lacking["overrides"].append(key)
        else:
            for rule_id in dict.fromkeys(row.overrides):
                self.overrides.setdefault(rule_id, []).append(key)
        if row.not_applicable is None:
            self.lacking["not_applicable"].append(key)
        else:
            for leaf_id in dict.fromkeys(row.not_applicable):
                self.not_applicable.setdefault(leaf_id, []).append(key)

    def _check(self, row: Row) -> None:
        if row.pack != self.outline.pack:
            raise SummaryError(row.line, f"scored with the pack {echo(row.pack)}, not {self.outline.pack}: "
                                         f"a summary covers the rows of one pack")
        if row.key in self.lines:
            raise SummaryError(row.line, f"the key {echo(row.key)!r} again (line {self.lines[row.key]}): "
                                         f"a summary needs each project once")
        # A level-1 indicator without children is a leaf too: a .csv output names it once, in level1.
        if (set(row.level1) != self.dimension_set or set(row.leaves) - self.dimension_set != self.own_leaves
                or (row.details is not None and {d.id for d in row.details} != self.leaf_set)):
            raise SummaryError(row.line, f"its indicators are not those of {self.outline.pack}'s tree "
                                         f"(rows of a version with another tree cannot be summarized "
                                         f"with these)")
        if row.dimensions is not None and {d.id for d in row.dimensions} != set(self.dimension_ids):
            raise SummaryError(row.line, "its dimensions are not the pack's level-1 indicators")
        if row.not_applicable and not set(row.not_applicable) <= self.leaf_set:
            raise SummaryError(row.line, "not_applicable names an indicator that is not a leaf of the pack")
        if row.grade not in self.grade_index:
            known = ", ".join(g.id for g in self.outline.grades)
            raise SummaryError(row.line, f"the grade {echo(row.grade)!r} is not one of the pack's ({known})")

    def summary(self) -> Summary:
        projects = len(self.totals)
        missing = tuple(Missing(figure, OPTIONAL_FIGURES[figure], len(keys), keys[0])
                        for figure, keys in self.lacking.items() if keys)
        lacks = {m.figure for m in missing}
        rated = "rates" not in lacks
        dimensions = tuple(
            DimensionFigures(
                dimension, stats(self.scores[dimension.id]),
                stats(list(zip((k for k, _ in self.scores[dimension.id]), self.rates[dimension.id])))
                if rated else None,
                tuple((key, score, rate) for (key, score), rate in
                      zip(self.scores[dimension.id], self.rates[dimension.id] if rated else [None] * projects)))
            for dimension in self.outline.dimensions)
        names = {leaf.id: leaf for leaf in self.outline.leaves}
        return Summary(
            outline=self.outline,
            projects=projects,
            versions=tuple(VersionCount(version, digest, len(keys), tuple(keys))
                           for (version, digest), keys in self.versions.items()),
            total=stats([(key, score) for key, score, _ in self.totals]),
            total_rate=stats([(key, rate) for key, _, rate in self.totals]) if rated else None,
            totals=tuple(self.totals),
            grades=tuple(GradeCount(grade, len(keys), share(len(keys), projects), tuple(keys))
                         for grade, keys in zip(self.outline.grades, self.grades)),
            dimensions=dimensions,
            indicators=None if "indicators" in lacks else self._indicators(),
            findings=None if "findings" in lacks else self._findings(projects),
            overrides=None if "overrides" in lacks else tuple(
                KeyedCount(rule_id, rule_id, len(keys), tuple(keys))
                for rule_id, keys in sorted(self.overrides.items(), key=lambda item: -len(item[1]))),
            not_applicable=None if "not_applicable" in lacks else tuple(
                KeyedCount(leaf_id, names[leaf_id].name, len(self.not_applicable[leaf_id]),
                           tuple(self.not_applicable[leaf_id]))
                for leaf_id in self.leaf_ids if leaf_id in self.not_applicable),
            missing=missing,
        )

    def _indicators(self) -> tuple[IndicatorLoss, ...]:
        order = sorted(range(len(self.leaf_ids)), key=lambda i: (-self.lost[self.leaf_ids[i]], i))
        ranked = []
        for rank, index in enumerate(order, start=1):
            leaf = self.outline.leaves[index]
            total, applicable = self.lost[leaf.id], self.applicable[leaf.id]
            ranked.append(IndicatorLoss(rank, leaf, total, len(self.losses[leaf.id]), applicable,
                                        rounded(CONTEXT.divide(total, applicable)) if applicable else None,
                                        tuple(self.losses[leaf.id])))
        return tuple(ranked)

    def _findings(self, projects: int) -> tuple[FindingCount, ...]:
        position = {id_: i for i, id_ in enumerate(self.dimension_ids)}
        groups = sorted(self.findings.values(),
                        key=lambda g: (-len(g["keys"]), g["first"].observation,
                                       position.get(g["first"].dimension, len(position)), g["order"]))
        return tuple(FindingCount(rank, g["first"].id, g["first"].text, g["first"].dimension,
                                  g["first"].observation, len(g["keys"]), share(len(g["keys"]), projects),
                                  len(g["texts"]), tuple(g["keys"]))
                     for rank, g in enumerate(groups, start=1))


def rounded(value: Decimal) -> Decimal:
    """Half up to 2 places."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def share(count: int, projects: int) -> Decimal:
    """count ÷ projects in percent, 2 places."""
    return rounded(CONTEXT.divide(Decimal(count) * HUNDRED, Decimal(projects)))


def stats(values: list[tuple[str, Decimal]]) -> Stats:
    """Mean, median, min, max and population standard deviation of (key, value) pairs."""
    numbers = sorted(value for _, value in values)
    n = len(numbers)
    with localcontext(CONTEXT):
        mean = sum(numbers, Decimal(0)) / n
        middle = n // 2
        median = numbers[middle] if n % 2 else (numbers[middle - 1] + numbers[middle]) / 2
        deviation = (sum(((x - mean) ** 2 for x in numbers), Decimal(0)) / n).sqrt()
    low, high = numbers[0], numbers[-1]
    return Stats(n, rounded(mean), rounded(median), low, high, rounded(deviation),
                 tuple(key for key, value in values if value == low),
                 tuple(key for key, value in values if value == high))
