"""Conditions over facts: the facts they read, their negation, and a reference evaluator.

The service lets durable-rules decide which conditions hold (see `engine`); the plain
evaluator here is the executable specification it is tested against.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Iterator, Mapping

from ..decimals import CONTEXT
from ..pack.model import NEGATED, AllOf, AnyOf, Arithmetic, Compare, Condition, FactRef, Not, Operand

_COMPARE = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}
#: The four arithmetic operations of conditions and derived values, in Decimal.
ARITHMETIC = {"add": CONTEXT.add, "sub": CONTEXT.subtract, "mul": CONTEXT.multiply, "div": CONTEXT.divide}


def operand_refs(operand: Operand) -> Iterator[str]:
    if isinstance(operand, FactRef):
        yield operand.name
    elif isinstance(operand, Arithmetic):
        yield from operand_refs(operand.left)
        yield from operand_refs(operand.right)


def comparisons(condition: Condition) -> Iterator[Compare]:
    """Every comparison in a condition, in order (through all, any and not)."""
    if isinstance(condition, Compare):
        yield condition
    elif isinstance(condition, (AllOf, AnyOf)):
        for c in condition.conditions:
            yield from comparisons(c)
    elif isinstance(condition, Not):
        yield from comparisons(condition.condition)


def condition_refs(condition: Condition) -> Iterator[str]:
    """Every fact name a condition reads, in order, with repeats."""
    for compare in comparisons(condition):
        yield compare.fact.name
        yield from operand_refs(compare.operand)


def divisors(condition: Condition) -> Iterator[Operand]:
    """The right-hand operand of every division a condition computes, inner ones first."""
    for compare in comparisons(condition):
        yield from _operand_divisors(compare.operand)


def _operand_divisors(operand: Operand) -> Iterator[Operand]:
    if isinstance(operand, Arithmetic):
        yield from _operand_divisors(operand.left)
        yield from _operand_divisors(operand.right)
        if operand.op == "div":
            yield operand.right


def negate(condition: Condition) -> Condition:
    """The condition's negation with no `Not` left in it (De Morgan, inverted comparisons)."""
    if isinstance(condition, Compare):
        return Compare(condition.fact, NEGATED[condition.op], condition.operand)
    if isinstance(condition, AllOf):
        return AnyOf(tuple(negate(c) for c in condition.conditions))
    if isinstance(condition, AnyOf):
        return AllOf(tuple(negate(c) for c in condition.conditions))
    return without_not(condition.condition)


def without_not(condition: Condition) -> Condition:
    """An equivalent condition with every `Not` pushed into the comparisons."""
    if isinstance(condition, Not):
        return negate(condition.condition)
    if isinstance(condition, AllOf):
        return AllOf(tuple(without_not(c) for c in condition.conditions))
    if isinstance(condition, AnyOf):
        return AnyOf(tuple(without_not(c) for c in condition.conditions))
    return condition


class ArithmeticError_(ValueError):
    """An operand could not be computed (division by zero)."""


def operand_value(operand: Operand, values: Mapping[str, object]) -> object:
    if isinstance(operand, FactRef):
        return values[operand.name]
    if isinstance(operand, Arithmetic):
        left = Decimal(operand_value(operand.left, values))  # type: ignore[arg-type]
        right = Decimal(operand_value(operand.right, values))  # type: ignore[arg-type]
        if operand.op == "div" and right == 0:
            raise ArithmeticError_("division by zero")
        return ARITHMETIC[operand.op](left, right)
    return operand


def holds(condition: Condition, values: Mapping[str, object]) -> bool:
    """Whether the condition is true for these typed fact values (Decimal arithmetic).

    A comparison whose arithmetic cannot be computed (a division by 0) does not hold,
    whatever its operator, and so does its negation: `not` is read through `negate`, as
    the rules handed to a matcher are (`without_not`). Only rules of leaves found not
    applicable can meet one: the evaluator refuses the others' zero divisors as input errors.
    """
    if isinstance(condition, Compare):
        left = values[condition.fact.name]
        try:
            right = operand_value(condition.operand, values)
        except ArithmeticError_:
            return False
        return _COMPARE[condition.op](left, right)
    if isinstance(condition, AllOf):
        return all(holds(c, values) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(holds(c, values) for c in condition.conditions)
    return holds(negate(condition.condition), values)
