"""Fault injection for tests: make the engine adapter crash on a marker value. Never in production.

`JIXIAO_FAILPOINT_ENGINE_ABORT=<marker>` makes the process abort (SIGABRT, as the rule
engine's C code does when it fails) right before durable-rules would be given a fact
that holds the marker as a value: a decimal written exactly as the marker
(`JIXIAO_FAILPOINT_ENGINE_ABORT=123456.78` and `budget.spent: "123456.78"`) or a text
fact equal to it, among the facts the pack's rules read. It lets tests crash a server
process on demand, through the real server, to prove that a crash is contained
(containment.py). The variable is read once, when this module is first imported;
unset or empty, the switch costs one `is None` test per engine call.
"""

from __future__ import annotations

import os
import re

from ..core.identifiers import echo

ENGINE_ABORT_VARIABLE = "JIXIAO_FAILPOINT_ENGINE_ABORT"
_MARKER = re.compile(r"[0-9A-Za-z.+-]{1,64}")


class FailpointError(ValueError):
    """The failpoint variable holds something that cannot be a marker."""


def engine_abort_pattern(marker: str) -> re.Pattern[str] | None:
    """What finds `marker` as a whole value in the engine's fact JSON; None when `marker` is empty."""
    if not marker:
        return None
    if not _MARKER.fullmatch(marker):
        raise FailpointError(f"{ENGINE_ABORT_VARIABLE} must be 1-64 ASCII letters, digits, '.', '+' or '-', "
                             f"got {echo(marker)!r}")
    # A value follows `"aN": ` and ends at `,`, `}` or the end: a number as is, a text in quotes.
    return re.compile(r'(?<=": )(?:' + re.escape(marker) + '|"' + re.escape(marker) + r'")(?=[,}]|$)')


ENGINE_ABORT = engine_abort_pattern(os.environ.get(ENGINE_ABORT_VARIABLE, ""))


def abort_if_marked(facts: str) -> None:
    """Abort the process if the failpoint is set and `facts` (the fact's JSON for the engine, or
    its start) holds its marker."""
    if ENGINE_ABORT is not None and ENGINE_ABORT.search(facts):
        os.abort()


__all__ = ["ENGINE_ABORT", "ENGINE_ABORT_VARIABLE", "FailpointError", "abort_if_marked", "engine_abort_pattern"]
