"""The scored indicator tree as a table, laid out like a report's 评分表."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text

from jixiao.core.decimals import plain
from jixiao.v1 import evaluation_pb2

from .cells import indented_name, short_digest

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


def render_score_table(evaluation: evaluation_pb2.Evaluation, language: str = "zh") -> Group:
    """A summary line (pack, digest, total, grade) over the tree of every indicator's score."""
    summary = Text(SUMMARY[language].format(
        ref=f"{evaluation.pack_id}@{evaluation.version}",
        digest=short_digest(evaluation.digest),
        score=evaluation.score, weight=evaluation.total_weight,
        rate=evaluation.score_rate, grade=evaluation.grade), style="bold")
    table = Table(show_footer=True)
    name, weight, score, deducted, reason = HEADINGS[language]
    table.add_column(name, footer=TOTAL[language], overflow="fold")
    table.add_column(weight, footer=evaluation.total_weight, justify="right", no_wrap=True)
    table.add_column(score, footer=evaluation.score, justify="right", no_wrap=True)
    table.add_column(deducted, footer=_deducted(evaluation.total_weight, evaluation.score),
                     justify="right", no_wrap=True)
    table.add_column(reason, footer=DIMENSION_NOTE[language].format(
        rate=evaluation.score_rate, grade=evaluation.grade), overflow="fold")
    for top in evaluation.indicators:
        _add_rows(table, top, language)
    return Group(summary, table)


def _add_rows(table: Table, node: evaluation_pb2.IndicatorScore, language: str) -> None:
    if node.level == 1:
        note = DIMENSION_NOTE[language].format(rate=node.score_rate, grade=node.grade)
    else:
        note = node.rationale
    deducted = _deducted(node.weight, node.score)
    table.add_row(
        indented_name(node.name, node.level),
        node.weight,
        node.score,
        Text(deducted, style="yellow" if deducted != "0" else ""),
        note,
        style="bold" if node.level == 1 else None,
    )
    for child in node.children:
        _add_rows(table, child, language)


def _deducted(weight: str, score: str) -> str:
    return plain(Decimal(weight) - Decimal(score))
