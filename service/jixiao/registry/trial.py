"""Try a pack in a child process: parse it, compile it with the real engine, run its golden
cases and the generated edge facts, and say what the pack is.

A pack offered for publishing is untrusted text until this trial passes: YAML can cost
far more than its size (alias bombs), and durable-rules can hang or crash the process on
a ruleset or facts it cannot handle. So the server parses nothing of it; a fresh
interpreter does, confined:

- memory (RLIMIT_AS, `TRIAL_MEMORY_BYTES`) and CPU time (RLIMIT_CPU, `TRIAL_CPU_S`) limits,
  and a lower scheduling priority, so that a trial cannot starve the server;
- killed when the wall-clock `TRIAL_TIMEOUT_S` passes, or when the server stops (it calls
  `abandon_trials`; without that, when its main thread ends);
- it dies with the server: Linux sends it SIGKILL when the server's thread that started
  it ends (PR_SET_PDEATHSIG), and it exits at once if the server was gone before it could
  ask for that;
- at most `TRIALS_AT_ONCE` trials run at a time (per server process) and `TRIALS_WAITING`
  more wait for a turn;
  a publish beyond those is refused at once with `TrialsBusy` (it holds no thread meanwhile),
  so a burst of publishes can neither take every core nor every request thread.

Protocol: the bundle as JSON `{"files": {...}}` on stdin, a `TrialReport` as JSON on stdout.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Iterator

from ..core.pack.bundle import Bundle, MAX_TOTAL_BYTES, load_bundle
from ..core.pack.cases import run_case
from ..core.errors import PackError

TRIAL_TIMEOUT_S = 60.0
TRIAL_CPU_S = 45
TRIAL_MEMORY_BYTES = 512 * 1024**2  # a trial of the bundled packs peaks at about 50 MB
TRIAL_NICENESS = 10
TRIALS_AT_ONCE = 2
TRIALS_WAITING = 2
#: How often a waiting publish looks whether its trial ended or the server is stopping.
POLL_S = 0.1
#: The most of a trial's report read back (golden case mismatches are the bulk of it).
REPORT_MAX_BYTES = 4_000_000
#: Generated edge facts named in a refusal; the rest are counted.
LISTED_EDGE_FAILURES = 10

_PR_SET_PDEATHSIG = 1
TRYING = "trying "


class TrialsBusy(Exception):
    """Every trial slot and waiting place is taken; publish again in a moment."""

    def __init__(self) -> None:
        super().__init__(f"the publish gate is already trying {TRIALS_AT_ONCE} packs with {TRIALS_WAITING} more "
                         "waiting; publish again in a few seconds")


class TrialAbandoned(Exception):
    """The server began to stop while a pack waited for or ran its trial; nothing was published."""

    def __init__(self) -> None:
        super().__init__("the server is stopping, so the trial was abandoned and nothing was published; "
                         "publish again once it is back")


@dataclass(frozen=True)
class CaseFailure:
    case: str  # the case file
    name: str
    mismatches: list[dict] = field(default_factory=list)  # node, field, expected, actual


@dataclass(frozen=True)
class TrialReport:
    problems: list[str] = field(default_factory=list)  # the pack failed to load, compile or evaluate
    failures: list[CaseFailure] = field(default_factory=list)  # golden cases that failed
    cases_run: int = 0
    edge_facts_run: int = 0
    pack_id: str = ""  # what the pack says it is, once its files loaded
    version: str = ""
    title: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems and not self.failures and bool(self.pack_id)


# --- in the child process ------------------------------------------------------------


def try_in_this_process(bundle: Bundle) -> TrialReport:
    """Load, compile and prove the pack here. Imports the engine: call it in a trial process only."""
    from ..core.evaluation.compiler import compile_pack, plain_matcher
    from ..core.evaluation.edge_facts import check_edge_facts, edge_facts
    from ..engine.durable import durable_matcher
    from ..packs import case_schema, pack_schema

    try:
        loaded = load_bundle(bundle, pack_schema(), check_case_facts=True, case_schema=case_schema())
        pack = loaded.pack
        named = {"pack_id": pack.id, "version": pack.version, "title": pack.title.zh}
        engine = compile_pack(pack, durable_matcher)
    except PackError as exc:
        return TrialReport(problems=[str(p) for p in exc.problems])
    try:
        if not loaded.cases:
            return TrialReport(problems=["the pack has no golden cases (cases/*.yaml): nothing proves it scores right"],
                               **named)
        failures = []
        for case in loaded.cases:
            _note(f"golden case {case.file}")
            result = run_case(engine, case)
            if not result.passed:
                failures.append(CaseFailure(case.file, case.name, [asdict(m) for m in result.mismatches]))
        requests = edge_facts(pack, engine.rules)
        edge_failures = check_edge_facts(engine, compile_pack(pack, plain_matcher), requests,
                                         lambda request: _note(f"generated facts [{request.name}]"))
        problems = [str(f) for f in edge_failures[:LISTED_EDGE_FAILURES]]
        if len(edge_failures) > len(problems):
            problems.append(f"and {len(edge_failures) - len(problems)} more of the {len(requests)} generated "
                            "edge facts failed")
        return TrialReport(problems=problems, failures=failures, cases_run=len(loaded.cases),
                           edge_facts_run=len(requests), **named)
    finally:
        engine.close()


def _note(what: str) -> None:
    """Say on stderr what the engine is about to evaluate: if it crashes the process, the
    server names it in the refusal."""
    sys.stderr.write(f"{TRYING}{what}\n")
    sys.stderr.flush()


def confine(parent_pid: int, memory_bytes: int = TRIAL_MEMORY_BYTES, cpu_s: int = TRIAL_CPU_S) -> None:
    """Limit this process's memory, CPU time and priority, and make it die with `parent_pid`."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the server died before the line above took effect
        os._exit(70)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    os.nice(TRIAL_NICENESS)


def main() -> None:
    """`python -m jixiao.registry.trial PARENT_PID MEMORY_BYTES CPU_S`: the server starts it so."""
    parent_pid, memory_bytes, cpu_s = (int(arg) for arg in sys.argv[1:4])
    confine(parent_pid, memory_bytes, cpu_s)
    raw = sys.stdin.buffer.read(7 * MAX_TOTAL_BYTES)  # JSON escapes at most sextuple the files
    bundle = Bundle(json.loads(raw.decode("utf-8"))["files"])
    try:
        report = try_in_this_process(bundle)
    except MemoryError:
        report = TrialReport(problems=[f"the pack needs more than {memory_bytes // 1024**2} MB to load and "
                                       "compile, the limit of the publish gate"])
    sys.stdout.write(json.dumps(asdict(report), ensure_ascii=False))


# --- in the server -------------------------------------------------------------------


class _TrialSlots:
    """At most `running` trials at once, at most `waiting` more queued; past that, TrialsBusy."""

    def __init__(self, running: int, waiting: int):
        self._turns = threading.Semaphore(running)
        self._admitted = 0
        self._limit = running + waiting
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            if self._admitted >= self._limit:
                raise TrialsBusy()
            self._admitted += 1
        try:
            while not self._turns.acquire(timeout=POLL_S):
                if _server_stopping():
                    raise TrialAbandoned()
            try:
                yield
            finally:
                self._turns.release()
        finally:
            with self._lock:
                self._admitted -= 1


_slots = _TrialSlots(TRIALS_AT_ONCE, TRIALS_WAITING)


_abandoned = threading.Event()


def abandon_trials() -> None:
    """The server is stopping: kill the running trials and refuse the waiting ones (each
    publish then fails with TrialAbandoned within POLL_S), so that stopping never waits
    for a trial's timeout. For good: call it once, when the process stops."""
    _abandoned.set()


def _server_stopping() -> bool:
    """True once `abandon_trials` was called or the interpreter is shutting down (the main thread has finished)."""
    return _abandoned.is_set() or not threading.main_thread().is_alive()


def try_in_child_process(bundle: Bundle, timeout: float = TRIAL_TIMEOUT_S) -> TrialReport:
    """Run `try_in_this_process` in a confined fresh interpreter; a crash, hang or limit is a failed trial.

    Raises TrialsBusy when too many trials are running or waiting, TrialAbandoned when the
    server stops meanwhile.
    """
    with _slots.turn(), tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, \
            tempfile.TemporaryFile() as stderr:
        # Files, not pipes: nothing can block on a full pipe, and the wait below can look up.
        stdin.write(json.dumps({"files": dict(bundle.files)}, ensure_ascii=False).encode("utf-8"))
        stdin.seek(0)
        child = subprocess.Popen(trial_command(), stdin=stdin, stdout=stdout, stderr=stderr,
                                 env=trial_environment(), start_new_session=True)
        try:
            _wait(child, time.monotonic() + timeout)
        except subprocess.TimeoutExpired:
            return TrialReport(problems=[f"loading and proving the pack took over {timeout:g} s (an alias bomb, or "
                                         "a ruleset the rule engine hangs on?): refused"])
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(REPORT_MAX_BYTES), _tail(stderr)
    if child.returncode != 0:
        return TrialReport(problems=[_death(child.returncode, errors)])
    try:
        raw = json.loads(output)
        return TrialReport(problems=raw["problems"], cases_run=raw["cases_run"],
                           edge_facts_run=raw["edge_facts_run"], failures=[CaseFailure(**f) for f in raw["failures"]],
                           pack_id=raw["pack_id"], version=raw["version"], title=raw["title"])
    except (ValueError, KeyError, TypeError):
        return TrialReport(problems=[f"the trial process wrote no report that could be read (more than "
                                     f"{REPORT_MAX_BYTES:,} bytes of golden case mismatches?)"])


def trial_command() -> list[str]:
    """How the server starts a trial process: this module, told the server's pid and the limits."""
    return [sys.executable, "-m", "jixiao.registry.trial", str(os.getpid()), str(TRIAL_MEMORY_BYTES), str(TRIAL_CPU_S)]


def trial_environment() -> dict[str, str]:
    """The server's environment without its settings (tokens, a registry URL with its
    password): a trial needs none of them. Failpoints are kept, for tests."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("JIXIAO_") or name.startswith("JIXIAO_FAILPOINT_")}


def _wait(child: subprocess.Popen, deadline: float) -> None:
    """Until the child exits; TimeoutExpired past `deadline`, TrialAbandoned on shutdown."""
    while True:
        try:
            child.wait(timeout=POLL_S)
            return
        except subprocess.TimeoutExpired:
            if _server_stopping():
                raise TrialAbandoned() from None
            if time.monotonic() > deadline:
                raise


def _tail(file, size: int = 4096) -> bytes:
    """The last `size` bytes of a file (the trial's stderr notes every request it tries)."""
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - size))
    return file.read()


def _death(returncode: int, stderr: bytes) -> str:
    """Why the trial process died, as a refusal says it."""
    if returncode == -signal.SIGXCPU:
        return f"loading and proving the pack used over {TRIAL_CPU_S} s of CPU time, the limit of the publish gate"
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    if any("MemoryError" in line for line in lines[-3:]):
        return (f"the pack needs more than {TRIAL_MEMORY_BYTES // 1024**2} MB to load and compile, "
                "the limit of the publish gate")
    how = f"signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
    tried = [line[len(TRYING):] for line in lines if line.startswith(TRYING)]
    if tried and lines[-1].startswith(TRYING):
        return f"the trial process died ({how}) evaluating {tried[-1][:300]} with the rule engine"
    tail = lines[-1:] or [""]
    return f"the trial process died ({how}) loading the pack: {tail[0][:200]}"


if __name__ == "__main__":
    main()
