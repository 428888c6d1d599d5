"""Facts at a pack's edges, generated from its fact schema and rules, and the check that
the engine scores each of them exactly as the plain reference does.

A pack's golden cases are the author's examples; they do not prove that the rule engine
can evaluate every request the fact schema admits. Before a pack is published the gate
also evaluates generated facts: from a base request (every boolean true, every number
100 within its range or an evaluator's score at its leaf's weight, every survey's first
option at 100 %, every choice its first option; when the pack's own constraints or
derived values refuse that base, every number at 1, then at 0), one change at a time:

- booleans: all false, all true, and each one alone true (the rest false) and alone false;
- numbers: the declared minimum and maximum, zero, the largest values within the range
  (±EXTREME when unbounded), and every literal a rule compares the fact with (bands and
  overrides included) with one smallest step (0.01, or 1 for integers) either side;
- surveys: every option alone at 100 %, all at 0, and every share a rule compares with,
  ±0.01, alone;
- choices: every option (the base takes the first);
- texts declared non-empty: the empty text (both must refuse it);
- lists of texts: none, as many as the fact allows, and one more (both must refuse it);
- derived values: for every literal a rule compares one with, each number fact it is
  computed from at the two values one step apart where it crosses that edge.

`check_edge_facts` evaluates each with the engine's compiled pack and the reference's
(the plain matcher, Decimal comparisons) and names every request for which evaluation
raised anything but an input error, the two disagree (also in the input errors they
give: a request refused by a constraint is refused alike by both), or the result breaks the scoring
invariants (every leaf in [0, weight], every parent the sum of its children, the total
the sum of the dimensions). Pure: no I/O; the engine comes in as a compiled pack.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

from .compiler import CompiledPack, Rule
from .conditions import comparisons
from ..decimals import CONTEXT, HUNDRED, ZERO, plain, round_score
from . import constraints, derived
from ..errors import FactsError
from .facts import TEXT_LIST_ITEMS, FactChecker
from .evaluator import evaluate
from ..pack.model import FactSpec, FactType, Judgement, Pack
from .results import Evaluation, NodeResult

#: The largest magnitude tried for a number with no declared bound.
EXTREME = Decimal("999999999999.99")
#: The smallest step either side of an edge: decimals and survey shares, integers.
DECIMAL_STEP = Decimal("0.01")
INTEGER_STEP = Decimal(1)
#: At most this many generated requests per pack (the first ones: the booleans, then facts in order).
MAX_REQUESTS = 3_000
BASE_NUMBER = Decimal(100)
#: The numbers a base request is tried with, in turn, until one passes the pack's own
#: checks (its constraints, its derived values' divisions): the first that does is the base.
BASE_NUMBERS = (BASE_NUMBER, Decimal(1), ZERO)
BASE_TEXT = "样例"


@dataclass(frozen=True)
class EdgeFacts:
    """One generated request: what it varies, and the facts (a flat name → value mapping)."""

    name: str
    facts: Mapping[str, object]


@dataclass(frozen=True)
class EdgeFailure:
    """A generated request the engine could not evaluate, or scored unlike the reference."""

    name: str
    problem: str

    def __str__(self) -> str:
        return f"generated facts [{self.name}]: {self.problem}"


def edge_facts(pack: Pack, rules: Sequence[Rule]) -> list[EdgeFacts]:
    """The generated requests for a pack, base first, without repeats, at most MAX_REQUESTS."""
    edges = _compared_literals(list(rules) + [Rule(-1, "override", o.id, o.when) for o in pack.overrides])
    # An evaluator's score must lie within its leaf's weight: its base is the full weight.
    judged = {leaf.scoring.score.name: leaf.weight for leaf in pack.leaves() if isinstance(leaf.scoring, Judgement)}
    base = _accepted_base(pack, [
        {spec.name: _base_value(spec, judged.get(spec.name, number)) for spec in pack.facts} for number in BASE_NUMBERS])
    requests: list[EdgeFacts] = [EdgeFacts("base", base)]
    booleans = [spec.name for spec in pack.facts if spec.type is FactType.BOOLEAN]
    if booleans:
        requests.append(EdgeFacts("every boolean false", {**base, **{name: False for name in booleans}}))
        requests.append(EdgeFacts("every boolean true", {**base, **{name: True for name in booleans}}))
        for name in booleans:
            requests.append(EdgeFacts(f"only {name} true", {**base, **{b: b == name for b in booleans}}))
            requests.append(EdgeFacts(f"only {name} false", {**base, **{b: b != name for b in booleans}}))
    for spec in pack.facts:
        if spec.type in (FactType.DECIMAL, FactType.INTEGER):
            for value, why in _number_values(spec, edges.get(spec.name, ())):
                requests.append(EdgeFacts(f"{spec.name} = {plain(value)} ({why})",
                                          {**base, spec.name: _wire(spec, value)}))
        elif spec.type is FactType.SURVEY:
            for shares, why in _survey_values(spec, edges):
                requests.append(EdgeFacts(f"{spec.name}: {why}", {**base, spec.name: shares}))
        elif spec.type is FactType.CHOICE:
            for option in spec.options:
                requests.append(EdgeFacts(f"{spec.name} = {option.key}", {**base, spec.name: option.key}))
        elif spec.type is FactType.TEXT and spec.non_empty:
            requests.append(EdgeFacts(f"{spec.name} empty (refused: it must not be empty)", {**base, spec.name: ""}))
        elif spec.type is FactType.TEXT_LIST:
            most = spec.max_items or TEXT_LIST_ITEMS
            requests.append(EdgeFacts(f"{spec.name}: no texts", {**base, spec.name: []}))
            requests.append(EdgeFacts(f"{spec.name}: {most} texts (its most)", {**base, spec.name: [BASE_TEXT] * most}))
            requests.append(EdgeFacts(f"{spec.name}: {most + 1} texts (refused: too many)",
                                      {**base, spec.name: [BASE_TEXT] * (most + 1)}))
    for fact, value, why in _derived_edges(pack, base, edges):
        requests.append(EdgeFacts(f"{fact} = {plain(value)} ({why})", {**base, fact: _wire(pack.fact(fact), value)}))
    unique: dict[str, EdgeFacts] = {}
    for request in requests:
        unique.setdefault(repr(sorted(request.facts.items(), key=lambda item: item[0])), request)
    return list(unique.values())[:MAX_REQUESTS]


def _accepted_base(pack: Pack, candidates: list[dict[str, object]]) -> dict[str, object]:
    """The first candidate base request that the pack itself accepts (its facts, derived
    values and constraints), else the first: a pack whose constraints refuse one base
    (`a + b ≤ 100` with every number at 100) still has its rules tried around another."""
    if not pack.derived and not pack.constraints:
        return candidates[0]
    checker = FactChecker(pack.facts)
    for candidate in candidates:
        checked = checker.check_request(candidate)
        values = dict(checked.values)
        if not checked.violations and not derived.compute(pack, values) and not constraints.check(pack, values, "en"):
            return candidate
    return candidates[0]


def check_edge_facts(engine: CompiledPack, reference: CompiledPack, requests: Iterable[EdgeFacts],
                     before_each: Callable[[EdgeFacts], None] | None = None) -> list[EdgeFailure]:
    """Every generated request the engine fails on, disagrees with the reference on, or
    scores against the invariants. An input error (FactsError) is an answer, not a failure,
    when both give it. `before_each` hears of each request before the engine sees it (the
    trial process notes it, so that a crash can be blamed on it)."""
    failures = []
    for request in requests:
        if before_each is not None:
            before_each(request)
        expected, expected_error = _evaluate(reference, request.facts)
        actual, actual_error = _evaluate(engine, request.facts)
        problem = _compare(expected, expected_error, actual, actual_error)
        if problem is None and actual is not None:
            problem = _invariant_broken(actual, engine.pack)
        if problem is not None:
            failures.append(EdgeFailure(request.name, problem))
    return failures


# --- generating -------------------------------------------------------------------


def _compared_literals(rules: Sequence[Rule]) -> dict[str, set[Decimal]]:
    """fact (or survey option) name → every number literal a rule compares it with."""
    found: dict[str, set[Decimal]] = {}
    for rule in rules:
        for compare in comparisons(rule.condition):
            if isinstance(compare.operand, Decimal) and not isinstance(compare.operand, bool):
                found.setdefault(compare.fact.name, set()).add(compare.operand)
    return found


def _within(spec: FactSpec, value: Decimal) -> bool:
    return (spec.minimum is None or value >= spec.minimum) and (spec.maximum is None or value <= spec.maximum)


def _base_value(spec: FactSpec, number: Decimal) -> object:
    if spec.type is FactType.BOOLEAN:
        return True
    if spec.type is FactType.TEXT:
        return BASE_TEXT
    if spec.type is FactType.TEXT_LIST:
        return [BASE_TEXT]
    if spec.type is FactType.SURVEY:
        return {option.key: plain(HUNDRED if i == 0 else ZERO) for i, option in enumerate(spec.options)}
    if spec.type is FactType.CHOICE:
        return spec.options[0].key
    value = number
    if spec.maximum is not None and value > spec.maximum:
        value = spec.maximum
    if spec.minimum is not None and value < spec.minimum:
        value = spec.minimum
    return _wire(spec, value)


def _wire(spec: FactSpec, value: Decimal) -> object:
    """The value as a request carries it: integers as int, decimals as plain strings."""
    return int(value) if spec.type is FactType.INTEGER else plain(value)


def _number_values(spec: FactSpec, literals: Iterable[Decimal]) -> list[tuple[Decimal, str]]:
    integer = spec.type is FactType.INTEGER
    step = INTEGER_STEP if integer else DECIMAL_STEP
    candidates: list[tuple[Decimal, str]] = []
    if spec.minimum is not None:
        candidates += [(spec.minimum, "its minimum"), (spec.minimum + step, "just above its minimum")]
    else:
        candidates.append((-EXTREME, "the most negative value tried"))
    if spec.maximum is not None:
        candidates += [(spec.maximum, "its maximum"), (spec.maximum - step, "just below its maximum")]
    else:
        candidates.append((EXTREME, "the largest value tried"))
    candidates.append((ZERO, "zero"))
    for literal in sorted(literals):
        candidates += [(literal - step, f"just below the edge {plain(literal)}"), (literal, "an edge of a rule"),
                       (literal + step, f"just above the edge {plain(literal)}")]
    kept = []
    for value, why in candidates:
        if integer and value != value.to_integral_value():
            continue
        if _within(spec, value):
            kept.append((value, why))
    return kept


#: Halvings tried when looking for where a derived value crosses a rule's edge, and the
#: searches made per pack (each costs up to that many fact checks: the gate stays quick).
_BISECTIONS = 64
_DERIVED_SEARCHES = 200


def _derived_edges(pack: Pack, base: Mapping[str, object],
                   literals: Mapping[str, set[Decimal]]) -> list[tuple[str, Decimal, str]]:
    """(fact, value, why): for every literal a rule compares a derived value with, and every
    number fact it is computed from, the two values of that fact one step apart (0.01, or
    1) between which the derived value, the other facts as in the base, crosses the edge:
    found by halving the fact's range. A derived value that does not cross it within the
    range (or cannot be computed at its ends) gives none."""
    found: list[tuple[str, Decimal, str]] = []
    if not pack.derived:
        return found
    checker = FactChecker(pack.facts)
    searches = 0

    def derived_at(spec: FactSpec, name: str, value: Decimal) -> Decimal | None:
        checked = checker.check_request({**base, spec.name: _wire(spec, value)})
        if checked.violations:
            return None
        values = dict(checked.values)
        derived.compute(pack, values)
        result = values.get(name)
        return result if isinstance(result, Decimal) else None

    for value, _reads, facts in derived.ordered(pack):
        edges = sorted(literals.get(value.name, ()))
        for fact in facts:
            spec = pack.fact(fact)
            if spec is None or spec.type not in (FactType.DECIMAL, FactType.INTEGER) or not edges:
                continue
            step = INTEGER_STEP if spec.type is FactType.INTEGER else DECIMAL_STEP
            low = spec.minimum if spec.minimum is not None else -EXTREME
            high = spec.maximum if spec.maximum is not None else EXTREME
            low, high = (low / step).to_integral_value("ROUND_CEILING") * step, (high / step).to_integral_value("ROUND_FLOOR") * step
            ends = derived_at(spec, value.name, low), derived_at(spec, value.name, high)
            if ends[0] is None or ends[1] is None:
                continue
            for edge, reaches in ((edge, reaches) for edge in edges for reaches in (operator.ge, operator.gt)):
                side = reaches(ends[0], edge)  # where `value ≥ edge` (then `value > edge`) flips
                if side == reaches(ends[1], edge) or searches >= _DERIVED_SEARCHES:
                    continue
                searches += 1
                a, b = low, high
                for _ in range(_BISECTIONS):
                    if b - a <= step:
                        break
                    middle = a + ((b - a) / step / 2).to_integral_value("ROUND_FLOOR") * step
                    at_middle = derived_at(spec, value.name, middle)
                    if at_middle is None:
                        break
                    if reaches(at_middle, edge) == side:
                        a = middle
                    else:
                        b = middle
                if b - a == step:
                    why = f"{value.name} either side of the edge {plain(edge)}"
                    found += [(fact, a, why), (fact, b, why)]
    return found


def _survey_values(spec: FactSpec, literals: Mapping[str, set[Decimal]]) -> list[tuple[dict, str]]:
    keys = [option.key for option in spec.options]

    def shares(chosen: str | None, share: Decimal) -> dict:
        return {key: plain(share if key == chosen else ZERO) for key in keys}

    values = [(shares(None, ZERO), "every share 0")]
    values += [(shares(key, HUNDRED), f"only {key} at 100") for key in keys]
    for key in keys:
        for literal in sorted(literals.get(f"{spec.name}.{key}", ())):
            for share in (literal - DECIMAL_STEP, literal, literal + DECIMAL_STEP):
                if ZERO <= share <= HUNDRED:
                    values.append((shares(key, share), f"only {key} at {plain(share)} (an edge of a rule)"))
    return values


# --- checking ---------------------------------------------------------------------


def _evaluate(compiled: CompiledPack, facts: Mapping[str, object]) -> tuple[Evaluation | None, str | None]:
    """(the evaluation, None), (None, "input error: …") or (None, "raised …")."""
    try:
        return evaluate(compiled, facts), None
    except FactsError as error:
        return None, f"input error: {error}"
    except Exception as error:  # noqa: BLE001 - anything else the engine raises is what we look for
        return None, f"raised {type(error).__name__}: {error}"


def _compare(expected: Evaluation | None, expected_error: str | None,
             actual: Evaluation | None, actual_error: str | None) -> str | None:
    if actual_error is not None and not actual_error.startswith("input error"):
        return f"the engine's evaluation {actual_error}"
    if expected_error is not None and not expected_error.startswith("input error"):
        return f"the reference evaluation {expected_error}"
    if (expected is None) != (actual is None) or expected_error != actual_error:
        return (f"the engine gave {actual_error or 'a result'}, "
                f"the reference {expected_error or 'a result'}")
    if expected is None or actual is None:
        return None
    if [o.rule_id for o in expected.overrides] != [o.rule_id for o in actual.overrides]:
        return (f"the engine fired the overrides {[o.rule_id for o in actual.overrides]}, "
                f"the reference {[o.rule_id for o in expected.overrides]}")
    for want, got in zip(expected.nodes(), actual.nodes()):
        if want.not_applicable != got.not_applicable:
            return f"{got.id}: not applicable by {'the engine' if got.not_applicable else 'the reference'} only"
        if want.score != got.score:
            return f"{got.id} scored {plain(got.score)} by the engine, {plain(want.score)} by the reference"
        if [d.rule_id for d in want.deductions] != [d.rule_id for d in got.deductions]:
            return (f"{got.id}: the engine fired {[d.rule_id for d in got.deductions]}, "
                    f"the reference {[d.rule_id for d in want.deductions]}")
    if expected.score != actual.score or expected.grade != actual.grade:
        return (f"the engine gave {plain(actual.score)} ({actual.grade}), "
                f"the reference {plain(expected.score)} ({expected.grade})")
    return None


def _invariant_broken(evaluation: Evaluation, pack: Pack) -> str | None:
    """A leaf in [0, its effective weight]; a parent the sum of its children, or, when an
    override capped it, the smaller of that sum and the cap; the total the sum of level 1
    (converted under the rescale treatment), or its cap."""
    caps = {f"override#{o.id}": o.cap for o in pack.overrides if o.action == "cap"}

    def cap_of(node_id: str, rule_ids) -> Decimal | None:
        found = [caps[r] for r in rule_ids if r in caps and _cap_node(pack, r) == node_id]
        return min(found) if found else None  # type: ignore[type-var]

    def visit(node: NodeResult) -> str | None:
        if not node.children:
            if not ZERO <= node.score <= node.scored_weight:
                return f"leaf {node.id} scored {plain(node.score)}, outside [0, {plain(node.scored_weight)}]"
            cap = cap_of(node.id, node.overridden_by)
            if cap is not None and node.score > cap:
                return f"leaf {node.id} scored {plain(node.score)}, above its cap {plain(cap)}"
            return None
        total = sum((child.score for child in node.children), ZERO)
        cap = cap_of(node.id, node.overridden_by)
        if cap is not None:
            total = min(total, cap)
        if node.score != total:
            return f"{node.id} scored {plain(node.score)}, but its children add up to {plain(total)}"
        for child in node.children:
            broken = visit(child)
            if broken:
                return broken
        return None

    for top in evaluation.indicators:
        broken = visit(top)
        if broken:
            return broken
    total = sum((top.score for top in evaluation.indicators), ZERO)
    if evaluation.not_applicable_treatment == "rescale":
        weight = sum((top.scored_weight for top in evaluation.indicators), ZERO)
        total = round_score(CONTEXT.divide(CONTEXT.multiply(total, evaluation.total_weight), weight))
    cap = cap_of("total", [o.rule_id for o in evaluation.overrides])
    if cap is not None:
        total = min(total, cap)
    if evaluation.score != total:
        return f"the total {plain(evaluation.score)} is not the sum of the dimensions, {plain(total)}"
    if not ZERO <= evaluation.score <= evaluation.total_weight:
        return f"the total {plain(evaluation.score)} is outside [0, {plain(evaluation.total_weight)}]"
    return None


def _cap_node(pack: Pack, rule_id: str) -> str | None:
    for override in pack.overrides:
        if f"override#{override.id}" == rule_id:
            return override.node
    return None
