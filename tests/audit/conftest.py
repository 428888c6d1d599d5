"""The decision log's database for unit tests: a SQLite file, and a real PostgreSQL (tests/postgres_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from jixiao.database.connection import create_engine
from jixiao.database.migrate import upgrade

from .library import Library


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on a new database with every table of the service, SQLite or PostgreSQL."""
    url = (f"sqlite:///{tmp_path / 'db.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = create_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def library() -> Library:
    """The bundled packs, compiled once for the session."""
    return Library()
