"""A database of the test's own for the shadow runs: SQLite, or a fresh PostgreSQL database
for a test parametrized with `ON_BOTH_DATABASES`. `backend`, `registry_url` and
`ON_BOTH_DATABASES` are tests/postgres_server.py's."""

from __future__ import annotations

from typing import Iterator

import pytest

from jixiao.registry.store import Registry
from jixiao.shadow.runs import ShadowRuns


@pytest.fixture
def registry(registry_url: str) -> Iterator[Registry]:
    """The service's database with every table made (the registry's migrations)."""
    opened = Registry(registry_url)
    yield opened
    opened.close()


@pytest.fixture
def runs(registry: Registry) -> ShadowRuns:
    return ShadowRuns(registry.engine)
