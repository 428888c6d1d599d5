"""Scoring prepared once per pack: a plan per node of the indicator tree.

Every request walks the same tree with the same templates, so what can be decided from
the pack alone is decided when the pack is compiled: each leaf knows its rules, the
values its result depends on, its scoring method's steps and its templates, split into
literal text and placeholders whose formatter is already chosen. An evaluation then
only does what depends on the facts: which rules fired, the Decimal arithmetic and the
rendering of the values.

Each node also memoises its recent results. A leaf's result is a pure function of its
fired rules, the values its rules and templates read, and the language; a parent's, of
its children's. Batches of real projects repeat most leaves (the same checks pass, the
same amounts recur), so a memo hit skips the leaf's arithmetic and text. Every memo is
capped and drops its oldest entry when full (`remember`): memory stays bounded whatever
the traffic, and no lock is needed (dict reads and writes are atomic under the GIL). A
hit returns the very same `NodeResult` object, which lets an adapter reuse what it built
from it.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Callable, Hashable, Mapping

from .. import decimals
from ..decimals import CONTEXT, HUNDRED, ZERO
from ..pack.model import (
    AllOrNothing, Bands, Deductions, FactType, GradeBand, Indicator, Judgement, Pack, PerItem, Ratio,
    Survey, Text, grade_for, method_name,
)
from .rationale import LEAF_VARIABLES, join_sentences, parse_template, value_formatter, verdict
from ..pack.references import leaf_inputs
from .results import Deduction, NodeResult

if TYPE_CHECKING:
    from .compiler import Rule

LANGUAGES = ("zh", "en")
ENTRIES_PER_LEAF = 256

# Quotients (ratio shortfalls) are reported to this many places; sums stay exact.
_POINTS_PLACES = Decimal("0.000001")
_ONE = Decimal(1)

Values = Mapping[str, object]
Finding = tuple[str, "Deduction | None"]  # a rule's text, and its deduction when it fired


class Template:
    """One template in one language: literal text around placeholders with chosen formatters."""

    __slots__ = ("head", "parts")

    def __init__(self, template: str, pack: Pack, language: str):
        parsed = parse_template(template)
        self.head = parsed[0][0]
        parts = []
        for (_literal, name, fmt), (literal, _n, _f) in zip(parsed, parsed[1:]):
            assert name is not None
            parts.append((name in LEAF_VARIABLES, name, value_formatter(pack, name, fmt, language), literal))
        self.parts = tuple(parts)

    def render(self, own: Values, values: Values) -> str:
        """Fill the placeholders: a leaf's own values (score, ratio, ...) shadow facts."""
        out = [self.head]
        for is_own, name, fmt, literal in self.parts:
            out.append(fmt(own[name] if is_own and name in own else values[name]))
            out.append(literal)
        return "".join(out)


class Texts:
    """A pack text compiled for every language.

    A text the pack gives in Chinese only is filled in Chinese in every reply (是, 很满意
    23%, 较好), so that one sentence never mixes the two languages ("学生营养状况unchanged").
    """

    __slots__ = ("by_language",)

    def __init__(self, text: Text, pack: Pack):
        self.by_language = {
            language: Template(text.get(language), pack, language if language == "zh" or text.en else "zh")
            for language in LANGUAGES
        }

    def render(self, language: str, own: Values, values: Values) -> str:
        return self.by_language[language].render(own, values)


def _texts(text: Text | None, pack: Pack) -> Texts | None:
    return Texts(text, pack) if text else None


class LeafPlan:
    """How one leaf is scored, prepared once; `score` is called once per evaluation."""

    def __init__(self, leaf: Indicator, level: int, rules: tuple["Rule", ...], pack: Pack, entries: int):
        self.leaf = leaf
        self.level = level
        self.weight = leaf.weight
        self.names = {language: leaf.name.get(language) for language in LANGUAGES}
        self.method = method_name(leaf.scoring)
        self.grades = pack.grades
        self.indices = tuple(rule.index for rule in rules)
        self.rationale = _texts(leaf.rationale, pack)
        self.key_of = _key_function(leaf_inputs(leaf, LEAF_VARIABLES), pack)
        self.apply = _method(leaf, pack, {rule.key: rule for rule in rules})
        self.inferred = _texts(leaf.scoring.inferred, pack) if isinstance(leaf.scoring, Bands) else None
        self.memo: OrderedDict[Hashable, NodeResult] = OrderedDict()
        self.entries = entries

    def score(self, values: Values, fired: frozenset[int], language: str) -> NodeResult:
        keys = tuple([index for index in self.indices if index in fired])
        memo_key = (language, keys, self.key_of(values))
        result = self.memo.get(memo_key)
        if result is None:
            result = self._score(values, fired, language)
            if self.entries:
                remember(self.memo, memo_key, result, self.entries)
        return result

    def _score(self, values: Values, fired: frozenset[int], language: str) -> NodeResult:
        weight = self.weight
        own: dict[str, object] = {"weight": weight}
        raw, findings = self.apply(own, values, fired, language)
        score = decimals.round_score(min(max(raw, ZERO), weight))
        deducted = weight - score
        findings_text = join_reasons([text for text, _ in findings], language)
        own["score"] = score
        own["deducted"] = deducted
        own["findings"] = findings_text
        evidence = self.rationale.render(language, own, values) if self.rationale else findings_text
        rationale = join_sentences(evidence, verdict(deducted, score, language), language)
        if self.inferred:
            note = self.inferred.render(language, own, values)
            rationale += f" (Note: {note})" if language == "en" else f"（注：{note}）"
        rate = decimals.rate_percent(score, weight)
        return NodeResult(
            self.leaf.id, self.names[language], self.level, weight, score, rate,
            grade_name(grade_for(self.grades, rate), language) if self.level == 1 else None,
            self.method,
            tuple([deduction for _, deduction in findings if deduction is not None]),
            rationale,
        )

    def converted(self, result: NodeResult, effective: Decimal, values: Values, fired: frozenset[int],
                  language: str, note: str) -> NodeResult:
        """`result` (scored on the leaf's weight) converted to an effective weight:
        round_half_up(score × effective ÷ weight, 2), the verdict in the converted numbers,
        then `note` (why the weight changed). Not memoised: only not-applicable
        redistribution asks for it."""
        weight = self.weight
        score = decimals.round_score(CONTEXT.divide(CONTEXT.multiply(result.score, effective), weight))
        own: dict[str, object] = {"weight": effective}
        _raw, findings = self.apply(own, values, fired, language)
        own["score"], own["deducted"] = score, effective - score
        findings_text = join_reasons([text for text, _ in findings], language)
        own["findings"] = findings_text
        evidence = self.rationale.render(language, own, values) if self.rationale else findings_text
        rationale = join_sentences(evidence, verdict(effective - score, score, language), language) + note
        if self.inferred:
            inferred = self.inferred.render(language, own, values)
            rationale += f" (Note: {inferred})" if language == "en" else f"（注：{inferred}）"
        rate = decimals.rate_percent(score, effective)
        return result._replace(
            score=score, rate=rate, rationale=rationale, effective_weight=effective,
            grade=grade_name(grade_for(self.grades, rate), language) if self.level == 1 else None)


class ParentPlan:
    """A node with children: the sum of their scores, graded at level 1.

    Memoised on its children's identities: when every child is a memo hit, so is the
    parent. Ids are safe keys here because each memo entry holds its children, so no id
    in a live key can be reused by another object.
    """

    def __init__(self, node: Indicator, level: int, children: tuple["NodePlan", ...], grades: tuple[GradeBand, ...],
                 entries: int):
        self.node = node
        self.level = level
        self.children = children
        self.names = {language: node.name.get(language) for language in LANGUAGES}
        self.grades = grades
        self.memo: OrderedDict[tuple[int, ...], NodeResult] = OrderedDict()
        self.entries = entries

    def score(self, values: Values, fired: frozenset[int], language: str) -> NodeResult:
        children = tuple([child.score(values, fired, language) for child in self.children])
        memo_key = tuple(map(id, children))
        result = self.memo.get(memo_key)
        if result is None:
            node = self.node
            score = sum([c.score for c in children], ZERO)
            rate = decimals.rate_percent(score, node.weight)
            result = NodeResult(
                node.id, self.names[language], self.level, node.weight, score, rate,
                grade_name(grade_for(self.grades, rate), language) if self.level == 1 else None,
                None, (), "", children,
            )
            if self.entries:
                remember(self.memo, memo_key, result, self.entries)
        return result


NodePlan = LeafPlan | ParentPlan


def remember(memo: OrderedDict, key: Hashable, value: object, entries: int) -> None:
    """Keep `value` under `key` in a memo of at most `entries`, dropping the oldest first.

    One entry at a time, and in constant time (an OrderedDict has its oldest entry at
    hand; a plain dict would scan past every deleted slot to find it): emptying a full
    memo at once would free hundreds of results inside one call, a pause that shows in
    the latency of whichever request did it.
    """
    if len(memo) >= entries:
        try:
            memo.popitem(last=False)
        except KeyError:  # another thread emptied it meanwhile
            pass
    memo[key] = value


def plan_tree(pack: Pack, rules_by_leaf: Mapping[str, tuple["Rule", ...]],
              entries_per_leaf: int = ENTRIES_PER_LEAF) -> tuple[NodePlan, ...]:
    """A plan for each top-level indicator; each node memoises up to `entries_per_leaf`
    results (0 turns the memo off)."""

    def plan(node: Indicator, level: int) -> NodePlan:
        if node.is_leaf:
            return LeafPlan(node, level, rules_by_leaf[node.id], pack, entries_per_leaf)
        children = tuple(plan(child, level + 1) for child in node.children)
        # A parent's entry holds its whole subtree: keep a quarter as many.
        return ParentPlan(node, level, children, pack.grades, -(-entries_per_leaf // 4))

    return tuple(plan(node, 1) for node in pack.indicators)


def _key_function(inputs: tuple[str, ...], pack: Pack) -> Callable[[Values], Hashable]:
    """The memo key's part that depends on values: every value the leaf reads, hashable.

    A survey (a mapping of shares) is keyed by its shares, which the checked values also
    hold one by one as `<survey>.<option>`.
    """
    names: list[str] = []
    for name in inputs:
        spec = pack.fact(name)
        if spec is not None and spec.type is FactType.SURVEY:
            names.extend(f"{name}.{option.key}" for option in spec.options)
        else:
            names.append(name)
    names = list(dict.fromkeys(names))
    if not names:
        return lambda values: ()
    return itemgetter(*names)  # one input gives the value itself: still a fine key


def grade_name(band: GradeBand, language: str) -> str:
    """A grade as the reply names it: the pack's English name in English, when it has one."""
    return band.en if language == "en" and band.en else band.grade


def join_reasons(texts: list[str], language: str) -> str:
    """Reasons joined as a leaf's rationale joins them: trimmed, without their final stop,
    by "；" (English: "; "); findings join the reasons of their rules the same way."""
    parts = [t.strip().rstrip("。；;.") for t in texts if t and t.strip()]
    return ("; " if language == "en" else "；").join(parts)


# --- scoring methods: (own, values, fired, language) -> (unrounded score, findings) ---


Apply = Callable[[dict, Values, frozenset, str], tuple[Decimal, list[Finding]]]


def _method(leaf: Indicator, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    """The leaf's scoring method, given its rules by key (check id, band, option)."""
    scoring = leaf.scoring
    builder = _METHODS.get(type(scoring))
    if builder is None:
        raise TypeError(f"unknown scoring method {type(scoring).__name__}")
    return builder(leaf, scoring, pack, rules)


def _ratio(leaf: Indicator, scoring: Ratio, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    actual_name, target_name = scoring.actual.name, scoring.target.name
    reason = Texts(scoring.reason, pack)
    shortfall = rules["shortfall"]
    below = rules.get("below_floor")
    below_reason = _texts(scoring.below_floor, pack) or reason
    slope = scoring.slope

    def apply(own, values, fired, language):
        actual = Decimal(values[actual_name])
        target = Decimal(values[target_name])
        ratio = CONTEXT.divide(actual, target)
        own.update(ratio=ratio, actual=actual, target=target)
        if below is not None and below.index in fired:  # under the floor: nothing
            text = below_reason.render(language, own, values)
            return ZERO, [(text, Deduction(below.rule_id, weight, text))]
        if shortfall.index not in fired:
            return weight, []
        if slope is not None:  # `points` per `per` short of 1, in proportion
            short = CONTEXT.divide(CONTEXT.subtract(_ONE, min(ratio, _ONE)), slope.per)
            raw = max(CONTEXT.subtract(weight, CONTEXT.multiply(short, slope.points)), ZERO)
        else:
            raw = CONTEXT.multiply(weight, min(ratio, _ONE))
        points = (weight - raw).quantize(_POINTS_PLACES).normalize()
        text = reason.render(language, own, values)
        return raw, [(text, Deduction(shortfall.rule_id, points, text))]
    return apply


def _per_item(leaf: Indicator, scoring: PerItem, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    name = scoring.count.name
    cap = scoring.cap if scoring.cap is not None else weight
    items = rules["items"]
    reason, met = Texts(scoring.reason, pack), _texts(scoring.met, pack)

    def apply(own, values, fired, language):
        count = own["count"] = values[name]
        if items.index not in fired:
            return weight, [(met.render(language, own, values), None)] if met else []
        points = min(CONTEXT.multiply(Decimal(count), scoring.points), cap)  # type: ignore[arg-type]
        text = reason.render(language, own, values)
        return weight - points, [(text, Deduction(items.rule_id, points.normalize(), text))]
    return apply


def _deductions(leaf: Indicator, scoring: Deductions, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    checks = tuple(
        (rules[check.id].index, rules[check.id].rule_id, check.points, Texts(check.reason, pack), _texts(check.met, pack))
        for check in scoring.checks
    )

    def apply(own, values, fired, language):
        findings: list[Finding] = []
        total = ZERO
        for index, rule_id, points, reason, met in checks:
            if index in fired:
                total += points
                text = reason.render(language, own, values)
                findings.append((text, Deduction(rule_id, points, text)))
            elif met:
                findings.append((met.render(language, own, values), None))
        return weight - total, findings
    return apply


def _all_or_nothing(leaf: Indicator, scoring: AllOrNothing, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    not_met = rules["not_met"]
    reason, met = Texts(scoring.reason, pack), _texts(scoring.met, pack)

    def apply(own, values, fired, language):
        if not_met.index in fired:
            text = reason.render(language, own, values)
            return ZERO, [(text, Deduction(not_met.rule_id, weight, text))]
        return weight, [(met.render(language, own, values), None)] if met else []
    return apply


def _survey(leaf: Indicator, scoring: Survey, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    spec = pack.fact(scoring.fact.name)
    assert spec is not None
    options = tuple(
        (rules[key].index, rules[key].rule_id, f"{scoring.fact.name}.{key}", option_weight,
         {language: spec.option(key).label.get(language) for language in LANGUAGES},  # type: ignore[union-attr]
         decimals.plain(option_weight))
        for key, option_weight in scoring.weights.items() if key in rules
    )

    def apply(own, values, fired, language):
        findings: list[Finding] = []
        total = ZERO
        for index, rule_id, share_name, option_weight, labels, shown_weight in options:
            if index not in fired:
                continue
            share = Decimal(values[share_name])
            points = weight * share / HUNDRED * (1 - option_weight)
            total += points
            if language == "en":
                text = f"{decimals.percent_value(share)} answered “{labels[language]}” (option weight {shown_weight})"
            else:
                text = f"选择“{labels[language]}”的占{decimals.percent_value(share)}（该选项权重{shown_weight}）"
            findings.append((text, Deduction(rule_id, points.normalize(), text)))
        return weight - total, findings
    return apply


def _bands(leaf: Indicator, scoring: Bands, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    name = scoring.value.name
    bands = tuple(
        (rules[f"band{i}"].index, rules[f"band{i}"].rule_id, band.deduct, _texts(band.reason, pack), i)
        for i, band in enumerate(scoring.bands) if f"band{i}" in rules
    )
    spec = pack.fact(name)
    # Over a choice, {value} is the chosen option's label in the reply's language.
    labels = {language: {o.key: o.label.get(language) for o in spec.options} for language in LANGUAGES} \
        if spec is not None and spec.type is FactType.CHOICE else None

    def apply(own, values, fired, language):
        value = own["value"] = values[name] if labels is None else labels[language].get(values[name], values[name])
        for index, rule_id, deduct, reason, position in bands:
            if index in fired:
                text = reason.render(language, own, values) if reason else \
                    band_reason(position, scoring, value, language, pack)
                if deduct == 0:  # evidence only ("好"): no deduction
                    return weight, [(text, None)]
                return weight - deduct, [(text, Deduction(rule_id, deduct, text))]
        return weight, []
    return apply


def band_reason(index: int, bands: Bands, value: object, language: str, pack: Pack) -> str:
    """A band's reason when the pack gives none: the value's label, the value and the band,
    each number shown as the value is (a derived value in its declared format, a survey
    share in percent), e.g. "预算执行率为92.00%，落在90.00%及以上一档"."""
    band = bands.bands[index]
    name = bands.value.name
    label = value_label(pack, name, language)
    if band.options:
        return f"{label} is {value}" if language == "en" else f"{label}为{value}"
    show = _number_shown(pack, name, language)
    shown = show(value)
    if band.minimum is None:
        lowest = bands.bands[index - 1].minimum if index else None
        if lowest is None:
            return f"{label} is {shown}" if language == "en" else f"{label}为{shown}"
        return f"{label} is {shown}, below {show(lowest)}" if language == "en" else f"{label}为{shown}，低于{show(lowest)}"
    if language == "en":
        return f"{label} is {shown}, in the band from {show(band.minimum)}"
    return f"{label}为{shown}，落在{show(band.minimum)}及以上一档"


def value_label(pack: Pack, name: str, language: str) -> str:
    """What a reader calls a value: a fact's or derived value's label, a survey option's
    share as "<survey>“<option>”占比"; the name itself when nothing better is declared."""
    spec = pack.fact(name)
    if spec is not None:
        return spec.label.get(language)
    derived = pack.derived_value(name)
    if derived is not None:
        return derived.label.get(language)
    survey, _, key = name.rpartition(".")
    spec = pack.fact(survey)
    option = spec.option(key) if spec is not None else None
    if spec is not None and option is not None:
        if language == "en":
            return f"the share answering “{option.label.get(language)}” in {spec.label.get(language)}"
        return f"{spec.label.get(language)}“{option.label.get(language)}”占比"
    return name


def _number_shown(pack: Pack, name: str, language: str) -> Callable[[object], str]:
    if pack.derived_value(name) is None and pack.fact(name) is None:  # a survey option's share, in percent
        return lambda number: decimals.percent_value(Decimal(number))  # type: ignore[arg-type]
    return value_formatter(pack, name, None, language)


def _judgement(leaf: Indicator, scoring: Judgement, pack: Pack, rules: Mapping[str, "Rule"]) -> Apply:
    weight = leaf.weight
    score_name, reason_name = scoring.score.name, scoring.reason.name
    judgement = rules["judgement"]

    def apply(own, values, fired, language):
        score = Decimal(values[score_name])
        reason = str(values[reason_name]).strip()
        if judgement.index in fired:
            return score, [(reason, Deduction(judgement.rule_id, weight - score, reason))]
        return weight, [(reason, None)]
    return apply


_METHODS: dict[type, Callable[..., Apply]] = {
    Ratio: _ratio,
    PerItem: _per_item,
    Deductions: _deductions,
    AllOrNothing: _all_or_nothing,
    Survey: _survey,
    Bands: _bands,
    Judgement: _judgement,
}
