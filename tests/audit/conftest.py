"""The decision log's database for unit tests: a SQLite file, and a real PostgreSQL (tests/postgres_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from jixiao.database.connection import create_engine
from jixiao.catalog import RegistryCatalog
from jixiao.database.migrate import upgrade
from jixiao.registry.store import Registry

from .decision_rows import registry_with
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


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry of the module's own with the versions decision_rows records (`registry_with`)."""
    opened = registry_with(tmp_path_factory.mktemp("registry") / "registry.sqlite3")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def catalog(registry: Registry) -> Iterator[RegistryCatalog]:
    made = RegistryCatalog(registry)
    yield made
    made.close()
