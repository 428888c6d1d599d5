"""Stream many evaluations through one EvaluateBatch call and watch the server's memory.

    .venv/bin/python scripts/measure_stream_memory.py [--items 200000] [--every 20000]

Starts `jixiao-server --processes 1` on a free port with a registry in a temporary
folder, streams the 2019 facts (pinned to 1.0.0) as fast as the server takes them, and
prints the server's resident memory (VmRSS) every `--every` results, with the items the
client had sent but not yet got back (what flow control lets sit in buffers). Requests
are generated as they are sent and results dropped as they arrive, so the client holds
no more than the stream does either.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import grpc
from google.protobuf import struct_pb2

from jixiao.core.pack.cases import load_case
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
GOLDEN_2019 = REPO / "rules" / "quality-district-funding" / "1.0.0" / "cases" / "2019.yaml"
LISTENING = re.compile(r"jixiao-server listening on (?P<address>[\w.:\[\]-]+:\d+)")


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024


def start_server(folder: Path) -> tuple[subprocess.Popen, str, Path]:
    log_path = folder / "server.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "jixiao.server", "--port", "0", "--processes", "1", "--log-format", "json",
             "--registry", str(folder / "registry.sqlite3"), "--packs", str(REPO / "rules")],
            stdout=log_file, stderr=subprocess.STDOUT, env={**environment, "XDG_DATA_HOME": str(folder)})
    deadline = time.monotonic() + 60
    while not (found := LISTENING.search(log_path.read_text())):
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the server did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    return server, found["address"], log_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=20_000)
    arguments = parser.parse_args()

    facts = struct_pb2.Struct()
    facts.update(load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts)
    request = pb.EvaluateRequest(pack_id="quality-district-funding", version="1.0.0", facts=facts)
    sent = 0

    def stream() -> Iterator[pb.BatchEvaluateRequest]:
        nonlocal sent
        for number in range(arguments.items):
            sent += 1
            yield pb.BatchEvaluateRequest(key=str(number), request=request)

    with tempfile.TemporaryDirectory() as folder:
        server, address, log_path = start_server(Path(folder))
        try:
            with grpc.insecure_channel(address) as channel:
                stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
                stub.Evaluate(request, timeout=10)  # compile and warm up before the first sample
                print(f"request {request.ByteSize()} bytes; server pid {server.pid}")
                print(f"{'results':>9} {'server RSS MiB':>15} {'in flight':>10} {'results/s':>10}")
                print(f"{0:>9} {rss_mib(server.pid):>15.1f} {0:>10} {'':>10}")
                started = time.perf_counter()
                received, errors, most_in_flight, samples = 0, 0, 0, []
                for result in stub.EvaluateBatch(stream()):
                    received += 1
                    errors += result.HasField("error")
                    most_in_flight = max(most_in_flight, sent - received)
                    if received % arguments.every == 0:
                        samples.append(rss_mib(server.pid))
                        rate = received / (time.perf_counter() - started)
                        print(f"{received:>9} {samples[-1]:>15.1f} {sent - received:>10} {rate:>10.0f}")
            print(f"{received} results, {errors} errors, at most {most_in_flight} items in flight; "
                  f"RSS {samples[0]:.1f} → {samples[-1]:.1f} MiB (peak {max(samples):.1f})")
        finally:
            server.terminate()
            server.wait(timeout=30)
        summary = [line for line in log_path.read_text().splitlines() if '"EvaluateBatch"' in line]
        print("server's log line:", *summary)


if __name__ == "__main__":
    main()
