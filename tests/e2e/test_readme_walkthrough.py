"""The README's sessions, run as written: every ```console block of README.md, in order,
in one shell, as a reader would type them.

A line `$ COMMAND` is a command (a trailing backslash continues it on the next line); the
lines up to the next command are what the README shows it printing. The test reads the
commands from README.md itself, so the README and what the commands do cannot drift apart:

- each command runs in one bash session kept across blocks (so `export` carries on), in
  a copy of the README's files (`scripts/`, `examples/`, `rules/`, the checkout's .venv),
  so nothing is written into the checkout;
- `bash scripts/serve.sh …`, which the README runs in a terminal of its own, runs in the
  background; the test waits until it serves, and stops the server running before it
  first, as a reader stops it with Ctrl-C;
- a command must exit 0, unless the next command is `echo $?`, whose shown output then
  says the status;
- every line the README shows must appear in the command's output, in order, compared
  with the table rules and runs of spaces removed; `…` stands for anything (a whole line
  of it, for any lines). Output may have more lines than shown.

The environment differs from a reader's in three ways only: its own data folder (so a
fresh registry), a free port instead of 50051 (JIXIAO_PORT for the server, JIXIAO_SERVER
for the CLI, which the README's commands leave at their defaults) and a wide terminal
(COLUMNS), so no table row wraps.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, _wait_until_serving

pytestmark = pytest.mark.e2e

README = REPO / "README.md"
DEFAULT_ADDRESS = "127.0.0.1:50051"
MARK = "@@readme-step-done@@"
COMMAND_TIMEOUT_S = 120.0
BOX = re.compile(r"[\u2500-\u257f]")


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)
    line: int = 0  # where in README.md, for messages


def readme_steps(text: str) -> list[Step]:
    """The commands of every ```console block, with the output shown after each."""
    steps: list[Step] = []
    lines = text.splitlines()
    inside = False
    continuing = False
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            inside = line.strip() == "```console" if not inside else False
            continuing = False
            continue
        if not inside:
            continue
        if continuing:
            steps[-1].command += "\n" + line
        elif line.startswith("$ "):
            steps.append(Step(line[2:], line=number))
        elif steps:
            steps[-1].shown.append(line)
        continuing = line.endswith("\\")
    return steps


def normalised(line: str) -> str:
    return " ".join(BOX.sub(" ", line).split())


def missing_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines not found, in order, in the output (empty when all are)."""
    actual = [normalised(line) for line in output.splitlines()]
    position = 0
    for expected in (normalised(line) for line in shown):
        if not expected or expected == "…":
            continue
        fragments = [fragment.strip() for fragment in expected.split("…")]
        for index in range(position, len(actual)):
            if _fragments_in_order(fragments, actual[index]):
                position = index + 1
                break
        else:
            return [expected]
    return []


def _fragments_in_order(fragments: list[str], line: str) -> bool:
    start = 0
    for fragment in fragments:
        found = line.find(fragment, start)
        if found < 0:
            return False
        start = found + len(fragment)
    return True


class Shell:
    """One bash session fed a command at a time; output and errors read together."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.process = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=cwd, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, command: str) -> tuple[int, str]:
        """Run `command`; its exit status and output. `$?` after it is its status."""
        self.process.stdin.write(f"{command}\n__status=$?; printf '\\n{MARK} %s\\n' $__status; (exit $__status)\n")
        self.process.stdin.flush()
        output: list[str] = []
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"`{command}` did not finish within {COMMAND_TIMEOUT_S}s:\n{''.join(output)}")
            if line is None:
                pytest.fail(f"the shell ended during `{command}`:\n{''.join(output)}")
            if line.startswith(MARK):
                return int(line.split()[1]), "".join(output)
            output.append(line)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def reader_folder(tmp_path: Path) -> Path:
    """What a clone gives the README's commands: its files, and the installed .venv."""
    folder = tmp_path / "jixiao"
    folder.mkdir()
    for name in ("scripts", "examples", "rules"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("signature.json", "__pycache__"))
    shutil.copy(README, folder / "README.md")
    (folder / ".venv").symlink_to(REPO / ".venv")
    return folder


def test_the_readme_sessions_work_as_written(reader_folder: Path, tmp_path: Path) -> None:
    steps = readme_steps(README.read_text(encoding="utf-8"))
    assert any(step.command.startswith("bash scripts/serve.sh") for step in steps), "no server start in README"
    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "PYTHONPATH"}
    env |= {"XDG_DATA_HOME": str(tmp_path / "data"), "JIXIAO_PORT": address.rsplit(":", 1)[1],
            "JIXIAO_SERVER": address, "COLUMNS": "250", "PYTHONUNBUFFERED": "1"}
    shell = Shell(reader_folder, env)
    server_pid: int | None = None
    try:
        for index, step in enumerate(steps):
            where = f"README.md:{step.line}: $ {step.command}"
            shown = [line.replace(DEFAULT_ADDRESS, address) for line in step.shown]
            if step.command.startswith("bash scripts/serve.sh"):
                if server_pid is not None:
                    _stop(server_pid)
                log = tmp_path / f"server-{index}.log"
                status, output = shell.run(f"{step.command} > {log} 2>&1 &\necho $!")
                server_pid = int(output.split()[-1])
                process = _Pid(server_pid)
                _wait_until_serving(process, address, log, time.monotonic() + 90, None)
                output = log.read_text(encoding="utf-8", errors="replace")
            else:
                status, output = shell.run(step.command)
                checks_status = index + 1 < len(steps) and steps[index + 1].command.strip() == "echo $?"
                assert status == 0 or checks_status, f"{where}\nexited {status}:\n{output}"
            assert not missing_lines(shown, output), (
                f"{where}\nshows {missing_lines(shown, output)[0]!r}, which its output lacks:\n{output}")
    finally:
        if server_pid is not None:
            _stop(server_pid)
        shell.close()


class _Pid:
    """Enough of a Popen for conftest's wait: whether the server process still runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            self.returncode = -1
            return self.returncode
        return None


def _stop(pid: int) -> None:
    """SIGTERM, as Ctrl-C stops the README's server, then wait until it has gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def test_the_reader_of_the_readme_parses_commands_and_matches_shown_lines() -> None:
    steps = readme_steps("text\n```console\n$ a \\\n  --b\nout 1\n…\nout 2\n$ echo $?\n2\n```\n"
                         "```sh\n$ not run\n```\n")
    assert [(s.command, s.shown) for s in steps] == [("a \\\n  --b", ["out 1", "…", "out 2"]), ("echo $?", ["2"])]
    table = "┃ 包 ┃ 版本 ┃\n│ quality-district-funding │ 1.0.0 │\nnoise\n│ total │ 75.03 │"
    assert missing_lines([" 包  版本", "quality-district-funding  1.0.0", "…", "total … 75.03"], table) == []
    assert missing_lines(["total 75.03", "包 版本"], table) == ["包 版本"]  # order counts
    assert missing_lines(["total 74.03"], table) == ["total 74.03"]
