"""EvaluateBatch's servicer logic in-process: lazy reading, per-item errors, a stream's versions."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path
from typing import Iterator

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2, error_details_pb2
from structlog.testing import capture_logs

import jixiao.api.servicer as servicer_module

from jixiao.api.batch import answer_batch
from jixiao.api.decoding import add_service
from jixiao.api.servicer import EvaluationServicer, score, score_serialised
from jixiao.core.pack.cases import load_case
from jixiao.core.identifiers import KEY_MAX
from jixiao.packs import PackLibrary
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from aio_servers import served

RULES = Path(__file__).resolve().parents[2] / "rules"
PACK_ID = "quality-district-funding"
GOLDEN_2019 = RULES / PACK_ID / "1.0.0" / "cases" / "2019.yaml"


@pytest.fixture(scope="module")
def library() -> Iterator[PackLibrary]:
    packs = PackLibrary.from_directory(RULES)
    yield packs
    packs.close()


@pytest.fixture(scope="module")
def facts_2019() -> dict:
    return load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts


def item(key: str, facts: dict, version: str = "1.0.0", pack_id: str = PACK_ID,
         language: int = pb.LANGUAGE_UNSPECIFIED) -> pb.BatchEvaluateRequest:
    message = struct_pb2.Struct()
    message.update(facts)
    return pb.BatchEvaluateRequest(key=key, request=pb.EvaluateRequest(pack_id=pack_id, version=version, facts=message,
                                                                       language=language))


def test_each_request_is_read_only_after_the_previous_result_was_taken(library, facts_2019) -> None:
    pulled: list[int] = []

    def endless() -> Iterator[pb.BatchEvaluateRequest]:
        for number in itertools.count():
            pulled.append(number)
            yield item(str(number), facts_2019)

    results = answer_batch(endless(), library.get, score)
    taken = [next(results) for _ in range(3)]

    assert [r.key for r in taken] == ["0", "1", "2"] and pulled == [0, 1, 2]
    assert {r.evaluation.score for r in taken} == {"75.03"}
    results.close()


def test_a_bad_item_gets_its_own_error_and_the_stream_goes_on(library, facts_2019) -> None:
    missing = copy.deepcopy(facts_2019)
    del missing["budget"]["spent"]

    results = list(answer_batch(iter([item("a", facts_2019), item("b", missing), item("c", facts_2019)]),
                                library.get, score))

    assert [(r.key, r.WhichOneof("outcome")) for r in results] == [
        ("a", "evaluation"), ("b", "error"), ("c", "evaluation")]
    error = results[1].error
    assert error.code == code_pb2.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    assert error.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["facts.budget.spent"]


def test_items_naming_no_version_keep_the_version_active_when_the_stream_first_used_the_pack(
        library, facts_2019) -> None:
    active = ["1.0.0"]

    def lookup(pack_id: str, version: str | None):
        return library.get(pack_id, version or active[0])

    def activating_midway() -> Iterator[pb.BatchEvaluateRequest]:
        yield item("before", facts_2019, version="")
        active[0] = "1.1.0"
        yield item("after", facts_2019, version="")
        yield item("pinned", facts_2019, version="1.1.0")

    results = list(answer_batch(activating_midway(), lookup, score))
    next_stream = list(answer_batch(iter([item("next", facts_2019, version="")]), lookup, score))

    assert [(r.key, r.evaluation.version) for r in results] == [
        ("before", "1.0.0"), ("after", "1.0.0"), ("pinned", "1.1.0")]
    assert next_stream[0].evaluation.version == "1.1.0"


# A stream wraps serialised evaluations in its results (servicer.score_serialised): the
# same bytes as wrapping messages.
def test_serialised_evaluations_give_the_results_messages_gave(library, facts_2019) -> None:
    facts = facts_2019
    missing = copy.deepcopy(facts)
    del missing["budget"]["spent"]
    items = [item("a", facts), item("", facts), item("b", missing), item("k" * KEY_MAX, facts),
             item("c", facts, version="9.9.9"), item("键", facts, version="1.1.0", language=pb.LANGUAGE_EN),
             item("", missing), item("k" * (KEY_MAX + 1), facts)]

    by_message = [r.SerializeToString() for r in answer_batch(iter(items), library.get, score)]
    by_bytes = [r.SerializeToString() for r in answer_batch(iter(items), library.get, score_serialised)]

    assert by_bytes == by_message
    assert [pb.BatchEvaluateResult.FromString(r).WhichOneof("outcome") for r in by_bytes] == [
        "evaluation", "evaluation", "error", "evaluation", "error", "evaluation", "error", "error"]
    assert pb.BatchEvaluateResult.FromString(by_bytes[3]).key == "k" * KEY_MAX


# --- what a stream refuses without scoring --------------------------------------------


def test_a_key_that_is_too_long_or_holds_control_characters_fails_alone_and_is_not_echoed(
        library, facts_2019) -> None:
    items = [item("k" * (KEY_MAX + 1), facts_2019), item("row\n1", facts_2019), item("ok", facts_2019)]

    results = list(answer_batch(iter(items), library.get, score))

    assert [(r.key, r.WhichOneof("outcome")) for r in results] == [("", "error"), ("", "error"), ("ok", "evaluation")]
    for result, length in zip(results[:2], (KEY_MAX + 1, 5)):
        assert result.error.code == code_pb2.INVALID_ARGUMENT
        bad_request = error_details_pb2.BadRequest()
        assert result.error.details[0].Unpack(bad_request)
        assert [v.field for v in bad_request.field_violations] == ["key"]
        assert len(result.error.message) < 200
    assert f"{KEY_MAX + 1} characters" in results[0].error.message


@pytest.mark.parametrize("field, request_fields, quoted", [
    ("pack_id", {"pack_id": "p" * 1_000_000}, "1000000 characters"),
    ("pack_id", {"pack_id": f"{PACK_ID}\n"}, "'quality-district-funding\\"),
    ("version", {"version": "1.1.0\n"}, "'1.1.0\\"),
    ("version", {"version": "1" * 100_000}, "100000 characters"),
    ("language", {"language": 99}, "LANGUAGE_EN (2)"),
    ("language", {"language": -1}, "-1 is not a Language"),
])
def test_a_bad_pack_id_version_or_language_is_invalid_argument_naming_the_field_in_a_short_message(
        library, facts_2019, field, request_fields, quoted) -> None:
    fields = {"pack_id": PACK_ID, "version": "1.0.0", **request_fields}
    (result,) = answer_batch(iter([item("row", facts_2019, **fields)]), library.get, score)

    assert (result.key, result.error.code) == ("row", code_pb2.INVALID_ARGUMENT)
    bad_request = error_details_pb2.BadRequest()
    assert result.error.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == [field]
    assert quoted in result.error.message and len(result.error.message) < 300
    assert "\n" not in result.error.message
    assert result.ByteSize() < 1000


def test_a_failure_outside_any_item_ends_the_stream_internal_with_a_logged_error_id(
        library, facts_2019, monkeypatch) -> None:
    def broken(*_args):
        raise TypeError("secret detail of the failure")

    monkeypatch.setattr(servicer_module, "answer_stream", broken)

    async def build():
        server = grpc.aio.server()
        add_service(server, pb.DESCRIPTOR.services_by_name["EvaluationService"], EvaluationServicer(library))
        return server, server.add_insecure_port("127.0.0.1:0")

    with capture_logs() as logged, served(build) as running, grpc.insecure_channel(running.target) as channel:
        with pytest.raises(grpc.RpcError) as failed:
            list(evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch(
                iter([item("a", facts_2019)]), timeout=10))

    assert failed.value.code() is grpc.StatusCode.INTERNAL
    assert "secret detail" not in failed.value.details()
    (error_id,) = re.findall(r"error id ([0-9a-f]{12})", failed.value.details())
    assert [entry["event"] for entry in logged if entry.get("error_id") == error_id] == ["unexpected error"]
