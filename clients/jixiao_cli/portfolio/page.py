"""The summary as one self-contained HTML page: its template (templates/summary.html.j2,
autoescaped) with the charts as inline SVG, each figure with a <details> listing the keys
of the rows behind it. Scores, points, rates and shares are shown with two places, as in
the workbook (a data-value attribute keeps a row's value as the row writes it). The bytes
are a function of the summary and the language."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from markupsafe import Markup

from jixiao.core.decimals import fixed2
from jixiao.report.chart import inline_svg

from .charts import grade_chart, indicator_chart
from .figures import Summary
from .labels import TEMPLATES, finding_wording, labels, missing_line


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    environment.filters["num"] = _number
    return environment.get_template("summary.html.j2")


def render_page(summary: Summary, language: str) -> bytes:
    """The page's UTF-8 bytes."""
    words = labels(language)
    outline = summary.outline
    title = outline.title_en if language == "en" and outline.title_en else outline.title
    indicator_svg = indicator_chart(summary, language, "svg") if summary.indicators is not None else None

    page = _template().render(
        s=summary, w=words, language=language, title=words["title"].format(pack=title),
        grade_svg=_svg(grade_chart(summary, language, "svg")),
        indicator_svg=_svg(indicator_svg) if indicator_svg else None,
        leaf_names={leaf.id: leaf.called(language) for leaf in outline.leaves},
        dimension_names={d.id: d.called(language) for d in outline.dimensions},
        missing_text=lambda figure: missing_line(summary, figure, words),
        wording=lambda finding: finding_wording(finding, words))
    return page.encode("utf-8")


def _number(value: Decimal | None) -> str:
    """A score, points, rate or share with two places; nothing for no value."""
    return "" if value is None else fixed2(value)


def _svg(document: bytes) -> Markup:
    """The chart as an element inside the page (report.chart.inline_svg: no XML prologue,
    no comments, which would hold the labels' text as it is). Its text is drawn as paths:
    it is safe as it is."""
    return Markup(inline_svg(document))
