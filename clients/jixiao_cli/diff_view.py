"""What `jixiao pack diff` prints: every change between two pack versions, in pack order."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jixiao.core.pack.diff import ChangeKind, PackDiff

from .wrapping import Fitted, add_wrapped_row

ABSENT = "—"
KIND_STYLES = {
    **{kind: "green" for kind in ChangeKind if kind.value.endswith("_added")},
    **{kind: "red" for kind in ChangeKind if kind.value.endswith("_removed")},
}


WORDS = {
    "zh": {"headings": ("变化", "对象", "内容", "旧", "新"), "pack": "（包）",
           "count": "{count} 处变化", "none": "没有变化"},
    "en": {"headings": ("kind", "subject", "detail", "old", "new"), "pack": "(pack)",
           "count": "{count} change{s}", "none": "no changes"},
}


def render_diff(diff: PackDiff, language: str = "zh") -> RenderableType:
    """A heading line, then kind | subject | detail | old | new; "no changes" when empty.

    Headings follow `language`; the kinds stay the names `--format json` gives. Subjects
    (indicator ids, fact names) and rule texts wrap only after a dot or between words.
    """
    words = WORDS[language]
    count = len(diff.changes)
    said = (words["count"].format(count=count, s="s" if count != 1 else "") if count else words["none"])
    heading = Text(f"{diff.old_ref} → {diff.new_ref}: {said}", style="bold")
    if diff.is_empty:
        return heading
    table = Table(*words["headings"])
    table.columns[0].no_wrap = True
    for change in diff.changes:
        add_wrapped_row(table, change.kind.value, change.subject or words["pack"], change.detail,
                        ABSENT if change.old is None else change.old,
                        ABSENT if change.new is None else change.new,
                        style=KIND_STYLES.get(change.kind))
    return Group(heading, Fitted(table, {3: 2, 4: 2}))


def diff_document(diff: PackDiff) -> dict:
    """The diff as JSON-ready data: the two refs and the list of changes."""
    return {
        "old": diff.old_ref,
        "new": diff.new_ref,
        "changes": [{"kind": c.kind.value, "subject": c.subject, "detail": c.detail,
                     "old": c.old, "new": c.new} for c in diff.changes],
    }
