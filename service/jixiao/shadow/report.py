"""What a shadow run found: its samples' score deltas (candidate − live), aggregated.

Every figure is exact Decimal arithmetic on the scores as the evaluations gave them (2
places), and a mean is rounded half up to 2 places once, at the end. A sample the
candidate could not evaluate (an input error under its rules) is counted apart and left
out of every delta. An indicator's deltas are taken over the samples whose candidate tree
has it; a sample whose candidate tree lacks it counts as changed. Indicators come in the
live version's tree order; when the live version changed during the run, the trees are
merged (an indicator only an earlier live version has sits after the one that preceded it).

The samples are read once, in decision-id order (the time order), and only running sums,
the smallest and largest deltas and the worst examples are kept: a run of a million
samples costs its read, not its memory.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Mapping

from jixiao.core.decimals import CENT, CONTEXT
from jixiao.core.pack.diff import merged_order

#: The outcome of a sample the candidate evaluated.
OK = "OK"
#: Worst examples listed when the request asks for none (0), and at most.
DEFAULT_WORST = 10
MAX_WORST = 100


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled decision, as `runs.ShadowRuns.samples` reads it back."""

    decision_id: str
    live_version: str
    live_total: Decimal
    live_grade: str
    outcome: str  # OK, or the status code name of the candidate's failure
    candidate_total: Decimal | None = None
    candidate_grade: str | None = None
    # node id → (live score, candidate score or None when the candidate tree lacks it), live tree order
    nodes: Mapping[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)

    @property
    def delta(self) -> Decimal:
        return self.candidate_total - self.live_total  # type: ignore[operator]


def nodes_json(pairs: Iterable[tuple[str, str, str | None]]) -> str:
    """The `nodes` column: {node id: [live score, candidate score or null]} in the order given."""
    return json.dumps({node_id: [live, candidate] for node_id, live, candidate in pairs},
                      separators=(",", ":"), ensure_ascii=False)


def parse_nodes(text: str | None) -> dict[str, tuple[Decimal, Decimal | None]]:
    """The `nodes` column read back (insertion order is the live tree's order)."""
    if not text:
        return {}
    return {node_id: (Decimal(live), None if candidate is None else Decimal(candidate))
            for node_id, (live, candidate) in json.loads(text).items()}


@dataclass(frozen=True)
class IndicatorFigures:
    node_id: str
    name: str
    mean_delta: str  # "" when no sample has the indicator in both trees
    min_delta: str
    max_delta: str
    changed: int


@dataclass(frozen=True)
class Example:
    decision_id: str
    live_version: str
    live_total: Decimal
    candidate_total: Decimal
    delta: Decimal
    live_grade: str
    candidate_grade: str


@dataclass(frozen=True)
class ShadowFigures:
    samples: int  # every sample taken, candidate errors included
    candidate_errors: int
    mean_total_delta: str  # "" with no compared sample
    min_total_delta: str
    max_total_delta: str
    mean_abs_total_delta: str
    grade_changes: int
    grade_change_counts: tuple[tuple[str, str, int], ...]  # (live, candidate, count), most first
    indicators: tuple[IndicatorFigures, ...]
    worst: tuple[Example, ...]  # largest |delta| first; ties: the earlier decision first


def two_places(value: Decimal) -> str:
    """A figure as the report writes it: 2 places, half up, never "-0.00"."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return format(rounded.copy_abs() if rounded == 0 else rounded, "f")


def mean(total: Decimal, count: int) -> str:
    return two_places(CONTEXT.divide(total, Decimal(count))) if count else ""


class _Spread:
    """Running count, sum, smallest and largest of one kind of delta."""

    __slots__ = ("count", "total", "smallest", "largest", "changed")

    def __init__(self) -> None:
        self.count = 0
        self.total = Decimal(0)
        self.smallest: Decimal | None = None
        self.largest: Decimal | None = None
        self.changed = 0

    def add(self, delta: Decimal) -> None:
        self.count += 1
        self.total += delta
        if self.smallest is None or delta < self.smallest:
            self.smallest = delta
        if self.largest is None or delta > self.largest:
            self.largest = delta
        if delta:
            self.changed += 1

    def texts(self) -> tuple[str, str, str]:
        if not self.count:
            return "", "", ""
        return mean(self.total, self.count), two_places(self.smallest), two_places(self.largest)  # type: ignore[arg-type]


def aggregate(samples: Iterable[Sample], names: Callable[[str], Mapping[str, str]],
              worst: int = DEFAULT_WORST) -> ShadowFigures:
    """The figures of a run's samples; `names(live_version)` gives that version's indicator names."""
    taken = errors = 0
    totals = _Spread()
    absolute = Decimal(0)
    grades: dict[tuple[str, str], int] = {}
    spreads: dict[str, _Spread] = {}
    orders: dict[tuple[str, ...], str] = {}  # each distinct live tree (its node ids) → a version having it
    worst_heap: list[tuple[Decimal, int, Sample]] = []  # (|delta|, -sequence, sample): a min-heap of the worst
    for sequence, sample in enumerate(samples):
        taken += 1
        if sample.outcome != OK:
            errors += 1
            continue
        delta = sample.delta
        totals.add(delta)
        absolute += abs(delta)
        if sample.candidate_grade != sample.live_grade:
            pair = (sample.live_grade, sample.candidate_grade or "")
            grades[pair] = grades.get(pair, 0) + 1
        tree = tuple(sample.nodes)
        orders.setdefault(tree, sample.live_version)
        for node_id, (live, candidate) in sample.nodes.items():
            spread = spreads.get(node_id)
            if spread is None:
                spread = spreads[node_id] = _Spread()
            if candidate is None:
                spread.changed += 1
            else:
                spread.add(candidate - live)
        if worst:
            entry = (abs(delta), -sequence, sample)
            if len(worst_heap) < worst:
                heapq.heappush(worst_heap, entry)
            elif entry[:2] > worst_heap[0][:2]:
                heapq.heapreplace(worst_heap, entry)
    order: list[str] = []
    named: dict[str, str] = {}
    for tree, version in orders.items():
        order = merged_order(order, list(tree))
        for node_id, name in names(version).items():
            named.setdefault(node_id, name)
    mean_text, min_text, max_text = totals.texts()
    return ShadowFigures(
        samples=taken, candidate_errors=errors,
        mean_total_delta=mean_text, min_total_delta=min_text, max_total_delta=max_text,
        mean_abs_total_delta=mean(absolute, totals.count),
        grade_changes=sum(grades.values()),
        grade_change_counts=tuple((live, candidate, count) for (live, candidate), count
                                  in sorted(grades.items(), key=lambda item: (-item[1], item[0]))),
        indicators=tuple(IndicatorFigures(node_id, named.get(node_id, ""), *spreads[node_id].texts(),
                                          spreads[node_id].changed) for node_id in order),
        worst=tuple(_example(sample) for _abs, _seq, sample in sorted(worst_heap, reverse=True)),
    )


def _example(sample: Sample) -> Example:
    return Example(sample.decision_id, sample.live_version, sample.live_total, sample.candidate_total,  # type: ignore[arg-type]
                   sample.delta, sample.live_grade, sample.candidate_grade or "")
