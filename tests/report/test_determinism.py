"""The same request gives the same report bytes: rendered twice here, and in a fresh child
process (other hash seeds, another matplotlib start), Markdown, HTML and even Word agree."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

from jixiao.report import render_report

CHILD = textwrap.dedent("""
    import hashlib, json, sys
    from jixiao.core.evaluation.evaluator import evaluate
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir
    from jixiao.report import render_report
    loaded = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / "1.0.1")
    [case] = [c for c in loaded.cases if c.file.endswith("/2019.yaml")]
    out = {}
    for language in ("zh", "en"):
        evaluation = evaluate(loaded.compiled, case.facts, language)
        for fmt in ("docx", "markdown", "html"):
            content = render_report(loaded.pack, evaluation, case.facts, fmt).content
            out[f"{language}-{fmt}"] = hashlib.sha256(content).hexdigest()
    loaded.compiled.close()
    print(json.dumps(out))
""")


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_twice_in_process(pack, evaluation_2019, facts_2019, reports_2019):
    for fmt, first in reports_2019.items():
        assert render_report(pack, evaluation_2019, facts_2019, fmt).content == first.content, fmt


def test_in_a_child_process(reports_2019, reports_2019_en):
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, PYTHONHASHSEED="12345"))  # another hash order than ours
    assert child.returncode == 0, child.stderr[-2000:]
    theirs = json.loads(child.stdout.strip().splitlines()[-1])
    ours = {f"zh-{fmt}": digest(r.content) for fmt, r in reports_2019.items()}
    ours.update({f"en-{fmt}": digest(r.content) for fmt, r in reports_2019_en.items()})
    assert theirs == ours
