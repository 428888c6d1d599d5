"""Invariants of the scoring language's newer constructs, for random facts: a pack with a
per-item leaf, a ratio with a floor and a slope, choice bands, leaves found not applicable
by a flag and by a condition (under both treatments) and overrides (veto, zero, caps, one
acting after another).

A leaf scores within [0, its effective weight]; a parent is the sum of its children, or,
capped by an override, the smaller of that sum and the cap; the total is the sum of level
1 (converted under rescale) within [0, total weight], or its cap; and durable-rules, with
the leaf memo, decides exactly as the plain reference evaluator without it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jixiao.core.decimals import CONTEXT, round_score
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate

from unit.scoring_language_pack import compiled_scoring

#: The input errors random facts may meet besides the fact schema's own.
METHOD_LEVEL = ("is 0, but it is the target", "cannot be negative", "must say why")


def _amount(high: int, low: int = 0) -> st.SearchStrategy[str]:
    return st.one_of(st.decimals(min_value=low, max_value=high, places=2), st.sampled_from([low, 60, 100])).map(str)


def _target(high: int) -> st.SearchStrategy[str]:
    """Mostly positive; now and then 0, an input error for an applicable ratio."""
    return st.one_of(_amount(high, low=1), _amount(high, low=1), _amount(high, low=1), st.just("0"))


@st.composite
def project(draw) -> dict:
    flagged = draw(st.booleans())
    return {
        "vouchers": {"noncompliant": draw(st.integers(-1, 20))},
        "output": {"completed": draw(_amount(200)), "planned": draw(_target(200))},
        "na": {"procurement": flagged, "procurement_reason": draw(st.sampled_from(["", "未开展", "不涉及", "其他"]))},
        "procurement": {"irregular": draw(st.booleans())},
        "budget": {"approved": draw(_target(1000)), "spent": draw(_amount(1000))},
        "eco": {"level": draw(st.sampled_from(["good", "fairly_good", "average", "poor", "较好"]))},
        "survey": {"planned": draw(st.integers(0, 50)), "done": draw(st.integers(0, 60))},
        "funds": {"misappropriated": draw(st.booleans())},
        "audit": {"major": draw(st.booleans())},
    }


@pytest.fixture(scope="module", params=["rescale", "redistribute"])
def packs(request):
    durable = compiled_scoring("durable", request.param)
    plain = compiled_scoring("plain", request.param, cache_entries=0)
    yield durable, plain
    durable.close()


def _check_tree(node, caps) -> None:
    assert node.score == node.score.quantize(Decimal("0.01")), node.id
    assert Decimal(0) <= node.score <= node.scored_weight, f"{node.id}: {node.score} not in [0, {node.scored_weight}]"
    if node.not_applicable:
        assert node.score == 0 and node.scored_weight == 0, node.id
    if node.children:
        expected = sum(c.score for c in node.children)
        capped = [caps[r] for r in node.overridden_by if r in caps and caps[r][0] == node.id]
        if capped:
            expected = min(expected, min(cap for _, cap in capped))
        assert node.score == expected, node.id
        for child in node.children:
            _check_tree(child, caps)


def test_invariants_and_engine_agreement_for_random_projects(packs):
    durable, plain = packs
    caps = {f"override#{o.id}": (o.node, o.cap) for o in durable.pack.overrides if o.action == "cap"}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(project())
    def check(facts):
        try:
            evaluation = evaluate(durable, facts)
        except FactsError as exc:
            assert all(any(m in v.description for m in METHOD_LEVEL) for v in exc.violations), exc
            with pytest.raises(FactsError):
                evaluate(plain, facts)
            assume(False)
            return
        for top in evaluation.indicators:
            _check_tree(top, caps)
        total = sum(n.score for n in evaluation.indicators)
        if evaluation.not_applicable_treatment == "rescale":
            weight = sum(n.scored_weight for n in evaluation.indicators)
            total = round_score(CONTEXT.divide(CONTEXT.multiply(total, evaluation.total_weight), weight))
        total_caps = [caps[o.rule_id][1] for o in evaluation.overrides if caps.get(o.rule_id, ("",))[0] == "total"]
        if total_caps:
            total = min([total] + total_caps)
        assert evaluation.score == total
        assert Decimal(0) <= evaluation.score <= evaluation.total_weight
        if evaluation.not_applicable_treatment == "redistribute":
            assert sum(n.scored_weight for n in evaluation.indicators) == evaluation.total_weight
        if any(o.action == "grade" for o in evaluation.overrides):
            assert evaluation.grade == "差"
        assert evaluation == evaluate(plain, facts)
        assert evaluate(durable, facts) == evaluation  # a memo hit gives the same result

    check()
