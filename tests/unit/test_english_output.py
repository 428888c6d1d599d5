"""English replies: grades from the pack's `en`, singular and plural points, and no
Chinese punctuation inside English text."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.rationale import join_sentences, verdict
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

from .scoring_language_pack import compiled_scoring, facts

CHINESE_PUNCTUATION = re.compile(r"[。，；：（）“”、！？]")


@pytest.mark.parametrize("deducted, score, text", [
    (Decimal(1), Decimal(2), "Under the scoring rules, 1 point is deducted; score 2."),
    (Decimal("1.00"), Decimal("2.00"), "Under the scoring rules, 1 point is deducted; score 2."),
    (Decimal(2), Decimal(1), "Under the scoring rules, 2 points are deducted; score 1."),
    (Decimal("0.5"), Decimal("2.5"), "Under the scoring rules, 0.5 points are deducted; score 2.5."),
    (Decimal(0), Decimal(3), "Under the scoring rules, full marks: 3."),
])
def test_points_are_singular_only_for_one(deducted, score, text):
    assert verdict(deducted, score, "en") == text


def test_chinese_evidence_is_joined_without_its_punctuation():
    assert join_sentences("预算执行率90%。", "Under the scoring rules, full marks: 3.", "en") == (
        "预算执行率90%. Under the scoring rules, full marks: 3.")


@pytest.fixture(scope="module")
def quality_district():
    loaded = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / "1.0.0")
    yield loaded.compiled
    loaded.compiled.close()


def _facts_2019():
    with open(BUNDLED_PACKS.parent / "examples" / "quality-district-2019.facts.json", encoding="utf-8") as f:
        data = json.load(f)
    return data.get("facts", data)


def test_the_2019_grades_are_english_in_english_and_unchanged_in_chinese(quality_district):
    facts = _facts_2019()
    english, chinese = evaluate(quality_district, facts, "en"), evaluate(quality_district, facts)
    assert (chinese.score, chinese.grade) == (Decimal("75.03"), "中")
    assert (english.score, english.grade) == (Decimal("75.03"), "fair")
    # level 1 too: each dimension's grade is the English name of its Chinese one
    names = {"优": "excellent", "良": "good", "中": "fair", "差": "poor"}
    assert [names[n.grade] for n in chinese.indicators] == [n.grade for n in english.indicators]
    assert all(n.grade is None for top in english.indicators for n in top.walk() if n.level > 1)


def test_the_2019_english_rationales_have_no_chinese_punctuation_from_the_engine(quality_district):
    evaluation = evaluate(quality_district, _facts_2019(), "en")
    for node in evaluation.nodes():
        if node.rationale:
            # the verdict and every join the engine writes are English
            verdict_part = node.rationale[node.rationale.index("Under the scoring rules"):]
            assert not CHINESE_PUNCTUATION.search(verdict_part), node.rationale
    one_point = [n for n in evaluation.nodes() if n.children == () and n.scored_weight - n.score == 1]
    assert all("1 point is deducted" in n.rationale for n in one_point)


def test_not_applicable_and_override_notes_are_english():
    compiled = compiled_scoring("plain", "redistribute")
    evaluation = evaluate(compiled, facts(na__procurement=True, na__procurement_reason="no procurement this year",
                                          vouchers__noncompliant=10, output__completed="50"), "en")
    assert evaluation.grade == "poor"
    texts = [n.rationale for n in evaluation.nodes() if n.rationale] + [o.rationale for o in evaluation.overrides]
    assert any("Not applicable (no procurement this year); its weight is shared among the sibling" in t for t in texts)
    assert evaluation.node("effect.ecology").rationale == (
        "ecological benefit fairly good. Under the scoring rules it would score 15; because the decision indicators "
        "scored below 60%, it scores 0.")
    for text in texts:
        assert not CHINESE_PUNCTUATION.search(text), text
    assert {n.grade for n in evaluation.indicators} <= {"excellent", "good", "fair", "poor", None}


def test_a_text_given_in_chinese_only_is_filled_in_chinese_in_an_english_reply():
    # 是/否 and a choice's 较好 stay Chinese inside a Chinese sentence; the verdict is English.
    from jixiao.core.pack.model import FactSpec, FactType, Pack, SurveyOption, Text
    from jixiao.core.evaluation.scoring import Texts
    pack = Pack("t", "1.0.0", Text("t"), "", Decimal(100), (), (
        FactSpec("done", FactType.BOOLEAN, Text("完成", "done")),
        FactSpec("eco", FactType.CHOICE, Text("生态效益", "ecology"),
                 options=(SurveyOption("good", Text("好", "good")), SurveyOption("fair", Text("较好", "fairly good")))),
    ), ())
    values = {"done": True, "eco": "fair"}
    chinese_only = Texts(Text("是否完成：{done}；生态效益{eco}"), pack)
    assert chinese_only.render("en", {}, values) == chinese_only.render("zh", {}, values) == "是否完成：是；生态效益较好"
    both = Texts(Text("是否完成：{done}", "done: {done}; ecology {eco}"), pack)
    assert both.render("en", {}, values) == "done: yes; ecology fairly good"
