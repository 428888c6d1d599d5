"""What the audit commands print: the decisions table within 120 columns, replay's lines and summary."""

from __future__ import annotations

from rich.console import Console

from jixiao.v1 import audit_pb2
from jixiao_cli.audit_view import export_record, render_decision, render_decisions, replay_lines, replay_summary

SUMMARY = audit_pb2.DecisionSummary(
    decision_id="01a23ce1-0025-7d31-a781-1d6321dc3352", at="2026-12-03T17:05:41.123Z", method="EvaluateBatch",
    caller="peer:ipv4:127.0.0.1:54321", pack_id="project-expenditure-framework", version="1.0.1",
    outcome="INVALID_ARGUMENT", grade="", score="")


def test_the_decisions_table_fits_120_columns_and_keeps_ids_times_and_outcomes_whole() -> None:
    for language in ("zh", "en"):
        console = Console(width=120, record=True)
        console.print(render_decisions([SUMMARY, audit_pb2.DecisionSummary(
            decision_id="01a23ce1-0026-7d31-a781-1d6321dc3352", at="2026-12-03T17:05:42.000Z", caller="portal",
            pack_id="quality-district-funding", version="1.1.1", outcome="OK", score="75.03", grade="中")],
            language))
        text = console.export_text()
        assert max(console.measure(line).maximum for line in text.splitlines()) <= 120
        for whole in ("01a23ce1-0025-7d31-a781-1d6321dc3352", "2026-12-03 17:05:41", "INVALID_ARGUMENT", "75.03"):
            assert whole in text


def test_replay_lines_name_the_decision_and_each_difference() -> None:
    result = audit_pb2.ReplayDecisionsResponse(
        decision_id="d1", outcome=audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED, recorded_reply_digest="a" * 64,
        replayed_reply_digest="b" * 64, detail="the record was altered",
        differences=[audit_pb2.ReplayDifference(node_id="output.quantity.trainings", field="score", recorded="5",
                                                replayed="0")])
    assert replay_lines(result) == [
        "d1  FACTS ALTERED  the record was altered",
        "    output.quantity.trainings  score: '5' → '0'",
        "    reply sha256 aaaaaaaaaaaa recorded, bbbbbbbbbbbb replayed",
    ]
    assert replay_summary({audit_pb2.REPLAY_OUTCOME_IDENTICAL: 8, audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED: 1,
                           audit_pb2.REPLAY_OUTCOME_RECORD_ALTERED: 1}) == (
        "10 decisions replayed: 8 identical, 0 different, 1 facts altered, 1 record altered, 0 facts redacted, "
        "0 pack missing")


def test_a_decision_without_a_readable_reply_says_so() -> None:
    console = Console(width=120, record=True)
    console.print(render_decision(audit_pb2.GetDecisionResponse(summary=SUMMARY, facts_json='{"a":1}'), "en"))
    text = console.export_text()
    assert '"a": 1' in text and "the recorded reply cannot be read" in text
    assert export_record(audit_pb2.GetDecisionResponse(summary=SUMMARY, facts_json='{"a":1}'))["facts"] == {"a": 1}
