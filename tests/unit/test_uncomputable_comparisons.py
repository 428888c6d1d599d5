"""A comparison whose arithmetic cannot be computed (a division by 0) does not hold, for
every operator and through `not`, in the plain matcher and in the durable adapter alike;
only a leaf found not applicable can meet one, since the evaluator refuses the others'
zero divisors as input errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import Rule, compile_pack, plain_matcher
from jixiao.core.evaluation.conditions import holds, without_not
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import build_pack
from jixiao.core.pack.model import COMPARISONS, Arithmetic, Compare, FactRef, Not
from jixiao.engine.durable import durable_matcher

from .test_division import division_pack

PER_UNIT = Arithmetic("div", FactRef("f.spent"), FactRef("f.units"))
ZERO_UNITS = {"f.spent": Decimal(100), "f.units": 0, "f.standard": Decimal(5)}
SOME_UNITS = {"f.spent": Decimal(100), "f.units": 10, "f.standard": Decimal(5)}


@pytest.fixture(params=["plain", "durable"])
def factory(request):
    return plain_matcher if request.param == "plain" else durable_matcher


def _rules(conditions) -> tuple[Rule, ...]:
    return tuple(Rule(i, "a.b", f"r{i}", without_not(c)) for i, c in enumerate(conditions))


def test_no_operator_holds_on_a_division_by_zero(factory):
    pack = build_pack(division_pack({"div": [{"fact": "f.spent"}, {"fact": "f.units"}]}))
    comparisons = [Compare(FactRef("f.standard"), op, PER_UNIT) for op in COMPARISONS]
    negated = [Not(c) for c in comparisons]
    matcher = factory(pack, _rules(comparisons + negated))
    try:
        assert matcher.match(dict(ZERO_UNITS)) == frozenset()
        # computable, the same rules decide as usual: 5 against 100 ÷ 10 = 10 is ne, lt and le,
        # so the negations of eq, ge and gt hold
        fired = matcher.match(dict(SOME_UNITS))
        assert {COMPARISONS[i] for i in fired if i < 6} == {"ne", "lt", "le"}
        assert {COMPARISONS[i - 6] for i in fired if i >= 6} == {"eq", "ge", "gt"}
    finally:
        matcher.close()


def test_the_reference_evaluator_reads_not_as_the_matchers_do():
    for op in COMPARISONS:
        comparison = Compare(FactRef("f.standard"), op, PER_UNIT)
        assert holds(comparison, ZERO_UNITS) is False
        assert holds(Not(comparison), ZERO_UNITS) is False


def test_a_not_applicable_leaf_may_divide_by_zero(factory):
    # The leaf is N/A when there are no units; its rule then divides by 0 and does not fire.
    document = division_pack({"div": [{"fact": "f.spent"}, {"fact": "f.units"}]})
    document["not_applicable"] = {"treatment": "rescale"}
    leaf = document["indicators"][0]["children"][0]
    leaf["not_applicable"] = {"when": {"fact": "f.units", "eq": 0}, "reason": "没有单位"}
    document["indicators"][0]["children"].append({
        "id": "a.c", "name": "丙", "weight": 5, "scoring": {
            "method": "all_or_nothing", "pass": {"fact": "f.standard", "gt": 0}, "reason": "无标准"}})
    document["indicators"][0]["weight"] = 15
    document["total_weight"] = 15
    compiled = compile_pack(build_pack(document), factory)
    try:
        evaluation = evaluate(compiled, {"f": {"spent": "100", "units": 0, "standard": "5"}})
        assert evaluation.node("a.b").not_applicable and evaluation.node("a.b").deductions == ()
        # rescaled: 5 of the applicable 5 → 15
        assert evaluation.score == Decimal(15)
    finally:
        compiled.close()
    # where the leaf cannot be N/A, the same zero divisor is still the caller's error
    plain_pack = compile_pack(build_pack(division_pack({"div": [{"fact": "f.spent"}, {"fact": "f.units"}]})), factory)
    try:
        with pytest.raises(FactsError, match="is 0, but rule a.b#over divides by it"):
            evaluate(plain_pack, {"f": {"spent": "100", "units": 0, "standard": "5"}})
    finally:
        plain_pack.close()
