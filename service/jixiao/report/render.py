"""render_report: an evaluation as a Word, Markdown or HTML report, with its media type and
file name. Markdown and HTML are pure functions of their inputs (the same bytes on every
machine and in every process); the Word file carries fixed dates and zip times, so it is
byte-stable too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from jixiao.core.evaluation.results import Evaluation
from jixiao.core.pack.model import Pack

from .outline import build_outline

REPORT_FORMATS = ("docx", "markdown", "html")
SUFFIXES = {"docx": ".docx", "markdown": ".md", "html": ".html"}
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class RenderedReport:
    content: bytes
    media_type: str
    file_name: str


def render_report(pack: Pack, evaluation: Evaluation, facts: Mapping[str, Any], fmt: str) -> RenderedReport:
    """The report of `evaluation`, scored with `pack` from the request's `facts` (nested, as
    the evaluator received them), in the evaluation's language, as `fmt` (REPORT_FORMATS)."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(REPORT_FORMATS)}")
    outline = build_outline(pack, evaluation, facts)
    if fmt == "markdown":
        from .markdown import render_markdown
        content = render_markdown(outline)
    elif fmt == "html":
        from .html import render_html
        content = render_html(outline)
    else:
        from .docx import render_docx
        content = render_docx(outline)
    return RenderedReport(content=content, media_type=MEDIA_TYPES[fmt],
                          file_name=f"{pack.id}-{pack.version}-report{SUFFIXES[fmt]}")
