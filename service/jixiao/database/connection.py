"""Connecting to the service's database: the URL, the engine, and the URL fit for a log.

`postgresql://…` means psycopg 3 (the `postgres` extra installs it), not SQLAlchemy's
older default driver. SQLite runs in WAL mode with full sync, and a transaction that
changes something takes the write lock before its first read (`writing=True`), so two
processes changing the database queue instead of acting on stale reads.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError

#: Seconds to wait for a PostgreSQL connection before the call fails as UNAVAILABLE.
CONNECT_TIMEOUT_S = 5


class BadDatabaseUrl(ValueError):
    """The URL is not one SQLAlchemy can use; the message never repeats the URL (it may hold a password)."""


def database_url(url: str) -> sa.URL:
    """The SQLAlchemy URL, with psycopg 3 as the PostgreSQL driver unless another is named."""
    try:
        parsed = sa.make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number, e.g. the rest of a password
        raise BadDatabaseUrl("not a database URL (expected e.g. postgresql://USER:PASSWORD@HOST:PORT/DB "
                             "or sqlite:///PATH; a password holding @, /, : or # must be percent-encoded: "
                             "%40, %2F, %3A, %23)") from None
    if _misread(parsed):
        raise BadDatabaseUrl("the URL has a second '@': a password holding @ or / must be "
                             "percent-encoded (%40, %2F)")
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def redacted(url: str | sa.URL) -> str:
    """The URL with its password replaced by ***: what a log or an error message may show."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except (ArgumentError, ValueError):  # SQLAlchemy's ValueError quotes the bad port: maybe part of a password
        return "(an unparseable database URL)"
    if _misread(parsed):  # the host or database name holds the rest of a password: leave them out
        return f"{parsed.drivername}://{parsed.username or ''}:***@…"
    return parsed.render_as_string(hide_password=True)


def _misread(parsed: sa.URL) -> bool:
    """True when an unencoded '@' or '/' in the password cut it short, so that its rest was
    read as the host or the database (`user:p@ss@host/db` → host `ss@host`)."""
    return parsed.get_backend_name() != "sqlite" and "@" in (parsed.host or "") + (parsed.database or "")


def create_engine(url: str) -> Engine:
    """An engine for `url`: SQLite with the pragmas above; elsewhere connections checked
    before use (a database that restarted gives a fresh connection, not an error)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, future=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    return sa.create_engine(parsed, future=True, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The sqlite3 module would begin a transaction only at the first INSERT or UPDATE, so
    # the reads a change depends on would run outside it: `_sqlite_begin` begins instead.
    dbapi_connection.isolation_level = None
    # Text that is not UTF-8 (a row edited in the file by hand) is read with U+FFFD in place
    # of its bad bytes: sqlite3's default fails the whole read (a page, an export) on it.
    dbapi_connection.text_factory = functools.partial(str, encoding="utf-8", errors="replace")
    cursor = dbapi_connection.cursor()
    # A new database gets 16 KB pages: a decision's row is ~16 KB, and SQLite inserts it with
    # ~40 % less CPU than on 4 KB pages (bench/decision_log.py). An existing one keeps its own.
    cursor.execute("PRAGMA page_size=16384")
    # WAL lets a server read while the CLI publishes; FULL sync makes a commit durable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A change takes the write lock before its first read (IMMEDIATE), so two processes
    # changing the database queue on busy_timeout instead of acting on stale reads.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writing") else "BEGIN")
