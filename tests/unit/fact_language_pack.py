"""A small pack using the fact language's newer constructs (a choice, a non-empty text,
derived values, constraints, an `in` list), for unit tests of fact checking."""

from __future__ import annotations

import textwrap

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

FACT_LANGUAGE_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: fact-language
    version: 1.0.0
    title: {zh: 事实语言样例, en: Fact language sample}
    framework: 财预〔2020〕10号 附件2
    total_weight: 20
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 良, en: good, min: 80}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    facts:
      - {name: cost.budget, type: decimal, label: {zh: 预算成本, en: budgeted cost}, unit: 元, min: 0}
      - {name: cost.actual, type: decimal, label: {zh: 实际成本, en: actual cost}, unit: 元, min: 0}
      - {name: vouchers.sampled, type: integer, label: {zh: 抽查凭证份数, en: vouchers sampled}, min: 0}
      - {name: vouchers.compliant, type: integer, label: {zh: 合规凭证份数, en: compliant vouchers}, min: 0}
      - name: effect.ecology
        type: choice
        label: {zh: 生态效益, en: ecological benefit}
        options:
          - {key: good, label: {zh: 好, en: good}}
          - {key: fairly_good, label: {zh: 较好, en: fairly good}}
          - {key: average, label: {zh: 一般, en: average}}
          - {key: poor, label: {zh: 差, en: poor}}
      - {name: evidence.summary, type: text, label: {zh: 佐证材料摘要, en: evidence summary}, non_empty: true}
      - {name: issues.amount, type: decimal, label: {zh: 问题金额, en: amount at issue}, unit: 元, min: 0, default: "0"}
      - {name: judge.score, type: decimal, label: {zh: 专家评分, en: expert score}}
      - {name: judge.reason, type: text, label: {zh: 专家评分理由, en: expert's reason}}
    derived:
      - name: cost.overrun_rate
        label: {zh: 成本超支率, en: cost overrun rate}
        value: {div: [{sub: [{fact: cost.actual}, {fact: cost.budget}]}, {fact: cost.budget}]}
        format: percent
        places: 4
      - name: cost.overrun
        label: {zh: 超支金额, en: cost overrun}
        value: {max: [{sub: [{fact: cost.actual}, {fact: cost.budget}]}, 0]}
        format: money
        places: 2
      - name: vouchers.noncompliant
        label: {zh: 不合规凭证份数, en: non-compliant vouchers}
        value: {sub: [{fact: vouchers.sampled}, {fact: vouchers.compliant}]}
        places: 0
      - name: vouchers.rate
        label: {zh: 凭证合规率, en: voucher compliance rate}
        value: {div: [{fact: vouchers.compliant}, {fact: vouchers.sampled}]}
        format: percent
    constraints:
      - id: vouchers_within_sample
        require: {fact: vouchers.compliant, le: {fact: vouchers.sampled}}
        message: {zh: 合规凭证份数不能多于抽查份数, en: compliant vouchers cannot outnumber the sampled ones}
    indicators:
      - id: all
        name: {zh: 全部, en: All}
        weight: 20
        children:
          - id: all.x
            name: {zh: 样例, en: Sample}
            weight: 20
            children:
              - id: all.x.cost
                name: {zh: 成本控制, en: Cost control}
                weight: 5
                scoring:
                  method: bands
                  value: cost.overrun_rate
                  bands:
                    - {min: 0.1, deduct: 5, reason: {zh: "成本超支率{cost.overrun_rate}，超支{cost.overrun}元", en: "cost overrun {cost.overrun_rate}"}}
                    - {min: 0.05, deduct: 2, reason: {zh: "成本超支率{cost.overrun_rate}", en: "cost overrun {cost.overrun_rate}"}}
                    - {deduct: 0}
              - id: all.x.vouchers
                name: {zh: 凭证合规, en: Voucher compliance}
                weight: 5
                scoring:
                  method: deductions
                  checks:
                    - id: many_noncompliant
                      when: {fact: vouchers.noncompliant, gt: 2}
                      points: 3
                      reason: {zh: "抽查{vouchers.sampled}份凭证，{vouchers.noncompliant}份不合规，合规率{vouchers.rate}", en: "{vouchers.noncompliant} of {vouchers.sampled} vouchers non-compliant"}
                      met: {zh: "凭证合规率{vouchers.rate}", en: "voucher compliance {vouchers.rate}"}
              - id: all.x.ecology
                name: {zh: 生态效益, en: Ecological benefit}
                weight: 5
                scoring:
                  method: deductions
                  checks:
                    - id: weak
                      when: {fact: effect.ecology, in: [average, poor]}
                      points: 2
                      reason: {zh: "生态效益{effect.ecology}", en: "ecological benefit {effect.ecology}"}
                      met: {zh: "生态效益{effect.ecology}", en: "ecological benefit {effect.ecology}"}
              - id: all.x.judged
                name: {zh: 专家评价, en: Expert judgement}
                weight: 5
                scoring:
                  method: judgement
                  score: judge.score
                  reason: judge.reason
    """
).lstrip()

BASE = {
    "cost": {"budget": "1000.00", "actual": "1124.00"},
    "vouchers": {"sampled": 20, "compliant": 17},
    "effect": {"ecology": "fairly_good"},
    "evidence": {"summary": "抽查凭证20份"},
    "judge": {"score": "4", "reason": "资料齐全"},
}


def fact_language_pack():
    return load_pack(FACT_LANGUAGE_PACK, "fact-language/pack.yaml", schema=pack_schema())


def compiled_fact_language(matcher=plain_matcher):
    return compile_pack(fact_language_pack(), matcher)
