"""A rule that divides by a fact: a zero divisor is the caller's input error, named, on every matcher."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.errors import FactsError, PackError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import build_pack
from jixiao.engine.durable import durable_matcher


def division_pack(per_unit: dict) -> dict:
    """One leaf losing a point when spending per unit exceeds the standard: spent ÷ units > standard."""
    return {
        "schema": "jixiao.pack/v1", "id": "div", "version": "1.0.0", "title": "除法", "framework": "test",
        "total_weight": 10,
        "grades": [{"grade": "优", "min": 90}, {"grade": "差", "min": 0}],
        "facts": [
            {"name": "f.spent", "type": "decimal", "label": "支出", "min": 0},
            {"name": "f.units", "type": "integer", "label": "单位数", "min": 0},
            {"name": "f.standard", "type": "decimal", "label": "标准", "min": 0},
        ],
        "indicators": [{"id": "a", "name": "甲", "weight": 10, "children": [{
            "id": "a.b", "name": "乙", "weight": 10, "scoring": {"method": "deductions", "checks": [
                {"id": "over", "when": {"fact": "f.standard", "lt": per_unit}, "points": 1,
                 "reason": "人均支出超标"}]}}]}],
    }


PER_UNIT = {"div": [{"fact": "f.spent"}, {"fact": "f.units"}]}
PER_UNIT_LESS_ONE = {"div": [{"fact": "f.spent"}, {"sub": [{"fact": "f.units"}, 1]}]}


@pytest.fixture(params=["plain", "durable"])
def matcher(request):
    return plain_matcher if request.param == "plain" else durable_matcher


def compiled_with(per_unit: dict, matcher):
    return compile_pack(build_pack(division_pack(per_unit)), matcher)


def test_a_zero_divisor_fact_is_named_as_an_input_error(matcher):
    compiled = compiled_with(PER_UNIT, matcher)
    try:
        with pytest.raises(FactsError) as info:
            evaluate(compiled, {"f": {"spent": "100", "units": 0, "standard": "30"}})
        assert [(v.fact, v.description) for v in info.value.violations] == [
            ("f.units", "is 0, but rule a.b#over divides by it")]
        over = evaluate(compiled, {"f": {"spent": "100", "units": 3, "standard": "30"}}).node("a.b")
        within = evaluate(compiled, {"f": {"spent": "90", "units": 3, "standard": "30"}}).node("a.b")
        assert (over.score, within.score) == (Decimal(9), Decimal(10))
    finally:
        compiled.close()


def test_a_divisor_expression_that_comes_to_zero_names_its_facts(matcher):
    compiled = compiled_with(PER_UNIT_LESS_ONE, matcher)
    try:
        with pytest.raises(FactsError) as info:
            evaluate(compiled, {"f": {"spent": "100", "units": 1, "standard": "30"}})
        assert [(v.fact, v.description) for v in info.value.violations] == [
            ("f.units", "makes the divisor of rule a.b#over 0 (computed from f.units)")]
        assert evaluate(compiled, {"f": {"spent": "100", "units": 2, "standard": "30"}}).node("a.b").score == 9
    finally:
        compiled.close()


def test_a_pack_dividing_by_a_literal_zero_is_refused():
    with pytest.raises(PackError) as info:
        build_pack(division_pack({"div": [{"fact": "f.spent"}, 0]}))
    assert any("divides by 0" in problem.message for problem in info.value.problems)
