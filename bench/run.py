"""Jixiao's benchmark: one command, one table, the performance targets beside the figures.

    .venv/bin/python bench/run.py            # the full run (about 20 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # a smoke run (well under a minute)

Rows (see bench/README.md for what each one measures):
  in-process `evaluate` of the 2019 case, and of varied projects; the same checks as a
  zen-engine decision generated from the pack; durable-rules' matching alone; the plain
  Python reference matcher; unary Evaluate against a real server with 1, 8 and 32
  clients (and 32 clients at half the load they can drive); health checks and Evaluate
  while 1,000 silent EvaluateBatch streams are held open; EvaluateBatch throughput, of
  valid projects and of the fuzz test's hostile facts; the server's memory before and
  after a long stream.

Progress goes to stderr; stdout gets only the table and the machine it ran on.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

from bench_common import CASE, PACK_ID, VERSION, case_facts, hostile_payloads, load_compiled, machine, variants
from grpc_load import (Load, Server, batch, evaluate_payloads, has_batch, paced, probe_with_idle_streams, quantile,
                       server_help, unary)
from google.rpc import code_pb2

from jixiao.core.evaluation.compiler import PlainMatcher
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.facts import check_facts

EQUIVALENCE_VARIANTS = 200
STREAM_ROWS = 100_000
SOAK_EVALUATIONS = 1_000_000
MEMORY_GROWTH_LIMIT_MB = 20.0
STREAMED_TARGET_CASE = 4_000  # evaluations/s streamed, the 2019 case, 2 cores
STREAMED_TARGET_VARIED = 2_500  # evaluations/s streamed, varied projects, 2 cores
P99_TARGET_MS = 5.0  # Evaluate p99, 32 clients paced at half capacity
IDLE_STREAMS = 1_000
IDLE_TARGET_MS = 100.0  # health and Evaluate p99 with IDLE_STREAMS silent streams open
FUZZ_ROWS = 20_000


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Timing:
    count: int
    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.elapsed

    def cut(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def timed(calls: dict[str, Callable[[int], object]], seconds: float, rounds: int, warm_up: int = 200
          ) -> dict[str, Timing]:
    """Time each call `call(i)` for i = 0, 1, … for `seconds` in all (each), every call timed.

    The calls take turns, in `rounds` slices each, so that whatever else the machine does
    in the meantime falls on all of them alike.
    """
    for call in calls.values():
        for i in range(warm_up):
            call(i)
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    spent = dict.fromkeys(calls, 0.0)
    clock = time.perf_counter
    for _ in range(rounds):
        for name, call in calls.items():
            gc.collect()
            own = latencies[name]
            i = len(own)
            began = clock()
            deadline = began + seconds / rounds
            while (started := clock()) < deadline:
                call(i)
                own.append(clock() - started)
                i += 1
            spent[name] += clock() - began
    return {name: Timing(len(latencies[name]), spent[name], latencies[name]) for name in calls}


# --- the table ------------------------------------------------------------------------


@dataclass
class Row:
    measurement: str
    n: str = "—"
    rate: str = "—"
    mean: str = "—"
    p50: str = "—"
    p99: str = "—"
    target: str = ""
    verdict: str = ""
    notes: str = ""

    def line(self) -> str:
        cells = (self.measurement, self.n, self.rate, self.mean, self.p50, self.p99, self.target,
                 self.verdict, self.notes)
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


HEADER = ("| measurement | N | evaluations/s | mean | p50 | p99 | target | met? | notes |\n"
          "|---|---:|---:|---:|---:|---:|---|---|---|")


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def in_process_row(label: str, timing: Timing, notes: str = "") -> Row:
    return Row(label, f"{timing.count:,}", f"{timing.rate:,.0f}", us(timing.elapsed / timing.count),
               us(timing.cut(50)), us(timing.cut(99)), notes=notes)


def unary_row(label: str, load: Load, notes: str = "") -> Row:
    return Row(label, f"{load.calls:,}", f"{load.rate:,.0f}", ms(statistics.fmean(load.latencies)),
               ms(load.percentile(50)), ms(load.percentile(99)),
               notes=(notes + "; " if notes else "") + f"{load.cores()}; busy server processes: {load.spread()} cores"
               + (f"; **{load.errors:,} calls failed**" if load.errors else ""))


# --- the run --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short timings, small N")
    parser.add_argument("--seconds", type=float, help="seconds per timed row (default 5; 0.5 with --quick)")
    parser.add_argument("--rows", type=int, help=f"rows streamed for the throughput row "
                                                 f"(default {STREAM_ROWS:,}; 2,000 with --quick)")
    parser.add_argument("--evaluations", type=int, help=f"evaluations streamed between the two memory readings "
                                                        f"(default {SOAK_EVALUATIONS:,}; 20,000 with --quick)")
    parser.add_argument("--variants", type=int, help="distinct random projects cycled through by the varied "
                                                     "rows and the server rows (default 5,000; 500 with --quick)")
    parser.add_argument("--processes", type=int, default=os.cpu_count(),
                        help="server processes, when jixiao-server has --processes (default: every CPU)")
    parser.add_argument("--streams", type=int, help="concurrent EvaluateBatch streams (default 4 per process)")
    parser.add_argument("--idle-streams", type=int, help=f"silent EvaluateBatch streams held open while health "
                                                         f"and Evaluate are timed (default {IDLE_STREAMS:,})")
    parser.add_argument("--fuzz-rows", type=int, help=f"hostile fact sets streamed (default {FUZZ_ROWS:,}; "
                                                      f"2,000 with --quick)")
    parser.add_argument("--no-server", action="store_true", help="in-process rows only")
    args = parser.parse_args()
    quick = args.quick
    seconds = args.seconds or (0.5 if quick else 5.0)
    unary_seconds = max(seconds, 1.0)
    rows = args.rows or (2_000 if quick else STREAM_ROWS)
    soak = args.evaluations or (20_000 if quick else SOAK_EVALUATIONS)
    pool_size = args.variants or (500 if quick else 5_000)
    load_average = os.getloadavg()[0]
    began, busy_at_start = time.monotonic(), busy_seconds()
    own_at_start = os.times().user + os.times().system

    say(f"loading {PACK_ID}@{VERSION} and drawing {pool_size:,} random projects …")
    compiled = load_compiled()
    facts = case_facts()
    pool = variants(compiled, max(pool_size, EQUIVALENCE_VARIANTS))
    values = check_facts(compiled.pack.facts, facts)
    table: list[Row] = []

    # zen-engine: generate, prove equivalent, then time.
    try:
        from zen_decision import ZenMatcher, check_equivalence
        zen = ZenMatcher(compiled)
    except ImportError:
        zen = None
        say("zen-engine is not installed: pip install -e '.[bench]'")
    if zen is not None:
        sets = [facts, *pool[:EQUIVALENCE_VARIANTS]]
        firings = check_equivalence(compiled, sets, zen)
        say(f"zen-engine fires exactly the pack matcher's rules on {len(sets)} fact sets ({firings:,} firings)")

    say("in-process rows …")
    plain = PlainMatcher(compiled.pack, compiled.rules)
    calls = {
        "case": lambda i: evaluate(compiled, facts),
        "pool": lambda i: evaluate(compiled, pool[i % len(pool)]),
        "durable": lambda i: compiled.matcher.match(values),
        "plain": lambda i: plain.match(values),
    }
    if zen is not None:
        pool_values = [check_facts(compiled.pack.facts, f) for f in pool]
        calls["zen"] = lambda i: zen.match(values)
        calls["zen_pool"] = lambda i: zen.match(pool_values[i % len(pool_values)])
    timings = timed(calls, seconds, rounds=3 if quick else 10)
    case_timing, pool_timing = timings["case"], timings["pool"]
    durable_timing, plain_timing, zen_timing = timings["durable"], timings["plain"], timings.get("zen")
    zen_pool_timing = timings.get("zen_pool")

    fired = len(compiled.matcher.match(values))
    checks = f"{len(compiled.rules)} rules, {fired} fire"
    for label, timing, zen_same in (
            ("in-process `evaluate`, 2019 case repeated", case_timing, zen_timing),
            (f"in-process `evaluate`, {len(pool):,} varied projects cycled", pool_timing, zen_pool_timing)):
        row = in_process_row(label, timing, "durable-rules matcher, rationales in Chinese"
                             + ("; the same case every call: leaf memo hits" if timing is case_timing else
                                "; random facts: mostly memo misses on amounts and shares"))
        if zen_same:
            row.target = f"p50 ≤ zen-engine's on the same facts ({us(zen_same.cut(50))})"
            row.verdict = met(timing.cut(50) <= zen_same.cut(50))
        table.append(row)
    if zen_timing and zen_pool_timing:
        table.append(in_process_row(
            "zen-engine decision, matching only (2019 case)", zen_timing,
            f"JDM generated from the pack: decision table, hit policy collect, {checks}; context built from "
            f"checked values per call; fires the same rules as durable-rules on {EQUIVALENCE_VARIANTS + 1} fact sets"))
        table.append(in_process_row(
            f"zen-engine decision, matching only ({len(pool):,} varied projects cycled)", zen_pool_timing,
            "the same decision on the varied projects' checked values"))
    else:
        table.append(Row("zen-engine decision, matching only", notes="zen-engine not installed (`.[bench]`)"))
    table.append(in_process_row("durable-rules matching alone (2019 case)", durable_timing,
                                f"`CompiledPack.matcher.match` on checked values; {checks}"))
    table.append(in_process_row("plain-Python matching alone (2019 case)", plain_timing,
                                "the reference matcher (`jixiao.core.evaluation.compiler.PlainMatcher`), for scale"))

    server_line = "not run (--no-server)"
    if not args.no_server:
        table.extend(server_rows(args, pool, facts, unary_seconds, rows, soak, quick))
        server_line = SERVER_LINE[0]

    print(f"Jixiao benchmark: {PACK_ID}@{VERSION} ({CASE.name} and random variants), "
          f"{'--quick' if quick else 'full run'}\n")
    print(HEADER)
    for row in table:
        print(row.line())
    elapsed = time.monotonic() - began
    times = os.times()
    others = (busy_seconds() - busy_at_start - (times.user + times.system - own_at_start) - SERVER_CPU[0]) / elapsed
    print(f"\nMachine: {machine()}; load average {load_average:.2f} at start; other processes used "
          f"{max(others, 0):.2f} cores on average during the run ({elapsed / 60:.1f} min)")
    print(f"Server: {server_line}")
    return 0


SERVER_LINE = [""]
SERVER_CPU = [0.0]


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def server_rows(args: argparse.Namespace, pool: list[dict], case: dict, seconds: float, rows: int, soak: int,
                quick: bool) -> list[Row]:
    out: list[Row] = []
    multi = "--processes" in server_help()
    processes = args.processes if multi else None
    streams = args.streams or 4 * (processes or 1)
    payloads = evaluate_payloads(pool, PACK_ID, VERSION)
    say(f"starting jixiao-server{f' --processes {processes}' if processes else ' (one process: no --processes)'} …")
    server = Server(processes).start()
    shown = ["jixiao-server", *server.command[1:]]
    shown[shown.index("--port") + 1] = "<free port>"
    shown[shown.index("--registry") + 1] = "<temporary folder>/registry.sqlite3"
    SERVER_LINE[0] = "`" + " ".join(shown) + "`"
    try:
        started_rss = server.rss_mb()
        say("unary rows …")
        loads = {}
        for clients in (1, 8, 32):
            loads[clients] = load = unary(server, payloads, clients, seconds)
            row = unary_row(f"gRPC Evaluate, {clients} client{'s' if clients > 1 else ''}, back to back", load,
                            "varied projects")
            out.append(row)
        half = loads[32].rate / 2
        load = paced(server, payloads, 32, half, seconds)
        late = sorted(load.lateness)
        row = unary_row(f"gRPC Evaluate, 32 clients paced at {half:,.0f}/s in all", load,
                        "half what 32 clients drove back to back: latency without queueing, counted from when "
                        f"each call was due; the client sent late by p50 {ms(late[len(late) // 2])}, "
                        f"p99 {ms(late[int(len(late) * 0.99)])} (its timers), included")
        row.target = f"p99 ≤ {P99_TARGET_MS:g} ms"
        row.verdict = met(load.percentile(99) * 1e3 <= P99_TARGET_MS)
        out.append(row)

        out.extend(idle_rows(server, payloads, args.idle_streams or IDLE_STREAMS, seconds * 2))

        if not has_batch():
            out.append(Row("EvaluateBatch, streamed", notes="no EvaluateBatch in the generated stubs"))
            return out
        reduced = "" if rows >= STREAM_ROWS else f"reduced N (target is over {STREAM_ROWS:,}); "
        for label, rows_payloads, kind, target in (
                ("varied projects", payloads, "varied projects: mostly leaf memo misses", STREAMED_TARGET_VARIED),
                ("the 2019 case", evaluate_payloads([case], PACK_ID, VERSION),
                 "the 2019 case every row: leaf memo hits", STREAMED_TARGET_CASE)):
            say(f"streaming {rows:,} rows ({label}) …")
            load = batch(server, rows_payloads, rows, streams)
            out.append(Row(f"EvaluateBatch, {rows:,} rows of {label} over {streams} streams", f"{load.calls:,}",
                           f"{load.rate:,.0f}", target=f"≥ {target:,}/s on 2 cores",
                           verdict=met(load.rate >= target) + (" (reduced N)" if reduced else ""),
                           notes=f"{reduced}{load.errors} item errors; {kind}; {load.cores()}; "
                                 f"busy server processes: {load.spread()} cores"))

        out.append(fuzz_row(server, case, args.fuzz_rows or (2_000 if quick else FUZZ_ROWS), streams))

        say(f"memory: streaming {soak:,} evaluations …")
        time.sleep(1)
        before = server.rss_mb()
        samples: list[float] = []
        every = 2.0 if quick else 10.0
        load = batch(server, payloads, soak, streams, sample=lambda: samples.append(server.rss_mb()),
                     sample_every=every)
        time.sleep(1)
        after = server.rss_mb()
        growth = after - before
        judged = soak >= SOAK_EVALUATIONS
        out.append(Row(
            f"server RSS before → after {soak:,} streamed evaluations", f"{load.calls:,}", f"{load.rate:,.0f}",
            target=f"growth < {MEMORY_GROWTH_LIMIT_MB:g} MB over {SOAK_EVALUATIONS:,}",
            verdict=met(growth < MEMORY_GROWTH_LIMIT_MB) + ("" if judged else " (reduced N)"),
            notes=(f"{before:,.1f} → {after:,.1f} MB ({growth:+,.1f} MB), peak {max(samples + [after]):,.1f} MB; "
                   f"{started_rss:,.1f} MB when just started; whole process tree, VmRSS summed; "
                   f"{load.errors} item errors")))
    finally:
        SERVER_CPU[0] = server.cpu_seconds()
        server.stop()
    return out


def idle_rows(server: Server, payloads: list[bytes], idle: int, seconds: float) -> list[Row]:
    """Health check and Evaluate latency, first with no stream open, then with `idle` silent ones."""
    say("health and Evaluate with no idle stream …")
    quiet = probe_with_idle_streams(server, payloads, 0, seconds)
    say(f"health and Evaluate with {idle:,} silent EvaluateBatch streams open …")
    held = probe_with_idle_streams(server, payloads, idle, seconds)
    out = []
    for label, mine, baseline in (("health check", held.health, quiet.health),
                                  ("Evaluate", held.evaluate, quiet.evaluate)):
        p99 = quantile(mine, 99)
        out.append(Row(
            f"{label} with {idle:,} silent EvaluateBatch streams open", f"{len(mine):,}", "—",
            ms(statistics.fmean(mine)), ms(quantile(mine, 50)), ms(p99),
            target=f"p99 ≤ {IDLE_TARGET_MS:g} ms", verdict=met(p99 * 1e3 <= IDLE_TARGET_MS and not held.errors
                                                                and held.held == idle),
            notes=(f"8 clients, each on its own connection, alternating a health check and an Evaluate "
                   f"(varied projects) 20 times a second; the streams over 20 connections send nothing; "
                   f"{held.held:,} of {idle:,} still open at the end; {held.errors} calls failed; "
                   f"with no stream open: p50 {ms(quantile(baseline, 50))}, p99 {ms(quantile(baseline, 99))}")))
    return out


def fuzz_row(server: Server, case: dict, rows: int, streams: int) -> Row:
    """The fuzz test's hostile fact sets streamed through EvaluateBatch: rate, and the share refused."""
    say(f"streaming {rows:,} hostile fact sets …")
    payloads = hostile_payloads(case, rows)
    codes: collections.Counter[int] = collections.Counter()
    pids = set(server.pids())
    load = batch(server, payloads, rows, streams, error_codes=codes,
                 warm_up=evaluate_payloads([case], PACK_ID, VERSION)[0])
    refused = codes.get(code_pb2.INVALID_ARGUMENT, 0)
    other = {code_pb2.Code.Name(code): count for code, count in codes.items() if code != code_pb2.INVALID_ARGUMENT}
    unanswered = load.errors - sum(codes.values())
    total = load.calls + load.errors
    alive = server.process is not None and server.process.poll() is None and set(server.pids()) == pids
    return Row(f"EvaluateBatch, {rows:,} hostile fact sets (the fuzz test's) over {streams} streams",
               f"{total:,}", f"{load.rate + load.errors / load.elapsed:,.0f}",
               notes=(f"items answered per second, refusals included; {load.calls / total:.1%} scored, "
                      f"{refused / total:.1%} refused INVALID_ARGUMENT"
                      + (f", **other codes: {other}**" if other else ", no other code")
                      + (f", **{unanswered:,} unanswered**" if unanswered else "")
                      + ("; every server process alive after (the same PIDs)" if alive
                         else "; **a server process died**")
                      + f"; server "
                        f"{load.server_cpu / load.elapsed:.2f} cores, {load.server_cpu / total * 1e3:.2f} ms CPU per "
                        f"item; client {load.client_cpu / load.elapsed:.2f} cores; "
                        f"busy server processes: {load.spread()} cores"))


if __name__ == "__main__":
    sys.exit(main())
