"""Findings (存在的问题) and recommendations (有关建议) of one evaluation.

A pack's findings are given by the rules that name them (`finding: <id>`) and fired: a
check that deducted, a band the value fell in, a leaf that lost points (scored below the
weight it is scored on, by its own scoring: before any override), an override that fired.
A leaf found not applicable gives none. Each finding is reported once, with the ids of
the rules that gave it (as deductions and overrides name them: "<leaf>#<check>", "<leaf>"
for a band or a leaf, "override#<id>") and their nodes (a leaf; an override's node or
"total"), in tree order and then the overrides'.

A finding's text may say `{fired_reasons}`: the reasons of the sources that gave it, in
tree order, each once, joined as a leaf joins its reasons (；, or "; " in English): a
check's as its deduction says it, a band's reason (also that of a band deducting
nothing), a leaf's deduction reasons, an override's rationale. So a finding several rules
name (项目管理不到位) can say which of them fired.

Order: by dimension (the level-1 order), then the pack's `findings:` order; then the
evaluator's observations (the texts of the `observations.findings` fact, in order). The
recommendations follow the findings in that order, then the observations'; a text equal
to an earlier one (finding or recommendation alike) merges into it. Texts render like
rationales, in the evaluation's language (zh when the pack gives no English).

`FindingsPlan` prepares all that depends on the pack alone once; a pack without findings
or observations has none, and an evaluation of it pays nothing. The texts and results of
recent evaluations are memoised by what they depend on (the sources that fired, the values
the templates read, the reasons `{fired_reasons}` says, the observations, the language), in
a capped memo as the leaves' (scoring.remember). Pure: no I/O.
"""

from __future__ import annotations

from collections import ChainMap, OrderedDict
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Hashable, Iterable, Mapping, Sequence

from ..pack.model import Bands, Deductions, FactType, Pack
from .conditions import ArithmeticError_, holds
from .overrides import RULE_PREFIX
from .results import Finding, NodeResult, OverrideResult
from ..pack.references import FIRED_REASONS, text_names, uses_fired_reasons
from .scoring import ENTRIES_PER_LEAF, LANGUAGES, Texts, band_reason, join_reasons, remember

if TYPE_CHECKING:
    from .compiler import Rule

#: Kinds of source: a rule of the compiled pack (a check, a band), a band the compiled
#: pack has no rule for (it deducts nothing and says nothing), a leaf, an override.
_RULE, _BAND, _LEAF, _OVERRIDE = range(4)


#: A band's text as its leaf says it: (values, language, the weight the leaf is scored on).
BandText = Callable[[Mapping[str, object], str, Decimal], str]


class _Entry:
    __slots__ = ("id", "dimension", "text", "recommendation", "says_reasons")

    def __init__(self, finding_id: str, dimension: str, text: Texts, recommendation: Texts | None,
                 says_reasons: bool):
        self.id = finding_id
        self.dimension = dimension
        self.text = text
        self.recommendation = recommendation
        self.says_reasons = says_reasons  # its text says {fired_reasons}


class FindingsPlan:
    """A pack's findings prepared once: their report order, compiled texts, and every rule
    that may give one, in tree order."""

    def __init__(self, pack: Pack, rules: Sequence["Rule"], entries: int = ENTRIES_PER_LEAF):
        from .compiler import band_conditions  # compiler builds this plan: imported when it runs

        dimensions = {top.id: i for i, top in enumerate(pack.indicators)}
        ordered = sorted(enumerate(pack.findings),
                         key=lambda pair: (dimensions.get(pair[1].dimension or "", len(dimensions)), pair[0]))
        self.entries = tuple(
            _Entry(f.id, f.dimension or "", Texts(f.text, pack), Texts(f.recommendation, pack) if f.recommendation else None,
                   uses_fired_reasons(f.text))
            for _, f in ordered)
        position = {entry.id: k for k, entry in enumerate(self.entries)}
        says_reasons = {entry.id for entry in self.entries if entry.says_reasons}
        by_key = {(rule.leaf_id, rule.key): rule for rule in rules}
        # (kind, what decides it, entry position, rule id, node id, why: where its reason is,
        # for a finding saying {fired_reasons}: (the leaf's path in the scored tree, or None for
        # an override; the rule id of its deduction, or of the override; a band's own text))
        sources: list[tuple] = []
        leaf_paths = {leaf_id: path for leaf_id, path in _leaf_paths(pack)}
        for leaf in pack.leaves():
            scoring = leaf.scoring
            path = leaf_paths[leaf.id]
            if isinstance(scoring, Deductions):
                for check in scoring.checks:
                    if check.finding in position:
                        rule = by_key[(leaf.id, check.id)]
                        sources.append((_RULE, rule.index, position[check.finding], rule.rule_id, leaf.id,
                                        (path, rule.rule_id, None)))
            elif isinstance(scoring, Bands):
                conditions = dict(band_conditions(scoring))
                for i, band in enumerate(scoring.bands):
                    if band.finding in position:
                        rule = by_key.get((leaf.id, f"band{i}"))
                        kind, decides = (_RULE, rule.index) if rule is not None else (_BAND, conditions[i])
                        text = _band_text(scoring, i, pack) if band.finding in says_reasons else None
                        sources.append((kind, decides, position[band.finding], leaf.id, leaf.id,
                                        (path, rule.rule_id if rule is not None else None, text)))
            if leaf.finding in position:
                sources.append((_LEAF, path, position[leaf.finding], leaf.id, leaf.id, (path, None, None)))
        for override in pack.overrides:
            if override.finding in position:
                rule_id = f"{RULE_PREFIX}{override.id}"
                sources.append((_OVERRIDE, rule_id, position[override.finding], rule_id, override.node,
                                (None, rule_id, None)))
        self.sources = tuple(sources)
        self.any_reasons = bool(says_reasons)
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
                for name in text_names(text) if name != FIRED_REASONS]
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
        overrides = tuple(overrides)
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
        reasons = self._reasons(hits, tree, overrides, values, language) if self.any_reasons and hits else {}
        key = (language, tuple(hits), _key(self.read, values), tuple(reasons.items()))
        result = self.memo.get(key)
        if result is None:
            result = self._result(hits, values, language, reasons)
            if self.memo_entries:
                remember(self.memo, key, result, self.memo_entries)
        return result

    def _reasons(self, hits: list[int], tree: Sequence[NodeResult], overrides: tuple[OverrideResult, ...],
                 values: Mapping[str, object], language: str) -> dict[int, str]:
        """Entry position → its {fired_reasons}, for each entry given that says them."""
        by_entry: dict[int, list[str]] = {}
        for k in hits:
            _kind, _decides, at, _rule_id, _node_id, (path, rule_id, band_text) = self.sources[k]
            if not self.entries[at].says_reasons:
                continue
            texts = by_entry.setdefault(at, [])
            if path is None:  # an override: its rationale
                texts.extend(o.rationale for o in overrides if o.rule_id == rule_id)
                continue
            node = tree[path[0]]
            for step in path[1:]:
                node = node.children[step]
            if rule_id is None and band_text is None:  # a leaf: every reason it lost points for
                texts.extend(d.reason for d in node.deductions)
                continue
            said = [d.reason for d in node.deductions if d.rule_id == rule_id] if rule_id is not None else []
            if not said and band_text is not None:  # a band deducting nothing: its reason is evidence
                said = [band_text(values, language, node.scored_weight)]
            texts.extend(said)
        return {at: join_reasons(list(dict.fromkeys(t.strip().rstrip("。；;.") for t in texts)), language)
                for at, texts in by_entry.items()}

    def _result(self, hits: list[int], values: Mapping[str, object], language: str,
                reasons: Mapping[int, str]) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        sources = self.sources
        findings = _Merged()
        recommendations = _Merged()
        if hits:
            given: dict[int, tuple[list[str], list[str]]] = {}
            for k in hits:
                _kind, _decides, at, rule_id, node_id, _why = sources[k]
                rule_ids, node_ids = given.setdefault(at, ([], []))
                if rule_id not in rule_ids:
                    rule_ids.append(rule_id)
                if node_id not in node_ids:
                    node_ids.append(node_id)
            ordered = sorted(given)
            for at in ordered:
                entry = self.entries[at]
                rule_ids, node_ids = given[at]
                read = ChainMap({FIRED_REASONS: reasons.get(at, "")}, values) if entry.says_reasons else values
                findings.add(entry.id, entry.text.render(language, {}, read), entry.dimension, rule_ids, node_ids)
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


def _band_text(scoring: Bands, position: int, pack: Pack) -> BandText:
    """A band's text as its leaf says it (scoring._bands): its reason rendered, {value} the
    value (a choice's label), else the value and its band in the engine's words."""
    reason = Texts(scoring.bands[position].reason, pack) if scoring.bands[position].reason else None
    name = scoring.value.name
    spec = pack.fact(name)
    labels = {language: {o.key: o.label.get(language) for o in spec.options} for language in LANGUAGES} \
        if spec is not None and spec.type is FactType.CHOICE else None

    def text(values: Mapping[str, object], language: str, weight: Decimal) -> str:
        value = values[name] if labels is None else labels[language].get(values[name], values[name])  # type: ignore[call-overload]
        if reason is None:
            return band_reason(position, scoring, value, language, pack)
        return reason.render(language, {"weight": weight, "value": value}, values)
    return text


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
