"""Any text a caller or a pack sends — pipes, markup, newlines, control characters, lone
surrogates — stays text: Markdown tables keep their columns, HTML gets no element of the
caller's, and the text reads back as sent (less the characters no format can hold)."""

from __future__ import annotations

import re
from dataclasses import replace

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.core.evaluation.results import Finding
from jixiao.report.html import render_html
from jixiao.report.markdown import render_markdown
from jixiao.report.outline import build_outline, clean

from .synthetic import evaluate_by_hand, make_pack, text_fact

SPECIALS = ["|", "\\|", "<", ">", "&", "&amp;", "\n", "\r\n", "\t", "\x00", "\x1b", "\ud800", "\ufffe", "`", "*", "_",
            "#", "- ", "1. ", "[a](b)", "</td>", "<script>", "<br>", "{{ x }}", "{% if %}", "$x$", "\u2028", "  "]
TEXTS = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(SPECIALS)), max_size=12).map("".join)
TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "p", "br", "table",
                 "thead", "tbody", "tr", "th", "td", "ol", "li", "span"}
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def read_back(text: str) -> str:
    """What a reader sees of `text` in a table cell or list item: its lines, stripped, run together."""
    return "".join(line.strip() for line in clean(text).splitlines() if line.strip())


def outline_of(name: str, problem: str, leaf_suffix: str):
    pack = make_pack(dimensions=1, groups=1, leaves=2, text=leaf_suffix, facts=(text_fact("project.name"),))
    evaluation = evaluate_by_hand(pack, findings=(Finding("x", problem, "d1"),), rationale=problem)
    outline = build_outline(pack, evaluation, {"project": {"name": name}})
    # The chart holds the pack's dimension names only, drawn as paths: left out here for speed.
    return replace(outline, blocks=tuple(b for b in outline.blocks if b.kind != "chart"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXTS, problem=TEXTS, leaf_suffix=TEXTS)
def test_markdown_tables_keep_their_columns(name, problem, leaf_suffix):
    text = render_markdown(outline_of(name, problem, leaf_suffix)).decode("utf-8")
    table: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            assert len({len(UNESCAPED_PIPE.findall(row)) for row in table}) == 1, table
            table = []
    assert set(re.findall(r"(?<!\\)<[^>]*>", text)) <= {"<br>"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXTS, problem=TEXTS, leaf_suffix=TEXTS)
def test_html_has_only_the_templates_elements_and_the_texts_read_back(name, problem, leaf_suffix):
    page = BeautifulSoup(render_html(outline_of(name, problem, leaf_suffix)).decode("utf-8"), "html.parser")
    assert {tag.name for tag in page.find_all(True)} <= TEMPLATE_TAGS
    basics = page.find("table", class_="basics")
    if read_back(name):
        assert basics.find("td").get_text() == read_back(name)
    else:
        assert basics is None  # a blank name is no information
    problems = page.find("ol", class_="findings")
    if read_back(problem):
        assert problems.find("li").get_text() == "1、" + read_back(problem)
    else:
        assert problems is None
    annex = page.find("table", class_="annex").find_all("tr")
    assert annex[3].find_all("td")[1].get_text() == read_back("指标1.1.1" + leaf_suffix)
