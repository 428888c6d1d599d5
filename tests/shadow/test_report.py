"""A shadow run's figures (report.aggregate) against a plain recomputation in fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.shadow.report import OK, Sample, aggregate, nodes_json, parse_nodes, two_places

TREE = ("a", "a.1", "a.2", "b", "b.1")
NAMES = {"a": "决策", "a.1": "目标", "a.2": "立项", "b": "过程", "b.1": "资金"}


def half_up(value: Fraction) -> str:
    """2 places, half away from zero, written without a sign for zero."""
    sign = -1 if value < 0 else 1
    cents = (abs(value) * 100 + Fraction(1, 2)).__floor__() * sign
    if cents == 0:
        return "0.00"
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


scores = st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def a_sample(draw) -> Sample:
    live = {node: draw(scores) for node in TREE}
    candidate = {node: (None if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from([live[node], draw(scores)])))
                 for node in TREE}
    failed = draw(st.integers(0, 9)) == 0
    live_total = draw(scores)
    return Sample(
        decision_id=f"{draw(st.integers(0, 10**6)):08d}-0000-7000-8000-000000000000",
        live_version="1.0.0", live_total=live_total, live_grade=draw(st.sampled_from("优良中差")),
        outcome="INVALID_ARGUMENT" if failed else OK,
        candidate_total=None if failed else draw(st.sampled_from([live_total, draw(scores)])),
        candidate_grade=None if failed else draw(st.sampled_from("优良中差")),
        nodes={} if failed else {n: (live[n], candidate[n]) for n in TREE})


@settings(max_examples=150, deadline=None)
@given(samples=st.lists(a_sample(), max_size=30), worst=st.integers(1, 5))
def test_figures_are_the_plain_recomputation(samples: list[Sample], worst: int) -> None:
    samples.sort(key=lambda s: s.decision_id)
    figures = aggregate(samples, lambda version: NAMES, worst)
    compared = [s for s in samples if s.outcome == OK]
    deltas = [Fraction(s.candidate_total) - Fraction(s.live_total) for s in compared]
    assert figures.samples == len(samples)
    assert figures.candidate_errors == len(samples) - len(compared)
    if deltas:
        assert figures.mean_total_delta == half_up(sum(deltas) / len(deltas))
        assert figures.mean_abs_total_delta == half_up(sum(map(abs, deltas)) / len(deltas))
        assert figures.min_total_delta == half_up(min(deltas)) and figures.max_total_delta == half_up(max(deltas))
    else:
        assert figures.mean_total_delta == figures.min_total_delta == figures.max_total_delta == ""
    changes: dict[tuple[str, str], int] = {}
    for s in compared:
        if s.live_grade != s.candidate_grade:
            changes[(s.live_grade, s.candidate_grade)] = changes.get((s.live_grade, s.candidate_grade), 0) + 1
    assert figures.grade_changes == sum(changes.values())
    assert {(live, cand): n for live, cand, n in figures.grade_change_counts} == changes
    assert [n for _l, _c, n in figures.grade_change_counts] == sorted(changes.values(), reverse=True)
    assert [i.node_id for i in figures.indicators] == (list(TREE) if compared else [])
    for indicator in figures.indicators:
        assert indicator.name == NAMES[indicator.node_id]
        pairs = [s.nodes[indicator.node_id] for s in compared]
        present = [Fraction(c) - Fraction(live) for live, c in pairs if c is not None]
        assert indicator.changed == sum(1 for live, c in pairs if c is None or c != live)
        if present:
            assert indicator.mean_delta == half_up(sum(present) / len(present))
            assert (indicator.min_delta, indicator.max_delta) == (half_up(min(present)), half_up(max(present)))
        else:
            assert indicator.mean_delta == indicator.min_delta == indicator.max_delta == ""
    expected_worst = sorted(compared, key=lambda s: -abs(Fraction(s.candidate_total) - Fraction(s.live_total)))
    assert [e.decision_id for e in figures.worst] == [s.decision_id for s in expected_worst[:worst]]


def sample(decision_id: str, delta: str, nodes: dict | None = None, version: str = "1.0.0") -> Sample:
    return Sample(decision_id, version, Decimal("70"), "中", OK, Decimal("70") + Decimal(delta), "中",
                  nodes or {"a": (Decimal(1), Decimal(1))})


def test_worst_ties_list_the_earlier_decision_first() -> None:
    figures = aggregate([sample("1", "2"), sample("2", "-3"), sample("3", "3"), sample("4", "-2")], lambda v: {}, 3)
    assert [(e.decision_id, e.delta) for e in figures.worst] == [("2", Decimal(-3)), ("3", Decimal(3)),
                                                                 ("1", Decimal(2))]


def test_a_mean_rounds_half_up_once_and_zero_has_no_sign() -> None:
    figures = aggregate([sample("1", "0.01"), sample("2", "0.00")], lambda v: {})
    assert figures.mean_total_delta == "0.01"  # 0.005 → 0.01
    figures = aggregate([sample("1", "-0.01"), sample("2", "0.00")], lambda v: {})
    assert figures.mean_total_delta == "-0.01"  # half away from zero
    figures = aggregate([sample("1", "-0.01"), sample("2", "0.01")], lambda v: {})
    assert figures.mean_total_delta == "0.00" and figures.mean_abs_total_delta == "0.01"
    assert two_places(Decimal("-0.001")) == "0.00"


def test_trees_of_two_live_versions_merge_in_the_live_order() -> None:
    old = {k: (Decimal(1), Decimal(1)) for k in ("a", "gone", "b")}
    new = {k: (Decimal(1), Decimal(2)) for k in ("a", "b", "fresh")}
    names = {"1.0.0": {"a": "A old", "gone": "G"}, "1.0.1": {"a": "A", "b": "B", "fresh": "F"}}
    figures = aggregate([sample("1", "0", old), sample("2", "1", new, "1.0.1")], names.__getitem__)
    assert [(i.node_id, i.name, i.changed) for i in figures.indicators] == [
        ("a", "A old", 1), ("gone", "G", 0), ("b", "B", 1), ("fresh", "F", 1)]


def test_nodes_json_round_trips_in_order_with_absent_candidates() -> None:
    text = nodes_json([("b", "1.5", None), ("a", "2", "2.25")])
    assert text == '{"b":["1.5",null],"a":["2","2.25"]}'
    assert list(parse_nodes(text).items()) == [("b", (Decimal("1.5"), None)), ("a", (Decimal(2), Decimal("2.25")))]
    assert parse_nodes(None) == {}


@pytest.mark.parametrize("value, text", [("1.005", "1.01"), ("-1.005", "-1.01"), ("2", "2.00"), ("0", "0.00")])
def test_two_places(value: str, text: str) -> None:
    assert two_places(Decimal(value)) == text
