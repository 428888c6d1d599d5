"""--lang en: every fixed phrase English. With an English project name and unit, the report
has no CJK character at all (the pack gives English names, rationales and findings)."""

from __future__ import annotations

import copy
import io
import re

import docx
import pytest
from bs4 import BeautifulSoup

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.report import render_report
from jixiao.report.phrases import phrases

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def english(loaded_pack, pack, facts_2019):
    facts = copy.deepcopy(dict(facts_2019))
    facts["project"] = dict(facts["project"], name="Quality district funding", unit="Wuchang market supervision bureau")
    facts.pop("evaluation", None)  # the observations are the evaluators' Chinese texts
    evaluation = evaluate(loaded_pack.compiled, facts, "en")
    return {fmt: render_report(pack, evaluation, facts, fmt).content for fmt in ("docx", "markdown", "html")}


def strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def test_the_english_phrases_have_no_cjk():
    assert [s for s in strings(phrases("en")._data) if CJK.search(s)] == []
    assert [s for s in strings(phrases("zh")._data) if CJK.search(s)]  # the check reads texts


def test_markdown_has_no_cjk(english):
    text = english["markdown"].decode("utf-8")
    assert [line for line in text.splitlines() if CJK.search(line)] == []
    assert "## 4. Problems found" in text and "## 5. Recommendations" in text


def test_html_text_has_no_cjk(english):
    page = BeautifulSoup(english["html"].decode("utf-8"), "html.parser")
    page.style.decompose()  # the stylesheet names CJK fonts
    assert [s for s in page.stripped_strings if CJK.search(s)] == []
    assert page.html["lang"] == "en"


def test_word_text_has_no_cjk(english):
    document = docx.Document(io.BytesIO(english["docx"]))
    texts = [p.text for p in document.paragraphs]
    texts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert [t for t in texts if CJK.search(t)] == []
    assert "Annex 2: scoring table" in texts


TITLE_EN = "Performance evaluation report: 质量强区工作经费"


def test_the_title_is_english_around_the_projects_own_name(reports_2019_en, facts_2019):
    """The project's name is the request's data (Chinese here); everything around it in the
    title is English and reads as a title: the fixed words first, then the name."""
    name = facts_2019["project"]["name"]
    assert TITLE_EN.endswith(name)
    page = BeautifulSoup(reports_2019_en["html"].content.decode("utf-8"), "html.parser")
    assert page.title.string == TITLE_EN and page.h1.string == TITLE_EN
    assert reports_2019_en["markdown"].content.decode("utf-8").splitlines()[0] == f"# {TITLE_EN}"
    document = docx.Document(io.BytesIO(reports_2019_en["docx"].content))
    assert document.paragraphs[0].text == TITLE_EN and document.core_properties.title == TITLE_EN
    assert not CJK.search(TITLE_EN.replace(name, ""))
    assert not CJK.search(phrases("en")["title"])


def test_only_the_projects_data_is_chinese_in_the_english_report_of_chinese_facts(reports_2019_en, facts_2019):
    """With the 2019 facts as given (Chinese name, unit and observations), every line of the
    English Markdown with a CJK character holds one of those facts' texts."""
    data = [facts_2019["project"]["name"], facts_2019["project"]["unit"],
            *facts_2019["evaluation"]["observed_problems"], *facts_2019["evaluation"]["observed_recommendations"]]
    text = reports_2019_en["markdown"].content.decode("utf-8")
    for line in text.splitlines():
        rest = line
        for value in data:
            rest = rest.replace(value, "")
        assert not CJK.search(rest), line
