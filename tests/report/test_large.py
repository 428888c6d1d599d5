"""A large pack renders whole: 200 leaves with long names and long rationales, in every
format, every leaf present (timings belong in bench/, not here)."""

from __future__ import annotations

import io

import docx
import pytest
from bs4 import BeautifulSoup

from jixiao.report import render_report

from .synthetic import evaluate_by_hand, make_pack

LONG = "很长的指标名称" * 15  # 105 characters after each name


@pytest.fixture(scope="module")
def large():
    pack = make_pack(dimensions=4, groups=5, leaves=10, text=LONG)
    evaluation = evaluate_by_hand(pack, rationale="依据充分" * 100)
    assert len(list(pack.leaves())) == 200
    return pack, evaluation, {fmt: render_report(pack, evaluation, {}, fmt).content
                              for fmt in ("docx", "markdown", "html")}


def leaf_names(evaluation) -> list[str]:
    return [n.name for n in evaluation.nodes() if not n.children]


def test_every_leaf_in_the_markdown(large):
    _pack, evaluation, content = large
    text = content["markdown"].decode("utf-8")
    for number, name in enumerate(leaf_names(evaluation)[:50], start=1):
        assert f"#### {number}、{name}（1分）" in text
    assert text.count("依据充分" * 100) == 2 * 200  # in the analysis and in the annex


def test_every_leaf_in_the_html(large):
    _pack, evaluation, content = large
    page = BeautifulSoup(content["html"].decode("utf-8"), "html.parser")
    annex = page.find("table", class_="annex").find_all("tr")[1:]
    assert [tr.find_all("td")[1].get_text() for tr in annex] == [n.name for n in evaluation.nodes()]
    # a dimension of 50 leaves: one row per leaf, not 50 columns
    tall = page.find_all("table", class_="leaves")[0]
    assert len(tall.find_all("tr")) == 1 + 50 and [th.get("colspan") for th in tall.find("tr").find_all("th")] == ["2", None, None]


def test_every_leaf_in_the_word_document(large):
    _pack, evaluation, content = large
    document = docx.Document(io.BytesIO(content["docx"]))
    annex = document.tables[-1]
    assert len(annex.rows) == 1 + len(list(evaluation.nodes()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
    assert headings == [f"{(i % 50) + 1}、{name}（1分）" for i, name in enumerate(leaf_names(evaluation))]
