"""`jixiao pack shadow report`'s tables: names and levels from the pack in the user's
language, grades as the pack names them, deltas signed, within a 120-column terminal."""

from __future__ import annotations

import io

from rich.console import Console

from jixiao.v1 import admin_pb2, evaluation_pb2
from jixiao_cli.shadow_view import render_report, run_line

RUN = admin_pb2.ShadowRun(run_id="01a23ce4-c3d9-74d4-9d21-6b273746fcec", pack_id="quality-district-funding",
                          candidate_version="1.1.0", candidate_digest="9cace01847f2" + "0" * 52, sample="0.5",
                          started_at="2026-12-03T17:12:35.033Z", started_by="ops-alice")
PACK = evaluation_pb2.Pack(
    id="quality-district-funding", version="1.0.0",
    grades=[evaluation_pb2.GradeBand(grade="中", grade_en="fair"), evaluation_pb2.GradeBand(grade="差", grade_en="poor")],
    indicators=[evaluation_pb2.IndicatorSpec(id="decision", name="决策", name_en="Decision", level=1, children=[
        evaluation_pb2.IndicatorSpec(id="decision.targets", name="绩效目标", name_en="Performance targets", level=2)])])


def report(**fields) -> admin_pb2.GetShadowReportResponse:
    return admin_pb2.GetShadowReportResponse(
        run=RUN, samples=53, candidate_errors=2, mean_total_delta="1.38", min_total_delta="-1.00",
        max_total_delta="4.00", mean_abs_total_delta="1.42", grade_changes=4,
        grade_change_counts=[admin_pb2.GradeChange(live_grade="差", candidate_grade="中", count=4)],
        indicators=[admin_pb2.IndicatorDelta(node_id="decision", name="决策", mean_delta="0.06", min_delta="-1.00",
                                             max_delta="1.00", changed=25),
                    admin_pb2.IndicatorDelta(node_id="decision.targets", name="绩效目标", mean_delta="0.00",
                                             min_delta="0.00", max_delta="0.00", changed=0),
                    admin_pb2.IndicatorDelta(node_id="only.live", name="旧指标", changed=3)],
        worst=[admin_pb2.ShadowExample(decision_id="01a23ce4-cbf5-7787-82d5-e1a8e98216d2", live_version="1.0.0",
                                       live_total="59.84", candidate_total="63.84", delta="4.00", live_grade="差",
                                       candidate_grade="中")], **fields)


def shown(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(renderable)
    return out.getvalue()


def test_english_report() -> None:
    text = shown(render_report(report(), "en", PACK, {"中": "fair", "差": "poor"}))
    assert max(map(len, text.splitlines())) <= 120
    flat = " ".join(text.split())  # lines a heading wrapped to, joined
    for said in ("candidate 1.1.0 (sha256 9cace01847f2), sample 0.5", "started 2026-12-03T17:12:35.033Z by ops-alice; "
                 "running", "53 decisions sampled, 2 the candidate could not evaluate, 51 compared",
                 "mean +1.38, min -1.00, max +4.00, mean absolute 1.42", "4 grade changes: poor → fair 4",
                 "Decision ", "+0.06", "only.live", "poor → fair", "01a23ce4-cbf5-7787-82d5-e1a8e98216d2"):
        assert said in flat, said
    assert "│   Performance targets" in text  # indented by its level
    row = next(line for line in text.splitlines() if "only.live" in line)
    assert row.count("—") == 3 and "旧指标" in row  # no deltas: absent from every candidate tree


def test_chinese_report_and_a_run_without_samples() -> None:
    text = shown(render_report(report(), "zh", PACK))
    assert "等级变化 4 次：差 → 中 4" in text and "│   绩效目标" in text and "由 ops-alice 启动；进行中" in text
    empty = shown(render_report(admin_pb2.GetShadowReportResponse(run=RUN), "en", None))
    assert "no samples yet" in empty and "Indicator" not in empty


def test_start_and_stop_lines() -> None:
    assert "jixiao pack shadow report quality-district-funding" in shown(run_line(RUN, started=True))
    stopped = admin_pb2.ShadowRun()
    stopped.CopyFrom(RUN)
    stopped.stopped_at, stopped.stopped_by = "2026-12-03T18:00:00.000Z", "ops-bob"
    assert "stopped 2026-12-03T18:00:00.000Z by ops-bob" in shown(run_line(stopped, started=False))
