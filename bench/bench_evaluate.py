"""How many evaluations per second: in process, and through a real server over gRPC.

Scores the 2019 golden case of quality-district-funding@1.0.0 (28 leaves, rationales
included) for a fixed time in each mode and prints a markdown table with throughput
and latency percentiles, then the machine it ran on. Run from the repository root:

    .venv/bin/python bench/bench_evaluate.py [--seconds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.core.compiler import MatcherFactory, plain_matcher
from jixiao.core.evaluator import evaluate
from jixiao.core.yaml12 import parse_yaml
from jixiao.engine.durable import durable_matcher
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao_cli.client import JixiaoClient

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"
CASE = Path(PACK_ID, VERSION, "cases", "2019.yaml")
CONCURRENT_THREADS = 8
SERVER_START_SECONDS = 30.0
WARM_UP_CALLS = 20
MATCHERS = {durable_matcher: "durable-rules matcher", plain_matcher: "plain-Python matcher"}


@dataclass(frozen=True)
class Run:
    """What one mode measured: per-call latencies (seconds) over a wall-clock span."""

    mode: str
    latencies: list[float]
    elapsed: float

    def row(self) -> str:
        count = len(self.latencies)
        cuts = statistics.quantiles(self.latencies, n=100) if count > 1 else self.latencies * 99
        return (f"| {self.mode} | {count} | {self.elapsed:.1f} | {count / self.elapsed:,.0f} "
                f"| {cuts[49] * 1000:.3f} | {cuts[98] * 1000:.3f} |")


def case_facts(packs: Path) -> dict:
    """The facts of the 2019 golden case."""
    document, _lines = parse_yaml((packs / CASE).read_text(encoding="utf-8"))
    return document["facts"]


def measure(mode: str, call: Callable[[], object], seconds: float, threads: int = 1) -> Run:
    """Call `call` from `threads` threads until `seconds` have passed; time every call."""
    for _ in range(WARM_UP_CALLS):
        call()
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    deadline = time.perf_counter() + seconds

    def loop(latencies: list[float]) -> None:
        while (started := time.perf_counter()) < deadline:
            call()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(latencies,)) for latencies in per_thread]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Run(mode, [latency for latencies in per_thread for latency in latencies],
               time.perf_counter() - began)


def measure_in_process(directory: Path, facts: dict, seconds: float,
                       matcher_factory: MatcherFactory) -> Run:
    """`evaluate` in this process, with the pack compiled for one matcher."""
    compiled = load_pack_dir(directory, matcher_factory=matcher_factory).compiled
    try:
        return measure(f"in-process `evaluate`, {MATCHERS[matcher_factory]}",
                       lambda: evaluate(compiled, facts), seconds)
    finally:
        compiled.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(packs: Path, port: int) -> subprocess.Popen:
    """A `jixiao.server` subprocess on `port`, returned once its health check says SERVING."""
    server = subprocess.Popen(
        [sys.executable, "-m", "jixiao.server", "--port", str(port), "--packs", str(packs),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    give_up = time.monotonic() + SERVER_START_SECONDS
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < give_up:
            if server.poll() is not None:
                raise RuntimeError(
                    f"server exited with {server.returncode}: {server.stderr.read()}")
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return server
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"server not SERVING after {SERVER_START_SECONDS:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def machine() -> str:
    """Python version, CPU model and the number of usable CPUs."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{model}, nproc {cpus}, grpcio {grpc.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="how long to measure each mode (default 5)")
    parser.add_argument("--packs", type=Path, default=BUNDLED_PACKS,
                        help="the pack folder (default: the bundled rules/)")
    arguments = parser.parse_args()
    seconds, packs = arguments.seconds, arguments.packs
    facts = case_facts(packs)
    runs = [measure_in_process(packs / PACK_ID / VERSION, facts, seconds, matcher_factory)
            for matcher_factory in (durable_matcher, plain_matcher)]
    port = free_port()
    server = start_server(packs, port)
    try:
        with JixiaoClient(f"127.0.0.1:{port}") as client:
            def call() -> object:
                return client.evaluate(PACK_ID, facts, version=VERSION)

            runs.append(measure("gRPC Evaluate, 1 client", call, seconds))
            runs.append(measure(f"gRPC Evaluate, {CONCURRENT_THREADS} threads", call, seconds,
                                threads=CONCURRENT_THREADS))
    finally:
        stop_server(server)
    print(f"{PACK_ID}@{VERSION}, case {CASE.name}, {seconds:g} s per mode\n")
    print("| mode | evaluations | seconds | evaluations/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for run in runs:
        print(run.row())
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    main()
