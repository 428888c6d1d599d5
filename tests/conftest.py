"""Fixtures shared by every kind of test: new pack versions made from the bundled 1.0.0."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
import structlog
from structlog._config import BoundLoggerLazyProxy

from jixiao.core.pack.digest import bundle_digest

#: postgres_server, postgres_url, make_postgres_server: a real PostgreSQL (tests/postgres_server.py).
pytest_plugins = ["postgres_server"]

REPO = Path(__file__).resolve().parents[1]
PACK_ID = "quality-district-funding"
PACK_1_0_0 = REPO / "rules" / PACK_ID / "1.0.0"

#: Edits that make two golden cases of a copied 1.0.0 fail, at three nodes in all.
FAILING_CASE_EDITS = {
    "2019.yaml": [('  score: "75.03"', '  score: "76.00"'), ('process: {score: "11.89"', 'process: {score: "12"')],
    "all-pass.yaml": [('  score: "100"', '  score: "99"')],
}

#: The names of the service's background threads that log (a writer of rows, the decision
#: log's retention, the catalog's watcher, the shadow poller): a test that starts one must stop it.
SERVICE_THREADS = re.compile(r"jixiao-.+-writer|jixiao-decision-retention|registry-watch|shadow-poller")


@pytest.fixture(autouse=True)
def structlog_left_as_found() -> Iterator[None]:
    """Undo a test's structlog configuration, and the loggers it cached.

    The `jixiao` command run in-process (CliRunner) configures warning-level loggers that
    are cached on first use. Left so, every later test in the process (a pytest-xdist
    worker runs many files) would see no info lines in `capture_logs`, and a logger cached
    before a later reconfiguration no line at all.
    """
    before = structlog.get_config()
    before_processors = list(before["processors"])
    yield
    after = structlog.get_config()
    if all(after[key] is before[key] for key in before) and after["processors"] == before_processors:
        return
    before["processors"][:] = before_processors
    structlog.configure(**before)
    for module in list(sys.modules.values()):  # module-level `log = structlog.get_logger(...)`
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, BoundLoggerLazyProxy):
                vars(value).pop("bind", None)  # the cached logger: bound again from the configuration


@pytest.fixture(scope="module", autouse=True)
def service_threads_stopped() -> Iterator[None]:
    """Fail a test file that leaves one of the service's background threads running: it
    would log into a later test's `capture_logs` (it captures every thread's lines)."""
    before = set(threading.enumerate())
    yield
    left = [thread for thread in threading.enumerate()
            if thread not in before and SERVICE_THREADS.fullmatch(thread.name)]
    for thread in left:
        thread.join(timeout=10)  # a close that is still finishing, on a loaded machine
    still = sorted(thread.name for thread in left if thread.is_alive())
    assert not still, f"background threads left running by this file: {still}"


#: make_pack_version(version, failing_cases=False) → a new pack folder.
MakePackVersion = Callable[..., Path]


def copy_pack_version(source: Path, destination: Path, version: str,
                      case_edits: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """Copy a pack folder as another version, optionally editing its golden cases."""
    shutil.copytree(source, destination)
    pack_yaml = destination / "pack.yaml"
    text, count = re.subn(r"(?m)^version: .*$", f"version: {version}", pack_yaml.read_text(encoding="utf-8"), count=1)
    assert count == 1, "pack.yaml has no version line"
    pack_yaml.write_text(text, encoding="utf-8")
    for case, edits in (case_edits or {}).items():
        path = destination / "cases" / case
        case_text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in case_text, f"{old!r} not in {case}"
            case_text = case_text.replace(old, new, 1)
        path.write_text(case_text, encoding="utf-8")
    return destination


@pytest.fixture(scope="session")
def make_pack_version(tmp_path_factory: pytest.TempPathFactory) -> MakePackVersion:
    """Make a new folder `<tmp>/quality-district-funding/<version>/` from 1.0.0 with the version changed.

    With `failing_cases`, the golden cases 2019.yaml (total score, process) and
    all-pass.yaml (total score) expect what the rules do not give.
    """

    def make(version: str, failing_cases: bool = False) -> Path:
        folder = tmp_path_factory.mktemp("packs") / PACK_ID / version
        return copy_pack_version(PACK_1_0_0, folder, version, FAILING_CASE_EDITS if failing_cases else None)

    return make


def assert_registry_holds_only_whole_versions(path: Path) -> int:
    """Integrity check passes, every stored digest matches its files, one generation per change.

    Returns how many versions the registry holds.
    """
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute("SELECT pack_id, version, digest, files FROM pack_versions").fetchall()
        changes = len(rows) + conn.execute("SELECT count(*) FROM activations").fetchone()[0]
        generation = conn.execute("SELECT value FROM registry_state WHERE key = 'generation'").fetchone()[0]
    for pack_id, version, digest, files in rows:
        assert bundle_digest(json.loads(files)) == digest, f"{pack_id}@{version} is stored incomplete"
    assert generation == changes, "a change was stored without its generation bump, or the reverse"
    return len(rows)


@pytest.fixture(scope="session")
def registry_is_whole() -> Callable[[Path], int]:
    """`registry_is_whole(path)`: assert the SQLite registry holds only whole versions; their count."""
    return assert_registry_holds_only_whole_versions
