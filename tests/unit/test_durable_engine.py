"""The durable-rules adapter: agrees with the plain evaluator and stays inside the engine's limits."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import build_pack
from jixiao.engine.durable import ENGINE_STACK, durable_matcher

from .packs import BASE_FACTS, compiled_methods


def wide_pack(checks: int) -> dict:
    """One leaf with `checks` boolean checks, each worth 0.01 points."""
    return {
        "schema": "jixiao.pack/v1", "id": "wide", "version": "1.0.0", "title": "宽", "framework": "test",
        "total_weight": 10,
        "grades": [{"grade": "优", "min": 90}, {"grade": "差", "min": 0}],
        "facts": [{"name": f"f.c{i}", "type": "boolean", "label": f"检查{i}"} for i in range(checks)],
        "indicators": [{"id": "a", "name": "甲", "weight": 10, "children": [{
            "id": "a.b", "name": "乙", "weight": 10, "scoring": {"method": "deductions", "checks": [
                {"id": f"c{i}", "when": {"fact": f"f.c{i}", "eq": False}, "points": "0.01", "reason": f"第{i}项未通过"}
                for i in range(checks)]}}]}],
    }


def test_more_rules_true_at_once_than_the_engine_allows_in_one_ruleset():
    # The engine fails past 64 conditions true at once for one fact: the compiler splits.
    checks = 3 * ENGINE_STACK + 5
    compiled = compile_pack(build_pack(wide_pack(checks)), durable_matcher)
    try:
        facts = {"f": {f"c{i}": False for i in range(checks)}}
        for _ in range(3):
            node = evaluate(compiled, facts).node("a.b")
            assert len(node.deductions) == checks
            assert node.score == Decimal(10) - Decimal("0.01") * checks
    finally:
        compiled.close()


def test_many_evaluations_reuse_the_sid_pool_without_stale_state():
    compiled = compiled_methods("durable")
    try:
        alternating = [dict(BASE_FACTS, done=bool(i % 2)) for i in range(2500)]
        for i, facts in enumerate(alternating):
            assert evaluate(compiled, facts).node("all.x.done").score == (5 if i % 2 else 0)
    finally:
        compiled.close()


def test_threads_share_one_compiled_pack_safely():
    compiled = compiled_methods("durable")
    expected = {flag: evaluate(compiled, dict(BASE_FACTS, done=flag)) for flag in (True, False)}
    errors: list[str] = []

    def worker(flag: bool) -> None:
        for _ in range(300):
            if evaluate(compiled, dict(BASE_FACTS, done=flag)) != expected[flag]:
                errors.append("wrong result")

    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    compiled.close()
    assert errors == []


_share = st.decimals(min_value=0, max_value=25, places=2)
_money = st.decimals(min_value=0, max_value=10**9, places=2)


@st.composite
def method_facts(draw):
    approved = draw(_money.filter(lambda d: d > 0))
    return {
        "budget": {"approved": str(approved), "spent": str(draw(_money))},
        "records": {"a": draw(st.booleans()), "b": draw(st.booleans()), "c": draw(st.booleans())},
        "awards": {"granted": draw(st.integers(0, 10)), "cap": draw(st.integers(0, 10))},
        "done": draw(st.booleans()),
        "survey": {"s": {k: str(draw(_share)) for k in ("strongly", "yes", "somewhat", "no")}},
        "judge": {"score": str(draw(st.decimals(min_value=0, max_value=10, places=2))), "reason": "理由"},
    }


_durable = compiled_methods("durable")
_plain = compiled_methods("plain")


@settings(max_examples=300, deadline=None)
@given(method_facts())
def test_durable_rules_and_the_plain_evaluator_agree(facts):
    assert evaluate(_durable, facts) == evaluate(_plain, facts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-10**20, max_value=10**20),
    st.booleans(),
    st.text(max_size=12),
), min_size=1, max_size=8), st.integers(min_value=0, max_value=1023))
def test_the_fact_reads_as_its_values_or_is_refused(raw, sid):
    """Within the engine's limits the fact is JSON of its values (a Decimal read as the
    float it is closest to, an int as an int, no exponent anywhere); beyond them the
    adapter refuses it."""
    from jixiao.core.decimals import ENGINE_BOUND, engine_problem
    from jixiao.engine.durable import UnsafeValue, fact_json, value_text

    values = {f"v.{i}": value for i, value in enumerate(raw)}
    fields = tuple((name, f'"a{i}": ', value_text) for i, name in enumerate(values))
    safe = all(engine_problem(v) is None if type(v) is Decimal else
               -ENGINE_BOUND < v < ENGINE_BOUND if type(v) is int else True for v in raw)
    try:
        written = fact_json(fields, values, str(sid))
    except UnsafeValue:
        assert not safe
        return
    assert safe
    expected = {f"a{i}": float(v) if type(v) is Decimal else v for i, v in enumerate(raw)}
    expected.update(id="0", sid=str(sid), _eval=1)
    tokens: list[str] = []

    def number(token: str) -> float:
        tokens.append(token)
        return float(token)

    assert json.loads(written, parse_float=number, parse_int=lambda t: tokens.append(t) or int(t)) == [expected]
    assert all("e" not in token.lower() for token in tokens), tokens  # the engine stops a number at an e


def test_a_computed_sign_never_takes_the_place_of_a_fact_named_like_its_attribute():
    """The adapter computes `s0 < y × 2` itself and asserts its sign as attribute s0; a
    fact that happens to be named s0 keeps its own value."""
    document = wide_pack(1)
    document["facts"] = [{"name": "s0", "type": "decimal", "label": "甲"}, {"name": "y", "type": "decimal", "label": "乙"}]
    document["indicators"][0]["children"][0]["scoring"]["checks"] = [
        {"id": "twice", "when": {"fact": "s0", "lt": {"mul": [{"fact": "y"}, 2]}}, "points": "1", "reason": "低"},
        {"id": "five", "when": {"fact": "s0", "eq": 5}, "points": "2", "reason": "五"},
    ]
    pack = build_pack(document)
    durable, plain = compile_pack(pack, durable_matcher), compile_pack(pack, plain_matcher)
    try:
        for facts in ({"s0": "5", "y": "3"}, {"s0": "5", "y": "2"}, {"s0": "7", "y": "1"}):
            assert evaluate(durable, facts) == evaluate(plain, facts), facts
        assert evaluate(durable, {"s0": "5", "y": "3"}).node("a.b").score == 7
    finally:
        durable.close()
