"""What `jixiao rescore` prints: one case's scores under two pack versions, side by side.

Rows follow the newer version's indicator tree; an indicator only the older version has
sits right after the one that preceded it there. A row changed when its weight or score
differs (the weight it is scored on, when an indicator is not applicable), or when it
exists in only one version. A weight a not-applicable treatment changed shows as
`old→new`, a not-applicable indicator's score as 不适用 (N/A), a grade an override
forced with its mark (差（一票否决）).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Mapping

from rich.console import Group, RenderableType
from rich.table import Column, Table
from rich.text import Text

from jixiao.core.decimals import plain
from jixiao.core.pack.diff import merged_order
from jixiao.v1 import evaluation_pb2

from .cells import short_digest, tree_cell
from .score_table import NOT_APPLICABLE_SCORE, WORDS, total_grade, weight_text
from .wrapping import Fitted

ABSENT = "—"
HEADINGS = {
    "zh": {"indicator": "指标", "weight": "权重\n{version}", "score": "得分\n{version}", "delta": "差额",
           "total": "合计", "rate": "得分率", "grade": "等级", "changed": "{count} 个指标得分或权重有变化"},
    "en": {"indicator": "Indicator", "weight": "Weight\n{version}", "score": "Score\n{version}",
           "delta": "Change", "total": "Total", "rate": "Rate", "grade": "Grade",
           "changed": "{count} indicators changed score or weight"},
}


@dataclass(frozen=True)
class RescoreRow:
    """One indicator's weight and score under the old and the new version (None: absent)."""

    id: str
    name: str
    level: int
    old: evaluation_pb2.IndicatorScore | None
    new: evaluation_pb2.IndicatorScore | None

    @property
    def delta(self) -> Decimal | None:
        if self.old is None or self.new is None:
            return None
        return Decimal(self.new.score) - Decimal(self.old.score)

    @property
    def changed(self) -> bool:
        if self.old is None or self.new is None:
            return True
        return _compared(self.old) != _compared(self.new)


def compare_scores(old: evaluation_pb2.Evaluation, new: evaluation_pb2.Evaluation) -> list[RescoreRow]:
    """Every indicator of either evaluation, paired by id."""
    old_nodes = dict(_walk(old.indicators))
    new_nodes = dict(_walk(new.indicators))
    rows = []
    for node_id in merged_order(list(old_nodes), list(new_nodes)):
        before, after = old_nodes.get(node_id), new_nodes.get(node_id)
        shown = after or before
        rows.append(RescoreRow(node_id, shown.name, shown.level, before, after))
    return rows


def render_rescore(old: evaluation_pb2.Evaluation, new: evaluation_pb2.Evaluation,
                   language: str = "zh", grades: Mapping[str, str] | None = None) -> RenderableType:
    """The two versions and digests, a row per indicator (changed rows highlighted),
    then the totals and grades (named in `language` by `grades`, see grades.py).

    Each version's heading is two lines (what, then the version) so the numbers stay
    narrow and the names keep the room; names wrap with their tree indent, ids never wrap.
    """
    grades = grades or {}
    words = HEADINGS[language]
    rows = compare_scores(old, new)
    heading = Text(f"{old.pack_id}  {old.version} (sha256 {short_digest(old.digest)}) → "
                   f"{new.version} (sha256 {short_digest(new.digest)})", style="bold")
    table = Table(Column(words["indicator"]), Column("id", no_wrap=True),
                  *(Column(words[kind].format(version=version), justify="right", no_wrap=True)
                    for version in (old.version, new.version) for kind in ("weight", "score")),
                  Column(words["delta"], justify="right", no_wrap=True))
    for row in rows:
        style = "bold" if row.level == 1 else ""
        if row.changed:
            style = f"{style} yellow".strip()
        table.add_row(tree_cell(row.name, row.level), row.id,
                      *_cells(row.old, language), *_cells(row.new, language), _delta_text(row.delta),
                      style=style or None)
    table.add_section()
    total_delta = Decimal(new.score) - Decimal(old.score)
    table.add_row(words["total"], "", old.total_weight, old.score, new.total_weight, new.score,
                  _delta_text(total_delta), style="bold")
    table.add_row(words["rate"], "", "", f"{old.score_rate}%", "", f"{new.score_rate}%", "", style="bold")
    table.add_row(words["grade"], "", "", total_grade(old, language, grades, short=True), "",
                  total_grade(new, language, grades, short=True), "", style="bold")
    changed = sum(1 for row in rows if row.changed)
    parts: list[RenderableType] = [heading]
    ignored = sorted({*old.ignored_facts, *new.ignored_facts})
    if ignored:
        parts.append(Text(WORDS[language]["ignored"].format(names=", ".join(ignored)), style="yellow"))
    return Group(*parts, Fitted(table), Text(words["changed"].format(count=changed)))


def rescore_document(old: evaluation_pb2.Evaluation, new: evaluation_pb2.Evaluation) -> dict:
    """The comparison as JSON-ready data: both versions' totals, and every indicator."""
    return {
        "pack_id": old.pack_id,
        "old": _summary(old),
        "new": _summary(new),
        "delta": plain(Decimal(new.score) - Decimal(old.score)),
        "indicators": [{
            "id": row.id, "name": row.name, "level": row.level,
            "old": _scores(row.old), "new": _scores(row.new),
            "delta": None if row.delta is None else plain(row.delta),
            "changed": row.changed,
        } for row in compare_scores(old, new)],
    }


def _walk(nodes) -> Iterator[tuple[str, evaluation_pb2.IndicatorScore]]:
    for node in nodes:
        yield node.id, node
        yield from _walk(node.children)


def _compared(node: evaluation_pb2.IndicatorScore) -> tuple[Decimal, Decimal, Decimal, bool]:
    return (Decimal(node.weight), Decimal(node.effective_weight or node.weight), Decimal(node.score),
            node.not_applicable)


def _cells(node: evaluation_pb2.IndicatorScore | None, language: str) -> tuple[str, str]:
    if node is None:
        return ABSENT, ABSENT
    return weight_text(node), NOT_APPLICABLE_SCORE[language] if node.not_applicable else node.score


def _delta_text(delta: Decimal | None) -> Text:
    if delta is None:
        return Text(ABSENT)
    if delta == 0:
        return Text("0", style="dim")
    return Text(f"{'+' if delta > 0 else ''}{plain(delta)}", style="green" if delta > 0 else "red")


def _summary(evaluation: evaluation_pb2.Evaluation) -> dict:
    summary = {"version": evaluation.version, "digest": evaluation.digest,
               "total_weight": evaluation.total_weight, "score": evaluation.score,
               "score_rate": evaluation.score_rate, "grade": evaluation.grade}
    if evaluation.overrides:
        summary["overrides"] = [override.rule_id for override in evaluation.overrides]
    if evaluation.not_applicable_treatment:
        summary["not_applicable_treatment"] = evaluation.not_applicable_treatment
    return summary


def _scores(node: evaluation_pb2.IndicatorScore | None) -> dict | None:
    if node is None:
        return None
    scores = {"weight": node.weight, "score": node.score}
    if node.effective_weight:
        scores["effective_weight"] = node.effective_weight
    if node.not_applicable:
        scores["not_applicable"] = True
    return scores
