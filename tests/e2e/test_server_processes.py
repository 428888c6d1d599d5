"""`jixiao-server --processes 2`: two server processes share the port under a supervisor that
restarts one killed under load and drains both on SIGTERM.

Worker processes are found as the supervisor's children spawned by multiprocessing
(/proc, no production RPC); which process answered a call is in its log line ("pid").
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc
from jixiao_cli.channels import open_channel

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
CALL_DEADLINE_S = 5
WAIT_S = 20
CHANNELS = 16
CALLERS = 6
SLOW_SERVER = Path(__file__).with_name("slow_server.py")
RULES = Path(__file__).resolve().parents[2] / "rules"


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def worker_pids(supervisor_pid: int) -> set[int]:
    """The supervisor's child processes started by multiprocessing's spawn (not its resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):  # exited meanwhile
            continue
        if parent == supervisor_pid and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def log_lines(server, start: int = 0) -> list[dict]:
    """The server's JSON log lines after offset `start`, whole ones only: the last one may
    still be being written while the test reads the file."""
    text = server.log()[start:]
    complete = text[:text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]


def answering_pids(server, start: int = 0) -> Counter:
    """How many Evaluate calls each server process answered (after log offset `start`)."""
    return Counter(line["pid"] for line in log_lines(server, start) if line.get("method") == "Evaluate")


@pytest.fixture(scope="module")
def request_2019(golden_2019_facts) -> pb.EvaluateRequest:
    facts = struct_pb2.Struct()
    facts.update(golden_2019_facts)
    return pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=facts)


@pytest.fixture(scope="module")
def server(launch_server):
    running = launch_server("processes", args=["--processes", "2"])
    wait_for(lambda: "all workers serving" in running.log(), "both workers to serve")
    yield running
    workers = worker_pids(running.process.pid)
    assert running.stop() == 0, running.log()
    assert not [pid for pid in workers if alive(pid)], "a worker outlived its supervisor"


def evaluate_on_fresh_connections(server, request: pb.EvaluateRequest) -> None:
    for _ in range(CHANNELS):
        with open_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_DEADLINE_S)
            reply = evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate(request, timeout=CALL_DEADLINE_S)
            assert (health.status, reply.score) == (health_pb2.HealthCheckResponse.SERVING, "75.03")


def test_two_workers_share_one_port_and_both_answer_calls(server, request_2019) -> None:
    workers = worker_pids(server.process.pid)
    assert len(workers) == 2 and server.process.pid not in workers

    start = len(server.log())
    evaluate_on_fresh_connections(server, request_2019)

    assert set(answering_pids(server, start)) == workers


class Caller(threading.Thread):
    """Calls Evaluate on a retrying channel of its own until stopped; records every outcome."""

    def __init__(self, address: str, request: pb.EvaluateRequest, stop: threading.Event):
        super().__init__(daemon=True)
        self._address, self._request, self._halt = address, request, stop
        self.replies: list[tuple[float, str]] = []  # when, score
        self.failures: list[str] = []
        self.slowest_s = 0.0

    def run(self) -> None:
        with open_channel(self._address) as channel:
            stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
            while not self._halt.is_set():
                started = time.monotonic()
                try:
                    reply = stub.Evaluate(self._request, timeout=CALL_DEADLINE_S)
                except grpc.RpcError as error:
                    self.failures.append(f"{error.code().name}: {error.details()}")
                else:
                    self.replies.append((time.monotonic(), reply.score))
                self.slowest_s = max(self.slowest_s, time.monotonic() - started)


def test_a_worker_killed_under_load_is_restarted_and_no_call_fails(server, request_2019) -> None:
    workers = worker_pids(server.process.pid)
    start = len(server.log())
    stop = threading.Event()
    callers = [Caller(server.address, request_2019, stop) for _ in range(CALLERS)]
    for caller in callers:
        caller.start()
    try:
        wait_for(lambda: all(len(c.replies) >= 5 for c in callers), "the load to start")
        victim, _ = answering_pids(server, start).most_common(1)[0]  # it has calls in flight
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        replacement = wait_for(lambda: worker_pids(server.process.pid) - workers, "a new worker")
        wait_for(lambda: any(line.get("pid") in replacement and "listening" in line["event"]
                             for line in log_lines(server, start)), "the new worker to serve")
        time.sleep(1.0)  # the load goes on a while with the new worker up
    finally:
        stop.set()
        for caller in callers:
            caller.join(timeout=2 * CALL_DEADLINE_S)

    assert [f for c in callers for f in c.failures] == []
    assert max(c.slowest_s for c in callers) < CALL_DEADLINE_S
    after_kill = [score for c in callers for when, score in c.replies if when > killed_at]
    assert len(after_kill) >= CALLERS and set(after_kill) == {"75.03"}
    (died,) = [line for line in log_lines(server, start) if line["event"] == "worker died; restarting it"]
    assert (died["worker_pid"], died["signal"]) == (victim, "SIGKILL")
    assert worker_pids(server.process.pid) == workers - {victim} | replacement

    start = len(server.log())
    evaluate_on_fresh_connections(server, request_2019)
    assert replacement <= set(answering_pids(server, start))


def test_sigterm_to_the_supervisor_lets_calls_in_flight_finish_then_exits_0(
        start_jixiao_server, request_2019) -> None:
    server = start_jixiao_server([sys.executable, str(SLOW_SERVER)], args=["--processes", "2"])
    wait_for(lambda: "all workers serving" in server.log(), "both workers to serve")
    workers = worker_pids(server.process.pid)
    with open_channel(server.address) as channel:
        call = evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate.future(request_2019, timeout=WAIT_S)
        wait_for(lambda: "slow evaluation started" in server.log(), "the call to start")

        exit_code = server.stop()

        assert call.result().score == "75.03"
    assert exit_code == 0, server.log()
    stopped = [line for line in log_lines(server) if line["event"] == "worker stopped"]
    assert sorted((line["worker_pid"], line["exit_code"]) for line in stopped) == sorted((pid, 0) for pid in workers)
    assert not [pid for pid in workers if alive(pid)]


def test_a_port_another_program_listens_on_is_refused(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "jixiao.server", "--port", str(port), "--processes", "2",
             "--registry", str(tmp_path / "registry.sqlite3"), "--packs", str(RULES)],
            capture_output=True, text=True, timeout=60,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}, "XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
