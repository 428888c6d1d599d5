"""Decision rows: canonical facts that replay byte-identically, digests, redaction, failures."""

from __future__ import annotations

import hashlib
import json
import math

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from google.rpc import status_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.api.convert import evaluation_bytes
from jixiao.api.decisions import served_by
from jixiao.api.details import status_message
from jixiao.api.errors import status_for
from jixiao.api.servicer import evaluation_for
from jixiao.audit.records import RowMaker, canonical_facts, facts_struct, language_name, language_value
from jixiao.database.schema import decisions
from jixiao.v1 import evaluation_pb2 as pb

from .library import PACK_DIRS, Library, case_request, decided, struct_of

def reply_of(request: pb.EvaluateRequest, library: Library) -> bytes:
    """What a call answers: the Evaluation's bytes, or the failure's google.rpc.Status bytes."""
    try:
        return evaluation_bytes(evaluation_for(request, library.get))
    except Exception as error:  # noqa: BLE001 - the status is the answer
        return b"status:" + status_message(status_for(error)).SerializeToString()


# --- canonical facts ------------------------------------------------------------------

def test_canonical_facts_sort_keys_drop_spaces_keep_unicode_and_write_integral_doubles_as_ints():
    struct = struct_of({"b": 2.0, "a": [1.5, "中文", None, True, {"z": -0.0, "y": 1e300}], "c": "\"q\"\n"})
    text = canonical_facts(struct)
    assert text == ('{"a":[1.5,"中文",null,true,{"y":' + str(int(1e300)) + ',"z":0}],"b":2,"c":"\\"q\\"\\n"}')
    assert json.loads(text)["a"][4]["y"] == int(1e300)


def test_nan_and_infinities_survive_the_round_trip():
    struct = struct_of({"x": math.nan, "y": math.inf, "z": -math.inf})
    back = facts_struct(canonical_facts(struct))
    assert math.isnan(back["x"]) and back["y"] == math.inf and back["z"] == -math.inf
    assert canonical_facts(back) == canonical_facts(struct)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(float) | st.text(max_size=12)
    | st.sampled_from(["0.5", "12.30", "1e3", "中", "", " 1 "]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


@st.composite
def requests(draw, library: Library):
    pack_id, version, facts = draw(st.sampled_from(library.cases))
    facts = dict(facts)
    for name in draw(st.lists(st.sampled_from(sorted(facts) or ["x"]), max_size=3, unique=True)):
        action = draw(st.sampled_from(["replace", "drop", "number"]))
        if action == "drop":
            facts.pop(name, None)
        elif action == "number":
            facts[name] = draw(st.floats(min_value=-1e6, max_value=1e6) | st.integers(-10**6, 10**6).map(float))
        else:
            facts[name] = draw(json_values)
    if draw(st.booleans()):
        facts[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return pb.EvaluateRequest(pack_id=pack_id, version=version, facts=struct_of(facts),
                              language=draw(st.sampled_from([0, 1, 2])),
                              ignore_unknown_facts=draw(st.booleans()))


def test_replayed_facts_give_byte_identical_replies(library: Library):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(requests(library))
    def check(request: pb.EvaluateRequest):
        canonical = canonical_facts(request.facts)
        replayed = pb.EvaluateRequest()
        replayed.CopyFrom(request)
        replayed.facts.CopyFrom(json_format.ParseDict(json.loads(canonical), struct_pb2.Struct()))
        assert canonical_facts(replayed.facts) == canonical
        assert reply_of(replayed, library) == reply_of(request, library)

    check()


def test_every_bundled_case_replays_byte_identically_and_scores(library: Library):
    scored = 0
    for pack_id, version, facts in library.cases:
        request = pb.EvaluateRequest(pack_id=pack_id, version=version, facts=struct_of(facts))
        replayed = pb.EvaluateRequest(pack_id=pack_id, version=version,
                                      facts=facts_struct(canonical_facts(request.facts)))
        reply = reply_of(request, library)
        assert reply_of(replayed, library) == reply
        scored += not reply.startswith(b"status:")
    assert scored >= len(PACK_DIRS)  # the golden cases mostly score


# --- rows ----------------------------------------------------------------------------

def test_an_answered_decision_row(library: Library):
    request = case_request(library, language=pb.LANGUAGE_EN)
    decision = decided(library, request)
    table, row = RowMaker().table_row(decision)
    assert table is decisions
    assert set(row) == {column.name for column in decisions.columns}
    compiled = library.get("quality-district-funding", "1.0.0")
    assert row["decision_id"] == decision.decision_id and len(row["decision_id"]) == 36
    assert row["method"] == "Evaluate" and row["caller"] == decision.caller and row["item_key"] is None
    assert row["served_by"] == served_by()
    assert row["pack_id"] == "quality-district-funding" and row["requested_version"] == "1.0.0"
    assert row["version"] == "1.0.0" and row["pack_digest"] == compiled.pack.digest
    assert row["language"] == "en" and row["ignore_unknown_facts"] is False
    assert row["facts"] == canonical_facts(request.facts)
    assert row["facts_digest"] == hashlib.sha256(row["facts"].encode()).hexdigest()
    assert row["outcome"] == "OK"
    evaluation = pb.Evaluation.FromString(row["reply"])
    assert row["reply"] == evaluation_bytes(decision.evaluation) and not evaluation.decision_id
    assert row["reply_digest"] == hashlib.sha256(row["reply"]).hexdigest()
    assert (row["score"], row["grade"]) == (evaluation.score, evaluation.grade) and row["grade"]
    assert row["duration_ms"] == round(decision.duration_s * 1000, 3) and row["duration_ms"] > 0
    assert row["at"][:4].isdigit() and row["at"][10] == "T" and row["at"].endswith("Z") and len(row["at"]) == 24


def test_a_refused_decision_records_its_status(library: Library):
    request = pb.EvaluateRequest(pack_id="quality-district-funding", version="9.9.9", facts=struct_of({"a": 1}))
    row = RowMaker().row(decided(library, request, "EvaluateBatch", item_key="row-7"))
    assert row["outcome"] == "NOT_FOUND" and row["score"] is None and row["grade"] is None
    assert row["version"] == "" and row["pack_digest"] == ""
    status = status_pb2.Status.FromString(row["reply"])
    assert status.code == grpc.StatusCode.NOT_FOUND.value[0] and "9.9.9" in status.message
    assert row["reply_digest"] == hashlib.sha256(row["reply"]).hexdigest()
    assert row["item_key"] == "row-7" and row["method"] == "EvaluateBatch" and row["facts"] == '{"a":1}'


def test_redaction_keeps_the_digest_only(library: Library):
    decision = decided(library, case_request(library))
    full, redacted = RowMaker().row(decision), RowMaker(redact_facts=True).row(decision)
    assert redacted["facts"] is None and redacted["facts_digest"] == full["facts_digest"]
    assert {k: v for k, v in redacted.items() if k != "facts"} == {k: v for k, v in full.items() if k != "facts"}


def test_caller_text_is_cut_to_its_column_and_never_carries_a_nul(library: Library):
    request = pb.EvaluateRequest(pack_id="p\x00" + "x" * 500, version="v" * 300, facts=struct_of({}))
    row = RowMaker().row(decided(library, request, "EvaluateBatch", item_key="k\x00" * 150))
    assert row["pack_id"] == "p\ufffd" + "x" * 198 and row["requested_version"] == "v" * 100
    assert row["item_key"] == "k\ufffd" * 100 and row["outcome"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("value, name", [(0, ""), (1, "zh"), (2, "en"), (77, "77"), (-2 ** 31, "?")])
def test_languages_are_recorded_as_sent(value: int, name: str):
    assert language_name(value) == name
    if name != "?":
        assert language_value(name) == value


def test_times_are_rfc3339_utc_milliseconds():
    maker = RowMaker()
    assert maker.at(1_764_780_459_007) == "2025-12-03T16:47:39.007Z"
    assert maker.at(1_764_780_460_120) == "2025-12-03T16:47:40.120Z"
