"""Decision rows edited in the SQLite file by hand into what the log never writes: text that is
not UTF-8, a duration that is no number, facts nested past any parser's depth. Each is
listed, shown, exported and replayed (reported altered) without failing the read of the
other rows, which an INTERNAL for the whole page or stream did."""

from __future__ import annotations

import sqlite3

import pytest

from jixiao.api.audit import summary, whole
from jixiao.audit import queries
from jixiao.audit import replay as replays
from jixiao.catalog import RegistryCatalog
from jixiao.v1 import audit_pb2
from jixiao.v1 import evaluation_pb2 as pb

from .decision_rows import PACK_ID, answered_row, clear, facts_2019, insert, registry_with, struct


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory):
    """(registry, catalog, path of its SQLite file)."""
    path = tmp_path_factory.mktemp("hostile-records") / "registry.sqlite3"
    registry = registry_with(path)
    catalog = RegistryCatalog(registry)
    yield registry, catalog, path
    catalog.close()
    registry.close()


def edited(stored, **columns) -> str:
    """A decision answered and recorded, then its `columns` set by hand in the file; its id."""
    registry, catalog, path = stored
    clear(registry.engine)
    row = answered_row(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(facts_2019())), catalog.get)
    insert(registry.engine, [row])
    with sqlite3.connect(path) as by_hand:
        if not columns:
            return row["decision_id"]
        assignments = ", ".join(f"{name} = ?" for name in columns)
        by_hand.execute(f"UPDATE decisions SET {assignments} WHERE decision_id = ?",
                        [*columns.values(), row["decision_id"]])
    return row["decision_id"]


@pytest.mark.parametrize("columns", [
    {"facts": b'{"project":"\xff\xfe"}'},
    {"caller": b"\xc3("},
    {"grade": b"\xff"},
])
def test_text_that_is_not_utf8_is_read_with_replacement_characters(stored, columns) -> None:
    registry, catalog, _ = stored
    decision_id = edited(stored, **columns)
    page = queries.list_page(registry.engine, queries.Criteria(), 10, None)
    assert [summary(row).decision_id for row in page.rows] == [decision_id]
    (row,) = queries.chunk_after(registry.engine, queries.Criteria(), None)
    shown = whole(row)
    assert "\ufffd" in shown.facts_json + shown.summary.caller + shown.summary.grade
    if "facts" in columns:
        assert replays.replay(row, catalog.get(PACK_ID, "1.1.1"), catalog.get).outcome == \
            audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED


def test_a_duration_edited_into_text_is_listed_without_it(stored) -> None:
    registry, _, _ = stored
    decision_id = edited(stored, duration_ms="abc")
    (row,) = queries.list_page(registry.engine, queries.Criteria(), 10, None).rows
    assert (summary(row).decision_id, summary(row).duration_ms) == (decision_id, "")


def test_facts_nested_past_the_parsers_depth_replay_as_altered(stored) -> None:
    registry, catalog, _ = stored
    edited(stored, facts="[" * 100_000 + "]" * 100_000)
    (row,) = queries.chunk_after(registry.engine, queries.Criteria(), None)
    result = replays.replay(row, catalog.get(PACK_ID, "1.1.1"), catalog.get)
    assert result.outcome == audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED


def test_text_stored_as_text_that_is_not_utf8_is_read_with_replacement_characters(stored) -> None:
    registry, _, path = stored
    decision_id = edited(stored)
    with sqlite3.connect(path) as by_hand:  # TEXT (not a BLOB) holding bytes that are not UTF-8
        by_hand.execute("UPDATE decisions SET caller = CAST(x'61ff62' AS TEXT) WHERE decision_id = ?", [decision_id])
        assert by_hand.execute("SELECT typeof(caller) FROM decisions").fetchone() == ("text",)
    (row,) = queries.list_page(registry.engine, queries.Criteria(), 10, None).rows
    assert summary(row).caller == "a\ufffdb"
