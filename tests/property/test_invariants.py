"""Invariants for random facts drawn from each bundled pack's own fact schema.

A leaf never scores below 0 nor above its weight; every parent equals the sum of its
children; the total equals the sum of level 1; and durable-rules decides exactly as the
plain reference evaluator does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.evaluation.deferral import deferrable
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.decimals import round_score
from jixiao.core.pack.model import Compare, FactRef, FactSpec, FactType
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

PACK_DIRS = sorted(p.parent for p in BUNDLED_PACKS.glob("*/*/pack.yaml"))
NUMBERS = (FactType.DECIMAL, FactType.INTEGER)


def _number(spec: FactSpec, places: int) -> st.SearchStrategy[Decimal]:
    lo = spec.minimum if spec.minimum is not None else Decimal(-10**6)
    hi = spec.maximum if spec.maximum is not None else Decimal(10**9)
    return st.one_of(
        st.decimals(min_value=lo, max_value=min(hi, lo + 200), places=places),
        st.decimals(min_value=lo, max_value=hi, places=places),
    )


@st.composite
def _survey(draw, spec: FactSpec) -> dict[str, str]:
    remaining = Decimal(100)
    shares = {}
    for option in draw(st.permutations(list(spec.options))):
        share = draw(st.decimals(min_value=0, max_value=remaining, places=2))
        shares[option.key] = str(share)
        remaining -= share
    return shares


def _value(spec: FactSpec) -> st.SearchStrategy:
    if spec.type is FactType.BOOLEAN:
        return st.booleans()
    if spec.type is FactType.TEXT:
        text = st.text(min_size=1, max_size=12)
        return text.filter(str.strip) if spec.non_empty else text
    if spec.type is FactType.INTEGER:
        return _number(spec, 0).map(int)
    if spec.type is FactType.DECIMAL:
        return _number(spec, 2).map(str)
    if spec.type is FactType.CHOICE:
        return st.sampled_from([option.key for option in spec.options])
    if spec.type is FactType.TEXT_LIST:  # an evaluator's observations: non-blank texts
        return st.lists(st.text(min_size=1, max_size=12).filter(str.strip), max_size=3)
    return _survey(spec)


def _set(facts: dict, name: str, value) -> None:
    *parents, last = name.split(".")
    for part in parents:
        facts = facts.setdefault(part, {})
    facts[last] = value


def _get(facts: dict, name: str):
    for part in name.split("."):
        facts = facts[part]
    return facts


def _within_constraints(pack, facts: dict) -> None:
    """Bring drawn facts inside the pack's "A ≤ B" constraints (in the pack's order, so a
    chain such as spent ≤ received ≤ approved holds), so that most draws get scored:
    independent draws would break one of a pack's many constraints nearly every time."""
    for constraint in pack.constraints:
        rule = constraint.require
        if not (isinstance(rule, Compare) and rule.op == "le" and isinstance(rule.operand, FactRef)):
            continue
        left, right = pack.fact(rule.fact.name), pack.fact(rule.operand.name)
        if left is None or right is None or left.type is not right.type or left.type not in NUMBERS:
            continue
        if Decimal(str(_get(facts, left.name))) > Decimal(str(_get(facts, right.name))):
            _set(facts, left.name, _get(facts, right.name))


def facts_for(pack) -> st.SearchStrategy[dict]:
    optional = [name for name in deferrable(pack) if pack.fact(name) is not None]

    @st.composite
    def build(draw):
        facts: dict = {}
        for spec in pack.facts:
            _set(facts, spec.name, draw(_value(spec)))
        _within_constraints(pack, facts)
        for name in optional:  # only leaves that may be not applicable read it: sometimes left out
            if draw(st.booleans()):
                *parents, last = name.split(".")
                group = _get(facts, ".".join(parents)) if parents else facts
                del group[last]
        return facts

    return build()


@pytest.fixture(scope="module", params=PACK_DIRS, ids=lambda d: f"{d.parent.name}@{d.name}")
def packs(request):
    loaded = load_pack_dir(request.param)
    # The reference: the plain matcher and no memo of leaf results, so a wrong memo key
    # or a wrong durable-rules decision both show up as a difference.
    plain = compile_pack(loaded.pack, plain_matcher, cache_entries=0)
    yield loaded.compiled, plain
    loaded.compiled.close()


def _check_tree(node, caps: dict) -> None:
    """A node within [0, its effective weight]; a parent the sum of its children, or the
    smaller of that sum and the cap of an override that capped it (`caps`: rule id → (node, cap))."""
    assert Decimal(0) <= node.score <= node.scored_weight, f"{node.id}: {node.score} not in [0, {node.scored_weight}]"
    assert node.score == node.score.quantize(Decimal("0.01")), node.id
    if node.children:
        expected = sum(c.score for c in node.children)
        for rule_id in node.overridden_by:
            if caps.get(rule_id, ("",))[0] == node.id:
                expected = min(expected, caps[rule_id][1])
        assert node.score == expected, node.id
        for child in node.children:
            _check_tree(child, caps)


def test_invariants_hold_for_random_facts(packs):
    durable, plain = packs
    caps = {f"override#{o.id}": (o.node, o.cap) for o in durable.pack.overrides if o.action == "cap"}

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(facts_for(durable.pack))
    def check(facts):
        try:
            evaluation = evaluate(durable, facts)
        except FactsError as exc:
            # Facts drawn from the schema only fail the method-level checks (a ratio's
            # target of 0, an evaluator's score above the leaf's weight), the pack's
            # constraints between facts and a derived value dividing by 0 that an
            # applicable leaf reads (the framework's cost overrun rate, a planned cost of 0),
            # or a fact left out that only leaves which may be not applicable read.
            method_level = ("is 0, but it is the target", "evaluator's score", "must give a reason", "must say why", "cannot be negative",
                            "约束 ", "divides by ", "missing (")
            assert all(any(m in v.description for m in method_level) for v in exc.violations), exc
            assume(False)
            return
        for top in evaluation.indicators:
            _check_tree(top, caps)
        raw = sum(n.score for n in evaluation.indicators)
        if evaluation.not_applicable_treatment == "rescale":  # the total converted back from the applicable weight
            raw = round_score(raw * evaluation.total_weight / evaluation.applicable_weight)
        for override in evaluation.overrides:  # a capped total
            if caps.get(override.rule_id, ("",))[0] == "total":
                raw = min(raw, caps[override.rule_id][1])
        assert evaluation.score == raw
        assert Decimal(0) <= evaluation.score <= evaluation.total_weight
        assert evaluation == evaluate(plain, facts)
        assert evaluate(durable, facts) == evaluation  # a memo hit gives the same result

    check()
