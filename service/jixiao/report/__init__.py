"""The evaluation report (评价报告): an evaluation rendered as Word, Markdown or HTML."""

from .render import MEDIA_TYPES, REPORT_FORMATS, SUFFIXES, RenderedReport, render_report

__all__ = ["MEDIA_TYPES", "REPORT_FORMATS", "SUFFIXES", "RenderedReport", "render_report"]
