"""Signing a version that is already published unsigned, then publishing it again, says
that the signature cannot be added (published versions never change) instead of
answering "unchanged" and dropping the signature."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RULES, server_environment

pytestmark = pytest.mark.e2e

PACK = RULES / "quality-district-funding" / "1.1.0"


def _cli(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=server_environment(tmp_path))


def test_a_signature_for_a_version_published_unsigned_is_refused_saying_why(tmp_path) -> None:
    registry = tmp_path / "registry.sqlite3"
    folder = tmp_path / "1.1.0"
    shutil.copytree(PACK, folder)
    first = _cli(tmp_path, "pack", "publish", folder, "--registry", registry)
    assert first.returncode == 0, first.stderr
    assert _cli(tmp_path, "pack", "keygen", "--out", tmp_path / "ops").returncode == 0
    assert _cli(tmp_path, "pack", "sign", folder, "--key", tmp_path / "ops.key").returncode == 0

    again = _cli(tmp_path, "pack", "publish", folder, "--registry", registry)

    assert again.returncode == 1
    line = again.stderr.strip()
    assert line.startswith("signature not recorded: quality-district-funding@1.1.0 is already published unsigned")
    assert "publish the signed pack as a new version" in line and "\n" not in line
    unsigned_again = _cli(tmp_path, "pack", "publish", PACK, "--registry", registry)
    assert unsigned_again.returncode == 0 and "unchanged" in unsigned_again.stdout
