"""Evaluating facts against a compiled pack: the itemised, explained score tree.

One call: check the facts (all violations at once), let the matcher decide which rules
fire, score every leaf in Decimal, write each leaf's rationale, sum the parents and grade
the dimensions and the total. Same pack and facts, same Evaluation, every time.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from . import decimals
from .compiler import CompiledPack, Rule
from .decimals import CONTEXT, HUNDRED, ZERO
from .errors import FactsError, FactViolation
from .facts import check_facts
from .leafcache import value_key
from .model import (
    AllOrNothing, Bands, Deductions, Indicator, Judgement, Pack, Ratio, Survey, Text,
    grade_for, method_name,
)
from .rationale import join_sentences, render, verdict
from .results import Deduction, Evaluation, NodeResult

LANGUAGES = ("zh", "en")

# Quotients (ratio shortfalls) are reported to this many places; sums stay exact.
_POINTS_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class _Finding:
    """What one rule said about a leaf: a deduction (when fired) or a met text."""

    text: str
    deduction: Deduction | None


def evaluate(compiled: CompiledPack, facts: Mapping, language: str = "zh") -> Evaluation:
    """Score `facts` with the pack. Raises FactsError naming every bad or missing fact."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    pack = compiled.pack
    values = check_facts(pack.facts, facts)
    _check_method_inputs(compiled, values)
    fired = compiled.matcher.match(values)
    scorer = _LeafScorer(compiled, values, fired, language)
    indicators = tuple(_score_node(node, 1, scorer) for node in pack.indicators)
    total = sum((n.score for n in indicators), ZERO)
    rate = decimals.rate_percent(total, pack.total_weight)
    return Evaluation(
        pack_id=pack.id,
        version=pack.version,
        digest=pack.digest,
        language=language,
        total_weight=pack.total_weight,
        score=total,
        rate=rate,
        grade=grade_for(pack.grades, rate).grade,
        indicators=indicators,
    )


def _check_method_inputs(compiled: CompiledPack, values: Mapping[str, object]) -> None:
    """Input errors that only a scoring method knows: a zero target, an out-of-range judgement."""
    violations: list[FactViolation] = []
    for leaf in compiled.checked_leaves:
        scoring = leaf.scoring
        if isinstance(scoring, Ratio) and values[scoring.target.name] == 0:
            violations.append(FactViolation(
                scoring.target.name, f"is 0, but it is the target of the ratio scoring {leaf.id}"))
        elif isinstance(scoring, Judgement):
            score = Decimal(values[scoring.score.name])  # type: ignore[arg-type]
            if score < 0 or score > leaf.weight:
                violations.append(FactViolation(
                    scoring.score.name,
                    f"evaluator's score {decimals.plain(score)} is out of range [0, {decimals.plain(leaf.weight)}] for {leaf.id}"))
            if not str(values[scoring.reason.name]).strip():
                violations.append(FactViolation(
                    scoring.reason.name, f"the evaluator must give a reason for the score of {leaf.id}"))
    if violations:
        raise FactsError(violations)


def _score_node(node: Indicator, level: int, scorer: "_LeafScorer") -> NodeResult:
    if node.is_leaf:
        return scorer.score(node, level)
    children = tuple(_score_node(child, level + 1, scorer) for child in node.children)
    score = sum((c.score for c in children), ZERO)
    rate = decimals.rate_percent(score, node.weight)
    return NodeResult(
        id=node.id,
        name=node.name.get(scorer.language),
        level=level,
        weight=node.weight,
        score=score,
        rate=rate,
        grade=grade_for(scorer.pack.grades, rate).grade if level == 1 else None,
        children=children,
    )


class _LeafScorer:
    """Scores leaves for one evaluation: the fired rules, Decimal arithmetic and the text."""

    def __init__(self, compiled: CompiledPack, values: Mapping[str, object], fired: frozenset[int], language: str):
        self.pack = compiled.pack
        self.rules_by_leaf = compiled.rules_by_leaf
        self.leaf_inputs = compiled.leaf_inputs
        self.cache = compiled.leaf_cache
        self.values = values
        self.fired = fired
        self.language = language

    def score(self, leaf: Indicator, level: int) -> NodeResult:
        rules = {r.key: r for r in self.rules_by_leaf[leaf.id] if r.index in self.fired}
        key = (self.language, tuple(rules), *(value_key(self.values[n]) for n in self.leaf_inputs[leaf.id]))
        result = self.cache.get(leaf.id, key)
        if result is None:
            result = self._score(leaf, level, rules)
            self.cache.put(leaf.id, key, result)
        return result

    def _score(self, leaf: Indicator, level: int, rules: dict[str, Rule]) -> NodeResult:
        # The leaf's own values shadow facts; the facts are not copied per leaf.
        own: dict[str, object] = {"weight": leaf.weight}
        context: ChainMap[str, object] = ChainMap(own, self.values)  # type: ignore[arg-type]
        raw, findings = self._apply(leaf, rules, own, context)
        score = decimals.round_score(min(max(raw, ZERO), leaf.weight))
        deducted = leaf.weight - score
        findings_text = self._join([f.text for f in findings])
        own.update(score=score, deducted=deducted, findings=findings_text)
        evidence = self._render(leaf.rationale, context) if leaf.rationale else findings_text
        rationale = join_sentences(evidence, verdict(deducted, score, self.language), self.language)
        if isinstance(leaf.scoring, Bands) and leaf.scoring.inferred:
            note = self._render(leaf.scoring.inferred, context)
            rationale += f" (Note: {note})" if self.language == "en" else f"（注：{note}）"
        rate = decimals.rate_percent(score, leaf.weight)
        return NodeResult(
            id=leaf.id,
            name=leaf.name.get(self.language),
            level=level,
            weight=leaf.weight,
            score=score,
            rate=rate,
            grade=grade_for(self.pack.grades, rate).grade if level == 1 else None,
            method=method_name(leaf.scoring),
            deductions=tuple(f.deduction for f in findings if f.deduction is not None),
            rationale=rationale,
        )

    def _render(self, text: Text | None, context: Mapping[str, object]) -> str:
        return render(text.get(self.language), context, self.pack, self.language) if text else ""

    def _join(self, texts: list[str]) -> str:
        parts = [t.strip().rstrip("。；;.") for t in texts if t and t.strip()]
        return ("; " if self.language == "en" else "；").join(parts)

    def _deduction(self, rule: Rule, points: Decimal, reason: str) -> _Finding:
        return _Finding(reason, Deduction(rule.rule_id, points, reason))

    def _apply(self, leaf: Indicator, fired: dict[str, Rule], own: dict[str, object],
               context: Mapping[str, object]) -> tuple[Decimal, list[_Finding]]:
        """The leaf's unrounded score and its findings, by scoring method."""
        scoring = leaf.scoring
        weight = leaf.weight
        if isinstance(scoring, Ratio):
            actual = Decimal(self.values[scoring.actual.name])  # type: ignore[arg-type]
            target = Decimal(self.values[scoring.target.name])  # type: ignore[arg-type]
            ratio = CONTEXT.divide(actual, target)
            own.update(ratio=ratio, actual=actual, target=target)
            if "shortfall" not in fired:
                return weight, []
            raw = CONTEXT.multiply(weight, min(ratio, Decimal(1)))
            points = (weight - raw).quantize(_POINTS_PLACES).normalize()
            reason = self._render(scoring.reason, context)
            return raw, [self._deduction(fired["shortfall"], points, reason)]
        if isinstance(scoring, Deductions):
            findings = []
            total = ZERO
            for check in scoring.checks:
                if check.id in fired:
                    total += check.points
                    findings.append(self._deduction(fired[check.id], check.points, self._render(check.reason, context)))
                elif check.met:
                    findings.append(_Finding(self._render(check.met, context), None))
            return weight - total, findings
        if isinstance(scoring, AllOrNothing):
            if "not_met" in fired:
                return ZERO, [self._deduction(fired["not_met"], weight, self._render(scoring.reason, context))]
            return weight, [_Finding(self._render(scoring.met, context), None)] if scoring.met else []
        if isinstance(scoring, Survey):
            spec = self.pack.fact(scoring.fact.name)
            findings = []
            total = ZERO
            for key, option_weight in scoring.weights.items():
                if key not in fired:
                    continue
                share = Decimal(self.values[f"{scoring.fact.name}.{key}"])  # type: ignore[arg-type]
                points = weight * share / HUNDRED * (1 - option_weight)
                total += points
                label = spec.option(key).label.get(self.language)
                if self.language == "en":
                    reason = f"{decimals.percent_value(share)} answered “{label}” (option weight {decimals.plain(option_weight)})"
                else:
                    reason = f"选择“{label}”的占{decimals.percent_value(share)}（该选项权重{decimals.plain(option_weight)}）"
                findings.append(self._deduction(fired[key], points.normalize(), reason))
            return weight - total, findings
        if isinstance(scoring, Bands):
            own["value"] = self.values[scoring.value.name]
            for i, band in enumerate(scoring.bands):
                rule = fired.get(f"band{i}")
                if rule is not None:
                    reason = self._render(band.reason, context) if band.reason else self._band_reason(i, scoring, own["value"])
                    return weight - band.deduct, [self._deduction(rule, band.deduct, reason)]
            return weight, []
        if isinstance(scoring, Judgement):
            score = Decimal(self.values[scoring.score.name])  # type: ignore[arg-type]
            reason = str(self.values[scoring.reason.name]).strip()
            if "judgement" in fired:
                return score, [self._deduction(fired["judgement"], weight - score, reason)]
            return weight, [_Finding(reason, None)]
        raise TypeError(f"unknown scoring method {type(scoring).__name__}")

    def _band_reason(self, index: int, bands: Bands, value: object) -> str:
        band = bands.bands[index]
        shown = decimals.plain(Decimal(value))  # type: ignore[arg-type]
        if band.minimum is None:
            lowest = bands.bands[index - 1].minimum if index else None
            if self.language == "en":
                return f"{bands.value.name} is {shown}, below {decimals.plain(lowest)}" if lowest is not None else f"{bands.value.name} is {shown}"
            return f"{bands.value.name}为{shown}，低于{decimals.plain(lowest)}" if lowest is not None else f"{bands.value.name}为{shown}"
        if self.language == "en":
            return f"{bands.value.name} is {shown}, in the band from {decimals.plain(band.minimum)}"
        return f"{bands.value.name}为{shown}，落在{decimals.plain(band.minimum)}及以上一档"
