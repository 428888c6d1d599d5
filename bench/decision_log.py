"""What the decision log costs per evaluation, in process.

    .venv/bin/python bench/decision_log.py              # 10 slices of 1,000 evaluations per workload
    .venv/bin/python bench/decision_log.py --quick      # 3 slices of 300
    .venv/bin/python bench/decision_log.py --page-sizes 4096,server,65536

Times the server's work for one Evaluate without gRPC, two ways, in alternating slices:

- **evaluation alone**: Struct → dict, evaluate (durable-rules, as the server compiles the
  pack), the reply's bytes and its message (`servicer.evaluation_for`, `convert.evaluation_bytes`,
  `Evaluation.FromString`) — what a server without a decision log does;
- **the decision log's work**, measured step by step rather than as the difference of
  two noisy totals: on the event loop, the steps `EvaluationServicer.Evaluate` adds when
  the log is on (the decision's draft: id, caller, time; the lookup noted; the facts
  noted; the hand-over to the sink, a deque append; the id appended to the reply), timed
  around each step (CPU time, less the timer's own cost); then the writer's share, amortised: after the slice, the writer
  builds every queued decision's row (canonical facts, digests, status or reply) and
  inserts them in batches of 500 into a SQLite file (WAL, synchronous=FULL, as the server
  runs it), in this thread, as CPU time (time.thread_time: the writer's waits for the
  disk are not counted, what it takes from a server is CPU), divided by the slice's
  evaluations. Each workload is written to a SQLite file of SQLite's default page size
(4,096 bytes) and to one as the server creates it (16,384-byte pages): a row is ~16 KB
(the reply ~13.6 KB, the facts ~2 KB), which SQLite spreads over overflow pages, and
larger pages cost SQLite about half the CPU per row.

The evaluation alone is CPU time too. What step timing cannot see: the decisions queued
for up to one flush interval keep their evaluations in memory that long (a little more
work for the allocator and the garbage collector).

The writer thread's work is counted in full although a server does it off the event
loop: on a busy server it still takes the same CPU (and the GIL) from the loop.
Workloads: the 2019 golden case repeated (the evaluator's memo answers most of it, so an
evaluation is at its cheapest and the log's share at its largest) and varied projects
cycled (bench_common.variants). Prints one markdown table, then the machine.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_common import PACK_ID, VERSION, case_facts, load_compiled, machine, variants  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from jixiao.api import convert  # noqa: E402
from jixiao.api.decisions import DecisionHub  # noqa: E402
from jixiao.api.servicer import evaluated, evaluation_for  # noqa: E402
from jixiao.audit.log import DecisionLog  # noqa: E402
from jixiao.database.connection import create_engine  # noqa: E402
from jixiao.database.migrate import upgrade  # noqa: E402
from jixiao.server import settle_garbage_collector  # noqa: E402
from jixiao.settings import AuditSettings  # noqa: E402
from jixiao.v1 import evaluation_pb2 as pb  # noqa: E402

TARGET = 0.05  # the log may cost at most 5 % of an in-process evaluation


def _timer_cost(samples: int = 100_000) -> float:
    """CPU seconds one `t0 = thread_time(); … thread_time() - t0` pair costs: subtracted per timed step."""
    clock = time.thread_time
    started = clock()
    for _ in range(samples):
        t0 = clock()
        clock() - t0
    return (clock() - started) / samples


TIMER_COST = _timer_cost()


def requests_of(fact_sets: list[dict]) -> list[pb.EvaluateRequest]:
    out = []
    for facts in fact_sets:
        struct = struct_pb2.Struct()
        struct.update(facts)
        out.append(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct))
    return out


def alone(requests: list[pb.EvaluateRequest], get) -> float:
    """CPU seconds for the evaluations without a log."""
    started = time.thread_time()
    for request in requests:
        reply = convert.evaluation_bytes(evaluation_for(request, get))
        pb.Evaluation.FromString(reply)
    return time.thread_time() - started


def logged(requests: list[pb.EvaluateRequest], get, hub: DecisionHub, log: DecisionLog) -> tuple[float, float, float]:
    """Evaluate as `EvaluationServicer.Evaluate` does with the log on; the seconds its
    decision steps took (the draft, noting the facts, the hand-over to the sink, the id in
    the reply), then the CPU seconds of the writer's row building alone, then of its rows
    and inserts."""
    clock = time.thread_time  # CPU time: a step preempted by another process is not charged its wait
    steps = -2 * len(requests) * TIMER_COST
    for request in requests:
        t0 = clock()
        draft = hub.start("Evaluate", request, None)
        lookup = draft.lookup(get)
        steps += clock() - t0
        _compiled, facts, evaluation = evaluated(request, lookup)
        reply = convert.evaluation_bytes(evaluation)
        t0 = clock()
        if draft.decision is not None:
            draft.decision.facts = facts
        draft.answered(evaluation, reply)
        data = reply + draft.id_field()
        steps += clock() - t0
        pb.Evaluation.FromString(data)
    queued = list(log.writer._queue)
    started = time.thread_time()
    for decision in queued:
        log.rows.table_row(decision)
    building = time.thread_time() - started
    started = time.thread_time()
    assert log.writer.flush()
    writing = time.thread_time() - started
    return steps, building, writing


def measure(name: str, requests: list[pb.EvaluateRequest], get, slices: int, per_slice: int,
            folder: Path, page_size: int | None = None) -> dict:
    path = folder / f"{name.split()[0]}-{page_size or 'server'}.sqlite"
    if page_size:  # a new file's page size is set before its first table (which keeps the server's off it)
        with sqlite3.connect(path) as made:
            made.execute(f"PRAGMA page_size={int(page_size)}")
            made.execute("CREATE TABLE bench_page_size (x)")
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    log = DecisionLog(engine, AuditSettings(flush_interval_s=3600))  # not started: this thread flushes
    log.writer.max_queued = max(log.writer.max_queued, per_slice * 2)
    hub = DecisionHub([log], records=True)
    n = len(requests)
    base, steps, rows, writes = [], [], [], []
    position = 0
    alone(requests[:50], get)  # warm-up: caches, the engine's first calls
    logged(requests[:50], get, hub, log)
    for _ in range(slices):
        chunk = [requests[(position + i) % n] for i in range(per_slice)]
        position += per_slice
        base.append(alone(chunk, get) / per_slice)
        step, building, writing = (x / per_slice for x in logged(chunk, get, hub, log))
        steps.append(step)
        rows.append(building)
        writes.append(writing)
    engine.dispose()
    median = statistics.median
    result = {"name": name, "alone": median(base), "loop": median(steps), "rows": median(rows),
              "writer": median(writes)}
    result["extra"] = result["loop"] + result["writer"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--per-slice", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="3 slices of 300, 300 variants")
    parser.add_argument("--page-sizes", default="4096,server",
                        help="SQLite page sizes to write with, comma-separated ('server': the 16,384 a server "
                             "gives a new database; 4096 is SQLite's own default)")
    options = parser.parse_args()
    if options.quick:
        options.slices, options.per_slice, options.variants = 3, 300, 300
    compiled = load_compiled()

    def get(pack_id: str, version: str | None = None):
        return compiled

    print("preparing…", file=sys.stderr)
    workloads = [("2019 case repeated", requests_of([case_facts()])),
                 ("varied projects cycled", requests_of(variants(compiled, options.variants)))]
    settle_garbage_collector()  # as a server does once it has loaded its packs
    page_sizes = [None if size == "server" else int(size) for size in options.page_sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, requests in workloads:
            for page_size in page_sizes:
                print(f"timing {name}, page size {page_size or 'server'}…", file=sys.stderr)
                result = measure(name, requests, get, options.slices, options.per_slice, Path(folder), page_size)
                result["page"] = f"{page_size:,}" if page_size else "16,384 (the server's)"
                results.append(result)
    print("| workload | SQLite page | evaluation alone | decision steps on the event loop | writer: rows "
          "| writer: rows and inserts | decision log in all | share | target < 5 % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        share = r["extra"] / r["alone"]
        print(f"| {r['name']} | {r['page']} | {r['alone'] * 1e6:.0f} µs | {r['loop'] * 1e6:.1f} µs "
              f"| {r['rows'] * 1e6:.1f} µs | {r['writer'] * 1e6:.1f} µs | {r['extra'] * 1e6:.1f} µs | {share:.1%} | "
              f"{'met' if share < TARGET else '**not met**'} |")
    print(f"\nCPU time per evaluation, medians of {options.slices} alternating slices of {options.per_slice:,} evaluations; "
          f"quality-district-funding {VERSION}, durable-rules matcher, SQLite file (WAL, synchronous=FULL), "
          "500 rows per transaction.\n")
    print(machine())


if __name__ == "__main__":
    main()
