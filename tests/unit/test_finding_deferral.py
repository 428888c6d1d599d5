"""What a finding's texts read is deferred like its leaves' own inputs.

A finding given only by leaves that may be not applicable (their checks, bands or own
scoring) is never given when they are not applicable, so the facts and derived values its
text and recommendation read are required only when one of those leaves applies, exactly
as the leaves' own facts are (deferral.py, `needed_only_by` in GetPack). A finding an
override or an always-applicable leaf may give keeps what it reads required.

The pack is test_deferred_inputs' with findings: `cost_overrun` (the cost leaf, which a
condition may find not applicable) prints the planned and actual cost, a derived value
only it reads and a text fact only it reads (`cost.explanation`); `eco_weak` (two bands of
the ecology leaf, which its evaluator may declare not applicable) prints the level.
"""

from __future__ import annotations

import copy

import pytest

from jixiao.api import convert
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.evaluation.deferral import deferrable, finding_sources
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import load_pack
from jixiao.engine.durable import durable_matcher
from jixiao.packs import BUNDLED_PACKS, load_pack_dir, pack_schema

from .test_deferred_inputs import BARE, FULL, PACK

FINDINGS = """
findings:
  - id: cost_overrun
    text: {zh: "成本超支：计划成本{cost.budget|money}元，实际成本{cost.actual|money}元，超支{cost.excess|money}元（{cost.overrun_rate}），原因：{cost.explanation}",
           en: "Cost overrun of {cost.overrun_rate}"}
    recommendation: {zh: "控制成本，超支{cost.overrun_points}个百分点须说明"}
  - id: eco_weak
    text: {zh: "生态效益{eco.level}"}
    recommendation: 加强生态保护
"""

DERIVED = """
  - name: cost.excess
    label: {zh: 超支金额, en: cost excess}
    value: {sub: [{fact: cost.actual}, {fact: cost.budget}]}
    format: money
"""

FACT = """
  - {name: cost.explanation, type: text, label: {zh: 超支原因, en: why over budget}}
"""


def findings_pack_text(*replacements: tuple[str, str]) -> str:
    text = PACK
    for old, new in (
            ("\nindicators:\n", FINDINGS + "indicators:\n"),
            ("\nconstraints:\n", DERIVED + "constraints:\n"),
            ("\nderived:\n", FACT + "derived:\n"),
            ("        rationale: {zh: \"计划成本", "        finding: cost_overrun\n        rationale: {zh: \"计划成本"),
            ("- {options: [fairly_good], deduct: 3,", "- {options: [fairly_good], deduct: 3, finding: eco_weak,"),
            ("- {options: [poor], deduct: 6}", "- {options: [poor], deduct: 6, finding: eco_weak}"),
            *replacements):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def loaded(*replacements: tuple[str, str]):
    return load_pack(findings_pack_text(*replacements), "deferred/pack.yaml", schema=pack_schema())


@pytest.fixture(scope="module", params=["plain", "durable"])
def compiled(request):
    pack = compile_pack(loaded(), durable_matcher if request.param == "durable" else plain_matcher)
    yield pack
    pack.close()


def with_explanation(facts: dict) -> dict:
    out = copy.deepcopy(facts)
    out["cost"]["explanation"] = "材料涨价"
    return out


def refused(compiled, facts) -> list[str]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts)
    return [v.fact for v in info.value.violations]


def test_the_pack_reads_what_the_tests_say() -> None:
    pack = loaded()
    assert finding_sources(pack) == {"cost_overrun": ("process.cost",), "eco_weak": ("effect.ecology",)}
    assert [leaf.finding for leaf in pack.leaves()] == [None, None, "cost_overrun", None, None]


def test_what_only_findings_of_leaves_that_may_be_not_applicable_read_is_deferred_to_those_leaves(compiled):
    found = dict(compiled.deferrable)
    assert found["cost.explanation"] == {"process.cost"}  # read by the finding alone
    assert found["cost.excess"] == {"process.cost"}  # a derived value the finding alone reads
    assert found["cost.budget"] == found["cost.actual"] == found["cost.overrun_points"] == {"process.cost"}
    assert found["eco.level"] == {"effect.ecology"}


def test_get_pack_says_the_leaves_a_finding_only_fact_is_needed_by(compiled):
    facts = {spec.name: list(spec.needed_only_by) for spec in convert.pack_message(compiled).facts}
    assert facts["cost.explanation"] == ["process.cost"] and facts["eco.level"] == ["effect.ecology"]
    assert facts["budget.spent"] == []


def test_a_request_leaving_out_what_only_not_applicable_leaves_and_their_findings_read_is_scored(compiled):
    evaluation = evaluate(compiled, BARE)  # no cost figures, no explanation, no ecology level
    assert evaluation.findings == () and evaluation.recommendations == ()
    assert evaluation.node("process.cost").not_applicable and evaluation.node("effect.ecology").not_applicable


def test_when_the_leaf_applies_its_findings_print_the_figures(compiled):
    evaluation = evaluate(compiled, with_explanation(FULL))
    assert [(f.id, f.text) for f in evaluation.findings] == [
        ("cost_overrun", "成本超支：计划成本1,000.00元，实际成本1,034.00元，超支34.00元（3.40%），原因：材料涨价"),
        ("eco_weak", "生态效益较好")]
    assert [r.text for r in evaluation.recommendations] == ["控制成本，超支3.4个百分点须说明", "加强生态保护"]


def test_when_the_leaf_applies_what_its_finding_reads_is_required(compiled):
    assert refused(compiled, FULL) == ["cost.explanation"]  # read by the finding alone
    facts = with_explanation(FULL)
    del facts["eco"]
    assert refused(compiled, facts) == ["eco.level"]


def test_a_finding_an_always_applicable_leaf_gives_keeps_what_it_reads_required() -> None:
    pack = loaded(("        scoring:\n          method: ratio\n",
                   "        finding: cost_overrun\n        scoring:\n          method: ratio\n"))
    assert finding_sources(pack)["cost_overrun"] == ("decision.execution", "process.cost")
    found = deferrable(pack)
    for name in ("cost.explanation", "cost.excess", "cost.budget", "cost.actual", "cost.overrun_rate",
                 "cost.overrun_points"):  # the last through the recommendation
        assert name not in found, name
    assert found["eco.level"] == {"effect.ecology"}  # the other finding is still the ecology leaf's alone
    compiled = compile_pack(pack, plain_matcher)
    assert {"cost.budget", "cost.actual", "cost.explanation"} <= set(refused(compiled, BARE))


def test_a_finding_an_override_gives_keeps_what_it_reads_required() -> None:
    override = ("\nindicators:\n", "\noverrides:\n  - {id: over, when: {fact: budget.spent, gt: 1000}, zero: decision,"
                                   " reason: 超支, finding: eco_weak}\nindicators:\n")
    pack = loaded(override)
    assert finding_sources(pack)["eco_weak"] == ("effect.ecology", "override#over")
    assert "eco.level" not in deferrable(pack)
    facts = with_explanation(FULL)
    del facts["eco"]
    facts["na"] = {"ecology": True, "ecology_reason": "不涉及生态"}
    compiled = compile_pack(pack, plain_matcher)
    assert refused(compiled, facts) == ["eco.level"]  # the leaf is declared N/A, but the override may fire


def test_a_finding_of_several_leaves_that_may_be_not_applicable_needs_its_facts_when_one_applies() -> None:
    procurement = ("reason: {zh: 采购程序不规范, en: irregular procurement}}",
                   "reason: {zh: 采购程序不规范, en: irregular procurement}, finding: cost_overrun}")
    pack = loaded(procurement)
    assert deferrable(pack)["cost.explanation"] == {"process.procurement", "process.cost"}
    compiled = compile_pack(pack, plain_matcher)
    assert evaluate(compiled, BARE).findings == ()  # both not applicable
    facts = copy.deepcopy(BARE)
    facts["na"]["procurement"] = False
    facts["procurement"] = {"irregular": False}
    # procurement applies: its finding could be given, so what the finding reads is needed
    assert refused(compiled, facts) == ["cost.budget", "cost.actual", "cost.explanation"]


def test_the_framework_packs_cost_and_ecology_findings_print_facts_its_not_applicable_case_leaves_out() -> None:
    loaded_pack = load_pack_dir(BUNDLED_PACKS / "project-expenditure-framework" / "1.0.1")
    try:
        pack = loaded_pack.compiled.pack
        texts = {f.id: f.text.zh for f in pack.findings}
        assert "{cost.budget|money}" in texts["cost_overrun"] and "{benefit.ecology}" in texts["ecology_weak"]
        found = loaded_pack.compiled.deferrable
        assert found["cost.budget"] == found["cost.actual"] == {"output.cost.overrun"}
        assert found["benefit.ecology"] == {"benefit.effect.ecological"}
    finally:
        loaded_pack.compiled.close()
