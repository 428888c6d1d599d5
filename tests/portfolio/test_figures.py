"""The summary's figures over hand-made rows, each expected number worked out by hand.

The five rows of tests/portfolio/demo.py (pack `demo`, weights a.x 6, a.y 4, b.z 10):

Grades: 优 R1 R4 (2, 40%), 良 R2 R3 (2, 40%), 中 none (0, 0%), 差 R5 (1, 20%).
Totals 18 16 16 20 8: mean 78/5 = 15.6, median 16, min 8 (R5), max 20 (R4); deviations
2.4 .4 .4 4.4 −7.6, squares sum 83.2, /5 = 16.64, √ = 4.0792 → 4.08. Rates (×5)
90 80 80 100 40: mean 78, median 80, std 5 × 4.0792 = 20.396 → 20.40.
Dimension A scores 9 9 6 10 3: mean 7.4, median 9, min 3 (R5), max 10 (R4); deviations
1.6 1.6 −1.4 2.6 −4.4, squares sum 33.2, /5 = 6.64, √ = 2.5768 → 2.58; rates (×10)
90 90 60 100 30: mean 74, median 90, std 25.768 → 25.77.
Dimension B scores 9 7 10 10 5: mean 8.2, median 9, min 5 (R5), max 10 (R3 R4); squares
.64 1.44 3.24 3.24 10.24 = 18.8, /5 = 3.76, √ = 1.9391 → 1.94; rates std 19.39.
Indicators: b.z lost 1+3+5 = 9 by R1 R2 R5 (mean 9/5 = 1.8); a.x 1+2+3 = 6 by R2 R3 R5
(mean 1.2); a.y 1+2 = 3 by R1 R3, applicable to 4 (R5: not applicable), mean 0.75.
Findings: f_targets R1 R2 R5 (3, 60%) and f_budget R2 R3 R5 (3, 60%, 3 wordings) tie:
rules, dimension A before B; the observation (same text, two list positions) R3 R5 (2, 40%).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao_cli.portfolio.figures import SummaryError, summarize
from jixiao_cli.portfolio.outline import Named, Outline
from .demo import OBSERVED, OUTLINE, five_records, record, rows

D = Decimal


@pytest.fixture(scope="module")
def summary():
    return summarize(rows(five_records()), OUTLINE)


def test_grades_count_and_share_in_the_packs_order(summary):
    assert [(g.grade.id, g.count, g.share, g.keys) for g in summary.grades] == [
        ("优", 2, D("40.00"), ("R1", "R4")), ("良", 2, D("40.00"), ("R2", "R3")),
        ("中", 0, D("0.00"), ()), ("差", 1, D("20.00"), ("R5",))]


def test_totals(summary):
    total, rate = summary.total, summary.total_rate
    assert (total.mean, total.median, total.min, total.max, total.std) == (D("15.6"), 16, 8, 20, D("4.08"))
    assert (total.min_keys, total.max_keys) == (("R5",), ("R4",))
    assert (rate.mean, rate.median, rate.min, rate.max, rate.std) == (78, 80, 40, 100, D("20.40"))
    assert summary.projects == 5


def test_dimensions_score_and_rate_statistics(summary):
    a, b = summary.dimensions
    assert (a.score.mean, a.score.median, a.score.min, a.score.max, a.score.std) == (D("7.4"), 9, 3, 10, D("2.58"))
    assert (a.rate.mean, a.rate.median, a.rate.min, a.rate.max, a.rate.std) == (74, 90, 30, 100, D("25.77"))
    assert (b.score.mean, b.score.median, b.score.std, b.score.max_keys) == (D("8.2"), 9, D("1.94"), ("R3", "R4"))
    assert b.rate.std == D("19.39")
    assert [(key, score, rate) for key, score, rate in a.values] == [
        ("R1", 9, 90), ("R2", 9, 90), ("R3", 6, 60), ("R4", 10, 100), ("R5", 3, 30)]


def test_indicators_ranked_by_points_lost_with_the_rows_behind(summary):
    assert [(i.rank, i.leaf.id, i.total, i.projects, i.applicable, i.mean) for i in summary.indicators] == [
        (1, "b.z", 9, 3, 5, D("1.80")), (2, "a.x", 6, 3, 5, D("1.20")), (3, "a.y", 3, 2, 4, D("0.75"))]
    assert summary.indicators[0].losses == (("R1", 1), ("R2", 3), ("R5", 5))


def test_indicator_ties_keep_tree_order():
    one = record("T", {"a.x": "1", "a.y": "1", "b.z": "1"}, "优")
    assert [i.leaf.id for i in summarize(rows([one]), OUTLINE).indicators] == ["a.x", "a.y", "b.z"]
    reversed_tree = Outline(OUTLINE.pack, "", "", OUTLINE.grades, OUTLINE.dimensions, OUTLINE.leaves[::-1])
    assert [i.leaf.id for i in summarize(rows([one]), reversed_tree).indicators] == ["b.z", "a.y", "a.x"]


def test_findings_by_id_observations_by_text(summary):
    got = [(f.rank, f.id, f.observation, f.count, f.share, f.texts, f.keys) for f in summary.findings]
    assert got == [(1, "f_targets", False, 3, D("60.00"), 1, ("R1", "R2", "R5")),
                   (2, "f_budget", False, 3, D("60.00"), 3, ("R2", "R3", "R5")),
                   (3, "evaluation.observed_problems[1]", True, 2, D("40.00"), 1, ("R3", "R5"))]
    assert summary.findings[1].text == "预算执行率为79%"  # the first row's wording
    assert summary.findings[2].text == OBSERVED


def test_overrides_and_not_applicable(summary):
    assert [(o.id, o.count, o.keys) for o in summary.overrides] == [("override#misuse", 1, ("R5",))]
    assert [(n.id, n.count, n.keys) for n in summary.not_applicable] == [("a.y", 1, ("R5",))]
    assert summary.missing == ()


def test_old_rows_give_what_they_can_and_say_what_they_cannot():
    records = five_records()[:3] + five_records(explained=False)[3:]
    summary = summarize(rows(records), OUTLINE)
    assert [(m.figure, m.field, m.rows, m.first_key) for m in summary.missing] == [
        ("rates", "dimensions", 2, "R4"), ("indicators", "details", 2, "R4"), ("findings", "findings", 2, "R4")]
    assert summary.indicators is None and summary.findings is None and summary.total_rate is None
    assert all(d.rate is None for d in summary.dimensions)
    assert summary.dimensions[0].score.mean == D("7.4")  # level1 is in every row
    assert [g.count for g in summary.grades] == [2, 2, 0, 1]


def test_english_grade_names_count_as_the_band():
    summary = summarize(rows([record("E1", {}, "excellent"), record("E2", {}, "优")]), OUTLINE)
    assert summary.grades[0].keys == ("E1", "E2")


def test_several_versions_of_one_tree_are_listed():
    records = five_records()
    records[3] = record("R4", {}, "优", version="1.1.0", digest="e" * 64)
    summary = summarize(rows(records), OUTLINE)
    assert [(v.version, v.count, v.keys) for v in summary.versions] == [
        ("1.0.0", 4, ("R1", "R2", "R3", "R5")), ("1.1.0", 1, ("R4",))]


def test_another_version_with_another_tree_is_refused_naming_its_line():
    other = Outline("demo", "", "", OUTLINE.grades, OUTLINE.dimensions, OUTLINE.leaves[:2])
    outlines = {"1.0.0": OUTLINE, "2.0.0": other}
    records = five_records()[:2] + [record("X", {}, "优", version="2.0.0", digest="f" * 64)]
    with pytest.raises(SummaryError, match="indicator tree differs") as error:
        summarize(rows(records), lambda row: outlines[row.version])
    assert error.value.line == 3


def test_another_versions_extra_grade_joins_the_order():
    more = Outline("demo", "", "", OUTLINE.grades + (Named("劣", "劣", ""),), OUTLINE.dimensions, OUTLINE.leaves)
    outlines = {"1.0.0": OUTLINE, "1.1.0": more}
    records = [record("A1", {}, "优"), record("A2", {}, "劣", version="1.1.0", digest="e" * 64)]
    summary = summarize(rows(records), lambda row: outlines[row.version])
    assert [(g.grade.id, g.count) for g in summary.grades] == [("优", 1), ("良", 0), ("中", 0), ("差", 0), ("劣", 1)]


@pytest.mark.parametrize("bad, line, message", [
    (record("R1", {}, "优"), 2, "the key 'R1' again \\(line 1\\)"),
    (record("Z", {}, "优", pack="other"), 2, "scored with the pack other, not demo"),
    (record("Z", {}, "甲"), 2, "the grade '甲' is not one of the pack's"),
])
def test_rows_that_do_not_fit_are_refused(bad, line, message):
    with pytest.raises(SummaryError, match=message) as error:
        summarize(rows([record("R1", {}, "优"), bad]), OUTLINE)
    assert error.value.line == line


def test_a_row_of_another_tree_is_refused():
    bad = record("Z", {}, "优")
    del bad["leaves"]["b.z"]
    with pytest.raises(SummaryError, match="not those of demo's tree"):
        summarize(rows([bad]), OUTLINE)


def test_no_rows_is_refused():
    with pytest.raises(SummaryError, match="no rows"):
        summarize([], OUTLINE)


def test_a_dimension_without_children_is_a_leaf_a_csv_output_names_once():
    flat = Outline("demo", "", "", OUTLINE.grades, OUTLINE.dimensions,
                   (OUTLINE.leaves[0], OUTLINE.leaves[1], Named("B", "产出", "Output", "B")))
    jsonl = record("J", {"a.x": "1"}, "优", explained=False)
    jsonl["leaves"] = {"a.x": "5", "a.y": "4", "B": "10"}
    csv = dict(jsonl, key="C", leaves={"a.x": "5", "a.y": "4"})  # B only among the level-1 columns
    summary = summarize(rows([jsonl, csv]), flat)
    assert summary.projects == 2
