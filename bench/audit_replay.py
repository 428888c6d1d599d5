"""The decision log's end-to-end proof: evaluations through several servers sharing one
database, then `jixiao audit replay` over all of them, then one record edited by hand.

    .venv/bin/python bench/audit_replay.py                                  # SQLite file, 2 servers, 10,000
    .venv/bin/python bench/audit_replay.py --registry-url postgresql://USER:PASSWORD@HOST/DB
    .venv/bin/python bench/audit_replay.py --evaluations 2000 --servers 4

Starts `--servers` jixiao-server processes on free ports, all on one registry (an SQLite
file in a temporary folder unless `--registry-url` names a database: use an empty one),
with a deploy and an audit token. Sends `--evaluations` requests of varied projects of
quality-district-funding 1.0.0 (one in ten with a fact out of range, so refused) over one
EvaluateBatch stream per server, round robin, and keeps every decision id the replies
carry. Stops the servers with SIGTERM (each writes the decisions it still holds), checks
that the log holds exactly the ids received, starts one server again and runs the real
CLI, `jixiao audit replay --pack quality-district-funding`, timing it. Then it rewrites
one decision's facts in the database (the money spent), replays again and checks
that the CLI names that decision, FACTS_ALTERED, and exits 1. Prints a markdown summary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import sqlalchemy as sa
from google.protobuf import struct_pb2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_common import load_compiled, machine, variants  # noqa: E402

from jixiao.api.auth import hash_token  # noqa: E402
from jixiao.database.connection import create_engine, redacted  # noqa: E402
from jixiao.database.schema import decisions  # noqa: E402
from jixiao.v1 import evaluation_pb2 as pb, evaluation_pb2_grpc  # noqa: E402

PACK, VERSION = "quality-district-funding", "1.0.0"
LISTENING = re.compile(r"jixiao-server listening on (?P<address>[\w.:\[\]-]+:\d+)")
BIN = Path(sys.executable).parent
DEPLOY_TOKEN, AUDIT_TOKEN = "bench-deploy-token", "bench-audit-token"


def start_server(url: str, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    handle = log.open("w")
    process = subprocess.Popen([str(BIN / "jixiao-server"), "--port", "0", "--processes", "1",
                                "--registry-url", url, "--log-format", "json"],
                               stdout=handle, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return process, found["address"]
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise SystemExit("the server did not start within 120 s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    if process.wait(timeout=60) != 0:
        raise SystemExit(f"a server exited with {process.returncode} at SIGTERM")


def requests(count: int, seed: int) -> list[pb.BatchEvaluateRequest]:
    compiled = load_compiled()
    projects = variants(compiled, min(count, 1000), seed=seed)
    rng = random.Random(seed)
    made = []
    for index in range(count):
        facts = json.loads(json.dumps(projects[index % len(projects)]))
        if rng.random() < 0.1:
            facts.setdefault("budget", {})["spent"] = "-1"  # out of range: a refused decision
        struct = struct_pb2.Struct()
        struct.update(facts)
        made.append(pb.BatchEvaluateRequest(key=str(index), request=pb.EvaluateRequest(
            pack_id=PACK, version=VERSION, facts=struct)))
    return made


def send(addresses: list[str], items: list[pb.BatchEvaluateRequest]) -> tuple[set[str], int, float]:
    """Every item over one stream per server (round robin); the decision ids received, the refusals, seconds."""
    shares = [items[i::len(addresses)] for i in range(len(addresses))]
    ids: set[str] = set()
    refused = 0
    started = time.perf_counter()
    for address, share in zip(addresses, shares):
        with grpc.insecure_channel(address) as channel:
            for result in evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch(iter(share)):
                if not result.decision_id:
                    raise SystemExit(f"item {result.key} came back without a decision id")
                ids.add(result.decision_id)
                refused += result.WhichOneof("outcome") == "error"
    return ids, refused, time.perf_counter() - started


def replay(address: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "jixiao"), "audit", "replay", "--pack", PACK, "--server", address],
                          capture_output=True, text=True, env={**env, "JIXIAO_TOKEN": AUDIT_TOKEN}, timeout=3600)
    return done, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry-url", help="an empty database (default: an SQLite file in a temporary folder)")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--evaluations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jixiao-audit-bench-") as folder:
        work = Path(folder)
        url = options.registry_url or f"sqlite:///{work / 'registry.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
        env.update(XDG_DATA_HOME=str(work), JIXIAO_TOKENS=(f"bench-ops:{hash_token(DEPLOY_TOKEN)}:deploy,"
                                                           f"bench-auditor:{hash_token(AUDIT_TOKEN)}:audit"))
        items = requests(options.evaluations, options.seed)
        servers = [start_server(url, work / f"server-{i}.log", env) for i in range(options.servers)]
        try:
            ids, refused, sent_s = send([address for _, address in servers], items)
        finally:
            for process, _ in servers:
                stop(process)
        engine = create_engine(url)
        with engine.connect() as conn:
            logged = set(conn.execute(sa.select(decisions.c.decision_id)).scalars())
            served_by = conn.execute(sa.select(sa.func.count(sa.distinct(decisions.c.served_by)))).scalar_one()
        if logged != ids:
            raise SystemExit(f"the log holds {len(logged)} decisions, {len(logged - ids)} not received, "
                             f"{len(ids - logged)} received but missing")
        process, address = start_server(url, work / "replay-server.log", env)
        try:
            first, first_s = replay(address, env)
            victim = sorted(ids)[len(ids) // 2]
            with engine.begin() as conn:
                facts = json.loads(conn.execute(sa.select(decisions.c.facts).where(
                    decisions.c.decision_id == victim)).scalar_one())
                facts.setdefault("budget", {})["spent"] = "1.00"
                conn.execute(sa.update(decisions).where(decisions.c.decision_id == victim).values(
                    facts=json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)))
            second, second_s = replay(address, env)
        finally:
            stop(process)
            engine.dispose()
    summary = (first.stdout.strip().splitlines() or [""])[-1]
    named = victim in second.stdout and "facts altered" in second.stdout
    print(f"| servers | database | evaluations (refused) | sent in | logged | replay | rate | after one edit |")
    print("|---:|---|---:|---:|---:|---|---:|---|")
    print(f"| {options.servers} ({served_by} answered) | {redacted(url).split(':', 1)[0]} | "
          f"{len(ids):,} ({refused:,}) | {sent_s:.1f} s | {len(logged):,} | exit {first.returncode}: {summary} | "
          f"{len(ids) / first_s:,.0f}/s | exit {second.returncode}, "
          f"{'names ' + victim if named else 'DID NOT NAME ' + victim} |")
    print(f"\n{machine()}")
    return 0 if first.returncode == 0 and second.returncode == 1 and named else 1


if __name__ == "__main__":
    sys.exit(main())
