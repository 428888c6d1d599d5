"""The compiler refuses, naming the path in pack.yaml, what no matcher is handed: a
condition nested too deep, and a number a rule compares with that the rule engine cannot
compare exactly."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
import yaml

from jixiao.core.evaluation.compiler import MAX_CONDITION_DEPTH, compile_pack, plain_matcher
from jixiao.core.errors import PackError
from jixiao.core.pack.loader import build_pack

from .packs import METHODS_PACK

DOCUMENT = yaml.safe_load(METHODS_PACK)
LEAVES = "indicators[0].children[0].children"


def _refusal(edit) -> PackError:
    document = copy.deepcopy(DOCUMENT)
    edit(document["indicators"][0]["children"][0]["children"])
    with pytest.raises(PackError) as refused:
        compile_pack(build_pack(document), plain_matcher)
    return refused.value


def _nested_not(depth: int) -> dict:
    condition: dict = {"fact": "done", "eq": True}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


def test_a_condition_nested_too_deep_is_refused_at_its_path_with_the_limit():
    def edit(leaves):
        leaves[2]["scoring"]["pass"] = _nested_not(MAX_CONDITION_DEPTH + 8)

    (problem,) = _refusal(edit).problems
    assert problem.path == f"{LEAVES}[2].scoring.pass" + ".not" * MAX_CONDITION_DEPTH
    assert f"the limit is {MAX_CONDITION_DEPTH}" in problem.message


def test_deep_arithmetic_counts_too():
    def edit(leaves):
        operand: dict = {"fact": "awards.cap"}
        for _ in range(MAX_CONDITION_DEPTH + 1):
            operand = {"add": [operand, 1]}
        leaves[1]["scoring"]["checks"][3]["when"] = {"fact": "awards.granted", "gt": operand}

    (problem,) = _refusal(edit).problems
    assert problem.path.startswith(f"{LEAVES}[1].scoring.checks[3].when.gt.add[0]")
    assert "levels deep" in problem.message


def test_a_condition_at_the_depth_limit_compiles():
    document = copy.deepcopy(DOCUMENT)
    document["indicators"][0]["children"][0]["children"][2]["scoring"]["pass"] = _nested_not(MAX_CONDITION_DEPTH - 2)
    compile_pack(build_pack(document), plain_matcher)


@pytest.mark.parametrize("number, why", [
    ("89.99999999999999999", "19 significant digits"),
    ("1000000000000000", "10^15 or more"),
    ("0.0000000000000001", "16 decimal places"),
])
def test_constants_beyond_the_engine_are_refused_at_their_path(number, why):
    def edit(leaves):
        leaves[4]["scoring"]["bands"] = [{"min": number, "deduct": 0}, {"deduct": 4}]
        leaves[1]["scoring"]["checks"][0]["when"] = {"fact": "awards.granted", "lt": Decimal(number)}

    problems = _refusal(edit).problems
    assert [p.path for p in problems] == [f"{LEAVES}[1].scoring.checks[0].when.lt", f"{LEAVES}[4].scoring.bands[0].min"]
    assert all(why in p.message and "15 significant digits" in p.message for p in problems)
