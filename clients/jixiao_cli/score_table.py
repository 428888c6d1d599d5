"""The scored indicator tree as a table, laid out like a report's 评分表."""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text

from jixiao.core.decimals import plain
from jixiao.v1 import evaluation_pb2

from .cells import short_digest, tree_cell
from .grades import named
from .wrapping import Fitted, Wrapped

HEADINGS = {
    "zh": ("指标", "权重", "得分", "扣分", "说明"),
    "en": ("Indicator", "Weight", "Score", "Deducted", "Reason"),
}
SUMMARY = {
    "zh": "{ref}  sha256 {digest}  总分 {score} / {weight}  得分率 {rate}%  等级 {grade}",
    "en": "{ref}  sha256 {digest}  total {score} / {weight}  rate {rate}%  grade {grade}",
}
DIMENSION_NOTE = {"zh": "得分率 {rate}%，等级 {grade}", "en": "rate {rate}%, grade {grade}"}
TOTAL = {"zh": "合计", "en": "Total"}


def render_score_table(evaluation: evaluation_pb2.Evaluation, language: str = "zh",
                       grades: Mapping[str, str] | None = None) -> Group:
    """A summary line (pack, digest, total, grade) over the tree of every indicator's score.

    `grades` names the pack's grades in `language` (see grades.py); the evaluation's own
    Chinese names otherwise. Names and reasons wrap between words, numbers and CJK
    characters, never inside one, and names keep their tree indent.
    """
    grades = grades or {}
    summary = Text(SUMMARY[language].format(
        ref=f"{evaluation.pack_id}@{evaluation.version}",
        digest=short_digest(evaluation.digest),
        score=evaluation.score, weight=evaluation.total_weight,
        rate=evaluation.score_rate, grade=named(evaluation.grade, grades)), style="bold")
    table = Table(show_footer=True)
    name, weight, score, deducted, reason = HEADINGS[language]
    table.add_column(name, footer=TOTAL[language])
    table.add_column(weight, footer=evaluation.total_weight, justify="right", no_wrap=True)
    table.add_column(score, footer=evaluation.score, justify="right", no_wrap=True)
    table.add_column(deducted, footer=_deducted(evaluation.total_weight, evaluation.score),
                     justify="right", no_wrap=True)
    table.add_column(reason, footer=Wrapped(DIMENSION_NOTE[language].format(
        rate=evaluation.score_rate, grade=named(evaluation.grade, grades))))
    for top in evaluation.indicators:
        _add_rows(table, top, language, grades)
    return Group(summary, Fitted(table, {4: 2}))


def _add_rows(table: Table, node: evaluation_pb2.IndicatorScore, language: str,
              grades: Mapping[str, str]) -> None:
    if node.level == 1:
        note = DIMENSION_NOTE[language].format(rate=node.score_rate, grade=named(node.grade, grades))
    else:
        note = node.rationale
    deducted = _deducted(node.weight, node.score)
    table.add_row(
        tree_cell(node.name, node.level),
        node.weight,
        node.score,
        Text(deducted, style="yellow" if deducted != "0" else ""),
        Wrapped(note),
        style="bold" if node.level == 1 else None,
    )
    for child in node.children:
        _add_rows(table, child, language, grades)


def _deducted(weight: str, score: str) -> str:
    return plain(Decimal(weight) - Decimal(score))
