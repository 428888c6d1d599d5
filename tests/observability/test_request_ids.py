"""Request ids and traceparents read from call metadata: full-string rules, no partial matches."""

from __future__ import annotations

import re

import pytest

from jixiao.observability.request_ids import (
    request_id_of, traceparent_of, valid_request_id, valid_traceparent)

GENERATED = re.compile(r"[0-9a-f]{32}")
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize("value", ["a", "abc-123", "A.b_c:d/e+f=g-h", "x" * 128,
                                   "6bcc0cce435d475780acad0937e2f36c", "req=1/2:3"])
def test_a_request_id_of_safe_characters_up_to_128_is_kept(value: str) -> None:
    assert valid_request_id(value) == value
    assert request_id_of([("x-request-id", value)]) == (value, True)


@pytest.mark.parametrize("value", ["", "x" * 129, "bad id", "id\n", "\nid", "id\x00", "ä", "id;drop", "a,b",
                                   "<script>", "%41", b"abc", None, 123])
def test_anything_else_is_replaced_by_a_generated_id(value: object) -> None:
    assert valid_request_id(value) is None
    chosen, given = request_id_of([("x-request-id", value)])
    assert not given and GENERATED.fullmatch(chosen) and chosen != value


def test_a_call_without_one_gets_a_new_id_each_time() -> None:
    first, given = request_id_of([("authorization", "Bearer x")])
    second, _ = request_id_of(None)
    assert not given and GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second


def test_the_first_request_id_sent_is_the_one_read() -> None:
    assert request_id_of([("x-request-id", "one"), ("x-request-id", "two")]) == ("one", True)


def test_a_w3c_traceparent_is_kept() -> None:
    assert valid_traceparent(TRACEPARENT) == TRACEPARENT
    assert traceparent_of([("traceparent", TRACEPARENT)]) == TRACEPARENT
    assert traceparent_of([]) is None


@pytest.mark.parametrize("value", [
    TRACEPARENT.upper(),  # W3C: lower-case hex only
    TRACEPARENT + "\n", " " + TRACEPARENT, TRACEPARENT + "-00",
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # a version this server does not read
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # all-zero trace id
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # all-zero parent id
    "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01", "", b"00", None,
])
def test_a_malformed_traceparent_is_not_logged(value: object) -> None:
    assert valid_traceparent(value) is None
    assert traceparent_of([("traceparent", value)]) is None
