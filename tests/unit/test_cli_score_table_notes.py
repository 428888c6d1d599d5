"""What the score table adds for overrides, not-applicable indicators and ignored facts,
rendered by rich in a 120-column terminal from replies built as the server builds them."""

from __future__ import annotations

import os
from decimal import Decimal

from rich.cells import cell_len
from rich.console import Console

from jixiao.api import convert
from jixiao.core.evaluation.results import Evaluation, NodeResult, OverrideResult
from jixiao_cli.score_table import render_score_table

WIDTH = 120


def rendered(evaluation: Evaluation, language: str = "zh", grades: dict | None = None) -> list[str]:
    console = Console(width=WIDTH, record=True, color_system=None, file=open(os.devnull, "w"))
    console.print(render_score_table(convert.evaluation_message(evaluation), language, grades))
    lines = console.export_text().splitlines()
    assert all(cell_len(line) <= WIDTH for line in lines)
    return lines


def leaf(id_: str, weight: str, score: str, **fields) -> NodeResult:
    return NodeResult(id_, id_.rsplit(".", 1)[-1], 2, Decimal(weight), Decimal(score), Decimal("0.00"), None,
                      "ratio", **fields)


def evaluation(language: str = "zh") -> Evaluation:
    said = {"zh": ("产出不合格，效益不得分", "一票否决", "本年度培训取消"),
            "en": ("output failed: no benefit scores", "vetoed", "no training this year")}[language]
    # A redistributed sibling whose share does not end: 8 × 40 ÷ 30 = 10.666…
    share = Decimal(8) * Decimal(40) / Decimal(30)
    children = (
        leaf("output.training", "10", "0", effective_weight=Decimal(0), not_applicable=True,
             not_applicable_reason=said[2], rationale=""),
        leaf("output.expert", "8", "9.33", effective_weight=share, rationale="专家评分"),
        leaf("output.quantity", "22", "22", effective_weight=Decimal("29.33333333333333333333333333")),
    )
    output = NodeResult("output", "产出", 1, Decimal(40), Decimal("31.33"), Decimal("78.33"), "中",
                        children=children, effective_weight=Decimal(40))
    effect = NodeResult("effect", "效益", 1, Decimal(60), Decimal(0), Decimal("0.00"), "差",
                        children=(leaf("effect.ecology", "60", "0", overridden_by=("override#output_failed",),
                                       rationale="因产出不合格，该指标不得分。"),),
                        overridden_by=("override#output_failed",))
    return Evaluation(
        "demo", "1.0.0", "ab" * 32, language, Decimal(100), Decimal("31.33"), Decimal("31.33"), "差",
        (output, effect),
        overrides=(OverrideResult("override#output_failed", "zero", "effect", "55", "0", said[0]),
                   OverrideResult("override#veto", "grade", "total", "中", "差", said[1])),
        ignored_facts=("budget.spnt",), not_applicable_treatment="redistribute")


def test_overrides_treatment_and_ignored_facts_come_above_the_tree_and_the_total_names_the_veto() -> None:
    lines = rendered(evaluation())
    assert lines[0].endswith("等级 差（一票否决）")
    heading = next(i for i, line in enumerate(lines) if line.startswith("┃ 指标"))
    above = "\n".join(lines[:heading])
    assert "override#output_failed" in above and "55 → 0" in above and "不得分" in above
    assert "override#veto" in above and "中 → 差" in above
    assert "其权重按比例分配至同级指标" in above and "已忽略的未知事实：budget.spnt" in above
    total = next(line for line in lines if line.startswith("│ 合计"))
    assert "等级 差（一票否决：override#veto）" in total


def test_na_leaves_are_marked_with_their_reason_and_unending_shares_are_shown_rounded() -> None:
    lines = rendered(evaluation())
    training = next(line for line in lines if "training" in line)
    assert "不适用" in training and "10→0" in training and "不适用：本年度培训取消" in training
    expert = next(line for line in lines if "expert" in line)
    assert "8→≈10.67" in expert and "≈1.34" in expert  # deducted 10.666… − 9.33
    quantity = next(line for line in lines if "quantity" in line)
    assert "22→≈29.33" in quantity
    effect = next(line for line in lines if line.startswith("│ 效益"))
    assert "（经override#output_failed调整）" in effect


def test_english_says_everything_in_english_with_the_packs_grade_names() -> None:
    lines = rendered(evaluation("en"), "en", {"中": "fair", "差": "poor"})
    text = "\n".join(lines)
    assert lines[0].endswith("grade poor (vetoed)")
    assert "fair → poor" in text and "N/A" in text and "not applicable: no training this year" in text
    assert "Unknown facts ignored: budget.spnt" in text and "(adjusted by override#output_failed)" in text
    assert "grade poor (vetoed: override#veto)" in text
    for chinese in ("等级", "合计", "不适用", "一票否决", "总分", "已忽略", "得分率", "（"):  # names are the reply's own
        assert chinese not in text


def capped(language: str, before: str = "93.5", after: str = "80") -> Evaluation:
    said = {"zh": "审计发现问题，总分封顶80分", "en": "audit findings: the total is capped at 80"}[language]
    output = NodeResult("output", "产出", 1, Decimal(100), Decimal(before), Decimal(before), "优",
                        children=(leaf("output.quantity", "100", before),))
    return Evaluation(
        "demo", "1.0.0", "ab" * 32, language, Decimal(100), Decimal(after), Decimal(after), "良", (output,),
        overrides=(OverrideResult("override#audit_cap", "cap", "total", before, after, said),))


def test_a_capped_total_names_the_cap_on_the_total_row_and_the_override_table_says_total() -> None:
    lines = rendered(capped("zh"), "zh")
    total = next(line for line in lines if line.startswith("│ 合计"))
    assert "（封顶：override#audit_cap）" in total
    row = next(line for line in lines if "override#audit_cap" in line and "93.5 → 80" in line)
    assert "封顶" in row and "总分" in row

    lines = rendered(capped("en"), "en", {"优": "excellent", "良": "good"})
    total = next(line for line in lines if line.startswith("│ Total"))
    assert "(capped: override#audit_cap)" in total
    row = next(line for line in lines if "override#audit_cap" in line and "93.5 → 80" in line)
    assert "│ cap " in row and "│ Total " in row
    assert not any(chinese in "\n".join(lines) for chinese in ("封顶", "总分", "合计", "（"))


def test_a_cap_above_the_total_changed_nothing_and_the_total_row_does_not_say_capped() -> None:
    lines = rendered(capped("zh", before="75", after="75"), "zh")
    total = next(line for line in lines if line.startswith("│ 合计"))
    assert "封顶" not in total
