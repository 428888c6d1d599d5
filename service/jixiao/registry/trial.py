"""Try a pack in a child process: compile it with the real engine and run its golden cases.

durable-rules can hang or crash the process on a ruleset it cannot handle, so a pack
that has never been compiled is tried here first, in a process of its own with a time
limit, before any server loads it. Reads a bundle as JSON `{"files": {...}}` on stdin,
writes a `TrialReport` as JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field

from ..core.bundle import Bundle
from ..core.cases import run_case
from ..core.errors import PackError

TRIAL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CaseFailure:
    case: str  # the case file
    name: str
    mismatches: list[dict] = field(default_factory=list)  # node, field, expected, actual


@dataclass(frozen=True)
class TrialReport:
    problems: list[str] = field(default_factory=list)  # the pack failed to load or compile
    failures: list[CaseFailure] = field(default_factory=list)  # golden cases that failed
    cases_run: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems and not self.failures


def try_in_this_process(bundle: Bundle) -> TrialReport:
    from ..packs import compile_bundle  # imports the engine: only in the trial process

    try:
        loaded = compile_bundle(bundle)
    except PackError as exc:
        return TrialReport(problems=[str(p) for p in exc.problems])
    try:
        if not loaded.cases:
            return TrialReport(problems=["the pack has no golden cases (cases/*.yaml): nothing proves it scores right"])
        failures = []
        for case in loaded.cases:
            result = run_case(loaded.compiled, case)
            if not result.passed:
                failures.append(CaseFailure(case.file, case.name, [asdict(m) for m in result.mismatches]))
        return TrialReport(failures=failures, cases_run=len(loaded.cases))
    finally:
        loaded.compiled.close()


def try_in_child_process(bundle: Bundle, timeout: float = TRIAL_TIMEOUT_S) -> TrialReport:
    """Run `try_in_this_process` in a fresh interpreter; a crash or hang is a failed trial."""
    payload = json.dumps({"files": dict(bundle.files)}, ensure_ascii=False)
    try:
        done = subprocess.run([sys.executable, "-m", "jixiao.registry.trial"], input=payload.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TrialReport(problems=[f"compiling the pack and running its cases took over {timeout:g} s "
                                     "(the rule engine hangs on some rulesets): refused"])
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return TrialReport(problems=[f"the trial process died ({how}) compiling the pack: {tail[0]}"])
    raw = json.loads(done.stdout)
    return TrialReport(problems=raw["problems"], cases_run=raw["cases_run"],
                       failures=[CaseFailure(**f) for f in raw["failures"]])


def main() -> None:
    bundle = Bundle(json.loads(sys.stdin.buffer.read().decode("utf-8"))["files"])
    report = try_in_this_process(bundle)
    json.dump(asdict(report), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
