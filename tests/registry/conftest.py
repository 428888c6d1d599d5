"""A registry file of the test's own, for the registry tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.registry.store import Registry


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    opened = Registry.open_file(tmp_path / "registry.sqlite3")
    yield opened
    opened.close()
