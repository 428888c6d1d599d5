"""What a shadow run adds to the latency of a call.

    .venv/bin/python bench/shadow.py              # 12 rounds of 1.5 s per mode
    .venv/bin/python bench/shadow.py --quick      # 3 rounds of 0.5 s

A real `jixiao-server --processes 1` (decision log on, as shadow runs need it) answers
Evaluate calls of varied projects naming quality-district-funding 1.0.0, from one client
calling back to back and from 4 clients back to back, in three modes taken in turn (each
first in its turn), round after round, so that other work on the machine falls on all of
them alike:

- **no shadow run**;
- **a shadow run of 1.1.0 at --sample 0.1**: a tenth of the calls also evaluated with 1.1.0
  by the server, after its reply, on its event loop;
- **at --sample 1**: every call, for scale.

A call's latency is measured at the client. The added latency is the median, over the
rounds, of the mode's mean minus the same round's no-shadow mean (a burst of outside load
spoils a round, not the figure); the bound it is judged by is the sample times one evaluation in
process (`evaluate` of 1.0.0, each project once, timed here first): a sampled call costs
its server one more evaluation, later, which the next call may wait for. In process it
also times the sink's own steps: its `decided` (on the reply's path) and one sample's
candidate evaluation and row (later, on the loop). Each run's samples
are counted at the end (GetShadowReport), to show it sampled. Prints one markdown table,
then the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from bench_common import PACK_ID, VERSION, load_compiled, machine, variants  # noqa: E402
from decimal import Decimal  # noqa: E402
from grpc_load import Server, evaluate_payloads, unary  # noqa: E402

import grpc  # noqa: E402

from jixiao.api import convert  # noqa: E402
from jixiao.api.auth import hash_token  # noqa: E402
from jixiao.api.decisions import Decision, new_decision_id  # noqa: E402
from jixiao.core.evaluation.evaluator import evaluate  # noqa: E402
from jixiao.database.connection import create_engine  # noqa: E402
from jixiao.packs import BUNDLED_PACKS, load_pack_dir  # noqa: E402
from jixiao.shadow.runner import Followed, ShadowSink  # noqa: E402
from jixiao.shadow.runs import ShadowRun, ShadowRuns  # noqa: E402
from jixiao.shadow.sampling import threshold  # noqa: E402
from jixiao.v1 import admin_pb2, admin_pb2_grpc  # noqa: E402
from jixiao.v1 import evaluation_pb2 as pb  # noqa: E402
from jixiao_cli.client import facts_to_struct  # noqa: E402

CANDIDATE = "1.1.0"
MODES = ("none", "0.1", "1")


class _Rows:
    def write(self, table, row) -> None:
        pass


def in_process(compiled, candidate, fact_sets: list[dict]) -> dict[str, float]:
    """Seconds, in this process, of: one evaluation of 1.0.0 (the mean, each project once,
    as a server meets new projects); the sink's `decided` for a decision it does not sample
    and for one it queues (medians: what the reply waits for, a few µs a garbage collection
    can multiply); and one sample's candidate evaluation and row (the mean of
    `ShadowSink.sample_row`, what the event loop does later)."""
    runs = ShadowRuns(create_engine("sqlite://"))
    run = ShadowRun(new_decision_id(), PACK_ID, CANDIDATE, candidate.pack.digest, "0.1", "", "bench")
    sink = ShadowSink(runs, {CANDIDATE: candidate}, _Rows(), queue_size=len(fact_sets) + 1)
    sink._followed = {PACK_ID: Followed(run, threshold(Decimal("0.1")))}
    decisions, evaluations = [], []
    for facts in fact_sets:
        request = pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=facts_to_struct(facts))
        started = time.perf_counter()
        evaluation = evaluate(compiled, convert.facts_from_struct(request.facts))
        evaluations.append(time.perf_counter() - started)
        decisions.append(Decision(new_decision_id(), 0, "Evaluate", "bench", "", request, evaluation=evaluation))
    queued, skipped = [], []
    for decision in decisions:
        before = len(sink._queue)
        started = time.perf_counter()
        sink.decided(decision)
        (queued if len(sink._queue) > before else skipped).append(time.perf_counter() - started)
    sink._catalog = _Candidate(candidate)
    started = time.perf_counter()
    for decision, _followed in sink._queue:
        sink.sample_row(decision, run)
    sampling = (time.perf_counter() - started) / len(sink._queue)
    return {"evaluation": statistics.fmean(evaluations), "decided_skipped": statistics.median(skipped),
            "decided_queued": statistics.median(queued), "sample": sampling}


class _Candidate:
    def __init__(self, compiled) -> None:
        self.compiled = compiled

    def get(self, pack_id: str, version: str | None = None):
        return self.compiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=1.5, help="per mode per round and client count")
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 0.5 s, 200 variants")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.seconds, options.variants = 3, 0.5, 200
    compiled = load_compiled()
    print("preparing…", file=sys.stderr)
    fact_sets = variants(compiled, options.variants)
    candidate = load_pack_dir(BUNDLED_PACKS / PACK_ID / CANDIDATE).compiled
    costs = in_process(load_compiled(), candidate, variants(compiled, options.variants, seed=1203))
    one_evaluation = costs["evaluation"]
    payloads = evaluate_payloads(fact_sets, PACK_ID, VERSION)
    token = "bench-" + os.urandom(8).hex()
    with tempfile.TemporaryDirectory(prefix="jixiao-shadow-bench-") as folder:
        tokens = Path(folder, "tokens.yaml")
        tokens.write_text(yaml.safe_dump({"tokens": [{"name": "bench", "sha256": hash_token(token),
                                                      "roles": ["deploy"]}]}), encoding="utf-8")
        server = Server(processes=1, extra=["--auth-config", str(tokens)]).start()
        metadata = [("authorization", f"Bearer {token}")]
        latencies: dict[tuple[int, str], list[float]] = {}
        round_means: dict[tuple[int, str], list[float]] = {}
        cpu: dict[tuple[int, str], list[float]] = {}
        runs: dict[str, list[str]] = {}
        try:
            with grpc.insecure_channel(server.target) as channel:
                admin = admin_pb2_grpc.PackAdminServiceStub(channel)
                for round_number in range(options.rounds):
                    print(f"round {round_number + 1} of {options.rounds}…", file=sys.stderr)
                    turn = round_number % len(MODES)  # each mode first in turn
                    for clients in (1, 4):
                        for mode in MODES[turn:] + MODES[:turn]:
                            if mode != "none":
                                admin.StartShadow(admin_pb2.StartShadowRequest(
                                    pack_id=PACK_ID, candidate_version=CANDIDATE, sample=mode), metadata=metadata)
                            load = unary(server, payloads, clients, options.seconds)
                            if mode != "none":
                                run = admin.StopShadow(admin_pb2.StopShadowRequest(pack_id=PACK_ID),
                                                       metadata=metadata).run
                                runs.setdefault(mode, []).append(run.run_id)
                            latencies.setdefault((clients, mode), []).extend(load.latencies)
                            round_means.setdefault((clients, mode), []).append(statistics.fmean(load.latencies))
                            cpu.setdefault((clients, mode), []).append(load.server_cpu / load.calls)
                time.sleep(1.0)  # the decision log's last flush
                samples = {mode: sum(admin.GetShadowReport(admin_pb2.GetShadowReportRequest(
                    pack_id=PACK_ID, run_id=run_id), metadata=metadata).samples for run_id in run_ids)
                    for mode, run_ids in runs.items()}
        finally:
            server.stop()
    print("| clients | shadow run | calls | mean | p50 | p99 | added (median of rounds) "
          "| bound: sample × one evaluation | server CPU per call | samples taken |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for clients in (1, 4):
        base = round_means[(clients, "none")]
        for mode in MODES:
            measured = latencies[(clients, mode)]
            quantiles = statistics.quantiles(measured, n=100, method="inclusive")
            mean = statistics.fmean(measured)
            added = statistics.median(m - b for m, b in zip(round_means[(clients, mode)], base))
            added_text = "—" if mode == "none" else f"{added * 1e3:+.3f} ms"
            bound = "—" if mode == "none" else f"{float(mode) * one_evaluation * 1e3:.3f} ms"
            label = "none" if mode == "none" else f"--sample {mode}"
            print(f"| {clients} | {label} | {len(measured):,} | {mean * 1e3:.3f} ms | {quantiles[49] * 1e3:.3f} ms "
                  f"| {quantiles[98] * 1e3:.3f} ms | {added_text} | {bound} | "
                  f"{statistics.median(cpu[(clients, mode)]) * 1e3:.3f} ms | "
                  f"{'—' if mode == 'none' else f'{samples.get(mode, 0):,}'} |")
    print("\nIn process: one evaluation of a new project (mean) "
          f"{costs['evaluation'] * 1e3:.3f} ms; the sink's `decided` (on the reply's path, medians) "
          f"{costs['decided_skipped'] * 1e6:.1f} µs for a decision not sampled, {costs['decided_queued'] * 1e6:.1f} µs "
          f"for one queued; one sample's candidate evaluation and row, later on the loop (mean), "
          f"{costs['sample'] * 1e3:.3f} ms.\n")
    print(f"Over gRPC: {options.rounds} rounds of "
          f"{options.seconds:g} s per mode and client count, modes in turn; quality-district-funding {VERSION} "
          f"live, {CANDIDATE} the candidate; jixiao-server --processes 1, decision log on.\n")
    print(machine())


if __name__ == "__main__":
    main()
