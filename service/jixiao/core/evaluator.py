"""Evaluating facts against a compiled pack: the itemised, explained score tree.

One call: check the facts (all violations at once), let the matcher decide which rules
fire, score every leaf in Decimal, write each leaf's rationale, sum the parents and grade
the dimensions and the total (the per-node steps, prepared with the pack, are in
scoring.py). Same pack and facts, same Evaluation, every time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from . import constraints, decimals, derived
from .compiler import CompiledPack
from .decimals import ZERO
from .errors import FactsError, FactViolation
from .conditions import ArithmeticError_, operand_refs, operand_value
from .model import FactRef, Judgement, Ratio, grade_for
from .results import Evaluation
from .scoring import LANGUAGES


def evaluate(compiled: CompiledPack, facts: Mapping, language: str = "zh",
             ignore_unknown: bool = False) -> Evaluation:
    """Score `facts` with the pack. Raises FactsError naming every bad, missing or unknown
    fact and every broken constraint at once; with `ignore_unknown`, names the pack does
    not declare are left out and listed in the evaluation's `ignored_facts` instead."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    pack = compiled.pack
    values, violations, ignored = _checked_values(compiled, facts, language, ignore_unknown)
    if compiled.checked_leaves:
        violations.extend(_judgement_violations(compiled, values))
    if violations:
        raise FactsError(violations)
    if compiled.checked_leaves or compiled.divisions:
        _check_method_inputs(compiled, values)
    fired = compiled.matcher.match(values)
    indicators = tuple([node.score(values, fired, language) for node in compiled.tree])
    total = sum([n.score for n in indicators], ZERO)
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
        ignored_facts=ignored,
    )


def _checked_values(compiled: CompiledPack, facts: Mapping, language: str,
                    ignore_unknown: bool) -> tuple[dict[str, object], list[FactViolation], tuple[str, ...]]:
    """Steps 1-3: the request's checked values with the derived values added, every
    violation of the facts, the derived values and the constraints (in that order), and
    the unknown names ignored. Raises nothing: the caller refuses once, naming all."""
    checked = compiled.checker.check_request(facts, ignore_unknown)
    values: dict[str, object] = checked.values
    violations = list(checked.violations)
    pack = compiled.pack
    if pack.derived:
        violations.extend(derived.compute(pack, values))
    if pack.constraints:
        violations.extend(constraints.check(pack, values, language))
    return values, violations, checked.ignored


def _check_method_inputs(compiled: CompiledPack, values: Mapping[str, object]) -> None:
    """Input errors that only the pack's rules know: a zero target or divisor, an out-of-range judgement."""
    violations: list[FactViolation] = []
    for rule_id, divisor in compiled.divisions:
        try:
            zero = operand_value(divisor, values) == 0
        except ArithmeticError_:  # a division inside the divisor: reported for that one
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
        scoring = leaf.scoring
        if isinstance(scoring, Ratio) and values[scoring.target.name] == 0:
            violations.append(FactViolation(
                scoring.target.name, f"is 0, but it is the target of the ratio scoring {leaf.id}"))
    if violations:
        raise FactsError(violations)


def _judgement_violations(compiled: CompiledPack, values: Mapping[str, object]) -> list[FactViolation]:
    """An evaluator's score outside [0, weight] and an empty reason, for the judgement
    leaves whose facts passed the fact check: refused with the other fact errors."""
    violations: list[FactViolation] = []
    for leaf in compiled.checked_leaves:
        scoring = leaf.scoring
        if not isinstance(scoring, Judgement):
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
