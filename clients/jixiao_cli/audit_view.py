"""What the audit commands print: the decisions table, one decision whole, replay lines,
and the JSON object an export writes per decision."""

from __future__ import annotations

import json
from typing import Any, Iterable

from google.protobuf import json_format
from rich.console import Group, RenderableType
from rich.table import Column, Table
from rich.text import Text

from jixiao.v1 import audit_pb2

from .cells import short_digest
from .client import error_from_status_message
from .output import message_dict
from .score_table import render_score_table

NOTHING = "—"
HEADINGS = {
    "zh": ("决策编号", "时间 (UTC)", "评价包", "调用方", "结果", "得分", "等级"),
    "en": ("decision", "at (UTC)", "pack", "caller", "outcome", "score", "grade"),
}
SHOW_LABELS = {
    "zh": {"decision_id": "决策编号", "at": "时间", "method": "方法", "caller": "调用方", "request_id": "请求编号",
           "pack": "评价包", "pack_digest": "包 sha256", "outcome": "结果", "duration_ms": "耗时 (毫秒)",
           "facts_digest": "事实 sha256", "reply_digest": "答复 sha256", "served_by": "服务进程", "item_key": "批量键",
           "facts": "事实", "redacted": "（已脱敏：仅保留摘要）", "error": "错误",
           "unreadable": "记录的答复无法读取（记录已被改动）"},
    "en": {"decision_id": "decision", "at": "at", "method": "method", "caller": "caller", "request_id": "request id",
           "pack": "pack", "pack_digest": "pack sha256", "outcome": "outcome", "duration_ms": "duration (ms)",
           "facts_digest": "facts sha256", "reply_digest": "reply sha256", "served_by": "served by",
           "item_key": "batch key", "facts": "facts", "redacted": "(redacted: only their digest was kept)",
           "error": "error", "unreadable": "the recorded reply cannot be read (the record was altered)"},
}
OUTCOME_NAMES = {
    audit_pb2.REPLAY_OUTCOME_IDENTICAL: "identical",
    audit_pb2.REPLAY_OUTCOME_DIFFERENT: "different",
    audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED: "facts altered",
    audit_pb2.REPLAY_OUTCOME_RECORD_ALTERED: "record altered",
    audit_pb2.REPLAY_OUTCOME_FACTS_REDACTED: "facts redacted",
    audit_pb2.REPLAY_OUTCOME_PACK_MISSING: "pack missing",
}


def pack_ref(summary: audit_pb2.DecisionSummary) -> str:
    """id@version as it scored; the version asked for when none was found."""
    version = summary.version or summary.requested_version
    return f"{summary.pack_id}@{version}" if version else summary.pack_id


def render_decisions(summaries: Iterable[audit_pb2.DecisionSummary], language: str = "zh") -> Table:
    """One row per decision, as given (newest first); within 120 columns the id, time and
    outcome stay whole and the pack and caller fold."""
    headings = HEADINGS[language]
    table = Table(Column(headings[0], no_wrap=True), Column(headings[1], no_wrap=True),
                  Column(headings[2], overflow="fold"), Column(headings[3], overflow="fold"),
                  Column(headings[4], no_wrap=True), Column(headings[5], no_wrap=True, justify="right"),
                  Column(headings[6]), box=None, pad_edge=False)
    for summary in summaries:
        table.add_row(summary.decision_id, summary.at.replace("T", " ").removesuffix("Z")[:19], pack_ref(summary),
                      summary.caller, summary.outcome, summary.score or NOTHING, summary.grade or NOTHING,
                      style=None if summary.outcome == "OK" else "yellow")
    return table


def render_decision(decision: audit_pb2.GetDecisionResponse, language: str = "zh") -> RenderableType:
    """A decision whole: its summary, the facts pretty-printed, then the score tree or the error."""
    labels = SHOW_LABELS[language]
    summary = decision.summary
    lines = Table.grid(padding=(0, 2))
    lines.add_column(style="bold", no_wrap=True)
    lines.add_column(overflow="fold")
    for key, value in (
            ("decision_id", summary.decision_id), ("at", summary.at), ("method", summary.method),
            ("caller", summary.caller), ("request_id", summary.request_id), ("pack", pack_ref(summary)),
            ("pack_digest", summary.pack_digest or NOTHING), ("outcome", summary.outcome),
            ("duration_ms", summary.duration_ms), ("facts_digest", summary.facts_digest),
            ("reply_digest", summary.reply_digest), ("served_by", summary.served_by),
            ("item_key", summary.item_key)):
        if value:
            lines.add_row(labels[key], value)
    parts: list[RenderableType] = [lines, Text(labels["facts"], style="bold")]
    if decision.facts_json:
        parts.append(Text(json.dumps(json.loads(decision.facts_json), ensure_ascii=False, indent=2)))
    else:
        parts.append(Text(labels["redacted"], style="yellow"))
    if decision.HasField("evaluation"):
        parts.append(render_score_table(decision.evaluation, language))
    elif decision.HasField("error"):
        parts.append(Text(labels["error"], style="bold red"))
        parts.append(Text(error_text(decision.error)))
    else:
        parts.append(Text(labels["unreadable"], style="bold red"))
    return Group(*parts)


def error_text(status) -> str:
    """A google.rpc.Status as lines: the code's name and message, then each detail."""
    error = error_from_status_message(status)
    lines = [f"{error.code.name}: {error.message}"]
    lines += [f"  {v.field}: {v.description}" for v in error.violations]
    lines += [f"  {p.type} {p.subject}: {p.description}" for p in error.preconditions]
    return "\n".join(lines)


def replay_lines(result: audit_pb2.ReplayDecisionsResponse) -> list[str]:
    """A decision that did not replay identical: its id, outcome and why, then each difference."""
    lines = [f"{result.decision_id}  {OUTCOME_NAMES.get(result.outcome, str(result.outcome)).upper()}"
             f"  {result.detail}".rstrip()]
    for difference in result.differences:
        lines.append(f"    {difference.node_id}  {difference.field}: {difference.recorded!r} → {difference.replayed!r}")
    if result.replayed_reply_digest and result.replayed_reply_digest != result.recorded_reply_digest:
        lines.append(f"    reply sha256 {short_digest(result.recorded_reply_digest)} recorded, "
                     f"{short_digest(result.replayed_reply_digest)} replayed")
    return lines


def replay_summary(counts: dict[int, int]) -> str:
    """"N decisions replayed: a identical, b different, …" with every outcome named."""
    total = sum(counts.values())
    named = ", ".join(f"{counts.get(outcome, 0)} {name}" for outcome, name in OUTCOME_NAMES.items())
    return f"{total} decision{'s' if total != 1 else ''} replayed: {named}"


def export_record(decision: audit_pb2.GetDecisionResponse) -> dict[str, Any]:
    """One exported decision: the summary's fields, the facts (parsed), and the evaluation or the error
    (neither when the recorded reply cannot be read)."""
    record: dict[str, Any] = message_dict(decision.summary)
    record["language"] = json_format.MessageToDict(decision, always_print_fields_with_no_presence=True)["language"]
    record["ignore_unknown_facts"] = decision.ignore_unknown_facts
    record["facts"] = json.loads(decision.facts_json) if decision.facts_json else None
    if decision.HasField("evaluation"):
        record["evaluation"] = json_format.MessageToDict(decision.evaluation)
    elif decision.HasField("error"):
        record["error"] = json_format.MessageToDict(decision.error)
    return record
