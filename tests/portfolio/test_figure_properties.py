"""Properties of the figures over any rows: the grade counts add up to the rows, each
indicator's points lost is the sum of its rows' deductions, and every key a figure names
is a row's."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from jixiao_cli.portfolio.figures import summarize
from .demo import OUTLINE, record, rows

GRADES = ["优", "良", "中", "差", "good"]
deduction = st.sampled_from(["0", "0", "0.5", "1", "1.25", "2", "3.99"])
a_row = st.fixed_dictionaries({
    "lost": st.fixed_dictionaries({"a.x": deduction, "a.y": deduction, "b.z": deduction}),
    "grade": st.sampled_from(GRADES),
    "not_applicable": st.booleans(),
    "findings": st.lists(st.sampled_from(["f1", "f2", "f3"]), unique=True),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(a_row, min_size=1, max_size=25))
def test_counts_add_up_and_totals_are_the_rows_sums(drawn):
    records = [record(f"K{i}", d["lost"], d["grade"], [(f, f, "A", False) for f in d["findings"]],
                      not_applicable=("a.y",) if d["not_applicable"] else ())
               for i, d in enumerate(drawn)]
    summary = summarize(rows(records), OUTLINE)
    keys = {r["key"] for r in records}

    assert sum(g.count for g in summary.grades) == len(records) == summary.projects
    assert sorted(k for g in summary.grades for k in g.keys) == sorted(keys)
    for loss in summary.indicators:
        expected = sum((Decimal(d["lost"][loss.leaf.id]) for d in drawn
                        if not (loss.leaf.id == "a.y" and d["not_applicable"])), Decimal(0))
        assert loss.total == expected == sum((v for _, v in loss.losses), Decimal(0))
        assert loss.projects == len(loss.losses) and {k for k, _ in loss.losses} <= keys
    totals = [loss.total for loss in summary.indicators]
    assert totals == sorted(totals, reverse=True)
    for finding in summary.findings:
        assert finding.count == sum(finding.id in d["findings"] for d in drawn)
    for dimension in summary.dimensions:
        assert dimension.score.min <= dimension.score.mean <= dimension.score.max
        assert dimension.score.std >= 0
