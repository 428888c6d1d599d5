"""A database of the test's own for the shadow runs: SQLite, or a fresh PostgreSQL database
for a test parametrized with `ON_BOTH_DATABASES`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from jixiao.registry.store import Registry
from jixiao.shadow.runs import ShadowRuns

ON_BOTH_DATABASES = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    """The service's database with every table made (the registry's migrations)."""
    opened = Registry(database_url)
    yield opened
    opened.close()


@pytest.fixture
def runs(registry: Registry) -> ShadowRuns:
    return ShadowRuns(registry.engine)
