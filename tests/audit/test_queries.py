"""The decision log's queries: filters checked field by field, times, pages and their tokens."""

from __future__ import annotations

import pytest

from jixiao.audit import queries
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.registry.store import Registry
from jixiao.v1 import audit_pb2

from .decision_rows import BASE_MS, clear, insert, plain_row

Filter = audit_pb2.DecisionFilter


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    registry = Registry.open_file(tmp_path_factory.mktemp("queries") / "registry.sqlite3")
    yield registry.engine
    registry.close()


@pytest.fixture
def rows(engine) -> list[dict]:
    """30 decisions a second apart: every third by ops-bob, every fifth refused, the last ten under 1.0.0."""
    clear(engine)
    made = []
    for index in range(30):
        fields = {}
        if index % 3 == 0:
            fields["caller"] = "ops-bob"
        if index % 5 == 0:
            fields.update(outcome="INVALID_ARGUMENT", score=None, grade=None)
        if index >= 20:
            fields.update(version="1.0.0", grade="中" if index % 5 else None, method="EvaluateBatch")
        made.append(plain_row(index, **fields))
    insert(engine, made)
    return made


def ids(found) -> list[str]:
    return [row.decision_id for row in found]


def every_page(engine, where: queries.Criteria, size: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = queries.list_page(engine, where, size, after)
        pages.append(ids(page.rows))
        if not page.next_token:
            return pages
        after = queries.token_position(page.next_token, where)


# --- filters --------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"pack_id": "Quality"}, "filter.pack_id", "not a pack id"),
    ({"version": "1.0"}, "filter.version", "semantic version"),
    ({"version": "1.0.0\n"}, "filter.version", "semantic version"),
    ({"caller": "ops\x00bob"}, "filter.caller", "control characters"),
    ({"caller": "x" * 201}, "filter.caller", "more than 200"),
    ({"grade": "中\n"}, "filter.grade", "control characters"),
    ({"outcome": "ok"}, "filter.outcome", "not a status code name"),
    ({"outcome": "INVALID_ARGUMENT "}, "filter.outcome", "not a status code name"),
    ({"method": "evaluate"}, "filter.method", "Evaluate, EvaluateBatch, RenderReport"),
    ({"since": "2026-12-03"}, "filter.since", "not an RFC 3339 time"),
    ({"since": "2026-12-03T12:00:00Z\n"}, "filter.since", "not an RFC 3339 time"),
    ({"until": "2026-12-03T12:00:00"}, "filter.until", "not an RFC 3339 time"),
    ({"until": "2026-02-30T12:00:00Z"}, "filter.until", "not a valid time"),
    ({"since": "2026-12-03T12:00:00Z", "until": "2026-12-03T12:00:00Z"}, "filter.until", "later than since"),
])
def test_a_bad_filter_field_is_refused_naming_the_field(fields, field, says) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        queries.criteria(Filter(**fields))
    assert refused.value.field == field
    assert says in refused.value.problem


def test_a_filter_in_stored_terms() -> None:
    where = queries.criteria(Filter(pack_id="quality-district-funding", version="1.1.1", caller="peer:ipv4:1.2.3.4:5",
                                    since="2026-12-03T20:00:00+08:00", until="2026-12-03T12:30:00.5Z", grade="中",
                                    outcome="NOT_FOUND", method="RenderReport"))
    assert where == queries.Criteria("quality-district-funding", "1.1.1", "peer:ipv4:1.2.3.4:5",
                                     "2026-12-03T12:00:00.000Z", "2026-12-03T12:30:00.500Z", "中", "NOT_FOUND",
                                     "RenderReport")
    assert queries.criteria(Filter()) == queries.Criteria()


@pytest.mark.parametrize(("text", "stored"), [
    ("2026-12-03T12:00:00Z", "2026-12-03T12:00:00.000Z"),
    ("2026-12-03t12:00:00z", "2026-12-03T12:00:00.000Z"),
    ("2026-12-03 12:00:00-01:30", "2026-12-03T13:30:00.000Z"),
    ("2026-12-03T12:00:00.1Z", "2026-12-03T12:00:00.100Z"),
    # Stored times have milliseconds: a finer instant is rounded up, so at >= since and at < until hold alike.
    ("2026-12-03T12:00:00.123000001Z", "2026-12-03T12:00:00.124Z"),
    ("2026-12-31T23:59:59.9999Z", "2027-01-01T00:00:00.000Z"),
])
def test_times_are_stored_as_utc_milliseconds(text, stored) -> None:
    assert queries.stored_time(text, "filter.since") == stored


def test_filters_select_the_matching_decisions(engine, rows) -> None:
    def matching(**fields) -> set[str]:
        where = queries.criteria(Filter(**fields))
        return {row.decision_id for chunk in queries.oldest_first(engine, where) for row in chunk}

    def expected(keep) -> set[str]:
        return {row["decision_id"] for row in rows if keep(row)}

    assert matching() == expected(lambda row: True)
    assert matching(caller="ops-bob") == expected(lambda row: row["caller"] == "ops-bob")
    assert matching(outcome="INVALID_ARGUMENT") == expected(lambda row: row["outcome"] == "INVALID_ARGUMENT")
    assert matching(version="1.0.0") == expected(lambda row: row["version"] == "1.0.0")
    assert matching(grade="中", method="EvaluateBatch") == expected(lambda row: row["grade"] == "中")
    assert matching(pack_id="project-expenditure-framework") == set()
    since, until = queries.format_ms(BASE_MS + 5000), queries.format_ms(BASE_MS + 9000)
    assert matching(since=since, until=until) == expected(lambda row: since <= row["at"] < until)
    assert len(matching(since=since, until=until)) == 4
    assert matching(caller="ops-bob", outcome="OK", version="1.1.1") == expected(
        lambda row: row["caller"] == "ops-bob" and row["outcome"] == "OK" and row["version"] == "1.1.1")


# --- pages ----------------------------------------------------------------------------

def test_pages_go_newest_first_and_together_are_the_whole(engine, rows) -> None:
    newest_first = [row["decision_id"] for row in reversed(rows)]
    for size in (1, 7, 10, 29, 30, 100):
        pages = every_page(engine, queries.Criteria(), size)
        assert [decision for page in pages for decision in page] == newest_first, size
        assert all(len(page) == size for page in pages[:-1]) and 0 < len(pages[-1]) <= size
    where = queries.criteria(Filter(caller="ops-bob"))
    assert [d for page in every_page(engine, where, 3) for d in page] == [
        row["decision_id"] for row in reversed(rows) if row["caller"] == "ops-bob"]


def test_the_last_page_has_no_token_and_an_empty_log_one_empty_page(engine, rows) -> None:
    assert queries.list_page(engine, queries.Criteria(), 30, None).next_token == ""
    assert queries.list_page(engine, queries.Criteria(), 29, None).next_token != ""
    clear(engine)
    page = queries.list_page(engine, queries.Criteria(), 10, None)
    assert (page.rows, page.next_token) == ([], "")


def test_streams_go_oldest_first_in_chunks(engine, rows) -> None:
    chunks = list(queries.oldest_first(engine, queries.Criteria(), size=8))
    assert [len(chunk) for chunk in chunks] == [8, 8, 8, 6]
    assert [row.decision_id for chunk in chunks for row in chunk] == [row["decision_id"] for row in rows]


@pytest.mark.parametrize(("requested", "size"), [(0, 100), (1, 1), (1000, 1000)])
def test_page_sizes(requested, size) -> None:
    assert queries.page_size(requested) == size


@pytest.mark.parametrize("requested", [-1, 1001])
def test_a_page_size_out_of_range_is_refused(requested) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        queries.page_size(requested)
    assert refused.value.field == "page_size"


def test_a_page_token_is_opaque_and_good_for_its_own_filter_only() -> None:
    decision_id = "01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b"
    where = queries.criteria(Filter(caller="ops-bob"))
    token = queries.page_token(decision_id, where)
    assert decision_id not in token
    assert queries.token_position(token, where) == decision_id
    assert queries.token_position("", where) is None
    other = queries.criteria(Filter(caller="ops-alice"))
    forged = queries.page_token("01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b' OR 1=1 --", where)
    for bad, used_with in ((token, other), (token, queries.Criteria()), ("x" * 101, where), ("not a token!", where),
                           (token[:-3], where), (forged, where), ("AAAA", where)):
        with pytest.raises(InvalidIdentifier) as refused:
            queries.token_position(bad, used_with)
        assert refused.value.field == "page_token"
        assert "not a page token" in refused.value.problem


@pytest.mark.parametrize("text", ["", "01936F2E-8A4C-7D3E-9B1A-2F6C0D4E5A7B", "01936f2e8a4c7d3e9b1a2f6c0d4e5a7b",
                                  "01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b\n", "../etc"])
def test_a_decision_id_is_checked_whole(text) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        queries.check_decision_id(text)
    assert refused.value.field == "decision_id"


def test_a_decision_row_is_found_by_its_id(engine, rows) -> None:
    assert queries.get_row(engine, rows[3]["decision_id"]).request_id == "r3"
    assert queries.get_row(engine, "01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b") is None



def test_a_list_reads_whether_facts_were_kept_not_the_facts(engine, rows) -> None:
    clear(engine)
    insert(engine, [plain_row(0), plain_row(1, facts=None)])
    page = queries.list_page(engine, queries.Criteria(), 10, None)
    assert [(row.request_id, bool(row.facts_redacted)) for row in page.rows] == [("r1", True), ("r0", False)]
    assert "reply" not in page.rows[0]._fields and "facts" not in page.rows[0]._fields
