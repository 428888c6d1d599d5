"""A registry of the test's own, for the registry tests: an SQLite file by default, or a
fresh PostgreSQL database for a test parametrized with `ON_BOTH_DATABASES` (or
`@pytest.mark.parametrize("backend", [...])`), which overrides the `backend` fixture.
`backend`, `registry_url` and `ON_BOTH_DATABASES` are tests/postgres_server.py's."""

from __future__ import annotations

import pytest

from jixiao.registry.store import Registry


@pytest.fixture
def registry(registry_url: str) -> Registry:
    opened = Registry(registry_url)
    yield opened
    opened.close()
