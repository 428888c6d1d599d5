"""A golden case in English compares the rationale_en it states (as a Chinese one compares
rationale_zh): a wrong English text is a failed expectation, with its line."""

from __future__ import annotations

import textwrap

import pytest

from jixiao.core.pack.cases import load_case, run_case

from .scoring_language_pack import compiled_scoring

#: The scoring language pack's ordinary project in English (see scoring_language_pack):
#: total 77 (fair); the vouchers leaf loses 3 × 0.5 = 1.5 of 10.
CASE = textwrap.dedent(
    """
    name: an English case
    language: {language}
    facts:
      vouchers: {{noncompliant: 3}}
      output: {{completed: "85", planned: "100"}}
      procurement: {{irregular: true}}
      budget: {{approved: "100", spent: "90"}}
      eco: {{level: fairly_good}}
      survey: {{planned: 40, done: 30}}
    expected:
      score: "77"
      grade: {grade}
      nodes:
        decision.vouchers:
          score: "8.5"
          rationale_en: "{text}"
    """
).lstrip()
RIGHT = "3 non-compliant vouchers, 0.5 points each. Under the scoring rules, 1.5 points are deducted; score 8.5."


@pytest.fixture(scope="module")
def compiled():
    pack = compiled_scoring("plain")
    yield pack
    pack.close()


def test_an_english_case_passes_with_the_right_english_rationale(compiled):
    case = load_case(CASE.format(language="en", grade="fair", text=RIGHT), "english.yaml")
    assert run_case(compiled, case).passed


def test_an_english_case_fails_on_a_wrong_english_rationale_naming_its_line(compiled):
    wrong = RIGHT.replace("score 8.5", "score 8.50")
    case = load_case(CASE.format(language="en", grade="fair", text=wrong), "english.yaml")
    [mismatch] = run_case(compiled, case).mismatches
    assert (mismatch.node, mismatch.field, mismatch.expected, mismatch.actual) == (
        "decision.vouchers", "rationale_en", wrong, RIGHT)
    assert mismatch.line == CASE.splitlines().index('      rationale_en: "{text}"') + 1


def test_a_chinese_case_does_not_compare_an_english_rationale(compiled):
    case = load_case(CASE.format(language="zh", grade="中", text="not compared in a Chinese case"), "chinese.yaml")
    assert run_case(compiled, case).passed
