"""Evaluating facts against a compiled pack: the itemised, explained score tree.

One call: check the facts (all violations at once), let the matcher decide which rules
fire, score every leaf in Decimal, write each leaf's rationale, sum the parents and grade
the dimensions and the total (the per-node steps, prepared with the pack, are in
scoring.py). Same pack and facts, same Evaluation, every time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from . import decimals
from .compiler import CompiledPack
from .decimals import ZERO
from .errors import FactsError, FactViolation
from .conditions import ArithmeticError_, operand_refs, operand_value
from .model import FactRef, Judgement, Ratio, grade_for
from .results import Evaluation
from .scoring import LANGUAGES


def evaluate(compiled: CompiledPack, facts: Mapping, language: str = "zh") -> Evaluation:
    """Score `facts` with the pack. Raises FactsError naming every bad or missing fact."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    pack = compiled.pack
    values = compiled.checker.check(facts)
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
    )


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
