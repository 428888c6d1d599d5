"""The report renderer at its boundary, in a child process (tests/property/report_child.py):
hypothesis draws facts for the bundled packs (every fact from its declaration, with
hostile texts in the project's texts and the evaluators' observations, lone surrogates and
control characters included) and a 200-leaf pack whose own texts are hostile (title, grade
names, node names and descriptions, rationales, findings, recommendations, a reason for a
leaf not applicable). Every case must render in every format without the child dying: the
Word file opens with python-docx and holds the chart, the HTML page has only the
template's and the chart's elements and no event handler, the Markdown tables keep their
column counts and the Markdown's line count stays within what the texts' own lines explain.

The cases are drawn first, then rendered in one child (one child start, not one per case).
JIXIAO_REPORT_BOUNDARY_CASES sets how many cases of each kind (default 24 and 6).
"""

from __future__ import annotations

import os
import random
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jixiao.core.errors import FactsError
from jixiao.core.evaluation.compiler import plain_matcher
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.model import FactType
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

from .report_child import render_cases

CASES = int(os.environ.get("JIXIAO_REPORT_BOUNDARY_CASES", "24"))
SYNTHETIC_CASES = max(1, CASES // 4)
BUNDLED = [("quality-district-funding", "1.0.1"), ("project-expenditure-framework", "1.0.1"),
           ("quality-district-funding", "1.0.0")]
FORMATS = ["markdown", "html", "docx"]  # by turns: hypothesis draws the simplest choices first
SPECIALS = ["|", "\\|", "\\", "<", ">", "&", "&amp;", "\n", "\r\n", "\r", "\t", "\x00", "\x0b", "\x1b", "\x7f",
            "\x85", "\ud800", "\udfff", "\ufffe", "\u202e", "\u2066", "\u200b", "\u2028", "`", "*", "_", "#", "- ",
            "1. ", "[a](javascript:alert(1))", "</td>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>", "{{ 7*7 }}", "{% if x %}", "{placeholder}", "{0}", "%s", "=HYPERLINK(\"x\")",
            "]]>", "<!--", "质量", "🙂"]
TEXTS = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(SPECIALS)), min_size=1, max_size=10).map("".join)
#: Elements the HTML template writes, and the ones matplotlib's inline SVG chart is made of.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "p", "br", "table",
                "thead", "tbody", "tr", "th", "td", "ol", "li", "span", "figure", "figcaption", "div", "svg", "g",
                "path", "defs", "use", "clippath", "rect", "metadata", "rdf:rdf", "cc:work", "dc:type", "dc:date",
                "dc:format", "dc:creator", "cc:agent", "dc:title", "text", "desc"}
COLLECT = settings(max_examples=CASES, phases=[Phase.generate], database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))


def _packs() -> dict:
    return {key: load_pack_dir(BUNDLED_PACKS / key[0] / key[1], plain_matcher).compiled for key in BUNDLED}


def _set(facts: dict, name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        facts = facts.setdefault(part, {})
    facts[last] = value


def _facts(pack, seed: int, texts: list[str]) -> dict:
    """Facts for every fact the pack declares, drawn from its declaration (the e2e tests'
    random projects), then each text and text_list fact given hostile texts."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
    from report_facts import random_facts

    facts = random_facts(pack.pack, seed, lambda f: _valid(pack, f))
    draw = random.Random(seed)
    for spec in pack.pack.facts:
        if spec.type is FactType.TEXT:
            _set(facts, spec.name, draw.choice(texts))
        elif spec.type is FactType.TEXT_LIST:
            said = [text for text in texts if text.strip()]  # a blank item is refused, as Evaluate refuses it
            _set(facts, spec.name, draw.sample(said, min(len(said), draw.randint(0, 4))))
    return facts


def _valid(pack, facts: dict) -> bool:
    try:
        evaluate(pack, facts)
    except FactsError:
        return False
    return True


def bundled_cases() -> list[dict]:
    packs = _packs()
    cases: list[dict] = []

    @COLLECT
    @given(which=st.integers(0, len(BUNDLED) - 1), seed=st.integers(0, 10**6), texts=st.lists(TEXTS, min_size=1,
                                                                                            max_size=6),
           language=st.sampled_from(["zh", "en"]))
    def collect(which, seed, texts, language):
        pack_id, version = BUNDLED[which]
        fmt = FORMATS[len(cases) % len(FORMATS)]
        facts = _facts(packs[(pack_id, version)], seed, texts)
        cases.append({"kind": "bundled", "pack": pack_id, "version": version, "facts": facts, "language": language,
                      "format": fmt})

    try:
        collect()
    finally:
        for compiled in packs.values():
            compiled.close()
    return cases


def synthetic_cases() -> list[dict]:
    cases: list[dict] = []

    @settings(COLLECT, max_examples=SYNTHETIC_CASES)
    @given(texts=st.fixed_dictionaries({
        "leaf": TEXTS, "title": TEXTS, "grade": TEXTS, "rationale": TEXTS, "name": TEXTS, "unit": TEXTS,
        "reason": st.one_of(st.just(""), TEXTS), "findings": st.lists(TEXTS, max_size=4),
        "recommendations": st.lists(TEXTS, max_size=3)}),
        language=st.sampled_from(["zh", "en"]))
    def collect(texts, language):
        cases.append({"kind": "synthetic", "dimensions": 4, "groups": 5, "leaves": 10, "texts": texts,
                      "language": language, "format": FORMATS[len(cases) % len(FORMATS)]})

    collect()
    return cases


def _newlines(value: Any) -> int:
    """Line breaks a value's texts may carry into the report (any of \\n, \\r, \\u2028 ...)."""
    if isinstance(value, str):
        return len(("x" + value + "x").splitlines()) - 1
    if isinstance(value, dict):
        return sum(_newlines(v) for v in value.values())
    if isinstance(value, list):
        return sum(_newlines(v) for v in value)
    return 0


def _problems(case: dict, result: dict) -> list[str]:
    if result["result"] == "refused" and case["kind"] == "bundled":
        return []  # hostile texts the fact checker refuses (too long, blank): Evaluate's answer
    if result["result"] != "rendered":
        return [f"{result}"]
    fmt = case["format"]
    problems = []
    if fmt == "docx":
        if result["pictures"] != 1 or result["tables"] < 3 or result["paragraphs"] < 10:
            problems.append(f"Word file thin: {result}")
    elif fmt == "html":
        if set(result["tags"]) - ALLOWED_TAGS:
            problems.append(f"elements not the template's: {set(result['tags']) - ALLOWED_TAGS}")
        handlers = [a for a in result["attributes"] if a.lower().startswith("on")]
        if handlers:
            problems.append(f"event handler attributes: {handlers}")
    else:
        bad = [rows for rows in result["tables"] if len(set(rows)) != 1]
        if bad:
            problems.append(f"Markdown tables with rows of different column counts: {bad[:3]}")
        if result["raw_tags"]:
            problems.append(f"raw HTML in the Markdown: {result['raw_tags']}")
        leaves = 200 if case["kind"] == "synthetic" else 60
        # Each text line may become a line wherever the text is printed (a leaf's name: its
        # heading, its tables and the annex); the rest is the structure: a few lines a leaf.
        texts = case.get("texts") or case.get("facts")
        most = 300 + 12 * leaves + 4 * _newlines(texts) * (leaves if case["kind"] == "synthetic" else 1)
        if result["lines"] > most:
            problems.append(f"{result['lines']} Markdown lines, more than {most}")
    return problems


def test_the_renderer_never_crashes_and_writes_well_formed_reports_for_hostile_inputs() -> None:
    cases = bundled_cases() + synthetic_cases()
    results = render_cases(cases)
    assert len(results) == len(cases)
    problems = [f"case {number} ({case['kind']} {case.get('pack', '')} {case['format']}): {problem}"
                for number, (case, result) in enumerate(zip(cases, results)) for problem in _problems(case, result)]
    assert not problems, "\n".join(problems[:20])
    rendered = sum(result["result"] == "rendered" for result in results)
    # Most bundled cases must be scored, or the hostile texts never reached the renderer.
    assert rendered >= len(cases) // 2, [r for r in results if r["result"] != "rendered"][:5]
