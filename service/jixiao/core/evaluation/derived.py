"""Derived values: named expressions over facts, computed once the facts are checked.

A pack declares `derived` values (成本超支率 = (actual − budget) ÷ budget) once; rules,
scoring methods and templates then read them as they read a decimal fact. Each is
computed in Decimal (`decimals.CONTEXT`) from the checked values, in an order where every
derived value it reads comes first (the loader refuses loops), and rounded half up to its
`places`. What cannot be computed is the caller's input error, named by the derived value
and the facts it reads: a division by 0, or a result the rule engine cannot compare
exactly (`decimals.engine_problem`). A derived value whose inputs already failed is
skipped: their violations say what to fix.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterator, MutableMapping

from ..decimals import CONTEXT, ENGINE_BOUND, ENGINE_LIMITS, TOO_LARGE, engine_problem, plain
from ..errors import FactViolation
from ..pack.model import Apply, Derived, Expression, FactRef, Pack
from .conditions import ARITHMETIC



class DivisionByZero(ArithmeticError):
    """An expression divided by 0; `divisor` is the expression that came to 0."""

    def __init__(self, divisor: Expression):
        super().__init__("division by zero")
        self.divisor = divisor


def expression_refs(expression: Expression) -> Iterator[str]:
    """Every name an expression reads (facts, survey shares, derived values), in order."""
    if isinstance(expression, FactRef):
        yield expression.name
    elif isinstance(expression, Apply):
        for arg in expression.args:
            yield from expression_refs(arg)


def value(expression: Expression, values: MutableMapping[str, object]) -> Decimal:
    """The expression's exact value (before its derived value's rounding). Raises
    DivisionByZero, or KeyError for a name without a value."""
    if isinstance(expression, Decimal):
        return expression
    if isinstance(expression, FactRef):
        found = values[expression.name]
        return found if type(found) is Decimal else Decimal(found)  # type: ignore[arg-type]
    op, args = expression.op, expression.args
    if op in ARITHMETIC:
        left, right = value(args[0], values), value(args[1], values)
        if op == "div" and right == 0:
            raise DivisionByZero(args[1])
        return ARITHMETIC[op](left, right)
    if op == "min":
        return min(value(arg, values) for arg in args)
    if op == "max":
        return max(value(arg, values) for arg in args)
    if op == "abs":
        return abs(value(args[0], values))
    if op == "round":
        return rounded(value(args[0], values), int(args[1]))  # type: ignore[arg-type]
    raise ValueError(f"unknown operation {op!r} in a derived value")


def rounded(number: Decimal, places: int) -> Decimal:
    """`number` rounded half up to `places` decimal places (InvalidOperation when the
    result has more digits than the context holds: far beyond the engine's limits)."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=CONTEXT)


def ordered(pack: Pack) -> tuple[tuple[Derived, tuple[str, ...], tuple[str, ...]], ...]:
    """(derived value, names it reads, facts it is computed from) in an order where every
    derived value comes after those it reads; prepared once per pack."""
    plan = pack.__dict__.get("_derived_plan")
    if plan is None:
        by_name = {d.name: d for d in pack.derived}
        done: dict[str, tuple[Derived, tuple[str, ...], tuple[str, ...]]] = {}

        def visit(derived: Derived, path: tuple[str, ...]) -> None:
            if derived.name in done or derived.name in path:  # a loop: the loader refuses it
                return
            reads = tuple(dict.fromkeys(expression_refs(derived.expression)))
            for name in reads:
                if name in by_name:
                    visit(by_name[name], path + (derived.name,))
            done[derived.name] = (derived, reads, tuple(dict.fromkeys(_facts_of(reads, by_name))))

        for derived in pack.derived:
            visit(derived, ())
        plan = tuple(done.values())
        object.__setattr__(pack, "_derived_plan", plan)
    return plan


def _facts_of(names: tuple[str, ...], by_name: dict[str, Derived], depth: int = 0) -> Iterator[str]:
    """The facts behind names: a derived value's own inputs, followed down (loops cut)."""
    for name in names:
        if name in by_name and depth < len(by_name):
            yield from _facts_of(tuple(expression_refs(by_name[name].expression)), by_name, depth + 1)
        elif name not in by_name:
            yield name


def facts_behind(pack: Pack, name: str) -> tuple[str, ...]:
    """The facts a derived value is computed from (the name itself for a fact)."""
    for derived, _reads, facts in ordered(pack):
        if derived.name == name:
            return facts
    return (name,)


def inputs(pack: Pack) -> dict[str, tuple[str, ...]]:
    """Each derived value's name → the facts (or survey shares) it is computed from."""
    return {derived.name: facts for derived, _reads, facts in ordered(pack)}


def compute(pack: Pack, values: MutableMapping[str, object]) -> list[FactViolation]:
    """Add every derived value of the pack to `values`; the violations of those that
    cannot be computed. One whose inputs have no value (they failed) is skipped."""
    violations: list[FactViolation] = []
    for derived, reads, facts in ordered(pack):
        if any(name not in values for name in reads):
            continue
        try:
            result = value(derived.expression, values)
        except DivisionByZero as zero:
            violations.append(FactViolation(derived.name, _division_message(pack, zero.divisor)))
            continue
        problem = TOO_LARGE if abs(result) >= ENGINE_BOUND else None
        if problem is None:
            try:
                result = rounded(result, derived.places)
            except InvalidOperation:  # pragma: no cover - caught by the bound above
                problem = TOO_LARGE
            else:
                problem = engine_problem(result)
        if problem is not None:
            shown = plain(result) if abs(result.adjusted()) < 40 else f"{result:.6E}"
            violations.append(FactViolation(derived.name, (
                f"comes to {shown} (computed from {_listed(facts)}), which {problem}; a computed value must have "
                f"{ENGINE_LIMITS}: check those facts")))
            continue
        values[derived.name] = result
    return violations


def _division_message(pack: Pack, divisor: Expression) -> str:
    if isinstance(divisor, FactRef):
        behind = facts_behind(pack, divisor.name)
        if behind == (divisor.name,):
            return f"divides by {divisor.name}, which is 0"
        return f"divides by {divisor.name}, which is 0 (computed from {_listed(behind)})"
    names = tuple(dict.fromkeys(f for ref in expression_refs(divisor) for f in facts_behind(pack, ref)))
    return f"divides by a value computed from {_listed(names)}, which is 0" if names else "divides by 0"


def _listed(names: tuple[str, ...]) -> str:
    if not names:
        return "numbers only"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
