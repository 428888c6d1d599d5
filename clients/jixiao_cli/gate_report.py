"""What `jixiao pack publish` prints when the gate refuses a pack: every problem, and every
failing golden case node with its expected and actual value.

The gate's PreconditionFailure names a golden case failure as subject
`<case file>:<node id>.<field>` and description `expected <value>, got <value>`; a
problem loading the pack is a violation of type PACK.
"""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .client import JixiaoError, PreconditionViolation

GOLDEN_CASE = "GOLDEN_CASE"
_SUBJECT = re.compile(r"^(?P<case>[^:]*):(?P<node>.+)\.(?P<field>[^.]+)$")
_OUTCOME = re.compile(r"^expected (?P<expected>.*), got (?P<actual>.*)$", re.DOTALL)


def render_gate_refusal(error: JixiaoError) -> RenderableType | None:
    """What the one-line refusal on stderr leaves out: the pack's other problems, then a
    table of the failing case nodes; None when the line says it all."""
    failures = [v for v in error.preconditions if v.type == GOLDEN_CASE]
    problems = [v.description for v in error.preconditions
                if v.type != GOLDEN_CASE and v.description not in error.message]
    if not failures and not problems:
        return None
    parts: list[RenderableType] = [Text("REFUSED", style="bold red")]
    parts.extend(Text(f"     {problem}") for problem in problems)
    if failures:
        table = Table("case", "node", "field", "expected", "actual")
        for violation in failures:
            table.add_row(*_golden_case_cells(violation))
        parts.append(table)
    return Group(*parts)


def _golden_case_cells(violation: PreconditionViolation) -> tuple[str, str, str, str, str]:
    subject = _SUBJECT.match(violation.subject)
    outcome = _OUTCOME.match(violation.description)
    case, node, field = subject.group("case", "node", "field") if subject else ("", violation.subject, "")
    expected, actual = outcome.group("expected", "actual") if outcome else (violation.description, "")
    return case, node, field, expected, actual
