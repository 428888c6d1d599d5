"""A registry of the test's own, for the registry tests: an SQLite file by default, or a
fresh PostgreSQL database for a test parametrized with `ON_BOTH_DATABASES` (or
`@pytest.mark.parametrize("backend", [...])`), which overrides the `backend` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.registry.store import Registry

BACKENDS = ("sqlite", "postgresql")
#: Run a test on SQLite and on PostgreSQL: it must use `registry` or `registry_url`.
ON_BOTH_DATABASES = pytest.mark.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    """Which database the test's registry is on (parametrize it to change it)."""
    return "sqlite"


@pytest.fixture
def registry_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty registry's URL: an SQLite file in tmp_path, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def registry(registry_url: str) -> Registry:
    opened = Registry(registry_url)
    yield opened
    opened.close()
