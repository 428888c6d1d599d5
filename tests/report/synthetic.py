"""Packs and evaluations made by hand for report tests: the report reads only the pack's
tree, texts and grades and the evaluation's results, so no rule engine is needed here."""

from __future__ import annotations

from decimal import Decimal

from jixiao.core.decimals import rate_percent
from jixiao.core.evaluation.results import Deduction, Evaluation, Finding, NodeResult, OverrideResult
from jixiao.core.pack.model import FactSpec, FactType, GradeBand, Indicator, Pack, Text, grade_for

GRADES = (GradeBand("优", Decimal(90), "excellent"), GradeBand("良", Decimal(80), "good"),
          GradeBand("中", Decimal(60), "fair"), GradeBand("差", Decimal(0), "poor"))


def make_pack(dimensions: int = 4, groups: int = 2, leaves: int = 3, text: str = "", total: Decimal | None = None,
              facts: tuple[FactSpec, ...] = (), report_project: tuple = (), with_descriptions: bool = True) -> Pack:
    """A pack of `dimensions` × `groups` × `leaves` leaves of weight 1 each (the total their sum
    unless given); every node named 指标<id>, described when `with_descriptions`."""
    tops = []
    for d in range(1, dimensions + 1):
        kids = []
        for g in range(1, groups + 1):
            leaf_nodes = tuple(
                Indicator(id=f"d{d}.g{g}.l{n}", name=Text(f"指标{d}.{g}.{n}{text}", f"Indicator {d}.{g}.{n}"),
                          weight=Decimal(1),
                          description=Text(f"说明{d}.{g}.{n}{text}", f"About {d}.{g}.{n}") if with_descriptions else None)
                for n in range(1, leaves + 1))
            kids.append(Indicator(id=f"d{d}.g{g}", name=Text(f"二级{d}.{g}", f"Group {d}.{g}"),
                                  weight=Decimal(leaves), children=leaf_nodes))
        tops.append(Indicator(id=f"d{d}", name=Text(f"维度{d}", f"Dimension {d}"), weight=Decimal(groups * leaves),
                              children=tuple(kids),
                              description=Text(f"维度{d}的说明", f"Dimension {d} explained") if with_descriptions else None))
    weight = Decimal(dimensions * groups * leaves)
    return Pack(id="synthetic", version="1.0.0", title=Text("合成指标体系", "Synthetic system"), framework="test",
                total_weight=total or weight, grades=GRADES, facts=facts, indicators=tuple(tops),
                report_project=report_project)


def evaluate_by_hand(pack: Pack, leaf_scores: dict[str, Decimal] | None = None, language: str = "zh",
                     rationale: str = "", not_applicable: dict[str, str] | None = None,
                     overrides: tuple[OverrideResult, ...] = (), findings: tuple[Finding, ...] = (),
                     recommendations: tuple[Finding, ...] = (), not_applicable_rationale: bool = False) -> Evaluation:
    """An evaluation of `pack` with the given leaf scores (default: the weight less 0.25 on
    every third leaf), each leaf's deduction and rationale, and leaves declared not applicable."""
    leaf_scores = leaf_scores or {}
    not_applicable = not_applicable or {}
    counter = iter(range(10**9))

    def result(node: Indicator, level: int) -> NodeResult:
        name = node.name.get(language)
        if node.is_leaf:
            index = next(counter)
            if node.id in not_applicable:
                return NodeResult(node.id, name, level, node.weight, Decimal("0.00"), Decimal("0.00"), None,
                                  method="judgement", effective_weight=Decimal(0), not_applicable=True,
                                  not_applicable_reason=not_applicable[node.id],
                                  rationale=(f"该指标不适用（{not_applicable[node.id]}），权重按得分率折算。"
                                             if not_applicable_rationale else ""))
            score = leaf_scores.get(node.id, node.weight - (Decimal("0.25") if index % 3 == 0 else 0))
            lost = node.weight - score
            deductions = (Deduction(f"{node.id}#check", lost, f"扣分原因{node.id}"),) if lost else ()
            return NodeResult(node.id, name, level, node.weight, score, rate_percent(score, node.weight), None,
                              method="deductions", deductions=deductions,
                              rationale=f"{node.id}的评分依据{rationale}。根据评分细则，得{score}分。",
                              overridden_by=tuple(o.rule_id for o in overrides if o.node == node.id))
        children = tuple(result(child, level + 1) for child in node.children)
        score = sum((c.score for c in children), Decimal(0))
        weight = sum((c.scored_weight for c in children), Decimal(0))
        rate = rate_percent(score, weight)
        grade = grade_for(pack.grades, rate) if level == 1 else None
        grade_name = None if grade is None else (grade.en if language == "en" else grade.grade)
        effective = weight if weight != node.weight else None
        return NodeResult(node.id, name, level, node.weight, score, rate, grade_name, children=children,
                          effective_weight=effective)

    tops = tuple(result(top, 1) for top in pack.indicators)
    score = sum((t.score for t in tops), Decimal(0))
    rate = rate_percent(score, pack.total_weight)
    band = grade_for(pack.grades, rate)
    return Evaluation(pack_id=pack.id, version=pack.version, digest="0" * 64, language=language,
                      total_weight=pack.total_weight, score=score, rate=rate,
                      grade=band.en if language == "en" else band.grade, indicators=tops, overrides=overrides,
                      findings=findings, recommendations=recommendations,
                      not_applicable_treatment="rescale" if not_applicable else "",
                      applicable_weight=sum((t.scored_weight for t in tops), Decimal(0)) if not_applicable else None)


def text_fact(name: str) -> FactSpec:
    return FactSpec(name=name, type=FactType.TEXT, label=Text(name), default="", has_default=True)


def decimal_fact(name: str) -> FactSpec:
    return FactSpec(name=name, type=FactType.DECIMAL, label=Text(name))
