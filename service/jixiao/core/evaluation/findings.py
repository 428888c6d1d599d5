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
or observations has none, and an evaluation of it pays nothing. The texts and results of
recent evaluations are memoised by what they depend on (the sources that fired, the values
the templates read, the observations, the language), in a capped memo as the leaves'
(scoring.remember). Pure: no I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, Sequence

from ..pack.model import Bands, Deductions, Pack
from .conditions import ArithmeticError_, holds
from .overrides import RULE_PREFIX
from .results import Finding, NodeResult, OverrideResult
from ..pack.references import text_names
from .scoring import ENTRIES_PER_LEAF, Texts, remember

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

    def __init__(self, pack: Pack, rules: Sequence["Rule"], entries: int = ENTRIES_PER_LEAF):
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
        leaf_paths = {leaf_id: path for leaf_id, path in _leaf_paths(pack)}
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
                sources.append((_LEAF, leaf_paths[leaf.id], position[leaf.finding], leaf.id, leaf.id))
        for override in pack.overrides:
            if override.finding in position:
                rule_id = f"{RULE_PREFIX}{override.id}"
                sources.append((_OVERRIDE, rule_id, position[override.finding], rule_id, override.node))
        self.sources = tuple(sources)
        # What decides each source, by kind, with the source's place: a request looks only at
        # the rules that fired (a set intersection), the overrides that acted and the leaves.
        self.by_rule: dict[int, list[int]] = {}
        for k, source in enumerate(sources):
            if source[0] == _RULE:
                self.by_rule.setdefault(source[1], []).append(k)
        self.rule_indices = frozenset(self.by_rule)
        self.by_override: dict[str, list[int]] = {}
        for k, source in enumerate(sources):
            if source[0] == _OVERRIDE:
                self.by_override.setdefault(source[1], []).append(k)
        self.others = tuple(k for k, source in enumerate(sources) if source[0] in (_LEAF, _BAND))
        self.observed_findings = pack.observations.findings
        self.observed_recommendations = pack.observations.recommendations
        read = [name for f in pack.findings for text in (f.text, f.recommendation) if text
                for name in text_names(text)]
        read += [name for name in (self.observed_findings, self.observed_recommendations) if name]
        self.read = tuple(dict.fromkeys(read))
        self.memo: OrderedDict[Hashable, tuple[tuple[Finding, ...], tuple[Finding, ...]]] = OrderedDict()
        self.memo_entries = entries  # 0: no memo

    def collect(self, values: Mapping[str, object], fired: frozenset[int], tree: Sequence[NodeResult],
                overrides: Iterable[OverrideResult], not_applicable: Mapping[str, str] | None,
                language: str) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        """(findings, recommendations) of an evaluation: `fired` the matcher's answer, `tree`
        the scored tree before the overrides, `overrides` those that fired, `not_applicable`
        the leaves found not applicable."""
        sources = self.sources
        hits: list[int] = []
        for index in self.rule_indices.intersection(fired):
            hits.extend(self.by_rule[index])
        if self.by_override:
            for override in overrides:
                hits.extend(self.by_override.get(override.rule_id, ()))
        for k in self.others:
            kind, decides = sources[k][0], sources[k][1]
            if kind == _LEAF:
                node = tree[decides[0]]
                for step in decides[1:]:
                    node = node.children[step]
                if not node.not_applicable and node.score < node.scored_weight:
                    hits.append(k)
            else:
                try:
                    if holds(decides, values):
                        hits.append(k)
                except (ArithmeticError_, KeyError):
                    pass
        na = not_applicable or {}
        if na:
            hits = [k for k in hits if sources[k][0] == _OVERRIDE or sources[k][4] not in na]
        hits.sort()  # the sources' order: the tree's, then the overrides'
        key = (language, tuple(hits), _key(self.read, values))
        result = self.memo.get(key)
        if result is None:
            result = self._result(hits, values, language)
            if self.memo_entries:
                remember(self.memo, key, result, self.memo_entries)
        return result

    def _result(self, hits: list[int], values: Mapping[str, object],
                language: str) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        sources = self.sources
        findings = _Merged()
        recommendations = _Merged()
        if hits:
            given: dict[int, tuple[list[str], list[str]]] = {}
            for k in hits:
                _kind, _decides, at, rule_id, node_id = sources[k]
                rule_ids, node_ids = given.setdefault(at, ([], []))
                if rule_id not in rule_ids:
                    rule_ids.append(rule_id)
                if node_id not in node_ids:
                    node_ids.append(node_id)
            ordered = sorted(given)
            for at in ordered:
                entry = self.entries[at]
                rule_ids, node_ids = given[at]
                findings.add(entry.id, entry.text.render(language, {}, values), entry.dimension, rule_ids, node_ids)
            for at in ordered:
                entry = self.entries[at]
                if entry.recommendation is not None:
                    rule_ids, node_ids = given[at]
                    recommendations.add(entry.id, entry.recommendation.render(language, {}, values),
                                        entry.dimension, rule_ids, node_ids)
        for name, merged in ((self.observed_findings, findings), (self.observed_recommendations, recommendations)):
            if name is not None:
                for index, text in enumerate(values.get(name) or ()):  # type: ignore[arg-type]
                    merged.add(f"{name}[{index}]", text.strip(), "", (), (), observation=True)
        return findings.result(), recommendations.result()


def _key(names: tuple[str, ...], values: Mapping[str, object]) -> tuple:
    """The values the texts read, hashable (a survey's shares as pairs), for the memo."""
    out = []
    for name in names:
        value = values.get(name)
        out.append(tuple(value.items()) if isinstance(value, Mapping) else value)
    return tuple(out)


def _leaf_paths(pack: Pack):
    """(leaf id, its path in the scored tree: the child index at every level), in tree order."""
    todo = [(node, (i,)) for i, node in reversed(list(enumerate(pack.indicators)))]
    while todo:
        node, path = todo.pop()
        if node.is_leaf:
            yield node.id, path
        todo.extend((child, path + (j,)) for j, child in reversed(list(enumerate(node.children))))


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
