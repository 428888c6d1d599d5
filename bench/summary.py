"""The portfolio summary of a large batch: how long `jixiao summary` takes on N scored projects.

Scores N random projects (bench_common.variants, around the 2019 case) with the pack's
version that gives findings (1.0.1) in
this process, writes them as `jixiao batch` writes its JSONL, then times reading that file
and writing the summary as .xlsx and as .html (best of --repeat runs, after one warm-up
that loads matplotlib and the CJK font; wall and CPU time), and prints one markdown table:

    .venv/bin/python bench/summary.py            # 2,000 projects
    .venv/bin/python bench/summary.py --rows 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_common import PACK_ID, load_compiled, machine, variants  # noqa: E402

from jixiao.api.convert import pack_message  # noqa: E402
from jixiao.core.evaluation.evaluator import evaluate  # noqa: E402
from jixiao.packs import BUNDLED_PACKS, load_pack_dir  # noqa: E402
from jixiao_cli.batch_outcomes import row_score, score_record  # noqa: E402
from jixiao_cli.portfolio.batch_rows import BatchOutput  # noqa: E402
from jixiao_cli.summary_command import write_summary  # noqa: E402

VERSION = "1.0.1"  # the version with findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Write the scores' JSONL into DIR and keep it.")
    options = parser.parse_args()
    compiled = load_pack_dir(BUNDLED_PACKS / PACK_ID / VERSION).compiled
    pack = pack_message(compiled)
    with tempfile.TemporaryDirectory() as folder:
        scores = Path(options.keep or folder, "scores.jsonl")
        with scores.open("w", encoding="utf-8") as stream:
            # bench_common draws 1.0.0's facts (it knows no text_list facts); 1.0.1 takes the same
            for number, facts in enumerate(variants(load_compiled(), options.rows), start=1):
                record = score_record(row_score(f"p{number}", number, evaluate(compiled, facts, "zh")))
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        size = scores.stat().st_size
        print(f"| {PACK_ID} {pack.version}, {options.rows} projects, JSONL {size / 1e6:.1f} MB | best of "
              f"{options.repeat}: wall | CPU |\n|---|---|---|")
        source = BatchOutput(scores)
        write_summary(source.rows(), lambda _id, _version: pack, Path(folder, "warm.html"), "zh", source)
        for suffix in (".xlsx", ".html"):
            wall, cpu = min(_timed(scores, pack, Path(folder, f"summary{suffix}")) for _ in range(options.repeat))
            print(f"| read {options.rows} rows and write the summary{suffix} | {wall:.2f} s | {cpu:.2f} s |")
    print()
    print(machine())


def _timed(scores: Path, pack, out: Path) -> tuple[float, float]:
    """Wall time and this process's CPU time (the one to read on a busy machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    source = BatchOutput(scores)
    write_summary(source.rows(), lambda _id, _version: pack, out, "zh", source)
    return time.perf_counter() - started, time.process_time() - cpu


if __name__ == "__main__":
    main()
