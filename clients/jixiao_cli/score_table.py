"""The scored indicator tree as a table, laid out like a report's 评分表.

Above the tree: the overrides that fired (一票否决, caps, zeroed subtrees), how
not-applicable indicators were treated, and the facts the request chose to have
ignored. In the tree: a weight a not-applicable treatment changed shows as `old→new`,
a not-applicable indicator's score as 不适用 (N/A), and a node an override changed
names the override. Below the tree: the findings (存在的问题) and recommendations (有关建议),
numbered, when the pack gives any. Every text is in one language, the one asked for.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from rich.console import Group, RenderableType
from rich.table import Column, Table
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
NOT_APPLICABLE_SCORE = {"zh": "不适用", "en": "N/A"}
WORDS = {
    "zh": {
        "forced": "{grade}（一票否决：{rules}）", "vetoed": "{grade}（一票否决）", "changed_by": "（经{rules}调整）",
        "capped": "（封顶：{rules}）",
        "na_reason": "不适用：{reason}",
        "overrides": "触发的覆盖规则", "override_headings": ("规则", "动作", "指标", "调整", "说明"),
        "actions": {"grade": "定级", "cap": "封顶", "zero": "不得分"}, "total": "总分",
        "ignored": "已忽略的未知事实：{names}",
        "findings": "存在的问题", "recommendations": "有关建议", "number": "{n}.",
        "treatments": {
            "rescale": "不适用指标：总分按适用权重 {applicable} 的得分率折算为 {weight} 分制",
            "redistribute": "不适用指标：其权重按比例分配至同级指标",
        },
    },
    "en": {
        "forced": "{grade} (vetoed: {rules})", "vetoed": "{grade} (vetoed)", "changed_by": " (adjusted by {rules})",
        "capped": " (capped: {rules})",
        "na_reason": "not applicable: {reason}",
        "overrides": "Overrides that fired", "override_headings": ("Rule", "Action", "Indicator", "Change", "Reason"),
        "actions": {"grade": "grade", "cap": "cap", "zero": "zero"}, "total": "Total",
        "ignored": "Unknown facts ignored: {names}",
        "findings": "Problems found", "recommendations": "Recommendations", "number": "{n}.",
        "treatments": {
            "rescale": "Not-applicable indicators: the total is converted to {weight} through the score rate "
                       "on the applicable weight {applicable}",
            "redistribute": "Not-applicable indicators: their weight is redistributed over their siblings "
                            "in proportion",
        },
    },
}


def render_score_table(evaluation: evaluation_pb2.Evaluation, language: str = "zh",
                       grades: Mapping[str, str] | None = None) -> Group:
    """A summary line (pack, digest, total, grade), what overrode the scores or was
    ignored, then the tree of every indicator's score.

    `grades` names the pack's grades in `language` (see grades.py); the evaluation's own
    names otherwise. Names and reasons wrap between words, numbers and CJK characters,
    never inside one, and names keep their tree indent.
    """
    grades = grades or {}
    words = WORDS[language]
    grade = total_grade(evaluation, language, grades)
    summary = Text(SUMMARY[language].format(
        ref=f"{evaluation.pack_id}@{evaluation.version}",
        digest=short_digest(evaluation.digest),
        score=evaluation.score, weight=evaluation.total_weight,
        rate=evaluation.score_rate, grade=total_grade(evaluation, language, grades, short=True)), style="bold")
    parts: list[RenderableType] = [summary]
    if evaluation.overrides:
        parts.append(Text(words["overrides"], style="bold"))
        parts.append(Fitted(_override_table(evaluation, language, grades), {4: 2}))
    if evaluation.not_applicable_treatment in words["treatments"]:
        parts.append(Text(words["treatments"][evaluation.not_applicable_treatment].format(
            applicable=evaluation.applicable_weight or evaluation.total_weight, weight=evaluation.total_weight)))
    if evaluation.ignored_facts:
        parts.append(Text(words["ignored"].format(names=", ".join(evaluation.ignored_facts)), style="yellow"))
    table = Table(show_footer=True)
    name, weight, score, deducted, reason = HEADINGS[language]
    table.add_column(name, footer=TOTAL[language])
    table.add_column(weight, footer=evaluation.total_weight, justify="right", no_wrap=True)
    table.add_column(score, footer=evaluation.score, justify="right", no_wrap=True)
    table.add_column(deducted, footer=_deducted(evaluation.total_weight, evaluation.score),
                     justify="right", no_wrap=True)
    table.add_column(reason, footer=Wrapped(DIMENSION_NOTE[language].format(rate=evaluation.score_rate, grade=grade)
                                            + total_changes(evaluation, language)))
    for top in evaluation.indicators:
        _add_rows(table, top, language, grades)
    parts.append(Fitted(table, {4: 2}))
    for field in ("findings", "recommendations"):
        items = getattr(evaluation, field)
        if items:
            parts.append(Text(words[field], style="bold"))
            parts.append(numbered([item.text for item in items], language))
    return Group(*parts)


def numbered(texts: list[str], language: str = "zh") -> Table:
    """Texts as a numbered list: "1." then the text, wrapped under itself."""
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    for n, text in enumerate(texts, start=1):
        table.add_row(WORDS[language]["number"].format(n=n), Wrapped(text))
    return table


def total_grade(evaluation: evaluation_pb2.Evaluation, language: str, grades: Mapping[str, str],
                short: bool = False) -> str:
    """The total's grade as the user reads it; a grade an override forced names the override:
    "差（一票否决：override#misappropriation）" (`short`: "差（一票否决）")."""
    grade = named(evaluation.grade, grades)
    forced = [o.rule_id for o in evaluation.overrides if o.action == "grade"]
    if not forced:
        return grade
    return WORDS[language]["vetoed" if short else "forced"].format(grade=grade, rules=", ".join(forced))


def total_changes(evaluation: evaluation_pb2.Evaluation, language: str) -> str:
    """What overrides other than a forced grade did to the total, naming them:
    "（封顶：override#audit_cap）" for a cap that lowered it (a cap above the total changed
    nothing and goes unsaid here), "（经override#…调整）" for anything else."""
    words = WORDS[language]
    on_total = [o for o in evaluation.overrides if o.node == "total" and o.action != "grade"]
    capped = [o.rule_id for o in on_total if o.action == "cap" and Decimal(o.after) < Decimal(o.before)]
    other = [o.rule_id for o in on_total if o.action != "cap"]
    return ((words["capped"].format(rules=", ".join(capped)) if capped else "")
            + (words["changed_by"].format(rules=", ".join(other)) if other else ""))


def _override_table(evaluation: evaluation_pb2.Evaluation, language: str, grades: Mapping[str, str]) -> Table:
    words = WORDS[language]
    names = {node.id: node.name for node in _walk(evaluation.indicators)}
    table = Table(*(Column(heading, no_wrap=index in (0, 1, 3))
                    for index, heading in enumerate(words["override_headings"])))
    for override in evaluation.overrides:
        if override.action == "grade":
            before, after = named(override.before, grades), named(override.after, grades)
        else:
            before, after = override.before, override.after
        node = words["total"] if override.node == "total" else names.get(override.node, override.node)
        table.add_row(override.rule_id, words["actions"].get(override.action, override.action), Wrapped(node),
                      f"{before} → {after}", Wrapped(override.rationale))
    return table


def _add_rows(table: Table, node: evaluation_pb2.IndicatorScore, language: str,
              grades: Mapping[str, str]) -> None:
    words = WORDS[language]
    if node.level == 1 and not node.not_applicable:
        note = DIMENSION_NOTE[language].format(rate=node.score_rate, grade=named(node.grade, grades))
    else:
        note = node.rationale
    if node.not_applicable and node.not_applicable_reason and node.not_applicable_reason not in note:
        note = words["na_reason"].format(reason=node.not_applicable_reason) + ("\n" + note if note else "")
    if node.overridden_by and node.children:  # a leaf's rationale itself says why
        note += words["changed_by"].format(rules=", ".join(node.overridden_by))
    scored_weight = node.effective_weight or node.weight
    weight = weight_text(node)
    if node.not_applicable:
        score, deducted = Text(NOT_APPLICABLE_SCORE[language], style="dim"), Text("")
    else:
        deducted_text = _short(_deducted(scored_weight, node.score))
        score = Text(node.score, style="red" if node.overridden_by else "")
        deducted = Text(deducted_text, style="yellow" if deducted_text != "0" else "")
    table.add_row(
        tree_cell(node.name, node.level),
        weight,
        score,
        deducted,
        Wrapped(note),
        style="bold" if node.level == 1 else None,
    )
    for child in node.children:
        _add_rows(table, child, language, grades)


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def weight_text(node: evaluation_pb2.IndicatorScore) -> str:
    """A node's weight, and the weight it is scored on when a not-applicable treatment
    changed it: "10→15", "4→0"."""
    scored = node.effective_weight or node.weight
    return node.weight if Decimal(scored) == Decimal(node.weight) else f"{node.weight}→{_short(scored)}"


def _short(weight: str) -> str:
    """A weight for the table: a redistributed share that does not end (8 × 40 ÷ 30) to 2
    places, marked as rounded ("≈10.67"); the reply keeps it whole."""
    value = Decimal(weight)
    if value.as_tuple().exponent >= -2:  # type: ignore[operator]
        return weight
    return "≈" + plain(value.quantize(Decimal("0.01")))


def _deducted(weight: str, score: str) -> str:
    return plain(Decimal(weight) - Decimal(score))
