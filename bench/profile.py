"""Where an evaluation's time goes: in process with pyinstrument, in a live server with py-spy.

    .venv/bin/python bench/profile.py                      # evaluate(), the 2019 case repeated
    .venv/bin/python bench/profile.py --what varied        # evaluate(), random projects cycled
    .venv/bin/python bench/profile.py --what servicer      # a server's work per request, minus gRPC
    .venv/bin/python bench/profile.py --what servicer-batch  # the same per streamed item
    .venv/bin/python bench/profile.py --what server-unary  # a real one-process server, 8 clients
    .venv/bin/python bench/profile.py --what server-batch  # a real one-process server, 2 streams

Prints the functions that take the most time: by their own time (where the CPU actually
is) and by total time including callees (which step is expensive).

- evaluate / varied / servicer / servicer-batch run in this process under pyinstrument.
  `servicer` is the server's work per Evaluate without the network: parse the
  EvaluateRequest, Struct → dict, evaluate, Evaluation → message, serialise the reply;
  `servicer-batch` the same for a streamed item (BatchEvaluateRequest → result).
- server-unary / server-batch start `jixiao-server --processes 1`, load it from this
  process, and sample it with `py-spy record --gil` (only the thread holding the GIL is
  sampled: a Python server process can do no more than that thread does). Needs ptrace
  (root, or CAP_SYS_PTRACE).

Needs the bench extra (`pip install -e '.[bench]'`: pyinstrument, py-spy).
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable

from bench_common import PACK_ID, VERSION, case_facts, load_compiled, machine, variants

from jixiao.core.evaluation.evaluator import evaluate

Key = tuple[str, str]  # (function, where)


def _where(path: str, line: int | str) -> str:
    """A short location: jixiao/core/evaluation/facts.py:150, json/encoder.py:205, bench/profile.py:80."""
    path = re.sub(r"^.*?/(service|clients|site-packages|python3\.\d+)/", "", path)
    path = re.sub(r"^.*?/(bench/)", r"\1", path)
    return f"{path}:{line}" if line else path


def print_tables(own: dict[Key, float], total: dict[Key, float], whole: float, top: int) -> None:
    for heading, times in (("Own time (where the CPU is)", own), ("Total time, callees included", total)):
        print(f"## {heading}, top {top}\n")
        print("| share | function | where |\n|---:|---|---|")
        for (function, where), amount in sorted(times.items(), key=lambda item: -item[1])[:top]:
            print(f"| {amount / whole:.1%} | `{function}` | {where} |")
        print()


# --- in process: pyinstrument -----------------------------------------------------------


def workload(what: str, count: int) -> tuple[Callable[[int], object], str]:
    compiled = load_compiled()
    facts = case_facts()
    if what == "evaluate":
        return (lambda i: evaluate(compiled, facts)), "evaluate(), 2019 case repeated"
    pool = variants(compiled, count)
    if what == "varied":
        return (lambda i: evaluate(compiled, pool[i % len(pool)])), f"evaluate(), {len(pool):,} random projects cycled"
    from grpc_load import batch_item, evaluate_payloads

    from jixiao.api.batch import answer_batch
    from jixiao.api.servicer import score, score_serialised
    from jixiao.logs import configure_logging
    from jixiao.v1 import evaluation_pb2 as pb

    payloads = evaluate_payloads(pool, PACK_ID, VERSION)
    if what == "servicer-batch":
        configure_logging("console", "warning")  # as the bench's servers run: the stream's log line is left out
        items = [batch_item(str(i), payload) for i, payload in enumerate(payloads)]

        def requests():
            for i in itertools.count():
                yield pb.BatchEvaluateRequest.FromString(items[i % len(items)])

        results = answer_batch(requests(), lambda _pack, _version: compiled, score_serialised)
        return ((lambda i: next(results).SerializeToString()),
                f"EvaluateBatch item bytes → evaluate → result bytes, {len(pool):,} random projects cycled")

    def serve(i: int) -> bytes:  # what EvaluationServicer.Evaluate and gRPC's (de)serialisers do
        request = pb.EvaluateRequest.FromString(payloads[i % len(payloads)])
        return score(request, lambda _pack, _version: compiled).SerializeToString()

    return serve, f"request bytes → evaluate → reply bytes, {len(pool):,} random projects cycled"


def flat_profile(root) -> tuple[dict[Key, float], dict[Key, float], float]:
    """Per function: own time, and total time counting recursion once, from pyinstrument's tree."""
    own: dict[Key, float] = {}
    total: dict[Key, float] = {}

    def walk(frame, parent: Key | None, active: frozenset) -> None:
        if frame.identifier.startswith("[self]") and parent is not None:
            own[parent] = own.get(parent, 0.0) + frame.time
            return
        key = (frame.function, _where(frame.file_path or "", frame.line_no or 0))
        if key not in active:
            total[key] = total.get(key, 0.0) + frame.time
        if not frame.children:
            own[key] = own.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, key, active | {key})

    walk(root, None, frozenset())
    return own, total, root.time


def profile_in_process(args: argparse.Namespace) -> int:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    call, label = workload(args.what, args.variants)
    for i in range(200):  # warm up: imports, memo, engine
        call(i)
    baseline_calls, began = 0, time.perf_counter()
    while time.perf_counter() - began < min(args.seconds, 3.0):
        call(baseline_calls)
        baseline_calls += 1
    baseline = (time.perf_counter() - began) / baseline_calls
    profiler = Profiler(interval=args.interval)
    count = 0
    profiler.start()
    began = time.perf_counter()
    deadline = began + args.seconds
    while time.perf_counter() < deadline:
        call(count)
        count += 1
    elapsed = time.perf_counter() - began
    profiler.stop()

    print(f"{label}: {baseline * 1e6:,.0f} µs per call without the profiler; "
          f"{count:,} calls in {elapsed:.1f} s under it ({elapsed / count * 1e6:,.0f} µs per call)")
    print(f"Machine: {machine()}\n")
    own, total, whole = flat_profile(profiler.last_session.root_frame())
    print_tables(own, total, whole, args.top)
    if args.tree:
        print(profiler.output_text(unicode=True, time="percent_of_total", short_mode=False))
    return 0


# --- a live server: py-spy --------------------------------------------------------------

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def collapsed_profile(text: str) -> tuple[dict[Key, float], dict[Key, float], float]:
    """Own and total sample counts per function from py-spy's raw (collapsed stacks) output."""
    own: Counter = Counter()
    total: Counter = Counter()
    whole = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        whole += count
        keys = []
        for frame in stack.split(";")[1:] if stack.startswith("process ") else stack.split(";"):
            match = _FRAME.match(frame)
            if match:
                keys.append((match["function"], _where(match["file"], match["line"] or "")))
            else:
                keys.append((frame, ""))
        if keys:
            own[keys[-1]] += count
            for key in set(keys):
                total[key] += count
    return dict(own), dict(total), float(whole or 1)


def profile_server(args: argparse.Namespace) -> int:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    from grpc_load import Server, batch, evaluate_payloads, unary

    compiled = load_compiled()
    payloads = evaluate_payloads(variants(compiled, args.variants), PACK_ID, VERSION)
    server = Server(processes=1).start()
    try:
        pids = server.pids()
        if len(pids) != 1:
            print(f"expected one server process, found {pids}", file=sys.stderr)
            return 2
        unary(server, payloads, 8, 1.0)  # warm up
        # Enough rows to keep 2 streams busy while py-spy samples, at the rate a short run reaches.
        rows = int((args.seconds + 2) * batch(server, payloads, 2_000, 2).rate) if args.what == "server-batch" else 0
        loads = []

        def drive() -> None:
            if args.what == "server-unary":
                loads.append(unary(server, payloads, 8, args.seconds + 2))
            else:
                loads.append(batch(server, payloads, rows, 2))

        driver = threading.Thread(target=drive)
        driver.start()
        time.sleep(0.5)
        with tempfile.NamedTemporaryFile(suffix=".txt") as out:
            subprocess.run([py_spy, "record", "--pid", str(pids[0]), "--duration", str(int(args.seconds)),
                            "--rate", "250", "--gil", "--function", "--nonblocking", "--format", "raw", "--output", out.name],
                           check=True, capture_output=True)
            text = Path(out.name).read_text()
        driver.join()
    finally:
        server.stop()
    load = loads[0]
    what = "8 clients calling Evaluate back to back" if args.what == "server-unary" else "2 EvaluateBatch streams"
    print(f"jixiao-server --processes 1 under {what}: {load.rate:,.0f} evaluations/s, {load.cores()}; "
          f"py-spy --gil, {args.seconds:g} s")
    print(f"Machine: {machine()}\n")
    own, total, whole = collapsed_profile(text)
    print_tables(own, total, whole, args.top)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--what", choices=("evaluate", "varied", "servicer", "servicer-batch", "server-unary",
                                           "server-batch"),
                        default="evaluate")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to profile (default 10)")
    parser.add_argument("--variants", type=int, default=2_000, help="random projects, where used (default 2,000)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per view (default 25)")
    parser.add_argument("--tree", action="store_true", help="in process: also print pyinstrument's call tree")
    parser.add_argument("--interval", type=float, default=0.001,
                        help="in process: pyinstrument's sampling interval in seconds (default 0.001)")
    args = parser.parse_args()
    if args.what.startswith("server"):
        return profile_server(args)
    return profile_in_process(args)


if __name__ == "__main__":
    sys.exit(main())
