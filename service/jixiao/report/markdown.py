"""The report as Markdown (CommonMark with GitHub tables), written by templates/report.md.j2.

Every text from the pack or the caller is escaped: Markdown's punctuation is backslashed,
a table cell's `|` cannot end the cell and its newlines become <br>, so a fact text cannot
break a table or inject markup. No chart: Markdown has no place for one."""

from __future__ import annotations

import re

from .outline import Outline
from .templating import environment

# ASCII punctuation Markdown (or raw HTML inside it) gives a meaning anywhere in a line.
_INLINE = re.compile(r"([\\`*_\[\]{}<>|#~!&$])")
# What gives a meaning at the start of a paragraph's line: a numbered-list marker ("1. ",
# "1) "), a bullet ("- ", "+ "), a heading underline ("===", "---").
_LINE_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+])(?=\s|$)|^([=-])(?=[=-]*\s*$)")


def escape_inline(text: str) -> str:
    """Text inside a line (a table cell), shown as written."""
    return _INLINE.sub(r"\\\1", text.strip())


def escape_line(line: str) -> str:
    """A paragraph's line, shown as written."""
    line = escape_inline(line)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3) or m.group(4)}", line)


def md(text: str) -> str:
    """A paragraph: each line escaped, lines kept apart by hard breaks."""
    lines = [escape_line(line) for line in str(text).splitlines() if line.strip()]
    return "\\\n".join(lines)


def cell(text: str) -> str:
    """A table cell: escaped, on one line (newlines become <br>)."""
    return "<br>".join(escape_inline(line) for line in str(text).splitlines() if line.strip())


def item(text: str, indent: str = "   ") -> str:
    """A list item's text: continuation lines indented under the marker."""
    return md(text).replace("\n", "\n" + indent)


def render_markdown(outline: Outline) -> bytes:
    env = environment(html=False)
    template = env.get_template("report.md.j2")
    text = template.render(outline=outline, md=md, cell=cell, item=item)
    return text.encode("utf-8")
