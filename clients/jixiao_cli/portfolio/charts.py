"""The summary's bar charts: the grade distribution and the indicators losing the most
points, as PNG (for the workbook) or SVG (inline in the HTML).

Drawn by the report's chart helper (jixiao.report.chart.bar_chart): the CJK font the
install ships, SVG text as paths, no date: the bytes are a function of the data alone.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from jixiao.core.decimals import fixed2
from jixiao.report.chart import bar_chart, wrap_label

from .figures import Summary
from .labels import labels

TOP_INDICATORS = 10
COLOUR = "#4C72B0"
#: An indicator's name on at most two lines: words wrap at 34 characters, Chinese at 17;
#: a name longer than two lines ends in …
indicator_label = partial(wrap_label, words=34, chars=17, lines=2)


def grade_chart(summary: Summary, language: str, fmt: str) -> bytes:
    """Projects per grade, in the pack's grade order; the axis counts whole projects."""
    words = labels(language)
    counts = [Decimal(grade.count) for grade in summary.grades]
    return bar_chart([grade.grade.called(language) for grade in summary.grades], counts, fmt=fmt,
                     title=words["chart_grades"], axis_label=words["chart_projects"], top=max(counts),
                     whole_numbers=True, colour=COLOUR)


def indicator_chart(summary: Summary, language: str, fmt: str) -> bytes | None:
    """The indicators losing the most points (up to TOP_INDICATORS), or None when none lost any."""
    losing = [loss for loss in summary.indicators or () if loss.total > 0][:TOP_INDICATORS]
    if not losing:
        return None
    words = labels(language)
    return bar_chart([loss.leaf.called(language) for loss in losing], [loss.total for loss in losing], fmt=fmt,
                     title=words["chart_indicators"].format(count=len(losing)), axis_label=words["chart_points"],
                     top=losing[0].total, value_labels=[fixed2(loss.total) for loss in losing],
                     horizontal=True, wrap=indicator_label, colour=COLOUR)
