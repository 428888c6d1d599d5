"""Generated edge facts: what the gate tries besides a pack's golden cases, and the check
that names every request the engine fails on or scores unlike the reference."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import Matcher, compile_pack, plain_matcher
from jixiao.core.evaluation.edge_facts import EXTREME, check_edge_facts, edge_facts
from jixiao.engine.durable import durable_matcher

from .packs import methods_pack


def requests_by_name():
    pack = methods_pack()
    compiled = compile_pack(pack, plain_matcher)
    return {r.name: r.facts for r in edge_facts(pack, compiled.rules)}


def test_every_boolean_is_tried_all_false_all_true_and_each_alone() -> None:
    names = requests_by_name()
    assert names["every boolean false"] == {**names["base"], "records.a": False, "records.b": False,
                                            "records.c": False, "done": False}
    for boolean in ("records.a", "records.b", "records.c", "done"):
        assert names[f"only {boolean} true"][boolean] is True
        assert names[f"only {boolean} false"][boolean] is False


def test_numbers_are_tried_at_their_bounds_zero_and_the_extremes_within_range() -> None:
    names = requests_by_name()
    assert names["budget.spent = 0 (its minimum)"]["budget.spent"] == "0"
    assert names[f"budget.spent = {EXTREME} (the largest value tried)"]["budget.spent"] == str(EXTREME)
    assert names["awards.granted = 1 (just above its minimum)"]["awards.granted"] == 1
    assert f"judge.score = -{EXTREME} (the most negative value tried)" in names  # no minimum declared
    assert not any(name.startswith("budget.spent = -") for name in names)  # below its minimum


def test_every_band_edge_is_tried_with_one_step_either_side() -> None:
    names = requests_by_name()
    for edge in ("90", "80", "70", "60"):
        below = str(Decimal(edge) - Decimal("0.01"))
        for share, label in ((below, f"{below} (an edge of a rule)"), (edge, f"{edge} (an edge of a rule)")):
            facts = names[f"survey.s: only strongly at {label}"]
            assert facts["survey.s"]["strongly"] == share and facts["survey.s"]["yes"] == "0"


def test_the_bundled_engine_agrees_with_the_reference_on_every_generated_request() -> None:
    pack = methods_pack()
    engine, reference = compile_pack(pack, durable_matcher), compile_pack(pack, plain_matcher)
    try:
        requests = edge_facts(pack, engine.rules)
        assert len(requests) > 40
        assert check_edge_facts(engine, reference, requests) == []
    finally:
        engine.close()


class FiresNothingOnAllFalse:
    """A matcher that misses every rule when all booleans are false, as a broken engine might."""

    def __init__(self, pack, rules):
        self._plain: Matcher = plain_matcher(pack, rules)

    def match(self, values):
        if not any(v is True for v in values.values()):
            return frozenset()
        return self._plain.match(values)

    def close(self) -> None:
        pass


class Raises:
    def __init__(self, pack, rules):
        pass

    def match(self, values):
        raise RuntimeError("Could not assert facts, error code: 303")

    def close(self) -> None:
        pass


def test_a_disagreement_with_the_reference_is_named_by_the_request_and_the_node() -> None:
    pack = methods_pack()
    broken, reference = compile_pack(pack, FiresNothingOnAllFalse), compile_pack(pack, plain_matcher)

    failures = check_edge_facts(broken, reference, edge_facts(pack, broken.rules))

    named = {f.name: f.problem for f in failures}
    assert "by the engine" in named["every boolean false"] and "by the reference" in named["every boolean false"]


def test_an_engine_that_raises_is_a_failure_for_every_request_it_raises_on() -> None:
    pack = methods_pack()
    broken, reference = compile_pack(pack, Raises), compile_pack(pack, plain_matcher)
    requests = edge_facts(pack, broken.rules)
    heard = []

    failures = check_edge_facts(broken, reference, requests, heard.append)

    assert heard == requests
    assert failures and all("error code: 303" in f.problem for f in failures)
    assert str(failures[0]).startswith("generated facts [base]: the engine's evaluation raised RuntimeError")


@pytest.mark.parametrize("treatment", ["rescale", "redistribute"])
def test_the_gate_passes_a_pack_with_not_applicable_leaves_and_overrides(treatment) -> None:
    from .scoring_language_pack import edited, scoring_pack

    # an override comparing a fact with a literal gets that literal's edges too
    pack = scoring_pack(treatment, edited(("    when: {fact: audit.major, eq: true}\n",
                                           "    when: {fact: budget.spent, lt: 37}\n")))
    engine, reference = compile_pack(pack, durable_matcher), compile_pack(pack, plain_matcher, cache_entries=0)
    try:
        requests = edge_facts(pack, engine.rules)
        assert {"budget.spent = 36.99 (just below the edge 37)", "eco.level = poor",
                "only na.procurement true"} <= {r.name for r in requests}
        assert check_edge_facts(engine, reference, requests) == []
    finally:
        engine.close()
