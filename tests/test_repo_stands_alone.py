"""The repository stands alone: no file names a path outside it (a sibling checkout's
documents) or a planning issue by number. What a reader needs lives in docs/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OUTSIDE_OR_ISSUE = r"(\.\./shared|shared/(docs|contracts|seed)|[Ii]ssue [0-9]+)"


def test_no_file_names_a_path_outside_the_repository_or_an_issue() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(["git", "grep", "-n", "-I", "-E", OUTSIDE_OR_ISSUE], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
    assert found.returncode == 1, found.stdout or found.stderr  # 1: no line matched


def test_the_documents_the_readme_links_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for document in ("docs/domain.md", "docs/engine.md", "docs/design.md", "docs/contract-2019.md",
                     "deploy/README.md", "rules/README.md"):
        assert document in readme, document
        assert (REPO / document).is_file(), document
