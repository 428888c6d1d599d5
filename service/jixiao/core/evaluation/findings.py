"""Findings (存在的问题) and recommendations (有关建议) of one evaluation.

A pack's findings are given by the rules that name them (`finding: <id>`) and fired: a
check that deducted, a band the value fell in, a leaf that lost points (scored below the
weight it is scored on, by its own scoring: before any override), an override that fired.
A leaf found not applicable gives none. Each finding is reported once, with the ids of
the rules that gave it (as deductions and overrides name them: "<leaf>#<check>", "<leaf>"
for a band or a leaf, "override#<id>") and their nodes (a leaf; an override's node or
"total"), in tree order and then the overrides'.

Order: by dimension (the level-1 order), then the pack's `findings:` order; then the
evaluator's observations (the texts of the `observations.findings` fact, in order). The
recommendations follow the findings in that order, then the observations'; a text equal
to an earlier one (finding or recommendation alike) merges into it. Texts render like
rationales, in the evaluation's language (zh when the pack gives no English).

`FindingsPlan` prepares all that depends on the pack alone once; a pack without findings
or observations has none, and an evaluation of it pays nothing. Pure: no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from ..pack.model import Bands, Deductions, Pack
from .conditions import ArithmeticError_, holds
from .overrides import RULE_PREFIX
from .results import Finding, NodeResult, OverrideResult
from .scoring import Texts

if TYPE_CHECKING:
    from .compiler import Rule

#: Kinds of source: a rule of the compiled pack (a check, a band), a band the compiled
#: pack has no rule for (it deducts nothing and says nothing), a leaf, an override.
_RULE, _BAND, _LEAF, _OVERRIDE = range(4)


class _Entry:
    __slots__ = ("id", "dimension", "text", "recommendation")

    def __init__(self, finding_id: str, dimension: str, text: Texts, recommendation: Texts | None):
        self.id = finding_id
        self.dimension = dimension
        self.text = text
        self.recommendation = recommendation


class FindingsPlan:
    """A pack's findings prepared once: their report order, compiled texts, and every rule
    that may give one, in tree order."""

    def __init__(self, pack: Pack, rules: Sequence["Rule"]):
        from .compiler import band_conditions  # compiler builds this plan: imported when it runs

        dimensions = {top.id: i for i, top in enumerate(pack.indicators)}
        ordered = sorted(enumerate(pack.findings),
                         key=lambda pair: (dimensions.get(pair[1].dimension or "", len(dimensions)), pair[0]))
        self.entries = tuple(
            _Entry(f.id, f.dimension or "", Texts(f.text, pack), Texts(f.recommendation, pack) if f.recommendation else None)
            for _, f in ordered)
        position = {entry.id: k for k, entry in enumerate(self.entries)}
        by_key = {(rule.leaf_id, rule.key): rule for rule in rules}
        sources: list[tuple] = []  # (kind, what decides it, entry position, rule id, node id)
        for leaf in pack.leaves():
            scoring = leaf.scoring
            if isinstance(scoring, Deductions):
                for check in scoring.checks:
                    if check.finding in position:
                        rule = by_key[(leaf.id, check.id)]
                        sources.append((_RULE, rule.index, position[check.finding], rule.rule_id, leaf.id))
            elif isinstance(scoring, Bands):
                conditions = dict(band_conditions(scoring))
                for i, band in enumerate(scoring.bands):
                    if band.finding in position:
                        rule = by_key.get((leaf.id, f"band{i}"))
                        kind, decides = (_RULE, rule.index) if rule is not None else (_BAND, conditions[i])
                        sources.append((kind, decides, position[band.finding], leaf.id, leaf.id))
            if leaf.finding in position:
                sources.append((_LEAF, None, position[leaf.finding], leaf.id, leaf.id))
        for override in pack.overrides:
            if override.finding in position:
                rule_id = f"{RULE_PREFIX}{override.id}"
                sources.append((_OVERRIDE, rule_id, position[override.finding], rule_id, override.node))
        self.sources = tuple(sources)
        self.reads_leaves = any(source[0] == _LEAF for source in sources)
        self.observed_findings = pack.observations.findings
        self.observed_recommendations = pack.observations.recommendations

    def collect(self, values: Mapping[str, object], fired: frozenset[int], tree: Sequence[NodeResult],
                overrides: Iterable[OverrideResult], not_applicable: Mapping[str, str] | None,
                language: str) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        """(findings, recommendations) of an evaluation: `fired` the matcher's answer, `tree`
        the scored tree before the overrides, `overrides` those that fired, `not_applicable`
        the leaves found not applicable."""
        na = not_applicable or {}
        leaves = {node.id: node for top in tree for node in top.walk() if not node.children} \
            if self.reads_leaves else {}
        acted = {o.rule_id for o in overrides} if self.sources else set()
        given: dict[int, tuple[list[str], list[str]]] = {}
        for kind, decides, at, rule_id, node_id in self.sources:
            if kind == _OVERRIDE:
                hit = decides in acted
            elif node_id in na:
                continue
            elif kind == _RULE:
                hit = decides in fired
            elif kind == _BAND:
                try:
                    hit = holds(decides, values)
                except (ArithmeticError_, KeyError):
                    hit = False
            else:
                node = leaves.get(node_id)
                hit = node is not None and not node.not_applicable and node.score < node.scored_weight
            if hit:
                rule_ids, node_ids = given.setdefault(at, ([], []))
                if rule_id not in rule_ids:
                    rule_ids.append(rule_id)
                if node_id not in node_ids:
                    node_ids.append(node_id)
        findings = _Merged()
        recommendations = _Merged()
        for at in sorted(given):
            entry = self.entries[at]
            rule_ids, node_ids = given[at]
            findings.add(entry.id, entry.text.render(language, {}, values), entry.dimension, rule_ids, node_ids)
        for at in sorted(given):
            entry = self.entries[at]
            if entry.recommendation is not None:
                rule_ids, node_ids = given[at]
                recommendations.add(entry.id, entry.recommendation.render(language, {}, values), entry.dimension,
                                    rule_ids, node_ids)
        for name, merged in ((self.observed_findings, findings), (self.observed_recommendations, recommendations)):
            if name is not None:
                for index, text in enumerate(values.get(name) or ()):  # type: ignore[arg-type]
                    merged.add(f"{name}[{index}]", text.strip(), "", (), (), observation=True)
        return findings.result(), recommendations.result()


class _Merged:
    """Findings in order, a text equal to an earlier one merged into it (its sources added)."""

    def __init__(self) -> None:
        self.items: list[list] = []  # [id, text, dimension, rule ids, node ids, observation]
        self.by_text: dict[str, list] = {}

    def add(self, finding_id: str, text: str, dimension: str, rule_ids: Iterable[str], node_ids: Iterable[str],
            observation: bool = False) -> None:
        if not text:
            return
        earlier = self.by_text.get(text)
        if earlier is None:
            item = [finding_id, text, dimension, list(rule_ids), list(node_ids), observation]
            self.items.append(item)
            self.by_text[text] = item
            return
        earlier[3].extend(r for r in rule_ids if r not in earlier[3])
        earlier[4].extend(n for n in node_ids if n not in earlier[4])

    def result(self) -> tuple[Finding, ...]:
        return tuple(Finding(i, text, dimension, tuple(rules), tuple(nodes), observation)
                     for i, text, dimension, rules, nodes, observation in self.items)
