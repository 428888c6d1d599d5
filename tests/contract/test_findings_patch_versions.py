"""The 1.0.1 versions of the bundled packs add findings, observations, descriptions and
report fields to 1.0.0, and quality-district-funding 1.1.1 adds them to 1.1.0, changing no
score: every golden case of either version and every generated edge request scores the same
tree (scores, deductions, rationales, grades, overrides) under both. And the 2019 findings
are the report's problems 1–3, each from the rules the report gives for it, under 1.0.1 and
1.1.1 alike."""

from __future__ import annotations

import pytest

from jixiao.core.errors import FactsError
from jixiao.core.evaluation.edge_facts import edge_facts
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

PATCHES = [("quality-district-funding", "1.0.0", "1.0.1"), ("project-expenditure-framework", "1.0.0", "1.0.1"),
           ("quality-district-funding", "1.1.0", "1.1.1")]


@pytest.fixture(scope="module", params=PATCHES, ids=[f"{p}@{new}" for p, _old, new in PATCHES])
def versions(request):
    pack_id, old, new = request.param
    loaded = [load_pack_dir(BUNDLED_PACKS / pack_id / version) for version in (old, new)]
    yield loaded
    for pack in loaded:
        pack.compiled.close()


def _scored(compiled, facts, language):
    """Everything an evaluation says but its findings, or the fact that it was refused. The
    observations 1.0.0 does not declare are left out of its request."""
    try:
        evaluation = evaluate(compiled, facts, language, ignore_unknown=True)
    except FactsError:
        return "refused"
    nodes = [(n.id, n.score, n.rate, n.grade, n.deductions, n.rationale, n.effective_weight, n.not_applicable,
              n.not_applicable_reason, n.overridden_by) for n in evaluation.nodes()]
    return evaluation.score, evaluation.grade, evaluation.overrides, nodes


def test_the_patch_scores_every_case_and_edge_request_as_the_original(versions) -> None:
    old, new = versions
    requests = [(case.facts, case.language or "zh") for pack in (old, new) for case in pack.cases]
    requests += [(edge.facts, language) for edge in edge_facts(old.compiled.pack, old.compiled.rules)
                 for language in ("zh", "en")]
    assert len(requests) > 100
    scored = 0
    for facts, language in requests:
        before, after = _scored(old.compiled, facts, language), _scored(new.compiled, facts, language)
        assert after == before, facts
        scored += before != "refused"
    assert scored > 100


def test_the_patch_adds_findings_where_the_original_has_none(versions) -> None:
    old, new = versions
    assert not old.compiled.pack.findings and new.compiled.pack.findings
    assert new.compiled.pack.observations.findings and new.compiled.pack.observations.recommendations
    assert all(leaf.description for leaf in new.compiled.pack.leaves())


@pytest.mark.parametrize("version", ["1.0.1", "1.1.1"])
def test_the_2019_problems_come_from_the_rules_the_report_names(version) -> None:
    pack = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / version)
    try:
        [case] = [c for c in pack.cases if c.file.endswith("/2019.yaml")]
        evaluation = evaluate(pack.compiled, case.facts)
    finally:
        pack.compiled.close()
    derived = [f for f in evaluation.findings if not f.observation]
    assert [(f.id, f.dimension) for f in derived] == [
        ("targets_not_declared", "decision"), ("execution_low", "process"), ("management_lax", "process")]
    declared, execution, management = derived
    assert declared.rule_ids == ("decision.targets.reasonableness#specific_indicators",
                                 "decision.targets.clarity#declaration_form")
    assert execution.rule_ids == ("process.funds.execution",) and "79.75%" in execution.text
    assert {"output.quantity.applicants", "process.organisation.execution#recommendation_opinions",
            "output.quality.procedure#recommendation_opinions", "output.quality.followup#system"} <= set(management.rule_ids)
    assert [f.observation for f in evaluation.findings] == [False] * 3 + [True] * 4
    assert len(evaluation.recommendations) == 7
