"""examples/: its facts files score under every bundled version (the invalid one is
refused naming its two bad facts), and its pack versions pass their own golden cases."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.core.pack.cases import run_case
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.errors import FactsError
from jixiao.packs import BUNDLED_PACKS, PackLibrary, load_pack_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FACTS = sorted(p for p in EXAMPLES.glob("*.facts.json"))
EXAMPLE_PACKS = sorted(p.parent for p in (EXAMPLES / "packs").glob("*/*/pack.yaml"))
#: The totals the examples' README session shows, under 1.0.0 and 1.1.0 (and the active 1.1.1,
#: which scores as 1.1.0).
TOTALS = {"quality-district-2019.facts.json": ("75.03", "74.03"),
          "quality-district-2021.facts.json": ("78.16", "79.16")}


@pytest.fixture(scope="module")
def library():
    loaded = PackLibrary.from_directory(BUNDLED_PACKS)
    yield loaded
    loaded.close()


def test_every_example_facts_file_is_one_with_a_known_total() -> None:
    assert {p.name for p in FACTS} == set(TOTALS)


@pytest.mark.parametrize("facts_file", FACTS, ids=lambda p: p.name)
def test_example_facts_score_under_every_bundled_version(library, facts_file: Path) -> None:
    facts = json.loads(facts_file.read_text(encoding="utf-8"))
    totals = {}
    for compiled in library.list():
        if compiled.pack.id != "quality-district-funding":  # the examples are that pack's facts
            continue
        result = evaluate(compiled, facts)
        assert Decimal(0) <= result.score <= Decimal(100)
        totals[compiled.pack.version] = str(result.score)
    assert (totals["1.0.0"], totals["1.1.0"]) == TOTALS[facts_file.name]
    assert totals["1.0.1"] == totals["1.0.0"]  # 1.0.1 adds findings, not scores
    assert totals["1.1.1"] == totals["1.1.0"]  # and so does 1.1.1


def test_the_invalid_example_names_its_two_bad_facts(library) -> None:
    facts = json.loads((EXAMPLES / "invalid-facts.json").read_text(encoding="utf-8"))
    with pytest.raises(FactsError) as refused:
        evaluate(library.get("quality-district-funding", "1.1.1"), facts)  # the active, as the README runs it
    assert sorted(v.fact for v in refused.value.violations) == ["budget.spent", "output.trainings_held"]


@pytest.mark.parametrize("directory", EXAMPLE_PACKS, ids=lambda d: f"{d.parent.name}@{d.name}")
def test_example_pack_versions_pass_their_golden_cases(directory: Path) -> None:
    loaded = load_pack_dir(directory)
    try:
        assert loaded.cases
        for case in loaded.cases:
            result = run_case(loaded.compiled, case)
            assert result.passed, (case.file, result.mismatches)
    finally:
        loaded.compiled.close()
