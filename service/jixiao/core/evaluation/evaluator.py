"""Evaluating facts against a compiled pack: the itemised, explained score tree.

One call: check the facts (all violations at once), let the matcher decide which rules
fire, score every leaf in Decimal, write each leaf's rationale, sum the parents and grade
the dimensions and the total (the per-node steps, prepared with the pack, are in
scoring.py). Same pack and facts, same Evaluation, every time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Collection, Mapping

from . import applicability, constraints, deferral, derived, overrides

from .. import decimals
from .compiler import CompiledPack
from ..decimals import ZERO
from ..errors import FactsError, FactViolation
from .conditions import ArithmeticError_, operand_refs, operand_value
from ..pack.model import FactRef, GradeBand, Judgement, PerItem, Ratio, grade_for
from .results import Evaluation, Finding, NodeResult, OverrideResult
from .scoring import LANGUAGES, grade_name


def evaluate(compiled: CompiledPack, facts: Mapping, language: str = "zh",
             ignore_unknown: bool = False) -> Evaluation:
    """Score `facts` with the pack. Raises FactsError naming every bad, missing or unknown
    fact and every broken constraint at once; with `ignore_unknown`, names the pack does
    not declare are left out and listed in the evaluation's `ignored_facts` instead. A fact
    or derived value only leaves that may be not applicable read (deferral.py) is refused
    missing or uncomputable only if one of those leaves applies."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    pack = compiled.pack
    values, violations, ignored, deferred = _checked_values(compiled, facts, language, ignore_unknown)
    # Step 4: method inputs known before matching. A leaf its evaluator declared N/A is never
    # checked; one a condition may find N/A has its method inputs checked after matching, if
    # it applies (its judgement range is checked now all the same).
    declared: frozenset[str] | set[str] = frozenset()
    skipped: frozenset[str] = frozenset()
    if compiled.not_applicable:
        declared = applicability.known_not_applicable(compiled, values)
        skipped = frozenset(declared) | applicability.decided_later(compiled)
    if compiled.checked_leaves:
        violations.extend(_judgement_violations(compiled, values, declared))
    if compiled.not_applicable:
        violations.extend(applicability.missing_reasons(compiled, values))
    if compiled.checked_leaves or compiled.divisions:
        violations.extend(_method_input_violations(compiled, values, skipped))
    if len(violations) > len(deferred):
        raise FactsError(_with_deferred(violations, deferred, declared) if deferred else violations)
    stand_ins: frozenset[str] = frozenset()
    if deferred:  # only leaves that may be N/A read these: the matcher gets safe placeholders
        stand_ins = frozenset(name for name in compiled.deferrable if name not in values)
        values.update(deferral.placeholders(pack, stand_ins))
    # Step 6: the rules decide, N/A leaves are known, their applicable siblings' inputs checked.
    fired = compiled.matcher.match(values)
    not_applicable = _not_applicable(compiled, values, fired, language, violations, deferred, stand_ins) \
        if compiled.not_applicable else None
    # Step 7: the tree, the N/A treatment, the overrides, the total and its grade.
    applicable_weight = None
    if not_applicable:
        indicators, total, applicable_weight = applicability.score_tree(compiled, values, fired, language, not_applicable)
    else:
        indicators = tuple([node.score(values, fired, language) for node in compiled.tree])
        total = sum([n.score for n in indicators], ZERO)
    rate = decimals.rate_percent(total, pack.total_weight)
    band = grade_for(pack.grades, rate)
    fired_overrides: tuple[OverrideResult, ...] = ()
    scored = indicators  # the tree before the overrides: a leaf's finding is about its own scoring
    if compiled.overrides is not None:
        indicators, total, band, fired_overrides = _apply_overrides(compiled, values, indicators, total, band, language)
        rate = decimals.rate_percent(total, pack.total_weight)
    findings: tuple[Finding, ...] = ()
    recommendations: tuple[Finding, ...] = ()
    if compiled.findings is not None:
        findings, recommendations = compiled.findings.collect(
            values, fired, scored, fired_overrides, not_applicable, language)
    return Evaluation(
        pack_id=pack.id,
        version=pack.version,
        digest=pack.digest,
        language=language,
        total_weight=pack.total_weight,
        score=total,
        rate=rate,
        grade=grade_name(band, language),
        indicators=indicators,
        overrides=fired_overrides,
        ignored_facts=ignored,
        not_applicable_treatment=(pack.not_applicable_treatment or "") if not_applicable else "",
        applicable_weight=applicable_weight,
        findings=findings,
        recommendations=recommendations,
    )


def _not_applicable(compiled: CompiledPack, values: Mapping[str, object], fired: frozenset[int],
                    language: str, violations: list[FactViolation], deferred: Mapping[int, frozenset[str]],
                    stand_ins: frozenset[str]) -> dict[str, str]:
    """The leaves found N/A (id → reason), after the deferred input checks of the applicable
    leaves a condition might have found N/A, and the deferred violations (`deferred`: index
    into `violations` → the leaves reading the name) of the names an applicable leaf reads.
    Raises FactsError when nothing is left to score."""
    found = applicability.not_applicable_leaves(compiled, values, fired, language)
    errors = [violations[index] for index, leaves in deferred.items() if not leaves.issubset(found)]
    later = applicability.decided_later(compiled) - set(found)
    if later:
        real = {k: v for k, v in values.items() if k not in stand_ins} if stand_ins else values
        errors.extend(_method_input_violations(compiled, real, frozenset(), only=later))
    if errors:
        raise FactsError(errors)
    broken = applicability.every_leaf_violation(compiled, found)
    if broken is not None:
        raise FactsError([broken])
    return found


def _apply_overrides(compiled: CompiledPack, values: Mapping[str, object], indicators: tuple[NodeResult, ...],
                     total: Decimal, band: GradeBand, language: str):
    """Every override that fires, layer by layer, each layer decided by one matcher call."""
    plan = compiled.overrides
    assert plan is not None
    matchers = compiled.override_matchers
    return overrides.apply(
        plan, indicators, total, band, values,
        lambda layer, seen: matchers[layer].match(seen),
        lambda tree: applicability.rescaled_total(compiled, tree),
        language)


def _checked_values(compiled: CompiledPack, facts: Mapping, language: str, ignore_unknown: bool
                    ) -> tuple[dict[str, object], list[FactViolation], tuple[str, ...], dict[int, frozenset[str]]]:
    """Steps 1-3: the request's checked values with the derived values added, every
    violation of the facts, the derived values and the constraints (in that order), the
    unknown names ignored, and the violations deferred: index → the leaves reading the name
    (a missing fact or an uncomputable derived value only leaves that may be N/A read, see
    deferral.py). Raises nothing: the caller refuses once, naming all."""
    checked = compiled.checker.check_request(facts, ignore_unknown)
    values: dict[str, object] = checked.values
    violations = list(checked.violations)
    deferrable = compiled.deferrable
    deferred: dict[int, frozenset[str]] = {}
    if deferrable and checked.missing:
        deferred.update((i, deferrable[v.fact]) for i, v in enumerate(violations)
                        if v.fact in checked.missing and v.fact in deferrable)
    pack = compiled.pack
    if pack.derived:
        start = len(violations)
        violations.extend(derived.compute(pack, values))
        if deferrable:  # derived.compute names each violation by its derived value
            deferred.update((i, deferrable[violations[i].fact]) for i in range(start, len(violations))
                            if violations[i].fact in deferrable)
    if pack.constraints:
        violations.extend(constraints.check(pack, values, language))
    return values, violations, checked.ignored, deferred


def _with_deferred(violations: list[FactViolation], deferred: Mapping[int, frozenset[str]],
                   declared: Collection[str]) -> list[FactViolation]:
    """Every violation when the request is refused before matching: the deferred ones too,
    except those only leaves the evaluator declared not applicable (by their flag) read."""
    return [v for i, v in enumerate(violations) if i not in deferred or not deferred[i] <= declared]


def _method_input_violations(compiled: CompiledPack, values: Mapping[str, object],
                             skipped: frozenset[str] = frozenset(), only: set[str] | None = None) -> list[FactViolation]:
    """Input errors that only the pack's rules know: a zero target or divisor, a negative
    count. `skipped`: leaves not checked; `only`: check these leaves and nothing else. A
    value missing from `values` (its own violation already reported) is not checked."""
    violations: list[FactViolation] = []
    every = not skipped and only is None
    for rule_id, divisor in compiled.divisions:
        if not every:
            leaf_id = rule_id.partition("#")[0]
            if leaf_id in skipped or (only is not None and leaf_id not in only):
                continue
        try:
            zero = operand_value(divisor, values) == 0
        except (ArithmeticError_, KeyError):  # a division inside the divisor: reported for that one
            continue
        if zero:
            names = list(dict.fromkeys(operand_refs(divisor)))
            if isinstance(divisor, FactRef):
                violations.append(FactViolation(divisor.name, f"is 0, but rule {rule_id} divides by it"))
            else:
                violations.append(FactViolation(
                    names[0] if names else "facts",
                    f"makes the divisor of rule {rule_id} 0 (computed from {', '.join(names) or 'literals'})"))
    for leaf in compiled.checked_leaves:
        if not every and (leaf.id in skipped or (only is not None and leaf.id not in only)):
            continue
        scoring = leaf.scoring
        if isinstance(scoring, Ratio) and values.get(scoring.target.name) == 0:
            violations.append(FactViolation(
                scoring.target.name, f"is 0, but it is the target of the ratio scoring {leaf.id}"))
        elif isinstance(scoring, PerItem) and scoring.count.name in values and values[scoring.count.name] < 0:  # type: ignore[operator]
            violations.append(FactViolation(
                scoring.count.name, f"is {decimals.plain(Decimal(values[scoring.count.name]))}, but it counts "  # type: ignore[arg-type]
                                    f"the items of {leaf.id}, which cannot be negative"))
    return violations


def _judgement_violations(compiled: CompiledPack, values: Mapping[str, object],
                          declared: Collection[str] = ()) -> list[FactViolation]:
    """An evaluator's score outside [0, weight] and an empty reason, for the judgement
    leaves whose facts passed the fact check: refused with the other fact errors. A leaf
    its evaluator declared not applicable (`declared`) is not checked."""
    violations: list[FactViolation] = []
    for leaf in compiled.checked_leaves:
        scoring = leaf.scoring
        if not isinstance(scoring, Judgement) or leaf.id in declared:
            continue
        if scoring.score.name in values:
            score = Decimal(values[scoring.score.name])  # type: ignore[arg-type]
            if score < 0 or score > leaf.weight:
                violations.append(FactViolation(
                    scoring.score.name,
                    f"evaluator's score {decimals.plain(score)} is out of range [0, {decimals.plain(leaf.weight)}] for {leaf.id}"))
        if scoring.reason.name in values and not str(values[scoring.reason.name]).strip():
            violations.append(FactViolation(
                scoring.reason.name, f"the evaluator must give a reason for the score of {leaf.id}"))
    return violations
