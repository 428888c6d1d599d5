"""EvaluateBatch's servicer logic in-process: lazy reading, per-item errors, a stream's versions."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Iterator

import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2, error_details_pb2

from jixiao.api.batch import answer_batch
from jixiao.api.servicer import score, score_serialised
from jixiao.core.cases import load_case
from jixiao.packs import PackLibrary
from jixiao.v1 import evaluation_pb2 as pb

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
    items = [item("a", facts), item("", facts), item("b", missing), item("k" * 300, facts),
             item("c", facts, version="9.9.9"), item("键", facts, version="1.1.0", language=pb.LANGUAGE_EN),
             item("", missing)]

    by_message = [r.SerializeToString() for r in answer_batch(iter(items), library.get, score)]
    by_bytes = [r.SerializeToString() for r in answer_batch(iter(items), library.get, score_serialised)]

    assert by_bytes == by_message
    assert [pb.BatchEvaluateResult.FromString(r).WhichOneof("outcome") for r in by_bytes] == [
        "evaluation", "evaluation", "error", "evaluation", "error", "evaluation", "error"]
    assert pb.BatchEvaluateResult.FromString(by_bytes[3]).key == "k" * 300
