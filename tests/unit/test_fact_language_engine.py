"""The fact language's newer constructs decided by durable-rules exactly as by the plain
reference evaluator: a choice (sent by code or label), derived values compared in rules
and bands, constraints and a non-empty text, over generated requests. Both must give the
same evaluation, or refuse with the same violations; and the publish gate's generated
edge facts pass."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.evaluation.edge_facts import check_edge_facts, edge_facts
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.engine.durable import durable_matcher

from .fact_language_pack import fact_language_pack

_PACK = fact_language_pack()
_REFERENCE = compile_pack(_PACK, plain_matcher)


@pytest.fixture(scope="module")
def engine():
    compiled = compile_pack(_PACK, durable_matcher)
    yield compiled
    compiled.close()


def money(low: int, high: int):
    return st.integers(low * 100, high * 100).map(lambda cents: str(Decimal(cents) / 100))


requests = st.fixed_dictionaries({
    "cost": st.fixed_dictionaries({"budget": st.one_of(st.just("0"), money(0, 2000)),
                                   "actual": st.one_of(st.just("1100.00"), st.just("1050.00"), money(0, 3000))}),
    "vouchers": st.fixed_dictionaries({"sampled": st.integers(0, 30), "compliant": st.integers(0, 30)}),
    "effect": st.fixed_dictionaries({"ecology": st.sampled_from(
        ["good", "fairly_good", "average", "poor", "好", "较好", "一般", "差", "fairly good", "excellent", 2])}),
    "evidence": st.fixed_dictionaries({"summary": st.sampled_from(["抽查凭证20份", "", " "])}),
    "judge": st.fixed_dictionaries({"score": money(0, 6), "reason": st.sampled_from(["资料齐全", ""])}),
})


def outcome(compiled, facts, language):
    try:
        evaluation = evaluate(compiled, facts, language)
    except FactsError as error:
        return ("refused", [(v.fact, v.description) for v in error.violations])
    return ("scored", evaluation.score, evaluation.grade,
            [(n.id, n.score, [d.rule_id for d in n.deductions], n.rationale) for n in evaluation.nodes()])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=requests, language=st.sampled_from(["zh", "en"]))
def test_the_engine_decides_as_the_reference(engine, facts, language):
    assert outcome(engine, facts, language) == outcome(_REFERENCE, facts, language)


def test_the_generated_edge_facts_pass_the_gate(engine):
    generated = edge_facts(_PACK, engine.rules)
    names = {request.name for request in generated}
    assert {"effect.ecology = fairly_good", "effect.ecology = poor", "evidence.summary empty (refused: it must not be empty)"} <= names
    assert check_edge_facts(engine, _REFERENCE, generated) == []


def test_the_gate_tries_each_fact_a_derived_value_reads_either_side_of_a_rules_edge(engine):
    generated = {request.name: request.facts for request in edge_facts(_PACK, engine.rules)}
    below = generated["cost.actual = 109.99 (cost.overrun_rate either side of the edge 0.1)"]
    at = generated["cost.actual = 110 (cost.overrun_rate either side of the edge 0.1)"]
    # the base budget is 100: an overrun rate of 0.0999 falls in the 2-point band, 0.1 in the 5-point one
    assert below["cost.budget"] == at["cost.budget"] == "100"
    assert evaluate(engine, below).node("all.x.cost").deducted == 2
    assert evaluate(engine, at).node("all.x.cost").deducted == 5
    # noncompliant = sampled − compliant against `gt 2`: 2 and 3 both tried
    assert {"vouchers.sampled = 102 (vouchers.noncompliant either side of the edge 2)",
            "vouchers.sampled = 103 (vouchers.noncompliant either side of the edge 2)"} <= set(generated)
