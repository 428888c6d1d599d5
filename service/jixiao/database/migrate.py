"""Bringing the database's tables up to date with Alembic, safely when several servers start at once.

Every process that opens the database (each server, the CLI with --registry) calls
`upgrade`. It checks the schema's revision first, which costs one query; only when it is
behind does it migrate, in one transaction under a lock: PostgreSQL's transaction-level
advisory lock, SQLite's write lock (BEGIN IMMEDIATE). A second server starting at the same
moment waits on that lock, then finds the schema current and does nothing, so four
servers starting on an empty database all serve (before this, one could fail with
`relation "pack_versions" already exists`). Both databases change their schema inside
the transaction, so a migration interrupted half-way leaves nothing of itself.

A database made before migrations existed (tables, no alembic_version) is taken as it
is: the first revision creates only the tables it lacks.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: pg_advisory_xact_lock's key: any constant shared by every Jixiao process ("jixiao" in ASCII).
ADVISORY_LOCK_KEY = 0x6A6978696130


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> bool:
    """Migrate the database to the newest revision; True when it had to (False: already there)."""
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return False
    with engine.connect() as conn:
        conn.execution_options(writing=True)  # SQLite: BEGIN IMMEDIATE, the write lock
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            if current_revision(conn) == head:  # another process migrated while this one waited
                return False
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return True
