"""A small pack with findings, recommendations and observations, for unit tests."""

from __future__ import annotations

import textwrap

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

FINDINGS_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: findings-sample
    version: 1.0.0
    title: {zh: 问题与建议样例, en: Findings sample}
    framework: 财预〔2020〕10号 附件2
    total_weight: 20
    not_applicable: {treatment: rescale}
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 良, en: good, min: 80}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    findings:
      - id: records_missing
        text: {zh: "项目管理不到位，{project.name}相关记录缺失", en: "Management records of {project.name} are missing"}
        recommendation: {zh: 加强项目管理, en: Strengthen project management}
      - id: spending_slow
        text: {zh: "预算执行率偏低，执行{budget.spent|money}元", en: "Slow spending: {budget.spent|money} spent"}
        recommendation: {zh: 加快预算执行, en: Spend on time}
      - id: targets_missing
        dimension: decision
        text: {zh: 未设定绩效目标, en: No performance targets}
        recommendation: {zh: 加强项目管理, en: Strengthen project management}
      - id: misused
        dimension: process
        text: 存在挪用资金情况
    observations:
      findings: evaluation.problems
      recommendations: evaluation.advice
    report:
      project: {name: project.name, budget: budget.approved, spent: budget.spent}
    facts:
      - {name: project.name, type: text, label: {zh: 项目名称, en: Project name}}
      - {name: budget.approved, type: decimal, label: 预算, unit: 元, min: 0}
      - {name: budget.spent, type: decimal, label: 支出, unit: 元, min: 0}
      - {name: targets.set, type: boolean, label: 已设定目标}
      - {name: records.a, type: boolean, label: 记录甲}
      - {name: records.b, type: boolean, label: 记录乙}
      - {name: applicants, type: integer, label: 申报数, min: 0}
      - {name: misused, type: boolean, label: 挪用, default: false}
      - {name: survey.na, type: boolean, label: 问卷不适用, default: false}
      - {name: survey.na_reason, type: text, label: 不适用理由, default: ""}
      - {name: evaluation.problems, type: text_list, label: {zh: 其他问题, en: Other problems}, default: []}
      - {name: evaluation.advice, type: text_list, label: 其他建议, max_items: 3, default: []}
    indicators:
      - id: decision
        name: {zh: 决策, en: Decision}
        description: {zh: 考察项目决策, en: How the project was decided}
        weight: 5
        children:
          - id: decision.targets
            name: 绩效目标
            weight: 5
            description: 是否设定绩效目标
            scoring:
              method: all_or_nothing
              pass: {fact: targets.set, eq: true}
              reason: 未设定绩效目标
            finding: targets_missing
      - id: process
        name: {zh: 过程, en: Process}
        weight: 10
        children:
          - id: process.records
            name: 制度执行
            weight: 4
            scoring:
              method: deductions
              checks:
                - {id: a, when: {fact: records.a, eq: false}, points: 1, reason: 记录甲未见, finding: records_missing}
                - {id: b, when: {fact: records.b, eq: false}, points: 1, reason: 记录乙未见, finding: records_missing}
          - id: process.execution
            name: 预算执行率
            weight: 3
            scoring:
              method: ratio
              actual: budget.spent
              target: budget.approved
              reason: "预算执行率{ratio|percent}"
            finding: spending_slow
          - id: process.applicants
            name: 申报情况
            weight: 3
            scoring:
              method: bands
              value: applicants
              bands:
                - {min: 10, deduct: 0}
                - {min: 5, deduct: 1, finding: records_missing}
                - {deduct: 3, finding: records_missing}
      - id: effect
        name: {zh: 效益, en: Effect}
        weight: 5
        children:
          - id: effect.survey
            name: 满意度
            weight: 5
            not_applicable: {flag: survey.na, reason: survey.na_reason}
            scoring:
              method: deductions
              checks:
                - {id: low, when: {fact: records.a, eq: false}, points: 2, reason: 满意度低, finding: records_missing}
    overrides:
      - id: misuse
        when: {fact: misused, eq: true}
        zero: process
        reason: 存在挪用
        finding: misused
    """
)

#: Facts of a project that loses no point.
CLEAN = {
    "project": {"name": "质量强区"},
    "budget": {"approved": "100", "spent": "100"},
    "targets": {"set": True},
    "records": {"a": True, "b": True},
    "applicants": 12,
}


def findings_pack(text: str = FINDINGS_PACK):
    return load_pack(text, "pack.yaml", schema=pack_schema())


def compiled_findings_pack(text: str = FINDINGS_PACK, matcher=plain_matcher):
    return compile_pack(findings_pack(text), matcher)


def edited(*replacements: tuple[str, str], text: str = FINDINGS_PACK) -> str:
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text
