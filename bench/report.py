"""How long the evaluation report takes to render, in process, per format.

Evaluates the 2019 golden case of quality-district-funding 1.0.1 (the version with findings)
once, then renders its report as Markdown, HTML and Word --repeat times each (after one
warm-up render that loads matplotlib and the CJK font) and prints one markdown table of the
median and the slowest render and the size of the document:

    .venv/bin/python bench/report.py
    .venv/bin/python bench/report.py --repeat 50

Through a server, a RenderReport call adds the evaluation (about the Evaluate call's time)
and the reply's transfer to these figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_common import PACK_ID, machine  # noqa: E402

from jixiao.core.evaluation.evaluator import evaluate  # noqa: E402
from jixiao.core.pack.cases import load_case  # noqa: E402
from jixiao.packs import BUNDLED_PACKS, load_pack_dir  # noqa: E402
from jixiao.report import render_report  # noqa: E402

VERSION = "1.0.1"  # the version with findings
FORMATS = ("markdown", "html", "docx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    folder = BUNDLED_PACKS / PACK_ID / VERSION
    loaded = load_pack_dir(folder)
    case = load_case((folder / "cases" / "2019.yaml").read_text(encoding="utf-8"), "2019.yaml")
    evaluation = evaluate(loaded.compiled, case.facts, "zh")
    pack = loaded.compiled.pack
    render_report(pack, evaluation, case.facts, "html")  # warm-up: matplotlib and the font
    print(f"| {PACK_ID} {VERSION}, the 2019 case, {options.repeat} renders | median | slowest | size |")
    print("|---|---|---|---|")
    for fmt in FORMATS:
        times, size = [], 0
        for _ in range(options.repeat):
            start = time.perf_counter()
            size = len(render_report(pack, evaluation, case.facts, fmt).content)
            times.append(time.perf_counter() - start)
        print(f"| {fmt} | {statistics.median(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms | {size:,} bytes |")
    print()
    print(machine())


if __name__ == "__main__":
    main()
