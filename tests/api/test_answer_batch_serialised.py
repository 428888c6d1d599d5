"""A stream wraps serialised evaluations in its results: the same bytes as wrapping messages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterator

import pytest
from google.protobuf import struct_pb2

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


def item(key: str, facts: dict, version: str = "1.0.0", language: int = pb.LANGUAGE_ZH) -> pb.BatchEvaluateRequest:
    message = struct_pb2.Struct()
    message.update(facts)
    return pb.BatchEvaluateRequest(key=key, request=pb.EvaluateRequest(pack_id=PACK_ID, version=version,
                                                                       facts=message, language=language))


def test_serialised_evaluations_give_the_results_messages_gave(library) -> None:
    facts = load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts
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
