"""A batch row keeps the scores and their explanation alike from the core's evaluation and
from a server's reply, and reads back from its JSON object exactly as it was written."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from jixiao.api.convert import evaluation_message
from jixiao.core.evaluation.results import Evaluation
from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.batch_outcomes import (DeductionText, DimensionScore, FindingText, RecordError, row_score,
                                       score_from_record, score_record)

from .batch_rows import FINDINGS, RECOMMENDATIONS, evaluation_2019, not_applicable, with_findings

LEAVES_2019 = 28


def reply_of(evaluation: Evaluation) -> pb.Evaluation:
    """The server's reply for `evaluation`, its findings and recommendations set from the
    evaluation's own (as the server's conversion writes fields 14 and 15)."""
    reply = evaluation_message(evaluation)
    for field, findings in ((reply.findings, evaluation.findings), (reply.recommendations, evaluation.recommendations)):
        del field[:]
        field.extend(pb.Finding(id=f.id, text=f.text, dimension=f.dimension, rule_ids=f.rule_ids,
                                node_ids=f.node_ids, observation=f.observation) for f in findings)
    return reply


def test_the_2019_row_explains_each_leaf_with_its_deductions_and_rationale() -> None:
    row = row_score("k0", 2, evaluation_2019())

    assert (row.score, row.grade, row.language, row.total_weight, row.rate) == ("75.03", "中", "zh", "100", "75.03")
    assert row.dimensions[0] == DimensionScore("decision", "决策", "16", "11", "68.75", "中")
    assert [d.score for d in row.dimensions] == ["11", "11.89", "26.9", "25.24"]
    assert len(row.details) == LEAVES_2019 and [d.id for d in row.details] == list(row.leaves)
    execution = next(d for d in row.details if d.id == "process.funds.execution")
    assert (execution.name, execution.dimension, execution.weight, execution.scored_weight, execution.score,
            execution.deducted) == ("预算执行率", "process", "3", "3", "2.39", "0.61")
    assert execution.deductions == (DeductionText("process.funds.execution#shortfall", "0.607434",
                                                  "预算执行率79.75%，未达100%"),)
    assert execution.rationale.endswith("预算执行率79.75%。根据评分细则，扣0.61分，得2.39分。")
    assert not execution.not_applicable and execution.not_applicable_reason == ""
    full = next(d for d in row.details if d.id == "decision.initiation.basis")
    assert (full.deducted, full.deductions) == ("0", ())


def test_the_core_and_the_servers_reply_give_the_same_row() -> None:
    evaluation = with_findings(not_applicable(evaluation_2019(spent="350000.00")))
    assert row_score("k", 3, evaluation) == row_score("k", 3, reply_of(evaluation))
    english = evaluation_2019(language="en")
    assert row_score("k", 3, english) == row_score("k", 3, reply_of(english))
    assert row_score("k", 3, english).language == "en"


def test_findings_and_recommendations_keep_their_texts_and_sources_in_order() -> None:
    row = row_score("k", 2, with_findings(evaluation_2019()))

    assert row.findings == tuple(FindingText(f.id, f.text, f.dimension, f.rule_ids, f.node_ids, f.observation)
                                 for f in FINDINGS)
    assert row.recommendations[0].text == RECOMMENDATIONS[0].text
    record = score_record(row)
    assert record["findings"][1] == {"id": "evaluation.observed_problems[0]", "text": "奖金过少、奖励面过窄",
                                     "dimension": "", "rule_ids": [], "node_ids": [], "observation": True}
    assert record["recommendations"][0]["rule_ids"] == ["decision.targets.reasonableness#specific_indicators"]


def test_a_leaf_not_applicable_is_scored_on_no_weight_and_its_sibling_on_the_weight_it_was_given() -> None:
    row = row_score("k", 2, not_applicable(evaluation_2019()))

    arrival = next(d for d in row.details if d.id == "process.funds.arrival")
    assert (arrival.weight, arrival.scored_weight, arrival.score, arrival.deducted) == ("2", "0", "0", "0")
    assert arrival.not_applicable and arrival.not_applicable_reason == "资金一次性拨付，不考核到位率"
    execution = next(d for d in row.details if d.id == "process.funds.execution")
    assert (execution.weight, execution.scored_weight, execution.deducted) == ("3", "5", "2.61")
    assert row.not_applicable == ("process.funds.arrival",)


def test_the_record_has_the_old_keys_first_then_the_explanation() -> None:
    record = score_record(row_score("k0", 2, with_findings(evaluation_2019())))

    assert list(record) == ["key", "pack", "version", "digest", "score", "grade", "level1", "leaves", "language",
                            "total_weight", "rate", "dimensions", "details", "findings", "recommendations"]
    assert list(record["details"][0]) == ["id", "name", "dimension", "weight", "scored_weight", "score", "deducted",
                                          "deductions", "rationale", "not_applicable", "not_applicable_reason"]
    assert record["dimensions"][3] == {"id": "benefit", "name": "效益", "weight": "29", "score": "25.24",
                                       "rate": "87.03", "grade": "良"}


@pytest.mark.parametrize("evaluation", [evaluation_2019(), with_findings(not_applicable(evaluation_2019()))],
                         ids=["2019", "findings and N/A"])
def test_a_row_reads_back_from_its_json_object_as_written(evaluation: Evaluation) -> None:
    row = row_score("k0", 7, evaluation)
    text = json.dumps(score_record(row), ensure_ascii=False)

    assert score_from_record(json.loads(text), 7) == row


def test_a_row_of_an_older_output_reads_back_without_an_explanation_and_is_written_as_it_was() -> None:
    old = {"key": "k1", "pack": "quality-district-funding", "version": "1.0.0", "digest": "abc", "score": "75.03",
           "grade": "中", "level1": {"decision": "11"}, "leaves": {"decision.initiation.basis": "3"},
           "overrides": ["override#misappropriation"]}

    row = score_from_record(old)

    assert not row.explained and row.details == () and row.overrides == ("override#misappropriation",)
    assert score_record(row) == old


@pytest.mark.parametrize("change, message", [
    ({"key": None}, "the row: 'key' is not a text"),
    ({"leaves": ["3"]}, "the row: 'leaves' is not an object of texts"),
    ({"details": {"id": "x"}}, "the row: 'details' is not a list"),
    ({"details": [{"id": "x", "deductions": ["1"]}]}, "the row: details[0]: deductions[0] is not a JSON object"),
    ({"findings": [{"id": "f", "observation": "yes"}]}, "the row: findings[0]: 'observation' is not true or false"),
    ({"findings": [{"id": "f", "rule_ids": "a#b"}]}, "the row: findings[0]: 'rule_ids' is not a list of texts"),
], ids=["no key", "leaves a list", "details an object", "a deduction a text", "a flag a text", "rule ids a text"])
def test_a_record_edited_out_of_shape_is_refused_naming_the_field(change: dict, message: str) -> None:
    record = {**score_record(row_score("k0", 2, with_findings(evaluation_2019()))), **change}

    with pytest.raises(RecordError) as raised:
        score_from_record(record)
    assert str(raised.value) == message


def test_a_numeric_key_written_by_hand_reads_as_its_text() -> None:
    record = score_record(replace(row_score("k0", 2, evaluation_2019()), key="7"))
    assert score_from_record({**record, "key": 7}).key == "7"
