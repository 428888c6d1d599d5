"""The 2019 report, reproduced to the cent: the contract of quality-district-funding 1.0.0."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

PACK_DIR = BUNDLED_PACKS / "quality-district-funding" / "1.0.0"

# The contract's table (quality-district-2019.md): leaf id → 2019 score.
LEAVES_2019 = {
    "decision.initiation.basis": "3", "decision.initiation.procedure": "2",
    "decision.targets.reasonableness": "1", "decision.targets.clarity": "0",
    "decision.funding.budgeting": "2", "decision.funding.allocation": "3",
    "process.funds.arrival": "2", "process.funds.execution": "2.39", "process.funds.compliance": "4",
    "process.organisation.rules": "2", "process.organisation.execution": "0.5",
    "process.organisation.quality": "1",
    "output.quantity.selection": "5", "output.quantity.applicants": "0.9",
    "output.quantity.trainings": "5", "output.quantity.awards": "5", "output.quality.procedure": "4",
    "output.quality.followup": "0", "output.cost.rewards": "3", "output.timeliness.on_time": "4",
    "benefit.economic.excellence": "4.65", "benefit.social.awareness": "3.49",
    "benefit.social.quality_management": "2.32", "benefit.social.industry_upgrade": "2.34",
    "benefit.sustainability.brand_awareness": "2.34", "benefit.sustainability.brand_cultivation": "2.34",
    "benefit.satisfaction.training": "3", "benefit.satisfaction.participants": "4.76",
}
LEVEL_2 = {
    "decision.initiation": "5", "decision.targets": "1", "decision.funding": "5",
    "process.funds": "8.39", "process.organisation": "3.5",
    "output.quantity": "15.9", "output.quality": "4", "output.cost": "3", "output.timeliness": "4",
    "benefit.economic": "4.65", "benefit.social": "8.15", "benefit.sustainability": "4.68",
    "benefit.satisfaction": "7.76",
}
LEVEL_1 = {"decision": ("11", "68.75", "中"), "process": ("11.89", "66.06", "中"),
           "output": ("26.9", "72.70", "中"), "benefit": ("25.24", "87.03", "良")}


@pytest.fixture(scope="module")
def pack():
    loaded = load_pack_dir(PACK_DIR)
    yield loaded
    loaded.compiled.close()


@pytest.fixture(scope="module")
def facts_2019(pack):
    [case] = [c for c in pack.cases if c.file.endswith("2019.yaml")]
    return case.facts


@pytest.fixture(scope="module")
def evaluation(pack, facts_2019):
    return evaluate(pack.compiled, facts_2019)


def test_total_75_03_grade_fair(evaluation):
    assert evaluation.score == Decimal("75.03")
    assert evaluation.grade == "中"
    assert evaluation.version == "1.0.0" and len(evaluation.digest) == 64


@pytest.mark.parametrize("leaf_id, score", LEAVES_2019.items())
def test_leaf_scores_as_reported(evaluation, leaf_id, score):
    assert evaluation.node(leaf_id).score == Decimal(score)


def test_the_pack_has_exactly_the_contracts_28_leaves(pack):
    assert [leaf.id for leaf in pack.pack.leaves()] == list(LEAVES_2019)


@pytest.mark.parametrize("node_id, score", LEVEL_2.items())
def test_level_2_subtotals(evaluation, node_id, score):
    assert evaluation.node(node_id).score == Decimal(score)


@pytest.mark.parametrize("node_id, expected", LEVEL_1.items())
def test_level_1_scores_rates_and_grades(evaluation, node_id, expected):
    node = evaluation.node(node_id)
    assert (node.score, node.rate, node.grade) == (Decimal(expected[0]), Decimal(expected[1]), expected[2])


@pytest.mark.parametrize(
    "leaf_id, sentence",
    [
        ("process.funds.execution",
         "质量强区工作项目经费预算500,000.00元，实际使用398,761.00元。预算执行率79.75%。根据评分细则，扣0.61分，得2.39分。"),
        ("output.quantity.applicants",
         "职能管理部门原则上推荐不少于1家、街道原则上推荐不少于2家，合计应完成50家，实际参与评选提交资料单位9家。"
         "根据评分细则，扣4.1分，得0.9分。"),
        ("decision.targets.clarity",
         "2019年未填报绩效目标申报表，未设定清晰、细化、可衡量的绩效指标。根据评分细则，扣3分，得0分。"),
    ],
)
def test_rationales_read_like_the_report(evaluation, leaf_id, sentence):
    assert evaluation.node(leaf_id).rationale == sentence


def test_every_deduction_names_its_rule_and_reason(evaluation):
    lost = [n for n in evaluation.nodes() if n.method and n.score < n.weight]
    assert lost
    for node in lost:
        assert node.deductions, node.id
        for d in node.deductions:
            assert d.rule_id.startswith(node.id + "#") and d.reason and d.points > 0


def _with(facts, **changes):
    out = copy.deepcopy(facts)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for part in parents:
            node = node[part]
        node[last] = value
    return out


@pytest.mark.parametrize(
    "changes, leaf_id, score",
    [
        ({"budget__spent": "450000.00"}, "process.funds.execution", "2.7"),
        ({"budget__spent": "500000.00"}, "process.funds.execution", "3"),
        ({"budget__received": "400000.00"}, "process.funds.arrival", "1.6"),
        ({"output__applicants_submitted": 25}, "output.quantity.applicants", "2.5"),
        ({"output__applicants_submitted": 60}, "output.quantity.applicants", "5"),
        ({"output__awards_granted": 4}, "output.quantity.awards", "2"),
        ({"output__nominations_granted": 4, "output__awards_granted": 4}, "output.quantity.awards", "0"),
        ({"rewards__award_amount": "300000.00"}, "output.cost.rewards", "1"),
        ({"targets__declaration_form_filed": True}, "decision.targets.clarity", "3"),
        ({"organisation__review_results_archived": True}, "process.organisation.execution", "1.5"),
        ({"output__selection_completed": False}, "output.quantity.selection", "0"),
        ({"survey__training_satisfaction__very_satisfied": "80", "survey__training_satisfaction__satisfied": "20"},
         "benefit.satisfaction.training", "3.5"),
        ({"survey__awareness__very_familiar": "100", "survey__awareness__familiar": "0",
          "survey__awareness__somewhat": "0", "survey__awareness__unfamiliar": "0"}, "benefit.social.awareness", "5"),
    ],
)
def test_variants_score_by_the_contracts_rules(pack, facts_2019, changes, leaf_id, score):
    assert evaluate(pack.compiled, _with(facts_2019, **changes)).node(leaf_id).score == Decimal(score)
