"""The durable-rules adapter never hands the engine a ruleset a fact can break.

The engine keeps the alpha nodes a fact matches on a stack of 64 (error 303 past it, and
each such failure leaks its memory); the adapter bounds that stack on a copy of the
network the engine builds (`_Network`), splits a rule whose top-level `any` is too wide,
refuses what cannot be split, and remembers an input the engine failed on. Rulesets are
tried in child processes (tests/engine_child.py): a crash is a failing case.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_child import case, run_cases
from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.errors import PackError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import build_pack
from jixiao.engine import durable
from jixiao.engine.durable import (
    CONNECTIVES_PER_RULE, ENGINE_STACK, _MARKER_EXPRESSION, _Network, _expression_json, durable_matcher,
)

_MARKER_RULE = {"_eval": {"all": [{"m": {"$ex": {"_eval": 1}}}]}}


def _definition(expressions: list[tuple]) -> str:
    rules = {f"r{i}": {"all": [{"m": json.loads(_expression_json(e))}]} for i, e in enumerate(expressions)}
    return json.dumps({**rules, **_MARKER_RULE})


def _stack(expressions: list[tuple]) -> int:
    net = _Network()
    net.add(_MARKER_EXPRESSION)
    for expression in expressions:
        net.add(expression)
    return net.stack()


def _fact(values: dict[str, object]) -> str:
    return json.dumps([{**values, "id": "0", "sid": "0", "_eval": 1}])


def _any_true(count: int) -> tuple:
    return ("or", tuple(("cmp", f"a{i}", "$eq", "true") for i in range(count)))


def test_the_model_puts_the_engine_limit_where_the_engine_does():
    """An any of 63 true comparisons and the marker fill the stack; one more fails (303)."""
    facts = _fact({f"a{i}": True for i in range(64)})
    at_limit, past_limit = run_cases([
        case("ruleset", "", {"definition": _definition([_any_true(ENGINE_STACK - 1)]), "fact": facts}),
        case("ruleset", "", {"definition": _definition([_any_true(ENGINE_STACK)]), "fact": facts}),
    ])
    assert (_stack([_any_true(ENGINE_STACK - 1)]), _stack([_any_true(ENGINE_STACK)])) == (ENGINE_STACK, ENGINE_STACK + 1)
    # the engine runs a rule's action once per part of an any that holds
    assert at_limit == {"outcome": "fired", "fired": ["_eval"] + ["r0"] * (ENGINE_STACK - 1), "i": 0}
    assert past_limit["outcome"] == "engine error" and "303" in past_limit["detail"]


# Comparisons that are all true for a0 = … = a3 = 5 (with constants, and with other attributes),
# few enough that the engine shares nodes.
_TRUE = [("$eq", "5"), ("$gte", "5"), ("$lte", "5"), ("$gt", "4"), ("$lt", "6"), ("$neq", "7"),
         ("$eq", '{"$m": "a2"}'), ("$gte", '{"$m": "a3"}')]


def _random_expression(rng: random.Random, depth: int = 0) -> tuple:
    if depth >= 3 or rng.random() < 0.35:
        op, value = rng.choice(_TRUE)
        return ("cmp", f"a{rng.randrange(4)}", op, value)
    parts = tuple(_random_expression(rng, depth + 1) for _ in range(rng.randint(2, 9 if depth == 0 else 4)))
    return (rng.choice(["and", "or"]), parts)


@pytest.mark.parametrize("seed", range(3))
def test_a_ruleset_within_the_modelled_stack_never_fails_in_the_engine(seed):
    """Whatever the shape (shared nodes, and/or nested, every comparison true), a ruleset
    the model puts within ENGINE_STACK is matched without an engine error: 300 random
    rulesets of 1-12 rules, near the limit and past it, in one child process."""
    rng = random.Random(seed)
    rulesets = [[_random_expression(rng) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    rulesets = [r for r in rulesets if all(durable._connectives(e) <= CONNECTIVES_PER_RULE for e in r)]
    fact = _fact({f"a{i}": 5 for i in range(4)})
    cases = [case("ruleset", "", {"definition": _definition(r), "fact": fact}) for r in rulesets]
    within = 0
    for expressions, result in zip(rulesets, run_cases(cases)):
        if _stack(expressions) <= ENGINE_STACK:
            within += 1
            assert result["outcome"] == "fired", (expressions, result)
            # every rule fires, once per way its condition holds (all comparisons are true)
            assert result["fired"] == sorted(["_eval"] + [f"r{i}" for i, e in enumerate(expressions)
                                                          for _ in range(durable._activations(e))])
    assert within >= 100  # the test does look at rulesets the model admits


def _pack(scoring: dict, facts: int) -> dict:
    return {
        "schema": "jixiao.pack/v1", "id": "wide", "version": "1.0.0", "title": "宽", "framework": "test",
        "total_weight": 10, "grades": [{"grade": "优", "min": 90}, {"grade": "差", "min": 0}],
        "facts": [{"name": f"f.c{i}", "type": "boolean", "label": f"检查{i}"} for i in range(facts)],
        "indicators": [{"id": "a", "name": "甲", "weight": 10, "children": [
            {"id": "a.b", "name": "乙", "weight": 10, "scoring": scoring}]}],
    }


def _all_true(count: int) -> dict:
    return {"method": "all_or_nothing", "reason": "未全部满足",
            "pass": {"all": [{"fact": f"f.c{i}", "eq": True} for i in range(count)]}}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=150, max_size=150))
def test_a_too_wide_any_is_split_over_engine_rules_of_the_same_rule(flags):
    """`not all of 150` is an any of 150 comparisons: split into pieces that each fit,
    every piece standing for the one rule, and deciding as the reference does."""
    pack = build_pack(_pack(_all_true(150), 150))
    compiled = compile_pack(pack, durable_matcher)
    plain = compile_pack(pack, plain_matcher)
    try:
        pieces = [name for chunk in compiled.matcher._chunks for name in chunk.rule_by_name if name != "_eval"]
        assert len(pieces) >= 3 and {compiled.matcher._chunks[0].rule_by_name[p] for p in pieces[:1]} == {0}
        facts = {"f": {f"c{i}": flag for i, flag in enumerate(flags)}}
        assert evaluate(compiled, facts) == evaluate(plain, facts)
        everything_false = {"f": {f"c{i}": False for i in range(150)}}
        assert evaluate(compiled, everything_false).score == 0
    finally:
        compiled.close()


def test_what_cannot_be_split_is_refused_naming_the_rule_and_the_limit():
    # An all whose first part is an any of 70: the any is not at the top, so no split.
    scoring = {"method": "deductions", "checks": [{
        "id": "wide", "points": 1, "reason": "宽",
        "when": {"all": [{"any": [{"fact": f"f.c{i}", "eq": True} for i in range(70)]}, {"fact": "f.c0", "eq": False}]},
    }]}
    with pytest.raises(PackError) as refused:
        compile_pack(build_pack(_pack(scoring, 70)), durable_matcher)
    assert "a.b#wide" in str(refused.value) and f"more than {ENGINE_STACK - 1} comparisons" in str(refused.value)


def test_too_many_nested_connectives_are_refused():
    condition: dict = {"fact": "f.c0", "eq": True}
    for level in range(CONNECTIVES_PER_RULE + 2):
        condition = {("all" if level % 2 else "any"): [condition, {"fact": f"f.c{level + 1}", "eq": True}]}
    condition = {"all": [condition, {"fact": "f.c0", "eq": True}]}
    scoring = {"method": "deductions", "checks": [{"id": "deep", "points": 1, "reason": "深", "when": condition}]}
    with pytest.raises(PackError) as refused:
        compile_pack(build_pack(_pack(scoring, CONNECTIVES_PER_RULE + 3)), durable_matcher)
    assert "a.b#deep" in str(refused.value) and f"at most {CONNECTIVES_PER_RULE}" in str(refused.value)


_REPEAT_FAILING_CALL = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {tests!r})
    from jixiao.core.evaluation.compiler import compile_pack
    from jixiao.core.pack.loader import build_pack
    from jixiao.engine import durable
    from unit.test_engine_limits import _all_true, _pack

    durable.ENGINE_STACK = durable.ACTIONS_PER_RULESET = 10_000  # bypass the bounds: all-false fails (303)
    compiled = compile_pack(build_pack(_pack(_all_true(70), 70)), durable.durable_matcher)
    values = compiled.checker.check({{"f": {{f"c{{i}}": False for i in range(70)}}}})

    def rss_kb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    messages = []
    for i in range({calls}):
        if i == 50:
            start = rss_kb()
        try:
            compiled.matcher.match(values)
        except durable.EngineError as exc:
            messages.append(str(exc))
    print(json.dumps({{"growth_kb": rss_kb() - start, "failures": len(messages),
                      "first": messages[0], "last": messages[-1]}}))
    """
)


def test_a_failing_engine_call_repeated_thousands_of_times_does_not_grow_memory():
    """Each failing engine call leaks about 90 KB inside the engine: the adapter refuses an
    input it failed on without calling the engine again (5,000 calls: < 4 MB, not ~450 MB)."""
    from pathlib import Path

    tests = str(Path(__file__).resolve().parents[1])
    script = _REPEAT_FAILING_CALL.format(tests=tests, calls=5000)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.splitlines()[-1])
    assert report["failures"] == 5000
    assert "303" in report["first"] and "not asked again" in report["last"]
    assert report["growth_kb"] < 4096, report
