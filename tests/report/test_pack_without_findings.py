"""A bundled pack version that defines no findings and no observations (quality-district-funding
1.1.0) never claims that the evaluation found no problem: nothing looked for problems. Its
report says the indicator system defines no rules for them, and its conclusion promises none
"below"."""

from __future__ import annotations

import pytest

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.model import Observations
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao.report import render_report

PACK_DIR = BUNDLED_PACKS / "quality-district-funding" / "1.1.0"


@pytest.fixture(scope="module")
def markdown_110():
    loaded = load_pack_dir(PACK_DIR)
    try:
        assert loaded.pack.findings == () and loaded.pack.observations == Observations()
        [case] = [c for c in loaded.cases if c.file.endswith("/2019.yaml")]
        out = {}
        for language in ("zh", "en"):
            evaluation = evaluate(loaded.compiled, case.facts, language)
            assert evaluation.score < evaluation.total_weight  # it lost points
            out[language] = render_report(loaded.pack, evaluation, case.facts, "markdown").content.decode("utf-8")
        return out
    finally:
        loaded.compiled.close()


def chapter(markdown: str, heading: str) -> list[str]:
    """The non-blank lines between the chapter heading `## heading` and the next chapter."""
    lines = markdown.splitlines()
    start = lines.index(f"## {heading}")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    return [line for line in lines[start + 1:end] if line.strip()]


def test_chinese(markdown_110):
    text = markdown_110["zh"]
    assert chapter(text, "四、存在的问题") == [
        "本评价指标体系未设定存在问题的认定规则，本部分不列示问题，由评价人员根据评价情况补充。"]
    assert chapter(text, "五、有关建议") == [
        "本评价指标体系未设定有关建议的提出规则，本部分不列示建议，由评价人员根据评价情况补充。"]
    [conclusion] = [line for line in text.splitlines() if line.startswith("综上")]
    assert conclusion.endswith("效益评价结果为良。本评价指标体系未设定存在问题的认定规则，问题及建议由评价人员补充。")
    assert "见下文" not in text and "未发现需要说明的问题" not in text and "未提出建议" not in text


def test_english(markdown_110):
    text = markdown_110["en"]
    assert chapter(text, "4. Problems found") == [
        "The indicator system defines no rules for problems, so this section lists none; "
        "the evaluators add the problems they find."]
    assert chapter(text, "5. Recommendations") == [
        "The indicator system defines no rules for recommendations, so this section lists none; "
        "the evaluators add their recommendations."]
    [conclusion] = [line for line in text.splitlines() if line.startswith("In sum")]
    assert conclusion.endswith("Benefit graded good. The indicator system defines no rules for problems; "
                               "the evaluators add any problems and recommendations.")
    assert "follow." not in text and "found no problem" not in text
