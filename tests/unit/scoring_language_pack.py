"""A small pack using the scoring language's newer constructs, for unit and property tests:
a per-item leaf, a ratio with a floor and a slope, bands over a choice with a reason on the
band that deducts nothing, a leaf the evaluator may declare not applicable (flag and
reason), a leaf a condition finds not applicable, and overrides (一票否决, a zeroed
subtree, a capped total, and one that reads a node another one changes).

Weights: decision 20 (vouchers 10, completion 10), process 30 (procurement 10,
execution 20), effect 50 (ecology 20, survey 30); total 100.
"""

from __future__ import annotations

import copy
import textwrap

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.pack.loader import load_pack
from jixiao.engine.durable import durable_matcher
from jixiao.packs import pack_schema

SCORING_LANGUAGE_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: scoring-language
    version: 1.0.0
    title: {zh: 评分语言样例, en: Scoring language sample}
    framework: 财预〔2020〕10号 附件2
    total_weight: 100
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 良, en: good, min: 80}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    not_applicable:
      treatment: rescale
    facts:
      - {name: vouchers.noncompliant, type: integer, label: {zh: 不合规凭证份数, en: non-compliant vouchers}}
      - {name: output.completed, type: decimal, label: {zh: 完成数, en: completed}, min: 0}
      - {name: output.planned, type: decimal, label: {zh: 计划数, en: planned}, min: 0}
      - {name: na.procurement, type: boolean, label: {zh: 政府采购不适用, en: procurement not applicable}, default: false}
      - {name: na.procurement_reason, type: text, label: {zh: 不适用原因, en: why not applicable}, default: ""}
      - {name: procurement.irregular, type: boolean, label: {zh: 采购程序不规范, en: irregular procurement}, default: false}
      - {name: budget.approved, type: decimal, label: {zh: 预算, en: budget}, min: 0}
      - {name: budget.spent, type: decimal, label: {zh: 支出, en: spent}, min: 0}
      - name: eco.level
        type: choice
        label: {zh: 生态效益, en: ecological benefit}
        options:
          - {key: good, label: {zh: 好, en: good}}
          - {key: fairly_good, label: {zh: 较好, en: fairly good}}
          - {key: average, label: {zh: 一般, en: average}}
          - {key: poor, label: {zh: 差, en: poor}}
      - {name: survey.planned, type: integer, label: {zh: 计划调查人数, en: people to survey}, min: 0}
      - {name: survey.done, type: integer, label: {zh: 完成调查人数, en: people surveyed}, min: 0}
      - {name: funds.misappropriated, type: boolean, label: {zh: 挪用资金, en: funds misappropriated}, default: false}
      - {name: audit.major, type: boolean, label: {zh: 审计发现重大问题, en: major audit finding}, default: false}
    indicators:
      - id: decision
        name: {zh: 决策, en: Decision}
        weight: 20
        children:
          - id: decision.vouchers
            name: {zh: 凭证合规性, en: Voucher compliance}
            weight: 10
            scoring:
              method: per_item
              count: vouchers.noncompliant
              points: 0.5
              cap: 3
              reason: {zh: "抽查发现{count}份凭证不合规，每份扣0.5分", en: "{count} non-compliant vouchers, 0.5 points each"}
              met: {zh: 抽查凭证均合规, en: every voucher sampled complies}
          - id: decision.completion
            name: {zh: 完成率, en: Completion rate}
            weight: 10
            scoring:
              method: ratio
              actual: output.completed
              target: output.planned
              floor: 0.6
              slope: {per: 0.01, points: 0.2}
              reason: {zh: "完成率{ratio|percent}，未达100%", en: "completion rate {ratio|percent}, below 100%"}
              below_floor: {zh: "完成率{ratio|percent}，低于60%，不得分", en: "completion rate {ratio|percent}, below 60%: no points"}
      - id: process
        name: {zh: 过程, en: Process}
        weight: 30
        children:
          - id: process.procurement
            name: {zh: 政府采购规范性, en: Procurement}
            weight: 10
            not_applicable: {flag: na.procurement, reason: na.procurement_reason}
            scoring:
              method: deductions
              checks:
                - {id: irregular, when: {fact: procurement.irregular, eq: true}, points: 4, reason: {zh: 采购程序不规范, en: irregular procurement}}
          - id: process.execution
            name: {zh: 预算执行率, en: Budget execution}
            weight: 20
            scoring:
              method: ratio
              actual: budget.spent
              target: budget.approved
              reason: {zh: "预算执行率{ratio|percent}", en: "execution rate {ratio|percent}"}
      - id: effect
        name: {zh: 效益, en: Effect}
        weight: 50
        children:
          - id: effect.ecology
            name: {zh: 生态效益, en: Ecological benefit}
            weight: 20
            scoring:
              method: bands
              value: eco.level
              bands:
                - {options: [good], deduct: 0, reason: {zh: "生态效益{value}", en: "ecological benefit {value}"}}
                - {options: [fairly_good], deduct: 5, reason: {zh: "生态效益{value}", en: "ecological benefit {value}"}}
                - {options: [average, poor], deduct: 12}
          - id: effect.survey
            name: {zh: 满意度调查完成率, en: Survey completion}
            weight: 30
            not_applicable:
              when: {fact: survey.planned, eq: 0}
              reason: {zh: 本年度未安排满意度调查, en: no survey was planned this year}
            scoring:
              method: ratio
              actual: survey.done
              target: survey.planned
              reason: {zh: "调查完成率{ratio|percent}", en: "survey completion {ratio|percent}"}
    overrides:
      - id: process_after_effect
        when: {score: effect, lt: 10}
        cap: {node: process, score: 20}
        reason: {zh: "效益指标得分低于10分，过程指标得分由{before}分调整为{after}分", en: "the effect indicators scored below 10: process capped ({before} to {after})"}
      - id: misappropriation
        when: {fact: funds.misappropriated, eq: true}
        grade: 差
        reason: {zh: "经核查，项目资金存在挪用问题，实行一票否决，评价等级由“{before}”定为“{after}”", en: "funds were misappropriated: the grade is {after} whatever the total"}
      - id: output_failed
        when: {rate: decision, lt: 60}
        zero: effect
        reason: {zh: 决策指标得分率低于60%，效益类指标不得分, en: the decision indicators scored below 60%}
      - id: audit_cap
        when: {fact: audit.major, eq: true}
        cap: {node: total, score: 59.99}
        reason: {zh: "审计发现重大问题，总分由{before}分调整为{after}分", en: "a major audit finding caps the total at 59.99 ({before} before)"}
    """
)

#: An ordinary project, every leaf applicable and no override firing:
#: vouchers 10 − 3 × 0.5 = 8.5; completion 85 %: 10 − (1 − 0.85) ÷ 0.01 × 0.2 = 7;
#: procurement 10 − 4 = 6; execution 20 × 0.9 = 18; ecology (较好) 20 − 5 = 15;
#: survey 30 × 30 ÷ 40 = 22.5. decision 15.5, process 24, effect 37.5: total 77 (中).
BASE_FACTS = {
    "vouchers": {"noncompliant": 3},
    "output": {"completed": "85", "planned": "100"},
    "procurement": {"irregular": True},
    "budget": {"approved": "100", "spent": "90"},
    "eco": {"level": "fairly_good"},
    "survey": {"planned": 40, "done": 30},
}


def facts(**changes) -> dict:
    """BASE_FACTS with changes given as section__name=value."""
    out = copy.deepcopy(BASE_FACTS)
    for dotted, value in changes.items():
        section, name = dotted.split("__")
        out.setdefault(section, {})[name] = value
    return out


def edited(*changes: tuple[str, str], text: str = SCORING_LANGUAGE_PACK) -> str:
    """The pack's text with each (old, new) replaced; an `old` not found is a broken test."""
    for old, new in changes:
        assert old in text, f"not in the pack: {old!r}"
        text = text.replace(old, new)
    return text


def scoring_pack(treatment: str = "rescale", text: str = SCORING_LANGUAGE_PACK):
    return load_pack(text.replace("treatment: rescale", f"treatment: {treatment}"), "scoring/pack.yaml",
                     schema=pack_schema())


def compiled_scoring(engine: str = "durable", treatment: str = "rescale", text: str = SCORING_LANGUAGE_PACK,
                     cache_entries: int | None = None):
    factory = durable_matcher if engine == "durable" else plain_matcher
    options = {} if cache_entries is None else {"cache_entries": cache_entries}
    return compile_pack(scoring_pack(treatment, text), factory, **options)
