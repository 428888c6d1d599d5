"""Cross-fact constraints: checks between a request's facts that make it an input error.

A pack declares what must hold between facts (合规凭证份数 ≤ 抽查份数, 支出 ≤ 到位资金).
When a constraint's `require` does not hold, the request is refused with the pack's
message in the request's language followed by every fact the condition reads and its
value, so the caller sees which figures disagree. The plain reference evaluator
(`conditions.holds`) decides: this is input validation, like a range check, not scoring.
A constraint whose inputs already failed (no value) is skipped; a comparison whose
arithmetic divides by 0 does not hold, so the constraint is reported with the values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from .conditions import condition_refs, holds
from ..decimals import plain
from ..errors import FactViolation
from ..identifiers import echo
from ..pack.model import Constraint, Pack


def check(pack: Pack, values: Mapping[str, object], language: str) -> list[FactViolation]:
    """A violation for each of the pack's constraints that the values break."""
    violations: list[FactViolation] = []
    for constraint in pack.constraints:
        names = _reads(constraint)
        if any(name not in values for name in names):
            continue
        if not holds(constraint.require, values):  # a division by 0 does not hold
            violations.append(violation(constraint, values, language))
    return violations


def _reads(constraint: Constraint) -> tuple[str, ...]:
    reads = constraint.__dict__.get("_reads")
    if reads is None:
        reads = tuple(dict.fromkeys(condition_refs(constraint.require)))
        object.__setattr__(constraint, "_reads", reads)
    return reads


def violation(constraint: Constraint, values: Mapping[str, object], language: str) -> FactViolation:
    """The pack's message, then every fact read with its value and the constraint's id."""
    names = _reads(constraint)
    message = constraint.message.get(language).strip().rstrip("。.；;")
    if language == "en":
        shown = ", ".join(f"{name} is {_value(values[name], language)}" for name in names)
        description = f"{message} ({shown}; constraint {constraint.id})"
    else:
        shown = "，".join(f"{name} 为 {_value(values[name], language)}" for name in names)
        description = f"{message}（{shown}；约束 {constraint.id}）"
    return FactViolation(names[0] if names else "facts", description)


def _value(value: object, language: str) -> str:
    if isinstance(value, bool):
        return ("true" if value else "false") if language == "en" else ("是" if value else "否")
    if isinstance(value, Decimal):
        return plain(value)
    return echo(str(value))
