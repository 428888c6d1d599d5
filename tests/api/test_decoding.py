"""Requests that do not decode become an Undecodable (a bounded reason, an error id), not an exception
inside gRPC; a stream past the process's limit is RESOURCE_EXHAUSTED naming the limit."""

from __future__ import annotations

import re

import grpc
import pytest
from google.rpc import error_details_pb2

from jixiao.api.decoding import REASON_MAX, Undecodable, tolerant
from jixiao.api.errors import status_for
from jixiao.api.limits import StreamCount, StreamLimitReached
from jixiao.v1 import evaluation_pb2 as pb

from status_details import details

decode = tolerant(pb.EvaluateRequest.FromString)


def test_a_request_that_decodes_is_the_message() -> None:
    request = pb.EvaluateRequest(pack_id="p", version="1.0.0")
    assert decode(request.SerializeToString()) == request


@pytest.mark.parametrize("raw, reason", [
    (b"\x0a\x03\xff\xfe\xfd", "UTF-8"),
    (b"\x0a\x20quality", "Error parsing message"),
])
def test_bytes_that_do_not_decode_give_an_undecodable_saying_why(raw: bytes, reason: str) -> None:
    undecodable = decode(raw)

    assert type(undecodable) is Undecodable and undecodable.size == len(raw)
    assert reason in undecodable.reason and len(undecodable.reason) <= REASON_MAX + 30
    status = undecodable.status()
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    assert re.fullmatch(r"request could not be decoded: .+ \(error id [0-9a-f]{12}\)", status.details)
    assert undecodable.error_id in status.details


def test_each_undecodable_request_has_an_error_id_of_its_own() -> None:
    assert decode(b"\xff").error_id != decode(b"\xff").error_id


def test_a_stream_past_the_limit_is_refused_and_a_place_freed_is_taken_again() -> None:
    streams = StreamCount(2)
    streams.enter()
    streams.enter()

    with pytest.raises(StreamLimitReached) as refused:
        streams.enter()
    streams.leave()
    streams.enter()

    assert streams.open == 2
    status = status_for(refused.value)
    assert status.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "2 EvaluateBatch streams open" in status.details and "--max-batch-streams" in status.details
    (quota,) = details(status, error_details_pb2.QuotaFailure)
    assert quota.violations[0].description == status.details
