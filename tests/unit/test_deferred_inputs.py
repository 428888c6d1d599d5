"""A fact (or derived value) only not-applicable leaves read is not required.

The pack below has one leaf always applicable and four that may be not applicable, each
the only reader of some facts: procurement (the evaluator's flag) reads
procurement.irregular; cost (a condition) reads cost.budget and cost.actual through two
derived values; ecology (a flag) reads a choice; satisfaction (a condition) reads a
survey. Those facts have no default: they may be left out exactly when their leaf is not
applicable, and a derived value only such a leaf reads may divide by 0. Both matchers.
"""

from __future__ import annotations

import copy
import textwrap
from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.evaluation.deferral import deferrable, placeholders
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import load_pack
from jixiao.engine.durable import durable_matcher
from jixiao.packs import BUNDLED_PACKS, load_pack_dir, pack_schema

PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: deferred-inputs
    version: 1.0.0
    title: {zh: 不适用指标的输入, en: Inputs of not-applicable indicators}
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
      - {name: budget.approved, type: decimal, label: {zh: 预算, en: budget}, min: 0}
      - {name: budget.spent, type: decimal, label: {zh: 支出, en: spent}, min: 0}
      - {name: na.procurement, type: boolean, label: {zh: 政府采购不适用, en: procurement not applicable}, default: false}
      - {name: na.procurement_reason, type: text, label: {zh: 原因, en: why}, default: ""}
      - {name: procurement.irregular, type: boolean, label: {zh: 采购程序不规范, en: irregular procurement}}
      - {name: cost.target_set, type: boolean, label: {zh: 设定成本目标, en: cost target set}}
      - {name: cost.budget, type: decimal, label: {zh: 计划成本, en: planned cost}, min: 0}
      - {name: cost.actual, type: decimal, label: {zh: 实际成本, en: actual cost}, min: 0}
      - {name: na.ecology, type: boolean, label: {zh: 生态效益不适用, en: ecology not applicable}, default: false}
      - {name: na.ecology_reason, type: text, label: {zh: 原因, en: why}, default: ""}
      - name: eco.level
        type: choice
        label: {zh: 生态效益, en: ecological benefit}
        options:
          - {key: good, label: {zh: 好, en: good}}
          - {key: fairly_good, label: {zh: 较好, en: fairly good}}
          - {key: poor, label: {zh: 差, en: poor}}
      - {name: sat.planned, type: boolean, label: {zh: 安排满意度调查, en: survey planned}}
      - name: sat.survey
        type: survey
        label: {zh: 满意度调查, en: satisfaction survey}
        options:
          - {key: yes, label: {zh: 满意, en: satisfied}}
          - {key: no, label: {zh: 不满意, en: dissatisfied}}
    derived:
      - name: cost.overrun_rate
        label: {zh: 成本超支率, en: cost overrun rate}
        value: {div: [{sub: [{fact: cost.actual}, {fact: cost.budget}]}, {fact: cost.budget}]}
        format: percent
        places: 4
      - name: cost.overrun_points
        label: {zh: 超支百分点, en: overrun points}
        value: {max: [{mul: [{fact: cost.overrun_rate}, 100]}, 0]}
        places: 2
    constraints:
      - id: spent_within_budget
        require: {fact: budget.spent, le: {fact: budget.approved}}
        message: {zh: 支出不能超过预算, en: spending cannot exceed the budget}
    indicators:
      - id: decision
        name: {zh: 决策, en: Decision}
        weight: 40
        children:
          - id: decision.execution
            name: {zh: 预算执行率, en: Budget execution}
            weight: 40
            scoring:
              method: ratio
              actual: budget.spent
              target: budget.approved
              reason: {zh: "预算执行率{ratio|percent}", en: "execution rate {ratio|percent}"}
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
          - id: process.cost
            name: {zh: 成本超支率, en: Cost overrun}
            weight: 20
            not_applicable:
              when: {fact: cost.target_set, eq: false}
              reason: {zh: 未设定成本目标, en: no cost target}
            scoring:
              method: per_item
              count: cost.overrun_points
              points: 1
              reason: {zh: "成本超支率{cost.overrun_rate}，每超支1个百分点扣1分", en: "overrun {cost.overrun_rate}"}
            rationale: {zh: "计划成本{cost.budget|money}元，{findings}", en: "planned cost {cost.budget|money}: {findings}"}
      - id: effect
        name: {zh: 效益, en: Effect}
        weight: 30
        children:
          - id: effect.ecology
            name: {zh: 生态效益, en: Ecological benefit}
            weight: 10
            not_applicable: {flag: na.ecology, reason: na.ecology_reason}
            scoring:
              method: bands
              value: eco.level
              bands:
                - {options: [good], deduct: 0, reason: {zh: "生态效益{value}", en: "ecology {value}"}}
                - {options: [fairly_good], deduct: 3, reason: {zh: "生态效益{value}", en: "ecology {value}"}}
                - {options: [poor], deduct: 6}
          - id: effect.satisfaction
            name: {zh: 满意度, en: Satisfaction}
            weight: 20
            not_applicable:
              when: {fact: sat.planned, eq: false}
              reason: {zh: 未安排满意度调查, en: no survey planned}
            scoring:
              method: survey
              fact: sat.survey
              weights: {yes: 1, no: 0}
    """
)

#: Every leaf applicable: execution 40 × 90 ÷ 100 = 36; procurement 10 − 4 = 6;
#: cost (1034 − 1000) ÷ 1000 = 3.4 %, 3.4 points → 20 − 3.4 = 16.6; ecology 较好 10 − 3 = 7;
#: satisfaction 20 × (1 − 0.2) = 16. Total 36 + 6 + 16.6 + 7 + 16 = 81.6 (良).
FULL = {
    "budget": {"approved": "100", "spent": "90"},
    "procurement": {"irregular": True},
    "cost": {"target_set": True, "budget": "1000", "actual": "1034"},
    "eco": {"level": "较好"},
    "sat": {"planned": True, "survey": {"yes": "80", "no": "20"}},
}

#: Every leaf that may be N/A is, and what only it reads is left out: only execution is
#: scored, 36 on 40, converted: 36 × 100 ÷ 40 = 90 (优).
BARE = {
    "budget": {"approved": "100", "spent": "90"},
    "na": {"procurement": True, "procurement_reason": "未开展政府采购", "ecology": True, "ecology_reason": "不涉及生态"},
    "cost": {"target_set": False},
    "sat": {"planned": False},
}


@pytest.fixture(scope="module", params=["durable", "plain"])
def compiled(request):
    factory = durable_matcher if request.param == "durable" else plain_matcher
    pack = compile_pack(load_pack(PACK, "deferred/pack.yaml", schema=pack_schema()), factory)
    yield pack
    pack.close()


def refused(compiled, facts) -> list[tuple[str, str]]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts)
    return [(v.fact, v.description) for v in info.value.violations]


def test_the_names_only_leaves_that_may_be_not_applicable_read(compiled):
    assert dict(compiled.deferrable) == {
        "procurement.irregular": {"process.procurement"},
        "cost.budget": {"process.cost"},
        "cost.actual": {"process.cost"},
        "cost.overrun_rate": {"process.cost"},
        "cost.overrun_points": {"process.cost"},
        "eco.level": {"effect.ecology"},
        "sat.survey": {"effect.satisfaction"},
    }


def test_a_name_another_reader_reads_is_required_as_declared():
    # a constraint reading cost.budget keeps it required; cost.actual still only the leaf reads
    text = PACK.replace("\nindicators:\n", (
        "\n  - id: cost_positive\n"
        "    require: {fact: cost.budget, ge: 0}\n"
        "    message: {zh: 计划成本不能为负}\n"
        "indicators:\n"), 1)
    assert "cost_positive" in text
    found = deferrable(load_pack(text, "deferred/pack.yaml", schema=pack_schema()))
    assert "cost.budget" not in found and "cost.actual" in found
    # an always-applicable leaf reading eco.level in its text keeps it required
    text = PACK.replace('reason: {zh: "预算执行率{ratio|percent}"', 'reason: {zh: "预算执行率{ratio|percent}{eco.level}"')
    found = deferrable(load_pack(text, "deferred/pack.yaml", schema=pack_schema()))
    assert "eco.level" not in found and "sat.survey" in found


def test_old_packs_defer_nothing():
    for version in ("1.0.0", "1.1.0"):
        loaded = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / version)
        try:
            assert loaded.compiled.deferrable == {}
            assert deferrable(loaded.compiled.pack) == {}
        finally:
            loaded.compiled.close()


def test_every_leaf_applicable_scores_as_usual(compiled):
    evaluation = evaluate(compiled, FULL)
    assert (evaluation.score, evaluation.grade) == (Decimal("81.60"), "良")
    assert evaluation.node("process.cost").score == Decimal("16.60")
    assert evaluation.node("process.cost").rationale == (
        "计划成本1,000.00元，成本超支率3.40%，每超支1个百分点扣1分。根据评分细则，扣3.4分，得16.6分。")


def test_what_only_not_applicable_leaves_read_may_be_left_out(compiled):
    evaluation = evaluate(compiled, BARE)
    assert (evaluation.score, evaluation.grade, evaluation.applicable_weight) == (Decimal("90.00"), "优", Decimal(40))
    assert {n.id for n in evaluation.nodes() if n.not_applicable and not n.children} == {
        "process.procurement", "process.cost", "effect.ecology", "effect.satisfaction"}
    assert evaluation.node("effect.ecology").rationale == "该指标不适用（不涉及生态），权重按得分率折算。"


def test_a_derived_value_dividing_by_0_only_a_not_applicable_leaf_reads(compiled):
    # cost N/A with a planned cost of 0 sent: the rate divides by 0, and nothing reads it.
    # 36 + 6 + 7 + 16 = 65 on 40 + 10 + 10 + 20 = 80: 65 × 100 ÷ 80 = 81.25 (良)
    facts = copy.deepcopy(FULL)
    facts["cost"] = {"target_set": False, "budget": "0", "actual": "5"}
    evaluation = evaluate(compiled, facts)
    assert (evaluation.score, evaluation.grade) == (Decimal("81.25"), "良")
    # beyond the engine's limits (about 10^24): the same
    facts["cost"] = {"target_set": False, "budget": "0.000000000000001", "actual": "999999999"}
    assert evaluate(compiled, facts).score == Decimal("81.25")


def test_an_applicable_leaf_needs_what_it_reads(compiled):
    facts = copy.deepcopy(FULL)
    facts["cost"] = {"target_set": True, "budget": "0", "actual": "5"}
    assert refused(compiled, facts) == [("cost.overrun_rate", "divides by cost.budget, which is 0")]
    facts["cost"] = {"target_set": True}
    assert refused(compiled, facts) == [
        ("cost.budget", 'missing (expected a decimal number such as "398761.00")'),
        ("cost.actual", 'missing (expected a decimal number such as "398761.00")')]
    facts = copy.deepcopy(FULL)
    del facts["eco"], facts["sat"]["survey"]
    assert [fact for fact, _ in refused(compiled, facts)] == ["eco.level", "sat.survey"]
    # the same, with only the ecology leaf declared not applicable: the survey is still needed
    facts["na"] = {"ecology": True, "ecology_reason": "不涉及生态"}
    assert [fact for fact, _ in refused(compiled, facts)] == ["sat.survey"]


def test_with_another_error_everything_is_reported_at_once_but_what_a_flag_excuses(compiled):
    facts = copy.deepcopy(BARE)
    facts["budget"]["spent"] = "abc"
    facts["na"]["procurement"] = False
    # procurement.irregular: its leaf is applicable (flag false); cost.budget/actual: their
    # leaf's condition is not decided yet; eco.level: declared not applicable, not reported.
    assert [fact for fact, _ in refused(compiled, facts)] == [
        "budget.spent", "procurement.irregular", "cost.budget", "cost.actual", "sat.survey"]


def test_placeholders_are_safe_typed_values():
    pack = load_pack(PACK, "deferred/pack.yaml", schema=pack_schema())
    assert placeholders(pack, ["procurement.irregular", "cost.budget", "cost.overrun_rate", "eco.level",
                               "sat.survey", "na.procurement_reason"]) == {
        "procurement.irregular": False, "cost.budget": Decimal(0), "cost.overrun_rate": Decimal(0),
        "eco.level": "good", "sat.survey": {"yes": Decimal(0), "no": Decimal(0)},
        "sat.survey.yes": Decimal(0), "sat.survey.no": Decimal(0), "na.procurement_reason": ""}
