"""Scored rows of the 2019 pack for the batch output tests: the core's evaluation of the
2019 report's facts, variations of it, and the same with findings, recommendations and a
leaf not applicable put in (until the bundled packs give them themselves)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from jixiao.api.convert import pack_message
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.results import Evaluation, Finding, NodeResult
from jixiao.packs import LoadedPack, load_pack_dir
from jixiao.v1 import evaluation_pb2

REPO = Path(__file__).resolve().parents[2]
PACK_2019 = REPO / "rules" / "quality-district-funding" / "1.0.0"

FINDINGS = (
    Finding("targets_not_declared", "未申报预算绩效指标，绩效目标不明确", "decision",
            ("decision.targets.reasonableness#specific_indicators", "decision.targets.clarity#declaration_form"),
            ("decision.targets.reasonableness", "decision.targets.clarity")),
    Finding("evaluation.observed_problems[0]", "奖金过少、奖励面过窄", "", (), (), True),
)
RECOMMENDATIONS = (
    Finding("targets_not_declared", "强化绩效管理理念，按要求申报绩效目标", "decision",
            ("decision.targets.reasonableness#specific_indicators",), ("decision.targets.reasonableness",)),
)


@lru_cache(maxsize=1)
def loaded_2019() -> LoadedPack:
    return load_pack_dir(PACK_2019)


def pack_2019() -> evaluation_pb2.Pack:
    return pack_message(loaded_2019().compiled)


def facts_2019() -> dict:
    return loaded_2019().cases[0].facts


def evaluation_2019(spent: str | None = None, language: str = "zh") -> Evaluation:
    """The 2019 facts scored, with another amount spent when `spent` is given."""
    facts = facts_2019()
    if spent is not None:
        facts = {**facts, "budget": {**facts["budget"], "spent": spent}}
    return evaluate(loaded_2019().compiled, facts, language)


def with_findings(evaluation: Evaluation) -> Evaluation:
    return replace(evaluation, findings=FINDINGS, recommendations=RECOMMENDATIONS)


def with_leaf(evaluation: Evaluation, leaf_id: str, **changes) -> Evaluation:
    """The evaluation with one leaf's result changed (e.g. found not applicable)."""
    def changed(node: NodeResult) -> NodeResult:
        if node.id == leaf_id:
            return node._replace(**changes)
        return node._replace(children=tuple(changed(child) for child in node.children))

    return replace(evaluation, indicators=tuple(changed(top) for top in evaluation.indicators))


def not_applicable(evaluation: Evaluation) -> Evaluation:
    """The 2019 evaluation with process.funds.arrival not applicable and its weight given
    to process.funds.execution (as a redistribution would)."""
    evaluation = with_leaf(evaluation, "process.funds.arrival", score=Decimal(0), rate=Decimal("0.00"),
                           effective_weight=Decimal(0), not_applicable=True,
                           not_applicable_reason="资金一次性拨付，不考核到位率", rationale="")
    return with_leaf(evaluation, "process.funds.execution", effective_weight=Decimal(5))
