"""A row's nested items (dimensions, details, findings) refused field by field, naming the field."""

from __future__ import annotations

import copy

import pytest

from jixiao_cli.portfolio.rows import RowError, parse_row
from .demo import five_records


def spoiled(path: tuple, value: object) -> dict:
    row = copy.deepcopy(five_records()[4])
    *parents, last = path
    target = row
    for step in parents:
        target = target[step]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return row


@pytest.mark.parametrize("path, value, message", [
    (("dimensions", 0, "rate"), KeyError, "dimensions[0] has no rate"),
    (("dimensions", 1, "weight"), "2,5", 'dimensions[1].weight: 2,5 is not a decimal such as "2.39"'),
    (("dimensions", 0, "id"), "a b", "dimensions[0].id: 'a b' is not an id"),
    (("details", 1, "not_applicable"), "yes", "details[1].not_applicable is not true or false"),
    (("details", 2, "deducted"), 1.5, 'details[2].deducted: 1.5 is not a decimal such as "2.39"'),
    (("details", 0, "id"), KeyError, "details[0] has no id"),
    (("findings", 2, "observation"), 1, "findings[2].observation is not true or false"),
    (("findings", 0, "text"), "", "findings[0].text is empty"),
])
def test_a_nested_field_that_is_not_batch_output_is_named(path: tuple, value: object, message: str) -> None:
    with pytest.raises(RowError) as refused:
        parse_row(spoiled(path, value), 5)
    assert str(refused.value) == message


def test_the_nested_items_are_read() -> None:
    row = parse_row(five_records()[4], 5)
    assert [(d.id, str(d.weight), str(d.score), str(d.rate)) for d in row.dimensions] == [
        ("A", "10", "3", "30"), ("B", "10", "5", "50")]
    assert [(d.id, str(d.deducted), d.not_applicable) for d in row.details] == [
        ("a.x", "3", False), ("a.y", "0", True), ("b.z", "5", False)]
    assert [(f.id, f.dimension, f.observation) for f in row.findings] == [
        ("f_targets", "A", False), ("f_budget", "B", False), ("evaluation.observed_problems[0]", "", True)]
    assert row.overrides == ("override#misuse",) and row.not_applicable == ("a.y",)
    assert parse_row(five_records()[4], 5, scores_only=True).overrides is None
