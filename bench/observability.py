"""What request ids, latency metrics and the metrics sink cost a server per Evaluate call.

    .venv/bin/python bench/observability.py             # 10 slices of 500 calls per server
    .venv/bin/python bench/observability.py --quick     # 4 slices of 200

Servers in processes of their own (spawned, each serving the bundled packs from one
event loop, as a worker does), called in alternating slices by one synchronous client,
one call at a time, with the 2019 golden case (the evaluation at its cheapest, so the
overhead's share at its largest):

- **bare**: the auth interceptor alone, no sink (the server before observability);
- **request ids, trailers only**: the observability interceptor with the request id in the
  trailing metadata alone (what it costs without the headers);
- **request ids**: the observability interceptor as served, metrics off;
- **request ids + metrics**: the interceptor and the metrics sink with metrics on, their
  values in files as under a supervisor (PROMETHEUS_MULTIPROC_DIR set), the costlier mode.

Figures are the server process's CPU time per call (user + system from /proc, every thread:
the event loop and gRPC's own), the median over slices: the machine is shared, and wall
times on it swing by more than what is measured. Prints one markdown table, then the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import grpc  # noqa: E402
from bench_common import PACK_ID, VERSION, case_facts, machine  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from jixiao.v1 import evaluation_pb2 as pb, evaluation_pb2_grpc  # noqa: E402

RULES = Path(__file__).resolve().parents[1] / "rules"
SERVERS = ("bare", "request ids, trailers only", "request ids", "request ids + metrics")


def serve(kind: str, ready) -> None:
    """A server process of `kind` (SERVERS); sends its port through `ready`, serves until killed."""
    if kind == "request ids + metrics":
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    from grpc_health.v1 import health

    from jixiao.api.auth import AuthInterceptor
    from jixiao.api.decisions import DecisionHub
    from jixiao.api.tokens import TokenTable
    from jixiao.logs import configure_logging
    from jixiao.observability import interceptor, metrics
    from jixiao.observability.decision_metrics import MetricsSink
    from jixiao.packs import PackLibrary
    from jixiao.server import build_server, settle_garbage_collector

    configure_logging("json", "warning")  # no line per call: the bench times the calls, not the log
    interceptors, hub = [AuthInterceptor(TokenTable(()))], DecisionHub.none()  # every server has auth
    if kind != "bare":
        interceptors.insert(0, interceptor.ObservabilityInterceptor())
    if kind == "request ids, trailers only":
        async def no_headers(_call) -> None:
            pass
        interceptor.ObservedCall.send_headers = no_headers
    if kind == "request ids + metrics":
        metrics.enable()
        hub = DecisionHub([MetricsSink()])
    library = PackLibrary.from_directory(RULES)

    async def main() -> None:
        server, port = await build_server(library, 0, health_servicer=health.aio.HealthServicer(),
                                          interceptors=interceptors, decisions=hub)
        await server.start()
        settle_garbage_collector()
        ready.send(port)
        await server.wait_for_termination()

    asyncio.run(main())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    slices, calls = (4, 200) if args.quick else (args.slices, args.calls)

    context = multiprocessing.get_context("spawn")
    processes, stubs, channels = {}, {}, []
    for kind in SERVERS:
        mine, theirs = context.Pipe()
        process = context.Process(target=serve, args=(kind, theirs), daemon=True)
        process.start()
        if not mine.poll(120):
            raise SystemExit(f"the {kind} server did not start")
        channel = grpc.insecure_channel(f"127.0.0.1:{mine.recv()}")
        channels.append(channel)
        processes[kind], stubs[kind] = process, evaluation_pb2_grpc.EvaluationServiceStub(channel)
    facts = struct_pb2.Struct()
    facts.update(case_facts())
    request = pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=facts)
    try:
        for stub in stubs.values():  # warm up: connections, memos
            for _ in range(100):
                stub.Evaluate(request, timeout=10)
        times: dict[str, list[float]] = {kind: [] for kind in SERVERS}
        for _ in range(slices):
            for kind, stub in stubs.items():
                pid = processes[kind].pid
                started = cpu_seconds(pid)
                for _ in range(calls):
                    stub.Evaluate(request, timeout=10)
                times[kind].append((cpu_seconds(pid) - started) / calls * 1e6)
    finally:
        for channel in channels:
            channel.close()
        for process in processes.values():
            process.kill()
    bare = statistics.median(times["bare"])
    print(f"| server ({slices} slices of {calls} Evaluate calls) | server CPU µs per call | vs bare |")
    print("|---|---:|---:|")
    for kind, found in times.items():
        median = statistics.median(found)
        print(f"| {kind} | {median:.0f} | {median - bare:+.0f} µs ({(median - bare) / bare:+.1%}) |")
    print()
    print(machine())


if __name__ == "__main__":
    main()
