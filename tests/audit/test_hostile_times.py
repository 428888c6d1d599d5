"""A decision filter's times that parse but leave the years a datetime holds once in UTC, or
that are written with other scripts' digits: refused naming the field, never an INTERNAL."""

from __future__ import annotations

import pytest

from jixiao.audit import queries
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.v1 import audit_pb2


@pytest.mark.parametrize("text", [
    "9999-12-31T23:59:59-23:59",  # past year 9999 in UTC (OverflowError)
    "0001-01-01T00:00:00+23:59",  # before year 1 in UTC (OverflowError)
    "9999-12-31T23:59:59.9999999Z",  # rounded up to the next millisecond: year 10000 (ValueError)
    "2026-12-03T16:47:39.\u0661\u0662\u0663Z",  # Arabic-Indic digits in the fraction
    "\u0662\u0660\u0662\u0666-12-03T16:47:39Z",
])
def test_out_of_range_or_non_ascii_times_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        queries.criteria(audit_pb2.DecisionFilter(since=text))
    assert refused.value.field == "filter.since"


def test_the_extremes_inside_the_range_are_accepted() -> None:
    assert queries.stored_time("9999-12-31T23:59:59.999Z", "since") == "9999-12-31T23:59:59.999Z"
    assert queries.stored_time("0001-01-01T00:00:00Z", "since") == "0001-01-01T00:00:00.000Z"
