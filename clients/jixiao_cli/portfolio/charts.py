"""The summary's bar charts: the grade distribution and the indicators losing the most
points, as PNG (for the workbook) or SVG (inline in the HTML), Chinese labels drawn with
the CJK font the install ships (jixiao.report.fonts).

The bytes are a function of the data alone: the SVG's ids come from a fixed hash salt,
and neither format carries a date.
"""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal
from typing import Sequence

from .figures import Summary
from .labels import labels

TOP_INDICATORS = 10
#: An indicator name wider than this (a Chinese character counts 2, a Latin letter 1) is cut.
NAME_WIDTH = 48


def grade_chart(summary: Summary, language: str, fmt: str) -> bytes:
    """Projects per grade, in the pack's grade order."""
    words = labels(language)
    return _bars([grade.grade.called(language) for grade in summary.grades],
                 [Decimal(grade.count) for grade in summary.grades],
                 words["chart_grades"], words["chart_projects"], fmt, horizontal=False)


def indicator_chart(summary: Summary, language: str, fmt: str) -> bytes | None:
    """The indicators losing the most points (up to TOP_INDICATORS), or None when none lost any."""
    losing = [loss for loss in summary.indicators or () if loss.total > 0][:TOP_INDICATORS]
    if not losing:
        return None
    words = labels(language)
    return _bars([_cut(loss.leaf.called(language)) for loss in losing], [loss.total for loss in losing],
                 words["chart_indicators"].format(count=len(losing)), words["chart_points"], fmt,
                 horizontal=True)


def _cut(name: str) -> str:
    width = 0
    for position, character in enumerate(name):
        width += 2 if unicodedata.east_asian_width(character) in "WF" else 1
        if width > NAME_WIDTH:
            return name[:position - 1] + "…"
    return name


def _bars(names: Sequence[str], values: Sequence[Decimal], title: str, axis: str, fmt: str,
          horizontal: bool) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jixiao.report.fonts import cjk_font_family

    settings = {"font.family": [cjk_font_family(), "DejaVu Sans"], "svg.hashsalt": "jixiao-summary",
                "axes.unicode_minus": False}
    with matplotlib.rc_context(settings):
        height = max(3.0, 0.45 * len(names) + 1.2) if horizontal else 3.6
        figure, axes = plt.subplots(figsize=(7.5, height), dpi=110)
        try:
            numbers = [float(value) for value in values]
            positions = list(range(len(names)))
            if horizontal:
                bars = axes.barh(positions, numbers, color="#4C72B0")
                axes.set_yticks(positions, list(names))
                axes.invert_yaxis()
                axes.set_xlabel(axis)
            else:
                bars = axes.bar(positions, numbers, color="#4C72B0")
                axes.set_xticks(positions, list(names))
                axes.set_ylabel(axis)
            axes.bar_label(bars, labels=[_plain(value) for value in values], padding=2)
            axes.set_title(title)
            axes.margins(x=0.12 if horizontal else 0.05, y=0.05 if horizontal else 0.15)
            for side in ("top", "right"):
                axes.spines[side].set_visible(False)
            figure.tight_layout()
            buffer = io.BytesIO()
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(buffer, format=fmt, metadata=metadata)
            return buffer.getvalue()
        finally:
            plt.close(figure)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
