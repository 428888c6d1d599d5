"""What `jixiao pack test` prints: an invalid pack's problems, or each case's PASS or FAIL."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from jixiao.core.pack.cases import CaseResult, run_case
from jixiao.core.errors import PackError
from jixiao.packs import LoadedPack


def run_cases(loaded: LoadedPack) -> list[CaseResult]:
    """Evaluate every golden case of a loaded pack against its expected result."""
    return [run_case(loaded.compiled, case) for case in loaded.cases]


def render_case_result(outcome: CaseResult, directory: Path) -> RenderableType:
    """A PASS or FAIL line; for a failure, a table of the case file's line of each failed
    expectation, its node, field, expected and actual value."""
    case = outcome.case
    where = _relative(Path(case.file), directory) if case.file else ""
    verdict = Text("PASS", style="bold green") if outcome.passed else Text("FAIL", style="bold red")
    line = Text.assemble(verdict, f" {case.name}", (f"  {where}", "dim"))
    if outcome.passed:
        return line
    table = Table("line", "node", "field", "expected", "actual")
    for mismatch in outcome.mismatches:
        at = str(mismatch.line) if mismatch.line is not None else ""
        table.add_row(at, mismatch.node, mismatch.field, mismatch.expected, mismatch.actual)
    return Group(line, Padding(table, (0, 0, 0, 5), expand=False))


def render_pack_problems(error: PackError, directory: Path) -> RenderableType:
    """An INVALID line for a pack that failed to load, then every problem found."""
    lines = [Text.assemble(("INVALID", "bold red"), f" {directory}")]
    lines.extend(Text(f"     {problem}") for problem in error.problems)
    return Group(*lines)


def render_summary(outcomes: list[CaseResult]) -> Text:
    """"2 passed, 1 failed"."""
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    return Text(f"{len(outcomes) - failed} passed, {failed} failed",
                style="bold red" if failed else "bold green")


def _relative(path: Path, directory: Path) -> str:
    try:
        return str(path.resolve().relative_to(directory.resolve()))
    except ValueError:
        return str(path)
