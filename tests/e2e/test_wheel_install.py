"""A pip user's install: the wheel, installed into a fresh virtual environment, scores from
any folder, locally and through a server started from that environment.

The wheel is built from this checkout without build isolation (offline) and installed
without its dependencies; the fresh environment borrows them from the project's .venv
through a .pth file, which adds that folder to sys.path but runs none of its .pth files,
so the checkout's editable install stays out of it: every `jixiao` module comes from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from conftest import REPO, _wait_for_address, _wait_until_serving

pytestmark = pytest.mark.e2e

FACTS_2019 = REPO / "examples" / "quality-district-2019.facts.json"
PACK = "quality-district-funding"
BUNDLED = [p.parent for p in sorted((REPO / "rules").glob("*/*/pack.yaml"))]


def _run(command: list, cwd: Path, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIXIAO_", "PIP_"))}
    built = _run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
                  "-w", root / "dist", REPO], root, env, timeout=120)
    assert built.returncode == 0, built.stderr
    # pyproject.toml in the form setuptools wants: no deprecation warnings at every install
    assert "deprecated" not in (built.stdout + built.stderr).lower(), built.stdout + built.stderr
    wheels = list((root / "dist").glob("jixiao-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    installed = _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
                      "--no-index", "--quiet", wheels[0]], root, env)
    assert installed.returncode == 0, installed.stderr
    fresh_site = Path(_run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           root, env).stdout.strip())
    (fresh_site / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return venv


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, dict]:
    """A working folder outside the checkout and an environment naming no packs folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "PYTHONPATH"}
    env |= {"XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return tmp_path, env


def test_the_wheel_carries_every_bundled_pack_file(fresh_venv: Path) -> None:
    installed = next(fresh_venv.glob("lib/python*/site-packages/jixiao/bundled_rules"))
    for pack_dir in BUNDLED:
        relative = pack_dir.relative_to(REPO / "rules")
        expected = ["pack.yaml", *(f"cases/{p.name}" for p in sorted((pack_dir / "cases").glob("*.yaml")))]
        for name in expected:
            assert (installed / relative / name).read_bytes() == (pack_dir / name).read_bytes(), name


def test_version_names_the_bundled_packs_inside_the_install(fresh_venv: Path, outside) -> None:
    cwd, env = outside
    refs = [f"{p.parent.name}@{p.name}" for p in BUNDLED]
    for program in ("jixiao", "jixiao-server"):
        result = _run([fresh_venv / "bin" / program, "--version"], cwd, env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == f"{program} 0.1.0"
        assert str(fresh_venv) in result.stdout and str(REPO) not in result.stdout
        assert ", ".join(refs) in result.stdout


def test_scores_the_2019_facts_locally_from_another_folder(fresh_venv: Path, outside) -> None:
    cwd, env = outside
    listed = _run([fresh_venv / "bin" / "jixiao", "packs", "--local"], cwd, env)
    assert listed.returncode == 0, listed.stderr
    for pack_dir in BUNDLED:
        assert pack_dir.name in listed.stdout
    scored = _run([fresh_venv / "bin" / "jixiao", "score", FACTS_2019, "--pack", PACK, "--version", "1.0.0",
                   "--local", "--format", "json"], cwd, env)
    assert scored.returncode == 0, scored.stderr
    reply = json.loads(scored.stdout)
    assert (reply["score"], reply["grade"]) == ("75.03", "中")


def test_the_install_writes_the_report_and_the_summary_from_its_own_templates(fresh_venv: Path, outside) -> None:
    """The report's phrases and templates and the summary's page travel in the wheel."""
    cwd, env = outside
    for suffix in (".docx", ".html", ".md"):
        made = _run([fresh_venv / "bin" / "jixiao", "report", FACTS_2019, "--pack", PACK, "--version", "1.0.1",
                     "--local", "--out", f"report{suffix}"], cwd, env)
        assert made.returncode == 0, made.stderr
        assert (cwd / f"report{suffix}").stat().st_size > 10_000
    assert "## 四、存在的问题" in (cwd / "report.md").read_text(encoding="utf-8")
    batch = cwd / "projects.jsonl"
    batch.write_text(json.dumps({"key": "p1", "facts": json.loads(Path(FACTS_2019).read_text(encoding="utf-8"))},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    summarised = _run([fresh_venv / "bin" / "jixiao", "batch", "projects.jsonl", "--pack", PACK, "--version", "1.0.1",
                       "--local", "--out", "scores.jsonl", "--summary", "summary.html"], cwd, env)
    assert summarised.returncode == 0, summarised.stderr
    assert "<svg" in (cwd / "summary.html").read_text(encoding="utf-8")


def test_a_server_started_from_the_install_serves_the_bundled_packs(fresh_venv: Path, outside) -> None:
    cwd, env = outside
    log_path = cwd / "server.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [fresh_venv / "bin" / "jixiao-server", "--port", "0", "--processes", "1", "--log-format", "json"],
            cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        address = _wait_for_address(server, log_path, deadline)
        _wait_until_serving(server, address, log_path, deadline, None)
        scored = _run([fresh_venv / "bin" / "jixiao", "score", FACTS_2019, "--pack", PACK, "--version", "1.0.0",
                       "--server", address, "--format", "json"], cwd, env)
        assert scored.returncode == 0, scored.stderr
        reply = json.loads(scored.stdout)
        assert (reply["score"], reply["grade"]) == ("75.03", "中")
        active = _run([fresh_venv / "bin" / "jixiao", "score", FACTS_2019, "--pack", PACK,
                       "--server", address, "--format", "json"], cwd, env)
        active_reply = json.loads(active.stdout)  # 1.1.1, the newest bundled, is active: 1.1.0's scores
        assert (active_reply["version"], active_reply["score"]) == ("1.1.1", "74.03")
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0, log_path.read_text()
    assert (cwd / "data" / "jixiao" / "registry.sqlite3").is_file()
