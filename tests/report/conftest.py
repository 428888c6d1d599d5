"""Shared fixtures: the 2019 golden case of quality-district-funding 1.0.1 (findings,
observations, 指标解释, report.project) evaluated once, and its report rendered once per
format and language for the whole session (matplotlib and python-docx are slow to start)."""

from __future__ import annotations

import io

import pytest

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao.report import render_report

PACK_DIR = BUNDLED_PACKS / "quality-district-funding" / "1.0.1"


@pytest.fixture(scope="session")
def loaded_pack():
    loaded = load_pack_dir(PACK_DIR)
    yield loaded
    loaded.compiled.close()


@pytest.fixture(scope="session")
def pack(loaded_pack):
    return loaded_pack.pack


@pytest.fixture(scope="session")
def case_2019(loaded_pack):
    [case] = [c for c in loaded_pack.cases if c.file.endswith("/2019.yaml")]
    return case


@pytest.fixture(scope="session")
def facts_2019(case_2019):
    return case_2019.facts


@pytest.fixture(scope="session")
def evaluation_2019(loaded_pack, facts_2019):
    return evaluate(loaded_pack.compiled, facts_2019)


@pytest.fixture(scope="session")
def evaluation_2019_en(loaded_pack, facts_2019):
    return evaluate(loaded_pack.compiled, facts_2019, "en")


@pytest.fixture(scope="session")
def reports_2019(pack, evaluation_2019, facts_2019):
    """format → RenderedReport of the 2019 case in Chinese."""
    return {fmt: render_report(pack, evaluation_2019, facts_2019, fmt) for fmt in ("docx", "markdown", "html")}


@pytest.fixture(scope="session")
def reports_2019_en(pack, evaluation_2019_en, facts_2019):
    return {fmt: render_report(pack, evaluation_2019_en, facts_2019, fmt) for fmt in ("docx", "markdown", "html")}


@pytest.fixture(scope="session")
def word_2019(reports_2019):
    import docx

    return docx.Document(io.BytesIO(reports_2019["docx"].content))
