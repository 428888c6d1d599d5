"""Findings, whatever the facts: every rule-derived finding names only rules that really
fired in the evaluation (a deduction its leaf records, a leaf that lost points, an override
that acted), every rule naming a finding that fired is among its rule ids, and findings
come in dimension order, then the pack's order, the evaluator's observations last."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.core.evaluation.compiler import plain_matcher
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao.core.pack.model import Bands, Deductions
from unit.findings_pack import CLEAN, FINDINGS_PACK, compiled_findings_pack

COMPILED = compiled_findings_pack()
PACK = COMPILED.pack

facts = st.fixed_dictionaries({
    "targets": st.fixed_dictionaries({"set": st.booleans()}),
    "records": st.fixed_dictionaries({"a": st.booleans(), "b": st.booleans()}),
    "budget": st.fixed_dictionaries({"approved": st.sampled_from(["100", "80", "1"]),
                                     "spent": st.sampled_from(["100", "50", "0", "120", "79.99"])}),
    "applicants": st.integers(0, 15),
    "misused": st.booleans(),
    "survey": st.one_of(st.just({"na": False}), st.just({"na": True, "na_reason": "未开展"})),
    "evaluation": st.fixed_dictionaries({
        "problems": st.lists(st.sampled_from(["奖金过少", "宣传不足", "培训少"]), max_size=5),
        "advice": st.lists(st.sampled_from(["加强项目管理", "多宣传"]), max_size=3)}),
})


def _sources(pack, finding_id: str) -> set[str]:
    """Every rule id that may give the finding, as the reply names it."""
    ids = set()
    for leaf in pack.leaves():
        if leaf.finding == finding_id:
            ids.add(leaf.id)
        if isinstance(leaf.scoring, Deductions):
            ids.update(f"{leaf.id}#{c.id}" for c in leaf.scoring.checks if c.finding == finding_id)
        if isinstance(leaf.scoring, Bands) and any(b.finding == finding_id for b in leaf.scoring.bands):
            ids.add(leaf.id)
    ids.update(f"override#{o.id}" for o in pack.overrides if o.finding == finding_id)
    return ids


def assert_findings_fired(pack, evaluation, observed: list[str]) -> None:
    """The findings of `evaluation` came from rules that fired, all of them, in order;
    `observed`: the texts the request sent as the evaluator's findings."""
    nodes = {node.id: node for node in evaluation.nodes()}
    acted = {o.rule_id for o in evaluation.overrides}
    deductions = {d.rule_id for node in nodes.values() for d in node.deductions if not node.not_applicable}
    rules = [f for f in evaluation.findings if not f.observation]
    for finding in rules:
        assert finding.rule_ids and set(finding.rule_ids) <= _sources(pack, finding.id)
        for rule_id in finding.rule_ids:
            if rule_id.startswith("override#"):
                assert rule_id in acted
            elif "#" in rule_id:
                assert rule_id in deductions  # the check deducted, on an applicable leaf
            else:  # a leaf that lost points, or a band it fell in: applicable
                band = isinstance(nodes[rule_id].method, str) and nodes[rule_id].method == "bands"
                assert not nodes[rule_id].not_applicable and (band or nodes[rule_id].deductions)
            node = rule_id.partition("#")[0] if not rule_id.startswith("override#") else None
            assert node is None or node in finding.node_ids
    # every check with a finding that deducted, every override with one that acted, is there
    given_by = {rule_id: f.id for f in rules for rule_id in f.rule_ids}
    for leaf in pack.leaves():
        if isinstance(leaf.scoring, Deductions) and not nodes[leaf.id].not_applicable:
            for check in leaf.scoring.checks:
                rule_id = f"{leaf.id}#{check.id}"
                if check.finding and rule_id in deductions:
                    assert given_by.get(rule_id) == check.finding
    for override in pack.overrides:
        if override.finding and f"override#{override.id}" in acted:
            assert given_by.get(f"override#{override.id}") == override.finding
    # order: dimension, then the pack's order; observations last, in the order given, once each
    dimensions = [top.id for top in pack.indicators]
    declared = [f.id for f in pack.findings]
    keys = [(dimensions.index(f.dimension), declared.index(f.id)) for f in rules]
    assert keys == sorted(keys)
    assert all(not f.observation for f in evaluation.findings[:len(rules)])
    texts = [f.text for f in evaluation.findings[len(rules):]]
    assert texts == list(dict.fromkeys(t.strip() for t in observed if t.strip() not in {f.text for f in rules}))
    assert len({r.text for r in evaluation.recommendations}) == len(evaluation.recommendations)


@settings(max_examples=60, deadline=None)
@given(facts, st.sampled_from(["zh", "en"]))
def test_every_finding_comes_from_rules_that_fired_in_order(request, language) -> None:
    evaluation = evaluate(COMPILED, {**copy.deepcopy(CLEAN), **request}, language)
    assert_findings_fired(PACK, evaluation, request["evaluation"]["problems"])


def test_the_bundled_2019_pack_gives_findings_only_from_rules_that_fired() -> None:
    sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
    from bench_common import variants

    folder = BUNDLED_PACKS / "quality-district-funding" / "1.0.1"
    if not folder.exists():
        pytest.skip("quality-district-funding 1.0.1 is not bundled")
    compiled = load_pack_dir(folder, plain_matcher).compiled
    assert compiled.pack.findings
    seen = set()
    for facts in variants(compiled, 150, seed=11):
        evaluation = evaluate(compiled, facts)
        assert_findings_fired(compiled.pack, evaluation, [])
        seen.update(f.id for f in evaluation.findings)
    assert len(seen) > len(compiled.pack.findings) // 2  # the variants make most findings fire


REASONS_COMPILED = compiled_findings_pack(FINDINGS_PACK.replace(
    'text: {zh: "项目管理不到位，{project.name}相关记录缺失", en: "Management records of {project.name} are missing"}',
    'text: {zh: "{fired_reasons}", en: "{fired_reasons}"}', 1))


@settings(max_examples=60, deadline=None)
@given(facts, st.sampled_from(["zh", "en"]))
def test_fired_reasons_are_the_reasons_its_rules_deducted_for(request, language) -> None:
    """A finding saying only {fired_reasons} reads as the deductions of its rule ids, in their
    order (in this pack every source of records_missing deducts when it fires)."""
    evaluation = evaluate(REASONS_COMPILED, {**copy.deepcopy(CLEAN), **request}, language)
    nodes = {node.id: node for node in evaluation.nodes()}
    for finding in evaluation.findings:
        if finding.id != "records_missing":
            continue
        reasons = []
        for rule_id in finding.rule_ids:
            leaf = nodes[rule_id.partition("#")[0]]
            reasons += [d.reason for d in leaf.deductions if d.rule_id == rule_id or "#" not in rule_id]
        assert finding.text == ("; " if language == "en" else "；").join(dict.fromkeys(reasons))
        break
    else:
        assert "records_missing" not in {f.id for f in evaluate(COMPILED, {**copy.deepcopy(CLEAN), **request}).findings}
