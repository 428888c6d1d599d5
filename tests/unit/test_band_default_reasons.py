"""A band without a reason: the engine's own sentence names the value as a report does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import compile_pack
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

PACK = """
schema: jixiao.pack/v1
id: band-reasons
version: 1.0.0
title: {zh: 档位说明, en: Band reasons}
framework: test
total_weight: 10
grades:
  - {grade: 优, en: excellent, min: 90}
  - {grade: 差, en: poor, min: 0}
facts:
  - {name: funds.received, type: decimal, label: {zh: 到位资金, en: funds received}, min: 1}
  - {name: funds.spent, type: decimal, label: {zh: 实际支出, en: funds spent}, min: 0}
  - name: survey.meals
    type: survey
    label: {zh: 用餐满意度问卷, en: meal survey}
    options:
      - {key: satisfied, label: {zh: 满意, en: satisfied}}
      - {key: unsatisfied, label: {zh: 不满意, en: unsatisfied}}
derived:
  - name: funds.execution_rate
    label: {zh: 预算执行率, en: budget execution rate}
    value: {div: [{fact: funds.spent}, {fact: funds.received}]}
    format: percent
    places: 4
indicators:
  - id: all
    name: {zh: 全部, en: All}
    weight: 10
    children:
      - id: all.execution
        name: {zh: 预算执行率, en: Budget execution}
        weight: 5
        scoring:
          method: bands
          value: funds.execution_rate
          bands:
            - {min: 0.95, deduct: 0}
            - {min: 0.9, deduct: 1}
            - {deduct: 5}
      - id: all.meals
        name: {zh: 用餐满意度, en: Meal satisfaction}
        weight: 5
        scoring:
          method: bands
          value: survey.meals.satisfied
          bands:
            - {min: 90, deduct: 0}
            - {deduct: 2}
"""


@pytest.fixture(scope="module")
def compiled():
    pack = compile_pack(load_pack(PACK, "band-reasons/pack.yaml", schema=pack_schema()))
    yield pack
    pack.close()


def facts(spent: str, satisfied: str) -> dict:
    return {"funds": {"received": "1000", "spent": spent},
            "survey": {"meals": {"satisfied": satisfied, "unsatisfied": "0"}}}


def test_a_derived_percentage_is_named_by_its_label_and_shown_in_its_format(compiled):
    # 920 ÷ 1000 = 0.92: the band from 0.9, 1 point deducted
    node = evaluate(compiled, facts("920", "95"), "zh").node("all.execution")
    assert node.score == Decimal("4.00")
    assert node.rationale == "预算执行率为92.00%，落在90.00%及以上一档。根据评分细则，扣1分，得4分。"
    english = evaluate(compiled, facts("920", "95"), "en").node("all.execution")
    assert english.rationale.startswith("budget execution rate is 92.00%, in the band from 90.00%. ")


def test_the_catch_all_band_names_the_lowest_edge(compiled):
    # 500 ÷ 1000 = 0.5, below 0.9: 5 deducted
    node = evaluate(compiled, facts("500", "95"), "zh").node("all.execution")
    assert node.rationale == "预算执行率为50.00%，低于90.00%。根据评分细则，扣5分，得0分。"


def test_a_survey_share_is_named_by_its_survey_and_option_and_shown_in_percent(compiled):
    node = evaluate(compiled, facts("1000", "85.5"), "zh").node("all.meals")
    assert node.rationale == "用餐满意度问卷“满意”占比为85.5%，低于90%。根据评分细则，扣2分，得3分。"
