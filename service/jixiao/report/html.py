"""The report as one self-contained HTML page, written by templates/report.html.j2 with
autoescape on (pack and caller texts are untrusted), the chart inline as SVG (its text drawn
as paths: no font needed to view it)."""

from __future__ import annotations

from markupsafe import Markup, escape

from .chart import inline_svg, rates_chart
from .outline import Chart, Outline
from .templating import environment


def lines(text: str) -> Markup:
    """A text with its line breaks kept: each line escaped, joined by <br>."""
    return Markup("<br>").join(escape(line.strip()) for line in str(text).splitlines() if line.strip())


def chart_svg(chart: Chart) -> Markup:
    """The chart as an inline <svg> element. Markup: the SVG is drawn here (labels as
    paths, comments removed), no caller text reaches it as markup."""
    svg = rates_chart(chart.labels, chart.rates, chart.thresholds, chart.axis, "svg")
    return Markup(inline_svg(svg))


def render_html(outline: Outline) -> bytes:
    template = environment(html=True).get_template("report.html.j2")
    return template.render(outline=outline, lines=lines, chart_svg=chart_svg).encode("utf-8")
