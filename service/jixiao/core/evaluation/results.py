"""What an evaluation returns: the scored indicator tree, immutable.

Nodes and deductions are named tuples: an evaluation creates dozens of them, and a named
tuple is built in a third of the time a frozen dataclass takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class Deduction(NamedTuple):
    """One reason a leaf lost points. `points` is exact (not rounded)."""

    rule_id: str  # "<leaf id>#<check id>", e.g. "decision.targets.clarity#declaration_form"
    points: Decimal
    reason: str


class NodeResult(NamedTuple):
    id: str
    name: str
    level: int  # 1 for the dimensions, 3 for the usual leaves
    weight: Decimal
    score: Decimal  # leaves: rounded half up to 2 places; parents: sum of children
    rate: Decimal  # score / weight in percent, 2 places
    grade: str | None  # level-1 nodes only
    method: str | None = None  # leaves only
    deductions: tuple[Deduction, ...] = ()
    rationale: str = ""
    children: tuple["NodeResult", ...] = ()
    effective_weight: Decimal | None = None  # the weight it is scored on when an N/A treatment changed it
    not_applicable: bool = False
    not_applicable_reason: str = ""
    overridden_by: tuple[str, ...] = ()  # rule ids of the overrides that changed its score

    @property
    def deducted(self) -> Decimal:
        return self.scored_weight - self.score

    @property
    def scored_weight(self) -> Decimal:
        """The weight the node is scored on: its effective weight, else its weight."""
        return self.weight if self.effective_weight is None else self.effective_weight

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class OverrideResult(NamedTuple):
    """An override that fired: what it changed, from what to what, and why."""

    rule_id: str  # "override#<id>"
    action: str  # grade | cap | zero
    node: str  # a node id, or "total"
    before: str  # the score (or grade) before it acted
    after: str
    rationale: str


class Finding(NamedTuple):
    """A problem found (存在的问题) or a recommendation made (有关建议), with its sources."""

    id: str  # the pack's finding id; an observation: "<fact>[<index>]"
    text: str  # rendered, in the evaluation's language
    dimension: str  # the level-1 node id it belongs to; "" for an evaluator's observation
    rule_ids: tuple[str, ...] = ()  # "<leaf>#<check>", "<leaf>" or "override#<id>"
    node_ids: tuple[str, ...] = ()
    observation: bool = False  # passed by the evaluator as a fact, not drawn by a rule


@dataclass(frozen=True)
class Evaluation:
    pack_id: str
    version: str
    digest: str
    language: str
    total_weight: Decimal
    score: Decimal
    rate: Decimal
    grade: str
    indicators: tuple[NodeResult, ...]
    overrides: tuple[OverrideResult, ...] = ()
    ignored_facts: tuple[str, ...] = ()  # unknown fact names the request chose to have ignored
    not_applicable_treatment: str = ""  # rescale | redistribute, when some leaf is not applicable
    applicable_weight: Decimal | None = None  # rescale: the level-1 effective weights' sum
    findings: tuple[Finding, ...] = ()  # 存在的问题, in report order, observations last
    recommendations: tuple[Finding, ...] = ()  # 有关建议, in the same order

    def nodes(self):
        for top in self.indicators:
            yield from top.walk()

    def node(self, node_id: str) -> NodeResult:
        for n in self.nodes():
            if n.id == node_id:
                return n
        raise KeyError(node_id)
