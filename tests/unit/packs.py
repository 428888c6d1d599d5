"""A small pack with one leaf per scoring method, for unit tests of the core."""

from __future__ import annotations

import textwrap

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.pack.loader import load_pack
from jixiao.engine.durable import durable_matcher
from jixiao.packs import pack_schema

METHODS_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: methods
    version: 1.0.0
    title: {zh: 评分方法样例, en: Scoring methods sample}
    framework: 财预〔2020〕10号 附件2
    total_weight: 30
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 良, en: good, min: 80}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    facts:
      - {name: budget.approved, type: decimal, label: 预算, unit: 元, min: 0}
      - {name: budget.spent, type: decimal, label: 支出, unit: 元, min: 0}
      - {name: records.a, type: boolean, label: 记录甲}
      - {name: records.b, type: boolean, label: 记录乙}
      - {name: records.c, type: boolean, label: 记录丙, default: true}
      - {name: awards.granted, type: integer, label: 获奖数, min: 0}
      - {name: awards.cap, type: integer, label: 获奖上限, min: 0}
      - {name: done, type: boolean, label: 已完成}
      - name: survey.s
        type: survey
        label: 问卷
        options:
          - {key: strongly, label: {zh: 很能促进, en: strongly}}
          - {key: "yes", label: {zh: 能促进, en: "yes"}}
          - {key: somewhat, label: {zh: 一般促进, en: somewhat}}
          - {key: "no", label: {zh: 不能促进, en: "no"}}
      - {name: judge.score, type: decimal, label: 专家评分}
      - {name: judge.reason, type: text, label: 专家评分理由}
    indicators:
      - id: all
        name: {zh: 全部, en: All}
        weight: 30
        children:
          - id: all.x
            name: 样例
            weight: 30
            children:
              - id: all.x.ratio
                name: {zh: 预算执行率, en: Budget execution rate}
                weight: 3
                scoring:
                  method: ratio
                  actual: budget.spent
                  target: budget.approved
                  reason: {zh: "预算执行率{ratio|percent}", en: "execution rate {ratio|percent}"}
                rationale:
                  zh: "项目经费预算{budget.approved|money}元，实际使用{budget.spent|money}元。预算执行率{ratio|percent}"
                  en: "Budget {budget.approved|money}, spent {budget.spent|money}; execution rate {ratio|percent}"
              - id: all.x.deductions
                name: 制度执行有效性
                weight: 3
                scoring:
                  method: deductions
                  checks:
                    - {id: a, when: {fact: records.a, eq: false}, points: 1, reason: 记录甲未见, met: 记录甲齐全}
                    - {id: b, when: {not: {fact: records.b, eq: true}}, points: 0.5, reason: 记录乙未见}
                    - {id: c, when: {fact: records.c, eq: false}, points: 2, reason: 记录丙未见}
                    - id: cap
                      when: {fact: awards.granted, gt: {fact: awards.cap}}
                      points: 3
                      reason: "获奖{awards.granted}个，超过上限{awards.cap}个"
              - id: all.x.done
                name: 完成情况
                weight: 5
                scoring:
                  method: all_or_nothing
                  pass: {fact: done, eq: true}
                  reason: 未按期完成
                  met: 按期完成
              - id: all.x.survey
                name: 促进卓越绩效
                weight: 5
                scoring:
                  method: survey
                  fact: survey.s
                  weights: {strongly: 1, "yes": 0.8, somewhat: 0.4, "no": 0}
                rationale: "调查问卷结果为：{survey.s|shares}"
              - id: all.x.bands
                name: 培训满意度
                weight: 4
                scoring:
                  method: bands
                  value: survey.s.strongly
                  bands:
                    - {min: 90, deduct: 0}
                    - {min: 80, deduct: 0.5}
                    - {min: 70, deduct: 1, reason: "很能促进占{value|percent_value}，不足80%"}
                    - {min: 60, deduct: 2}
                    - {deduct: 4}
                  inferred: 规则系据报告得分推定
              - id: all.x.judgement
                name: 专家评分
                weight: 10
                scoring:
                  method: judgement
                  score: judge.score
                  reason: judge.reason
    """
)

BASE_FACTS = {
    "budget": {"approved": "500000.00", "spent": "398761.00"},
    "records": {"a": False, "b": False},
    "awards": {"granted": 1, "cap": 3},
    "done": True,
    "survey": {"s": {"strongly": "75.93", "yes": "24.07", "somewhat": "0", "no": "0"}},
    "judge": {"score": "8.5", "reason": "专家认为成效明显但宣传不足"},
}


def methods_pack():
    return load_pack(METHODS_PACK, "methods/pack.yaml", schema=pack_schema())


def compiled_methods(engine: str = "durable"):
    factory = durable_matcher if engine == "durable" else plain_matcher
    return compile_pack(methods_pack(), factory)
