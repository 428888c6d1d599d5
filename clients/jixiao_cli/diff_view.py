"""What `jixiao pack diff` prints: every change between two pack versions, in pack order."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Column, Table
from rich.text import Text

from jixiao.core.diff import ChangeKind, PackDiff

ABSENT = "—"
KIND_STYLES = {
    ChangeKind.INDICATOR_ADDED: "green",
    ChangeKind.FACT_ADDED: "green",
    ChangeKind.RULE_ADDED: "green",
    ChangeKind.INDICATOR_REMOVED: "red",
    ChangeKind.FACT_REMOVED: "red",
    ChangeKind.RULE_REMOVED: "red",
}


def render_diff(diff: PackDiff) -> RenderableType:
    """A heading line, then kind | subject | detail | old | new; "no changes" when empty."""
    count = len(diff.changes)
    heading = Text(f"{diff.old_ref} → {diff.new_ref}: "
                   f"{count} change{'s' if count != 1 else ''}" if count else
                   f"{diff.old_ref} → {diff.new_ref}: no changes", style="bold")
    if diff.is_empty:
        return heading
    table = Table(Column("kind", no_wrap=True), Column("subject", no_wrap=True),
                  Column("detail", overflow="fold"), Column("old", overflow="fold"),
                  Column("new", overflow="fold"))
    for change in diff.changes:
        table.add_row(change.kind.value, change.subject or "(pack)", change.detail,
                      ABSENT if change.old is None else change.old,
                      ABSENT if change.new is None else change.new,
                      style=KIND_STYLES.get(change.kind))
    return Group(heading, table)


def diff_document(diff: PackDiff) -> dict:
    """The diff as JSON-ready data: the two refs and the list of changes."""
    return {
        "old": diff.old_ref,
        "new": diff.new_ref,
        "changes": [{"kind": c.kind.value, "subject": c.subject, "detail": c.detail,
                     "old": c.old, "new": c.new} for c in diff.changes],
    }
