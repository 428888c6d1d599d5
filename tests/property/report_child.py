"""Reports rendered in a child process, so that a crash of the rendering libraries (lxml,
matplotlib, python-docx) is a failing case, not a dead test run.

`render_cases(cases)` starts `python tests/property/report_child.py`, which reads a JSON
list of cases on stdin and writes one JSON line per case, flushed before the next case
starts. When the child dies, the case it was running is the first one without a line: it
is reported as `crash` (with the exit status) and the rest go to a new child.

A case is one of:

- `{"kind": "bundled", "pack": id, "version": v, "facts": {...}, "language": "zh"|"en",
  "format": f}`: the bundled pack compiled with the plain matcher (no rule engine in this
  child), the facts evaluated (`refused` with the violations when they are invalid) and
  the report rendered;
- `{"kind": "synthetic", "dimensions": d, "groups": g, "leaves": n, "texts": {...},
  "language": ..., "format": f}`: tests/report/synthetic's pack of d × g × n leaves whose
  title, grade names, node names and descriptions carry the hostile `texts`, evaluated by
  hand with hostile rationales, findings, recommendations and a project name.

A rendered case is `{"result": "rendered", ...}` with what the parent checks: a Word
file's paragraphs, tables and pictures as python-docx reads them; an HTML page's element
names and attributes as BeautifulSoup reads them; a Markdown file's line count and the
pipe counts of its tables' rows. Anything a case raises is `error`, with its type and
message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def render_cases(cases: list[dict], timeout: float = 300) -> list[dict]:
    """One result per case, in order (see the module's docstring)."""
    results: list[dict] = []
    rest = cases
    while rest:
        child = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=json.dumps(rest),
                               capture_output=True, text=True, timeout=timeout)
        lines = [json.loads(line) for line in child.stdout.splitlines() if line.strip()]
        results.extend(lines)
        if len(lines) == len(rest):
            break
        if child.returncode == 0:
            raise AssertionError(f"the child answered {len(lines)} of {len(rest)} cases:\n{child.stderr[-3000:]}")
        results.append({"result": "crash", "status": child.returncode, "stderr": child.stderr[-2000:]})
        rest = rest[len(lines) + 1:]
    return results


# --- the child ------------------------------------------------------------------------


def _main() -> None:
    sys.path[:0] = [str(REPO)]
    cases = json.loads(sys.stdin.read())
    compiled: dict[tuple[str, str], object] = {}
    for case in cases:
        try:
            result = _run(case, compiled)
        except Exception as error:  # noqa: BLE001 - every failure is a result the parent reports
            result = {"result": "error", "type": type(error).__name__, "message": str(error)[:500]}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


def _run(case: dict, compiled: dict) -> dict:
    from jixiao.core.errors import FactsError
    from jixiao.core.evaluation.compiler import plain_matcher
    from jixiao.core.evaluation.evaluator import evaluate
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir
    from jixiao.report import render_report

    if case["kind"] == "bundled":
        key = (case["pack"], case["version"])
        if key not in compiled:
            compiled[key] = load_pack_dir(BUNDLED_PACKS / case["pack"] / case["version"], plain_matcher).compiled
        pack = compiled[key]
        try:
            evaluation = evaluate(pack, case["facts"], case["language"])
        except FactsError as error:
            return {"result": "refused", "violations": [v.fact for v in error.violations][:10]}
        rendered = render_report(pack.pack, evaluation, case["facts"], case["format"])
    else:
        pack, evaluation, facts = _synthetic(case)
        rendered = render_report(pack, evaluation, facts, case["format"])
    return {"result": "rendered", "format": case["format"], **_read_back(case["format"], rendered.content)}


def _synthetic(case: dict):
    from dataclasses import replace

    from jixiao.core.evaluation.results import Finding
    from jixiao.core.pack.model import GradeBand, Text
    from tests.report.synthetic import GRADES, evaluate_by_hand, make_pack, text_fact

    texts = case["texts"]
    pack = make_pack(dimensions=case["dimensions"], groups=case["groups"], leaves=case["leaves"], text=texts["leaf"],
                     facts=(text_fact("project.name"), text_fact("project.unit")))
    grades = tuple(GradeBand(texts["grade"] + band.grade, band.minimum, texts["grade"] + band.en) for band in GRADES)
    pack = replace(pack, title=Text(texts["title"], texts["title"]), grades=grades)
    findings = tuple(Finding(f"f{n}", text, f"d{1 + n % case['dimensions']}") for n, text in enumerate(texts["findings"]))
    recommendations = tuple(Finding(f"r{n}", text, "d1") for n, text in enumerate(texts["recommendations"]))
    evaluation = evaluate_by_hand(pack, language=case["language"], rationale=texts["rationale"], findings=findings,
                                  recommendations=recommendations,
                                  not_applicable={"d1.g1.l1": texts["reason"]} if texts["reason"] else None)
    return pack, evaluation, {"project": {"name": texts["name"], "unit": texts["unit"]}}


def _read_back(fmt: str, content: bytes) -> dict:
    if fmt == "docx":
        import io

        import docx

        document = docx.Document(io.BytesIO(content))
        return {"paragraphs": len(document.paragraphs), "tables": len(document.tables),
                "cells": sum(len(row.cells) for table in document.tables for row in table.rows),
                "pictures": len(document.inline_shapes)}
    text = content.decode("utf-8")
    if fmt == "html":
        from bs4 import BeautifulSoup

        page = BeautifulSoup(text, "html.parser")
        return {"tags": sorted({tag.name for tag in page.find_all(True)}),
                "attributes": sorted({attribute for tag in page.find_all(True) for attribute in tag.attrs})}
    import re

    pipes = re.compile(r"(?<!\\)\|")
    tables: list[list[int]] = []
    current: list[int] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(len(pipes.findall(line)))
        elif current:
            tables.append(current)
            current = []
    return {"lines": len(text.splitlines()), "tables": tables,
            "raw_tags": sorted(set(re.findall(r"(?<!\\)<[a-zA-Z/!][^>]*>", text)) - {"<br>"})[:5]}


if __name__ == "__main__":
    _main()
