"""A real jixiao-server process for end-to-end tests, shared by the whole session.

`jixiao_server` starts `python -m jixiao.server --port 0` on the repository's rules/,
waits until gRPC health says SERVING, and at the end sends SIGTERM and expects exit 0.
Use `jixiao_server.address` ("127.0.0.1:PORT") to reach it, or the `channel` fixture;
`start_jixiao_server` starts a server of a test's own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.core.cases import load_case

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
GOLDEN_2019 = RULES / "quality-district-funding" / "1.0.0" / "cases" / "2019.yaml"
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
LISTENING = re.compile(r"jixiao-server listening on (?P<address>[\w.:\[\]-]+:\d+)")


@dataclass
class RunningServer:
    """A server subprocess, where it listens, and the file its stdout and stderr go to."""

    process: subprocess.Popen
    address: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit code (killing the process if it does not stop in time)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_server(log_path: Path, command: list[str] | None = None) -> RunningServer:
    """Start a server (by default `python -m jixiao.server`) on a free port and wait until it serves."""
    command = command or [sys.executable, "-m", "jixiao.server"]
    arguments = [*command, "--port", "0", "--packs", str(RULES), "--log-format", "json"]
    log_file = log_path.open("wb")
    process = subprocess.Popen(arguments, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log_file.close()
    deadline = time.monotonic() + START_DEADLINE_S
    try:
        address = _wait_for_address(process, log_path, deadline)
        _wait_until_serving(process, address, log_path, deadline)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RunningServer(process, address, log_path)


def _wait_for_address(process: subprocess.Popen, log_path: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        match = LISTENING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match["address"]
        _fail_if_exited(process, log_path)
        time.sleep(0.05)
    pytest.fail(f"server did not say where it listens within {START_DEADLINE_S}s:\n{log_path.read_text()}")


def _wait_until_serving(process: subprocess.Popen, address: str, log_path: Path, deadline: float) -> None:
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            _fail_if_exited(process, log_path)
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    pytest.fail(f"server at {address} not SERVING within {START_DEADLINE_S}s:\n{log_path.read_text()}")


def _fail_if_exited(process: subprocess.Popen, log_path: Path) -> None:
    if process.poll() is not None:
        pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def jixiao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One jixiao-server for the session; it must exit 0 on SIGTERM at the end."""
    server = start_server(tmp_path_factory.mktemp("server") / "server.log")
    yield server
    assert server.stop() == 0, server.log()


@pytest.fixture
def start_jixiao_server(tmp_path: Path) -> Iterator[Callable[[list[str] | None], RunningServer]]:
    """Start a server of the test's own (e.g. another command); it is killed if still running."""
    started: list[RunningServer] = []

    def start(command: list[str] | None = None) -> RunningServer:
        server = start_server(tmp_path / f"server-{len(started)}.log", command)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def channel(jixiao_server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(jixiao_server.address) as channel:
        yield channel


@pytest.fixture(scope="session")
def golden_2019_facts() -> dict:
    """The 2019 report's facts, from the pack's golden case (decimals as strings)."""
    return load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts
