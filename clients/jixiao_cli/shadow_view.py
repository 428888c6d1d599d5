"""What `jixiao pack shadow` prints: a run's line, and its report as tables.

The report says which run it is (candidate version and digest, sample, who started and
stopped it), how many decisions were sampled and how many of them the candidate could not
evaluate, the total's deltas (candidate − live) and the grade changes, then one row per
indicator in the live tree (its deltas and in how many samples it changed) and the
decisions whose total moved most (their ids, for `jixiao audit show`). Indicator names and
levels come from the pack (GetPack), in the user's language; grades as the pack names them.
"""

from __future__ import annotations

from typing import Mapping

from rich.console import Group, RenderableType
from rich.table import Column, Table
from rich.text import Text

from jixiao.v1 import admin_pb2, evaluation_pb2

from .cells import short_digest, tree_cell
from .grades import named
from .wrapping import Fitted

NOTHING = "—"
WORDS = {
    "zh": {
        "run": "{pack} 影子评估 {run}：候选版本 {version}（sha256 {digest}），抽样比例 {sample}",
        "started": "{at} 由 {by} 启动", "stopped": "{at} 由 {by} 停止", "running": "进行中",
        "samples": "抽样 {samples} 次，其中候选版本无法评价 {errors} 次，比较 {compared} 次",
        "none": "尚无抽样：该包的评价在运行中的服务器上被抽中后才会出现（须开启决策日志）",
        "total": "总分差额（候选 − 现行）：平均 {mean}，最小 {min}，最大 {max}，平均绝对值 {abs}",
        "grades": "等级变化 {count} 次：{pairs}", "no_grades": "等级无变化", "pair_sep": "，", "state_sep": "；",
        "indicators": ("指标", "id", "平均差额", "最小", "最大", "变化次数"),
        "worst": "总分变化最大的决策", "worst_headings": ("决策 id", "现行版本", "现行总分", "候选总分", "差额", "等级"),
        "started_line": "影子评估已启动", "stopped_line": "影子评估已停止",
        "next": "查看结果：jixiao pack shadow report {pack}",
    },
    "en": {
        "run": "{pack} shadow run {run}: candidate {version} (sha256 {digest}), sample {sample}",
        "started": "started {at} by {by}", "stopped": "stopped {at} by {by}", "running": "running",
        "samples": "{samples} decisions sampled, {errors} the candidate could not evaluate, {compared} compared",
        "none": "no samples yet: they come as servers with the decision log on sample this pack's evaluations",
        "total": "total delta (candidate − live): mean {mean}, min {min}, max {max}, mean absolute {abs}",
        "grades": "{count} grade changes: {pairs}", "no_grades": "no grade changed", "pair_sep": ", ",
        "state_sep": "; ",
        "indicators": ("Indicator", "id", "Mean delta", "Min", "Max", "Changed"),
        "worst": "Decisions whose total moved most",
        "worst_headings": ("Decision id", "Live version", "Live total", "Candidate total", "Delta", "Grade"),
        "started_line": "shadow run started", "stopped_line": "shadow run stopped",
        "next": "see what it finds: jixiao pack shadow report {pack}",
    },
}


def run_line(run: admin_pb2.ShadowRun, started: bool, language: str = "en") -> Text:
    """One line for `shadow start` or `shadow stop`."""
    words = WORDS[language]
    verb = words["started_line"] if started else words["stopped_line"]
    line = Text.assemble((verb, "bold green"), "  ", _run_heading(run, words))
    line.append("\n" + (words["next"].format(pack=run.pack_id) if started else _run_state(run, words)))
    return line


def render_report(report: admin_pb2.GetShadowReportResponse, language: str = "zh",
                  pack: evaluation_pb2.Pack | None = None, grades: Mapping[str, str] | None = None) -> RenderableType:
    """The report's heading lines, its indicator table and its worst examples (see the module)."""
    words = WORDS[language]
    grades = grades or {}
    run = report.run
    parts: list[RenderableType] = [Text(_run_heading(run, words), style="bold"), Text(_run_state(run, words))]
    compared = report.samples - report.candidate_errors
    if not report.samples:
        parts.append(Text(words["none"], style="yellow"))
        return Group(*parts)
    parts.append(Text(words["samples"].format(samples=report.samples, errors=report.candidate_errors,
                                              compared=compared)))
    if compared:
        parts.append(Text(words["total"].format(mean=_signed(report.mean_total_delta),
                                                min=_signed(report.min_total_delta),
                                                max=_signed(report.max_total_delta),
                                                abs=report.mean_abs_total_delta)))
    if report.grade_changes:
        pairs = words["pair_sep"].join(f"{named(c.live_grade, grades)} → {named(c.candidate_grade, grades)} {c.count}"
                                       for c in report.grade_change_counts)
        parts.append(Text(words["grades"].format(count=report.grade_changes, pairs=pairs), style="yellow"))
    elif compared:
        parts.append(Text(words["no_grades"]))
    specs = _specs(pack)
    table = Table(Column(words["indicators"][0]), Column(words["indicators"][1], no_wrap=True),
                  *(Column(heading, justify="right", no_wrap=True) for heading in words["indicators"][2:]))
    for indicator in report.indicators:
        spec = specs.get(indicator.node_id)
        level = spec.level if spec is not None else 1
        name = (spec.name_en or spec.name) if spec is not None and language == "en" else indicator.name
        style = "bold" if level == 1 else ""
        if indicator.changed:
            style = f"{style} yellow".strip()
        table.add_row(tree_cell(name or indicator.node_id, level), indicator.node_id,
                      _delta(indicator.mean_delta), _delta(indicator.min_delta), _delta(indicator.max_delta),
                      str(indicator.changed), style=style or None)
    parts.append(Fitted(table))
    if report.worst:
        worst = Table(*(Column(heading, no_wrap=True, justify="left" if i < 2 else "right")
                        for i, heading in enumerate(words["worst_headings"])), title=words["worst"])
        for example in report.worst:
            worst.add_row(example.decision_id, example.live_version, example.live_total, example.candidate_total,
                          _delta(example.delta),
                          f"{named(example.live_grade, grades)} → {named(example.candidate_grade, grades)}")
        parts.append(worst)
    return Group(*parts)


def _run_heading(run: admin_pb2.ShadowRun, words: Mapping[str, object]) -> str:
    return words["run"].format(pack=run.pack_id, run=run.run_id, version=run.candidate_version,  # type: ignore[attr-defined]
                               digest=short_digest(run.candidate_digest), sample=run.sample)


def _run_state(run: admin_pb2.ShadowRun, words: Mapping[str, str]) -> str:
    started = words["started"].format(at=run.started_at, by=run.started_by)
    if not run.stopped_at:
        return f"{started}{words['state_sep']}{words['running']}"
    return f"{started}{words['state_sep']}{words['stopped'].format(at=run.stopped_at, by=run.stopped_by)}"


def _specs(pack: evaluation_pb2.Pack | None) -> dict[str, evaluation_pb2.IndicatorSpec]:
    found: dict[str, evaluation_pb2.IndicatorSpec] = {}

    def walk(nodes) -> None:
        for node in nodes:
            found[node.id] = node
            walk(node.children)

    if pack is not None:
        walk(pack.indicators)
    return found


def _signed(text: str) -> str:
    return f"+{text}" if text and not text.startswith("-") and text != "0.00" else text


def _delta(text: str) -> Text:
    if not text:
        return Text(NOTHING)
    if text == "0.00":
        return Text(text, style="dim")
    return Text(_signed(text), style="red" if text.startswith("-") else "green")
