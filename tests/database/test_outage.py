"""database/outage.py: which errors are outages, what is logged of them, and the backoff."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from structlog.testing import capture_logs

from jixiao.database.connection import create_engine
from jixiao.database.outage import OutageLog, describe, is_unavailable, scrub

PASSWORD = "s3cr:t/p@ss"
ENCODED = "s3cr%3At%2Fp%40ss"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def error_of(engine: sa.Engine, statement: str = "SELECT 1") -> Exception:
    with pytest.raises(Exception) as caught:
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
    engine.dispose()
    return caught.value


def test_a_refused_postgresql_connection_is_an_outage_described_without_its_password():
    url = f"postgresql://jixiao:{ENCODED}@127.0.0.1:{closed_port()}/jixiao"
    error = error_of(create_engine(url))
    assert isinstance(error, sa.exc.OperationalError)
    assert is_unavailable(error)
    text = describe(error, url)
    assert text.startswith("OperationalError: ")
    assert "\n" not in text and len(text) < 250
    assert PASSWORD not in text and ENCODED not in text


def test_an_sqlite_file_that_cannot_be_opened_is_an_outage(tmp_path: Path):
    error = error_of(create_engine(f"sqlite:///{tmp_path}/no/such/folder/registry.sqlite3"))
    assert is_unavailable(error)
    assert "unable to open" in describe(error)


def test_program_faults_are_not_outages(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path}/registry.sqlite3")
    no_table = error_of(engine, "SELECT * FROM no_such_table")
    assert isinstance(no_table, sa.exc.OperationalError)  # SQLite's class for it, yet a bug
    assert not is_unavailable(no_table)
    assert not is_unavailable(error_of(engine, "SELEC 1"))
    assert not is_unavailable(ValueError("unable to open"))
    assert not is_unavailable(sqlite3.IntegrityError("UNIQUE constraint failed"))


def test_a_wrapped_outage_and_an_invalidated_connection_count():
    driver = sqlite3.OperationalError("disk I/O error")
    try:
        try:
            raise driver
        except sqlite3.OperationalError as inner:
            raise RuntimeError("refresh failed") from inner
    except RuntimeError as outer:
        assert is_unavailable(outer)
    invalidated = sa.exc.DBAPIError("SELECT 1", None, Exception("server closed the connection"),
                                    connection_invalidated=True)
    assert is_unavailable(invalidated)
    assert not is_unavailable(sa.exc.DBAPIError("SELECT 1", None, Exception("boom")))


def test_psycopg_errors_are_outages_without_sqlalchemy():
    psycopg = pytest.importorskip("psycopg")
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(host="127.0.0.1", port=closed_port(), user="u", password=PASSWORD, connect_timeout=2)
    assert is_unavailable(caught.value)


@pytest.mark.parametrize("text", [
    f"cannot connect to postgresql://jixiao:{PASSWORD}@db/jixiao",
    f"cannot connect to postgresql+psycopg://jixiao:{ENCODED}@db:5432/jixiao now",
    f"invalid dsn: host=db password={PASSWORD} user=jixiao",
    r"invalid dsn: host=db password='it\'s secret' user=jixiao",
])
def test_scrub_removes_passwords_in_urls_conninfo_and_the_given_url(text: str):
    scrubbed = scrub(text, f"postgresql://jixiao:{ENCODED}@db/jixiao")
    assert PASSWORD not in scrubbed and ENCODED not in scrubbed and "secret" not in scrubbed
    assert "***" in scrubbed and "jixiao" in scrubbed


def test_scrub_removes_the_bare_password_of_the_url():
    assert scrub(f"auth failed with {PASSWORD} for jixiao", f"postgresql://jixiao:{ENCODED}@db/x") == \
        "auth failed with *** for jixiao"


def test_outage_log_logs_once_per_state_change_and_backs_off_to_30_s():
    now = [100.0]
    outage = OutageLog(structlog.get_logger("test"), "outage log under test",
                       url=f"postgresql://u:{ENCODED}@db/x", clock=lambda: now[0])
    error = sqlite3.OperationalError(f"unable to open database for u:{PASSWORD}")
    with capture_logs() as logs:
        outage.recovered()  # up and staying up: nothing to say
        delays = [outage.failed(error) for _ in range(10)]
        now[0] += 42.0
        outage.recovered()
        outage.recovered()
        again = outage.failed(error)
    logs = [entry for entry in logs if entry.get("task") == "outage log under test"]  # not another thread's
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert again == 0.5  # a new outage starts over
    assert [(entry["log_level"], entry["event"]) for entry in logs] == [
        ("warning", "database unavailable; retrying with backoff"),
        ("info", "database back"),
        ("warning", "database unavailable; retrying with backoff")]
    assert logs[0]["retry_in_s"] == 0.5
    assert logs[0]["error"] == "OperationalError: unable to open database for u:***"
    assert logs[1]["down_for_s"] == 42.0 and logs[1]["failed_tries"] == 10
    assert outage.down


def test_a_call_meeting_an_outage_answers_unavailable_without_the_url():
    from google.rpc import error_details_pb2
    from jixiao.api.details import status_message
    from jixiao.api.errors import status_for
    import grpc

    url = f"postgresql://jixiao:{ENCODED}@127.0.0.1:{closed_port()}/jixiao"
    with capture_logs() as logs:
        status = status_for(error_of(create_engine(url)))
    assert status.code == grpc.StatusCode.UNAVAILABLE
    assert status.details == "the database is unavailable; retry later"
    info = error_details_pb2.ErrorInfo()
    assert status_message(status).details[0].Unpack(info) and info.reason == "DATABASE_UNAVAILABLE"
    assert [entry["event"] for entry in logs] == ["database unavailable for a call"]
    assert "exc_info" not in logs[0] and ENCODED not in logs[0]["error"] and PASSWORD not in logs[0]["error"]
    with capture_logs():
        assert status_for(error_of(create_engine("sqlite://"), "SELECT * FROM nothing")).code == \
            grpc.StatusCode.INTERNAL
