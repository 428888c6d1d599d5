"""The PostgreSQL fixtures themselves: a password in every URL, a fresh database per test,
and a server of a test's own that can be stopped and started again with its data."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from jixiao.database.connection import create_engine

from postgres_server import PASSWORD, PostgresServer, PostgresUnavailable, new_server, unavailable


def test_the_url_needs_its_password(postgres_server: PostgresServer, postgres_url: str):
    assert PASSWORD not in postgres_url and ":" in postgres_url.split("@")[0].split("//")[1]
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
    engine.dispose()
    database = postgres_url.rsplit("/", 1)[1]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(sa.make_url(postgres_server.url(database, password="wrong"))
                        .render_as_string(hide_password=False), connect_timeout=5)


def test_each_test_gets_a_database_of_its_own(postgres_url: str, request: pytest.FixtureRequest):
    other = request.getfixturevalue("postgres_server").create_database()
    assert other != postgres_url


def test_a_server_of_its_own_stops_and_starts_with_its_data(make_postgres_server):
    server = make_postgres_server()
    url = server.create_database()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE kept (n int)"))
        conn.execute(sa.text("INSERT INTO kept VALUES (7)"))
    server.stop()
    with pytest.raises(sa.exc.OperationalError):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    server.start()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT n FROM kept")).scalar() == 7
    engine.dispose()
    server.remove()


@pytest.mark.parametrize("ci, outcome", [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_without_binaries_the_tests_are_skipped_except_under_ci(tmp_path, monkeypatch, ci, outcome) -> None:
    monkeypatch.setenv("JIXIAO_PG_BIN", str(tmp_path))  # a folder without initdb and pg_ctl
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="holds no initdb and pg_ctl") as stopped:
        try:
            new_server()
        except PostgresUnavailable as error:
            unavailable(str(error))
    assert ("required under CI" in str(stopped.value)) == (ci is not None)
