"""EvaluateBatch through a real server: one result per request, in order, bad items alone failing."""

from __future__ import annotations

import copy
import json
from typing import Iterator

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
DEADLINE_S = 60
ITEMS = 1_000


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def requests_by_kind(golden_2019_facts) -> dict[str, pb.EvaluateRequest]:
    missing = copy.deepcopy(golden_2019_facts)
    del missing["budget"]["spent"]
    del missing["output"]["trainings_held"]
    facts = struct(golden_2019_facts)
    return {
        "good": pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=facts),
        "missing facts": pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=struct(missing)),
        "unknown pack": pb.EvaluateRequest(pack_id="no-such-pack", facts=facts),
        "unknown version": pb.EvaluateRequest(pack_id=PACK_ID, version="9.9.9", facts=facts),
    }


def kind_of(number: int) -> str:
    """Items 3, 13, 23, … lack facts; 6, 16, … name no such pack; 9, 19, … no such version."""
    return {3: "missing facts", 6: "unknown pack", 9: "unknown version"}.get(number % 10, "good")


@pytest.fixture(scope="module")
def log_before_stream(jixiao_server) -> int:
    """Where the shared server's log stood before this module's stream (other modules stream
    1,000 items too): the stream's line comes after it."""
    return len(jixiao_server.log())


@pytest.fixture(scope="module")
def results(stub, requests_by_kind, log_before_stream) -> list[pb.BatchEvaluateResult]:
    def stream() -> Iterator[pb.BatchEvaluateRequest]:
        for number in range(ITEMS):
            yield pb.BatchEvaluateRequest(key=f"row-{number}", request=requests_by_kind[kind_of(number)])

    return list(stub.EvaluateBatch(stream(), timeout=DEADLINE_S))


def unary_status(stub, request: pb.EvaluateRequest):
    with pytest.raises(grpc.RpcError) as raised:
        stub.Evaluate(request, timeout=10)
    return rpc_status.from_call(raised.value)


def unpack(status, kind):
    (packed,) = [d for d in status.details if d.Is(kind.DESCRIPTOR)]
    message = kind()
    packed.Unpack(message)
    return message


def test_1000_items_come_back_in_order_each_with_its_key(results) -> None:
    assert [r.key for r in results] == [f"row-{n}" for n in range(ITEMS)]


def test_every_good_item_of_the_2019_facts_pinned_to_1_0_0_scores_75_03(results) -> None:
    good = [r for n, r in enumerate(results) if kind_of(n) == "good"]
    assert len(good) == 700
    assert {(r.WhichOneof("outcome"), r.evaluation.version, r.evaluation.score, r.evaluation.grade)
            for r in good} == {("evaluation", "1.0.0", "75.03", "中")}


def test_missing_facts_fail_that_item_alone_with_invalid_argument_naming_each_fact(results) -> None:
    missing = [r for n, r in enumerate(results) if kind_of(n) == "missing facts"]
    assert len(missing) == 100 and {r.WhichOneof("outcome") for r in missing} == {"error"}
    for result in missing:
        assert result.error.code == code_pb2.INVALID_ARGUMENT
        violations = unpack(result.error, error_details_pb2.BadRequest).field_violations
        assert {v.field for v in violations} == {"facts.budget.spent", "facts.output.trainings_held"}


def test_unknown_packs_and_versions_fail_their_items_with_not_found(results) -> None:
    for kind, name in (("unknown pack", "no-such-pack"), ("unknown version", "9.9.9")):
        failed = [r for n, r in enumerate(results) if kind_of(n) == kind]
        assert len(failed) == 100
        assert {r.error.code for r in failed} == {code_pb2.NOT_FOUND}
        assert all(name in r.error.message for r in failed)
        assert unpack(failed[0].error, error_details_pb2.ResourceInfo).resource_type == "jixiao.v1.Pack"


def test_an_items_error_is_the_status_unary_evaluate_fails_with(stub, results, requests_by_kind) -> None:
    for number in (3, 6, 9):
        assert results[number].error == unary_status(stub, requests_by_kind[kind_of(number)]), kind_of(number)


def test_an_empty_stream_gets_an_empty_answer(stub) -> None:
    assert list(stub.EvaluateBatch(iter(()), timeout=DEADLINE_S)) == []


def test_a_stream_is_logged_in_one_line_with_its_counts(jixiao_server, results, log_before_stream) -> None:
    since = jixiao_server.log()[log_before_stream:]
    lines = [json.loads(line) for line in since.splitlines() if '"EvaluateBatch"' in line]
    (summary,) = [line for line in lines if line["items"] == ITEMS]
    assert (summary["errors"], summary["code"]) == (300, "OK")
    assert summary["error_codes"] == {"INVALID_ARGUMENT": 100, "NOT_FOUND": 200}
    assert summary["versions"] == [f"{PACK_ID}@1.0.0"]
    assert "398761" not in jixiao_server.log()
