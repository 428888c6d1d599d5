"""Replaying recorded decisions: every outcome, and the differences named node by node."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
from google.protobuf import json_format, struct_pb2

from jixiao.audit import replay as replays
from jixiao.audit.queries import get_row
from jixiao.catalog import RegistryCatalog
from jixiao.v1 import audit_pb2
from jixiao.v1 import evaluation_pb2 as pb

from .decision_rows import (BASE_MS, PACK_ID, answered_row, clear, facts_2019, insert, registry_with, sha, struct,
                            update)


@pytest.fixture
def record(registry, catalog):
    """record(request, **row fields) → the stored row of `request` answered now."""
    clear(registry.engine)

    def made(request: pb.EvaluateRequest, **fields):
        row = answered_row(request, catalog.get, **fields)
        insert(registry.engine, [row])
        return get_row(registry.engine, row["decision_id"])

    return made


def replayed(registry, catalog, row) -> replays.Replayed:
    """`row` (read again from the database) replayed as the server does."""
    stored = get_row(registry.engine, row.decision_id)
    record = registry.record_by_digest(stored.pack_digest) if stored.pack_digest else None
    compiled = catalog.get(record.pack_id, record.version) if record else None
    return replays.replay(stored, compiled, catalog.get)


def request(facts: dict | None = None, **fields) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(pack_id=fields.pop("pack_id", PACK_ID), facts=struct(facts_2019() if facts is None else facts), **fields)


# --- IDENTICAL ------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [
    {"version": "1.0.0"},
    {},  # the active version: replayed under the recorded digest, whatever is active now
    {"version": "1.1.1", "language": pb.LANGUAGE_EN},
    {"version": "1.0.0", "language": pb.LANGUAGE_ZH, "ignore_unknown_facts": True},
])
def test_an_answered_decision_replays_byte_identical(registry, catalog, record, fields) -> None:
    facts = facts_2019()
    if fields.get("ignore_unknown_facts"):
        facts["notes"] = {"from": "the evaluator", "count": 3.5}
    row = record(request(facts, **fields))
    assert row.outcome == "OK" and row.pack_digest

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.IDENTICAL, result
    assert result.replayed_digest == result.recorded_digest == row.reply_digest
    assert result.differences == () and result.detail == ""


@pytest.mark.parametrize(("change", "outcome"), [
    (lambda facts: facts["output"].update(trainings_held="eleven"), "INVALID_ARGUMENT"),
    (lambda facts: facts.update(unknown_fact=1), "INVALID_ARGUMENT"),
    (lambda facts: facts.clear(), "INVALID_ARGUMENT"),
])
def test_a_refused_decision_replays_byte_identical(registry, catalog, record, change, outcome) -> None:
    facts = facts_2019()
    change(facts)
    row = record(request(facts, version="1.0.0"))
    assert row.outcome == outcome

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.IDENTICAL, result


@pytest.mark.parametrize(("fields", "outcome"), [
    ({"pack_id": "Not A Pack"}, "INVALID_ARGUMENT"),  # refused before any lookup: no digest recorded
    ({"pack_id": "no-such-pack"}, "NOT_FOUND"),  # the lookup failed: asked of the catalog again
    ({"version": "9.9.9"}, "NOT_FOUND"),
    ({"language": 7}, "INVALID_ARGUMENT"),  # a Language the service does not know: recorded as its number
])
def test_a_decision_refused_without_a_pack_version_replays_byte_identical(registry, catalog, record, fields,
                                                                         outcome) -> None:
    row = record(request(**fields))
    assert (row.outcome, row.pack_digest) == (outcome, "")

    assert replayed(registry, catalog, row).outcome == replays.IDENTICAL


# --- FACTS_ALTERED --------------------------------------------------------------------

def test_edited_facts_are_named_with_what_they_change_node_by_node(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    facts = json.loads(row.facts)
    assert facts["output"]["trainings_required"] != 4
    facts["output"]["trainings_required"] = 4
    update(registry.engine, row.decision_id, facts=json.dumps(facts, sort_keys=True, separators=(",", ":"),
                                                              ensure_ascii=False))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.FACTS_ALTERED
    assert "no longer match their digest" in result.detail
    assert result.replayed_digest != result.recorded_digest
    changed = {(d.node_id, d.field) for d in result.differences}
    leaf = next(d for d in result.differences if d.field == "score" and not d.node_id.startswith("("))
    assert leaf.recorded != leaf.replayed
    assert ("(total)", "score") in changed
    # The leaf first, its parents after it, the total after the tree.
    order = [d.node_id for d in result.differences]
    assert order.index(leaf.node_id) < order.index("(total)")


def test_facts_edited_without_changing_the_reply_are_still_named(registry, catalog, record) -> None:
    facts = facts_2019()
    row = record(request(facts, version="1.0.0"))
    edited = json.loads(row.facts)
    edited["project"] = dict(edited.get("project", {}), name="another name")
    update(registry.engine, row.decision_id, facts=json.dumps(edited, sort_keys=True, separators=(",", ":")))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.FACTS_ALTERED
    assert "still give the recorded reply" in result.detail


@pytest.mark.parametrize("edit", [lambda facts: facts[:-1], lambda facts: "[]",
                                  lambda facts: facts[:-1] + ',"huge":1' + "0" * 400 + "}"])
def test_facts_edited_into_something_no_request_holds_are_named(registry, catalog, record, edit) -> None:
    row = record(request(version="1.0.0"))
    update(registry.engine, row.decision_id, facts=edit(row.facts))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.FACTS_ALTERED
    assert [(d.node_id, d.field) for d in result.differences] == [("(facts)", "json")]


# --- DIFFERENT ------------------------------------------------------------------------

def test_an_edited_reply_is_different_and_its_differences_named(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    evaluation = pb.Evaluation.FromString(row.reply)
    evaluation.grade = "优"
    leaf = evaluation.indicators[0].children[0].children[0] if evaluation.indicators[0].children[0].children \
        else evaluation.indicators[0].children[0]
    leaf.score, leaf.rationale = "0", "edited"
    edited = evaluation.SerializeToString()
    # Edited whole (its grade column and digest with it): only the replay can tell.
    update(registry.engine, row.decision_id, reply=edited, reply_digest=sha(edited), grade="优")

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.DIFFERENT, result
    assert result.replayed_digest == row.reply_digest != result.recorded_digest
    assert {(d.node_id, d.field, d.recorded) for d in result.differences} >= {
        (leaf.id, "score", "0"), (leaf.id, "rationale", "edited"), ("(grade)", "grade", "优")}


def test_a_reply_edited_but_not_its_digest_is_named(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    evaluation = pb.Evaluation.FromString(row.reply)
    evaluation.score = "99"
    update(registry.engine, row.decision_id, reply=evaluation.SerializeToString())

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.RECORD_ALTERED
    assert "reply_digest" in result.detail and "the reply given again differs in 1 place" in result.detail
    assert [(d.node_id, d.field, d.recorded, d.replayed) for d in result.differences] == [
        ("(record)", "score", row.score, "99"),  # the column disagrees with the edited reply
        ("(record)", "reply_digest", row.reply_digest, sha(evaluation.SerializeToString())),
        ("(total)", "score", "99", row.score)]


def test_a_recorded_refusal_that_now_succeeds_is_different_in_its_status(registry, catalog, record) -> None:
    facts = facts_2019()
    facts["output"]["trainings_held"] = "eleven"
    row = record(request(facts, version="1.0.0"))
    update(registry.engine, row.decision_id, facts=json.dumps(
        json.loads(canonical_of(facts_2019())), sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    update(registry.engine, row.decision_id, facts_digest=sha(get_row(registry.engine, row.decision_id)
                                                                 .facts.encode()))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.DIFFERENT
    fields = {d.field: (d.recorded, d.replayed) for d in result.differences if d.node_id == "(status)"}
    assert fields["code"] == ("INVALID_ARGUMENT", "OK")
    assert "trainings_held" in fields["message"][0] + fields["details"][0]


def canonical_of(facts: dict) -> str:
    from .decision_rows import canonical
    return canonical(struct(facts))


# --- RECORD_ALTERED -------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value"), [
    ("score", "99.99"), ("grade", "优"), ("outcome", "INVALID_ARGUMENT"), ("version", "1.1.1"),
    ("pack_id", "another-pack"), ("reply_digest", "e" * 64), ("requested_version", "1.1.1"), ("language", "en"),
])
def test_each_column_edited_against_its_reply_is_named(registry, catalog, record, column, value) -> None:
    row = record(request(version="1.0.0", language=pb.LANGUAGE_ZH))
    assert getattr(row, column) != value
    update(registry.engine, row.decision_id, **{column: value})

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.RECORD_ALTERED, result
    said = {"score": row.score, "grade": row.grade, "outcome": "OK", "version": "1.0.0", "pack_id": PACK_ID,
            "reply_digest": row.reply_digest, "requested_version": "1.0.0", "language": "zh"}[column]
    assert ("(record)", column, value, said) in [(d.node_id, d.field, d.recorded, d.replayed)
                                                for d in result.differences]
    assert column in result.detail and "the record was altered" in result.detail
    if column not in ("language",):  # the request's language is replayed: it changes the reply
        assert [d.field for d in result.differences] == [column]


def test_a_pack_digest_edited_to_another_known_version_is_named(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    newer = record(request(version="1.1.1"))
    assert registry.record_by_digest(newer.pack_digest).version == "1.1.1"
    update(registry.engine, row.decision_id, pack_digest=newer.pack_digest)

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.RECORD_ALTERED
    assert ("(record)", "pack_digest", newer.pack_digest, row.pack_digest) in [
        (d.node_id, d.field, d.recorded, d.replayed) for d in result.differences]
    assert any(d.node_id == "(pack)" for d in result.differences)  # replayed with 1.1.1: the reply differs too


@pytest.mark.parametrize("redact", [False, True])
def test_columns_are_checked_when_the_decision_cannot_be_replayed(registry, catalog, record, redact) -> None:
    row = record(request(version="1.0.0"), redact=redact)
    update(registry.engine, row.decision_id, score="99.99", **({} if redact else {"pack_digest": "f" * 64}))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.RECORD_ALTERED
    assert {d.field for d in result.differences} == ({"score"} if redact else {"score", "pack_digest"})
    assert "not replayed" in result.detail and result.replayed_digest == ""


@pytest.mark.parametrize(("column", "value"), [("score", "0"), ("grade", "差"), ("outcome", "OK"),
                                               ("reply_digest", "e" * 64)])
def test_a_refused_decision_s_columns_are_checked_too(registry, catalog, record, column, value) -> None:
    facts = facts_2019()
    facts["output"]["trainings_held"] = "eleven"
    row = record(request(facts, version="1.0.0"))
    assert (row.outcome, row.score, row.grade) == ("INVALID_ARGUMENT", None, None)
    update(registry.engine, row.decision_id, **{column: value})

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.RECORD_ALTERED
    said = {"score": "(none)", "grade": "(none)", "outcome": "INVALID_ARGUMENT", "reply_digest": row.reply_digest}
    assert [(d.node_id, d.field, d.recorded, d.replayed) for d in result.differences] == [
        ("(record)", column, value, said[column])]


def test_facts_altered_comes_first_and_names_the_columns_too(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    update(registry.engine, row.decision_id, facts=row.facts.replace("}", ',"x":1}', 1), score="99.99")

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.FACTS_ALTERED
    assert ("(record)", "score") in [(d.node_id, d.field) for d in result.differences]


# --- FACTS_REDACTED, PACK_MISSING -----------------------------------------------------

def test_a_redacted_decision_cannot_be_replayed(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"), redact=True)

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.FACTS_REDACTED
    assert result.replayed_digest == "" and "redacted" in result.detail


def test_a_decision_whose_pack_digest_is_unknown_is_pack_missing(registry, catalog, record) -> None:
    row = record(request(version="1.0.0"))
    evaluation = pb.Evaluation.FromString(row.reply)
    evaluation.digest = "f" * 64  # a version this registry does not hold, recorded whole
    reply = evaluation.SerializeToString()
    update(registry.engine, row.decision_id, pack_digest="f" * 64, reply=reply, reply_digest=sha(reply))

    result = replayed(registry, catalog, row)

    assert result.outcome == replays.PACK_MISSING, result
    assert "f" * 64 in result.detail and result.replayed_digest == ""


def test_a_row_without_a_digest_and_no_catalog_is_pack_missing(registry, catalog, record) -> None:
    row = record(request(pack_id="no-such-pack"))

    assert replays.replay(row, None, None).outcome == replays.PACK_MISSING


# --- the pieces -----------------------------------------------------------------------

def test_the_request_is_rebuilt_from_the_row() -> None:
    facts = {"b": {"c": [1.5, "x", True, None]}, "a": 3.0}
    row = SimpleNamespace(facts=json.dumps(facts), pack_id=PACK_ID, requested_version="1.0.0", language="en",
                          ignore_unknown_facts=True)
    expected = struct_pb2.Struct()
    expected.update(facts)
    assert replays.request_of(row) == pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=expected,
                                                         language=pb.LANGUAGE_EN, ignore_unknown_facts=True)


@pytest.mark.parametrize("text", [
    '{"a":[1,2.5,{"b":null,"c":[[],{}]}],"d":true,"e":"中","f":-0.0,"g":1e308,"h":12345678901234567890}',
    '{"i":NaN,"j":-Infinity,"k":Infinity}', "{}", '{"x":[]}', '{"n":{"m":{"l":[false,"",0]}}}',
])
def test_facts_are_read_as_json_format_reads_them(text) -> None:
    assert replays.facts_struct(text).SerializeToString() == json_format.ParseDict(
        json.loads(text), struct_pb2.Struct()).SerializeToString()


def test_the_2019_facts_are_read_as_json_format_reads_them() -> None:
    text = canonical_of(facts_2019())
    assert replays.facts_struct(text) == json_format.ParseDict(json.loads(text), struct_pb2.Struct())


@pytest.mark.parametrize(("stored", "value"), [("", 0), ("zh", 1), ("en", 2), ("LANGUAGE_EN", 2), ("7", 7)])
def test_the_recorded_language(stored, value) -> None:
    assert replays.language_enum(stored) == value


def test_evaluations_are_compared_node_by_node(registry, catalog) -> None:
    recorded = pb.Evaluation.FromString(replays.answer(request(version="1.0.0"), catalog.get)[1])
    replayed_now = copy.deepcopy(recorded)
    node = replayed_now.indicators[1]
    node.children[0].deductions.add(rule_id="x#y", points="1", reason="added")
    del replayed_now.indicators[0].children[-1]
    replayed_now.findings.add(id="extra", text="a finding")

    found = replays.evaluation_differences(recorded, replayed_now)

    removed = recorded.indicators[0].children[-1].id
    assert (node.children[0].id, "deductions") in {(d.node_id, d.field) for d in found}
    assert (removed, "present", "yes", "no") in {(d.node_id, d.field, d.recorded, d.replayed) for d in found}
    assert (recorded.indicators[0].id, "children") in {(d.node_id, d.field) for d in found}
    index = len(recorded.findings)
    assert ("(findings)", f"findings[{index}]", "(none)") in {(d.node_id, d.field, d.recorded) for d in found}
    assert replays.evaluation_differences(recorded, copy.deepcopy(recorded)) == []


def test_a_replay_result_as_its_message() -> None:
    result = replays.Replayed("id", replays.DIFFERENT, "a" * 64, "b" * 64,
                              (replays.Difference("n", "score", "1", "2"),), "why")
    assert result.message() == audit_pb2.ReplayDecisionsResponse(
        decision_id="id", outcome=audit_pb2.REPLAY_OUTCOME_DIFFERENT, recorded_reply_digest="a" * 64,
        replayed_reply_digest="b" * 64, detail="why",
        differences=[audit_pb2.ReplayDifference(node_id="n", field="score", recorded="1", replayed="2")])


def test_replay_and_pages_on_postgresql(postgres_url) -> None:
    """The same rows on PostgreSQL: bytea replies, keyset pages in its collation, every outcome kept."""
    from jixiao.audit import queries

    registry = registry_with(postgres_url)
    catalog = RegistryCatalog(registry)
    try:
        rows = []
        for index in range(12):
            facts = facts_2019()
            facts["output"]["trainings_held"] = index % 3 if index % 4 else "none"
            rows.append(answered_row(request(facts, version=("1.0.0", "1.1.1")[index % 2]), catalog.get,
                                     at_ms=BASE_MS + index))
        insert(registry.engine, rows)
        update(registry.engine, rows[5]["decision_id"], facts=rows[5]["facts"].replace('"trainings_required":1',
                                                                                      '"trainings_required":3'))
        where = queries.criteria(audit_pb2.DecisionFilter(pack_id=PACK_ID))
        stored = [row for chunk in queries.oldest_first(registry.engine, where, size=5) for row in chunk]
        outcomes = [replays.replay(row, catalog.get(PACK_ID, row.version), catalog.get).outcome for row in stored]
        pages, after = [], None
        while True:
            page = queries.list_page(registry.engine, where, 5, after)
            pages += [row.decision_id for row in page.rows]
            if not page.next_token:
                break
            after = queries.token_position(page.next_token, where)
    finally:
        catalog.close()
        registry.close()
    assert [row.decision_id for row in stored] == [row["decision_id"] for row in rows]
    assert pages == [row["decision_id"] for row in reversed(rows)]
    assert outcomes == [replays.FACTS_ALTERED if index == 5 else replays.IDENTICAL for index in range(12)]
