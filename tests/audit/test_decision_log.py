"""The DecisionLog sink: decisions queued on the caller's side, rows written by the writer thread,
on SQLite and PostgreSQL, and kept through a PostgreSQL outage."""

from __future__ import annotations

import time

import sqlalchemy as sa
from structlog.testing import capture_logs

from jixiao.audit.log import DecisionLog
from jixiao.audit.records import RowMaker
from jixiao.database.connection import create_engine
from jixiao.database.migrate import upgrade
from jixiao.database.schema import decisions
from jixiao.settings import AuditSettings

from .library import case_request, decided


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {row["decision_id"]: dict(row) for row in conn.execute(sa.select(decisions)).mappings()}


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_decisions_are_written_as_their_rows(database, library):
    missing = case_request(library)
    missing.version = "9.9.9"
    made = [decided(library, case_request(library, version=version)) for version in ("1.0.0", "1.1.0")]
    made.append(decided(library, missing))
    log = DecisionLog(database, AuditSettings(flush_interval_s=0.05)).start()
    for decision in made:
        log.decided(decision)
    log.close()
    written = rows(database)
    maker = RowMaker(served=log.rows.served_by)
    assert written == {d.decision_id: maker.row(d) for d in made}
    assert [written[d.decision_id]["outcome"] for d in made] == ["OK", "OK", "NOT_FOUND"]


def test_redacted_facts_are_not_written(database, library):
    decision = decided(library, case_request(library))
    log = DecisionLog(database, AuditSettings(redact_facts=True, flush_interval_s=60)).start()
    log.decided(decision)
    assert log.queue_depth() == 1
    log.close()
    (row,) = rows(database).values()
    assert row["facts"] is None and len(row["facts_digest"]) == 64


def test_a_postgresql_outage_keeps_the_decisions_until_it_is_back(make_postgres_server, library):
    server = make_postgres_server()
    url = server.create_database()
    engine = create_engine(url)
    upgrade(engine)
    log = DecisionLog(engine, AuditSettings(flush_interval_s=0.05)).start()
    before = [decided(library, case_request(library)) for _ in range(3)]
    during = [decided(library, case_request(library)) for _ in range(3)]
    with capture_logs() as logs:
        for decision in before:
            log.decided(decision)
        wait_for(lambda: log.writer.written == 3)
        server.stop()
        for decision in during:
            log.decided(decision)
        wait_for(lambda: any(entry["event"].startswith("database unavailable")
                             and entry.get("task") == "decision log writer" for entry in logs))
        server.start()
        wait_for(lambda: log.writer.written == 6, timeout=60)
        log.close()
    assert set(rows(engine)) == {d.decision_id for d in before + during}
    outage_lines = [entry for entry in logs if entry.get("task") == "decision log writer"]
    assert [entry["event"] for entry in outage_lines] == ["database unavailable; retrying with backoff",
                                                          "database back"]
    assert sa.make_url(url).password not in str(logs)
    engine.dispose()
