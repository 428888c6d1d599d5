"""The summary as one self-contained HTML page: its template (templates/summary.html.j2,
autoescaped) with the charts as inline SVG, each figure with a <details> listing the keys
of the rows behind it. The bytes are a function of the summary and the language."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from .charts import grade_chart, indicator_chart
from .figures import Summary
from .labels import TEMPLATES, labels


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    return environment.get_template("summary.html.j2")


def render_page(summary: Summary, language: str) -> bytes:
    """The page's UTF-8 bytes."""
    words = labels(language)
    outline = summary.outline
    title = outline.title_en if language == "en" and outline.title_en else outline.title
    indicator_svg = indicator_chart(summary, language, "svg") if summary.indicators is not None else None

    def missing_text(figure: str) -> str:
        missing = next(m for m in summary.missing if m.figure == figure)
        return words["missing_line"].format(figure=words[f"figure_{figure}"], rows=missing.rows,
                                            field=missing.field, key=missing.first_key)

    page = _template().render(
        s=summary, w=words, language=language, title=words["title"].format(pack=title),
        grade_svg=_svg(grade_chart(summary, language, "svg")),
        indicator_svg=_svg(indicator_svg) if indicator_svg else None,
        leaf_names={leaf.id: leaf.called(language) for leaf in outline.leaves},
        dimension_names={d.id: d.called(language) for d in outline.dimensions},
        missing_text=missing_text)
    return page.encode("utf-8")


def _svg(document: bytes) -> Markup:
    """matplotlib's SVG without its XML prologue and doctype, to sit inside the page.
    Its text is drawn as paths from the summary's own labels: it is safe as it is."""
    text = document.decode("utf-8")
    return Markup(text[text.index("<svg"):])

