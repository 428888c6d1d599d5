"""Load against a real `jixiao-server` subprocess: unary latency, streamed throughput, memory.

The clients run in this process on grpc.aio, one channel (one TCP connection) per
client, so that a server whose processes share the port with SO_REUSEPORT gets
connections spread over its processes. Requests are serialised once, before timing, and
replies are checked but parsed only as far as needed: the client's own cost is kept
small, because it shares the machine's cores with the server.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.v1 import evaluation_pb2 as pb
from jixiao_cli.client import facts_to_struct

SERVICE = "/jixiao.v1.EvaluationService"
SERVER_START_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 60.0
#: Separate channels must not share one connection: grpc shares subchannels between
#: channels with equal arguments unless each has its own pool.
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_help() -> str:
    return subprocess.run([_server_command(), "--help"], capture_output=True, text=True, check=True).stdout


def _server_command() -> str:
    candidate = Path(sys.executable).with_name("jixiao-server")
    return str(candidate) if candidate.exists() else "jixiao-server"


@dataclass
class Server:
    """A `jixiao-server` subprocess with its own registry, SERVING on `target`."""

    processes: int | None = None
    process: subprocess.Popen | None = None
    target: str = ""
    command: list[str] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory | None = None

    def start(self) -> "Server":
        self._tmp = tempfile.TemporaryDirectory(prefix="jixiao-bench-")
        port = free_port()
        self.target = f"127.0.0.1:{port}"
        self.command = [_server_command(), "--port", str(port),
                        "--registry", str(Path(self._tmp.name, "registry.sqlite3")),
                        "--log-level", "warning"]
        if self.processes:
            self.command += ["--processes", str(self.processes)]
        self._stderr = open(Path(self._tmp.name, "stderr.log"), "w+")
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                        start_new_session=True)
        give_up = time.monotonic() + SERVER_START_SECONDS
        with grpc.insecure_channel(self.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < give_up:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}: {self.stderr()}")
                try:
                    name = "jixiao.v1.EvaluationService"
                    reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return self
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not SERVING after {SERVER_START_SECONDS:.0f} s: {self.stderr()}")

    def stderr(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def pids(self) -> list[int]:
        """The server process and all its descendants."""
        assert self.process is not None
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def rss_mb(self) -> float:
        """Resident memory of the whole process tree (VmRSS summed), in MB."""
        total_kb = 0
        for pid in self.pids():
            try:
                for line in Path("/proc", str(pid), "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            except OSError:
                pass
        return total_kb / 1024

    def cpu_by_process(self) -> dict[int, float]:
        """User + system CPU seconds so far of each process in the tree."""
        out = {}
        for pid in self.pids():
            try:
                fields = Path("/proc", str(pid), "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process tree so far."""
        return sum(self.cpu_by_process().values())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        if self._tmp is not None:
            self._stderr.close()
            self._tmp.cleanup()
            self._tmp = None


# --- measurements ---------------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    calls: int
    elapsed: float
    latencies: list[float]  # seconds, may be empty for streams
    server_cpu: float  # CPU seconds the server tree used
    client_cpu: float  # CPU seconds this process used
    errors: int = 0
    per_process: list[float] = field(default_factory=list)  # CPU seconds of each busy server process

    def spread(self) -> str:
        """Cores each busy server process used: shows whether SO_REUSEPORT spread the connections."""
        return " + ".join(f"{cpu / self.elapsed:.2f}" for cpu in self.per_process)

    @property
    def rate(self) -> float:
        return self.calls / self.elapsed

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]

    def cores(self) -> str:
        """How busy the server and this client were, and the server's CPU per evaluation."""
        return (f"server {self.server_cpu / self.elapsed:.2f} cores, {self.server_cpu / self.calls * 1e3:.2f} ms "
                f"CPU per evaluation; client {self.client_cpu / self.elapsed:.2f} cores")


def evaluate_payloads(fact_sets: Sequence[dict], pack_id: str, version: str) -> list[bytes]:
    """Serialised EvaluateRequests, one per fact set."""
    return [pb.EvaluateRequest(pack_id=pack_id, version=version, facts=facts_to_struct(facts)).SerializeToString()
            for facts in fact_sets]


def check_reply(raw: bytes, expected_score: str | None = None) -> pb.Evaluation:
    reply = pb.Evaluation.FromString(raw)
    if not reply.score or not reply.indicators:
        raise AssertionError("Evaluate replied without a score")
    if expected_score is not None and reply.score != expected_score:
        raise AssertionError(f"Evaluate scored {reply.score}, expected {expected_score}")
    return reply


def _channels(target: str, count: int) -> list[grpc.aio.Channel]:
    return [grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS) for _ in range(count)]


async def _closed_loop(target: str, payloads: list[bytes], clients: int, seconds: float, warm_up: int
                       ) -> tuple[list[float], int, float]:
    channels = _channels(target, clients)
    try:
        calls = [channel.unary_unary(f"{SERVICE}/Evaluate") for channel in channels]
        for call in calls:  # connect every channel and warm the server up
            for i in range(warm_up):
                check_reply(await call(payloads[i % len(payloads)], timeout=CALL_TIMEOUT_SECONDS))
        deadline = time.perf_counter() + seconds
        per_client: list[list[float]] = [[] for _ in range(clients)]
        errors = [0]

        async def client(number: int) -> None:
            call, latencies, k = calls[number], per_client[number], number
            while (started := time.perf_counter()) < deadline:
                try:
                    raw = await call(payloads[k % len(payloads)], timeout=CALL_TIMEOUT_SECONDS)
                except grpc.aio.AioRpcError:  # e.g. UNAVAILABLE from a server worker that died
                    errors[0] += 1
                    k += clients
                    continue
                latencies.append(time.perf_counter() - started)
                if k < clients * 4:  # spot-check a few replies per client
                    check_reply(raw)
                k += clients

        began = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - began
        latencies = [x for client_latencies in per_client for x in client_latencies]
        return latencies, errors[0], elapsed
    finally:
        for channel in channels:
            await channel.close()


async def _open_loop(target: str, payloads: list[bytes], clients: int, rate: float, seconds: float
                     ) -> tuple[list[float], int, float]:
    """Each client sends at rate/clients per second on a fixed schedule, whatever the replies do."""
    channels = _channels(target, clients)
    try:
        calls = [channel.unary_unary(f"{SERVICE}/Evaluate") for channel in channels]
        for call in calls:
            check_reply(await call(payloads[0], timeout=CALL_TIMEOUT_SECONDS))
        latencies: list[float] = []
        interval = clients / rate
        began = time.perf_counter()
        stop = began + seconds

        errors = [0]

        async def one(call, payload: bytes, scheduled: float) -> None:
            try:
                await call(payload, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError:
                errors[0] += 1
                return
            latencies.append(time.perf_counter() - scheduled)  # from when it was due: no coordinated omission

        async def client(number: int) -> list[asyncio.Task]:
            tasks, k = [], number
            due = began + interval * number / clients
            while due < stop:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(one(calls[number], payloads[k % len(payloads)], due)))
                k += clients
                due += interval
            return tasks

        scheduled = await asyncio.gather(*(client(n) for n in range(clients)))
        await asyncio.gather(*(t for tasks in scheduled for t in tasks))
        return latencies, errors[0], time.perf_counter() - began
    finally:
        for channel in channels:
            await channel.close()


def _measured(server: Server, run: Callable[[], tuple[int, int, float, list[float]]]) -> Load:
    """Run `run` (→ calls, errors, elapsed, latencies) and account for the CPU it took."""
    before, own_before = server.cpu_by_process(), _own_cpu()
    calls, errors, elapsed, latencies = run()
    after = server.cpu_by_process()
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    busy = sorted((cpu for cpu in used.values() if cpu > 0.05 * elapsed), reverse=True)
    return Load(calls, elapsed, latencies, sum(used.values()), _own_cpu() - own_before, errors, busy)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def unary(server: Server, payloads: list[bytes], clients: int, seconds: float, warm_up: int = 5) -> Load:
    """`clients` callers, each calling Evaluate again as soon as its reply arrives."""
    def run():
        latencies, errors, elapsed = asyncio.run(_closed_loop(server.target, payloads, clients, seconds, warm_up))
        return len(latencies), errors, elapsed, latencies

    return _measured(server, run)


def paced(server: Server, payloads: list[bytes], clients: int, rate: float, seconds: float) -> Load:
    """`clients` callers sending `rate` calls per second in all, on a fixed schedule."""
    def run():
        latencies, errors, elapsed = asyncio.run(_open_loop(server.target, payloads, clients, rate, seconds))
        return len(latencies), errors, elapsed, latencies

    return _measured(server, run)


# --- EvaluateBatch ----------------------------------------------------------------------


def has_batch() -> bool:
    """Whether the generated stubs (and so, presumably, the server) have EvaluateBatch."""
    return "EvaluateBatch" in pb.DESCRIPTOR.services_by_name["EvaluationService"].methods_by_name


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def batch_item(key: str, payload: bytes) -> bytes:
    """A serialised BatchEvaluateRequest{key, request} around an already serialised EvaluateRequest."""
    key_bytes = key.encode()
    return b"\x0a" + _varint(len(key_bytes)) + key_bytes + b"\x12" + _varint(len(payload)) + payload


def _result_key(raw: bytes) -> tuple[str, bool]:
    """(key, whether it is an evaluation) read off a serialised BatchEvaluateResult's first fields."""
    position, key = 0, ""
    if raw[:1] == b"\x0a":
        length, shift, position = 0, 0, 1
        while True:
            byte = raw[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        key = raw[position:position + length].decode()
        position += length
    return key, raw[position:position + 1] == b"\x12"


class _Rows:
    """Row numbers handed out to whichever stream asks next: a faster server process takes more."""

    def __init__(self, total: int):
        self.total, self.next = total, 0

    def take(self) -> int | None:
        if self.next >= self.total:
            return None
        self.next += 1
        return self.next - 1


async def _streams(target: str, payloads: list[bytes], rows: int, streams: int,
                   sample: Callable[[], None] | None, sample_every: float) -> tuple[int, int, float]:
    channels = _channels(target, streams)
    source = _Rows(rows)
    try:
        for channel in channels:  # connect first: the timing is for scoring, not for handshakes
            check_reply(await channel.unary_unary(f"{SERVICE}/Evaluate")(payloads[0], timeout=CALL_TIMEOUT_SECONDS))

        async def stream(channel: grpc.aio.Channel) -> tuple[int, int]:
            sent: list[str] = []

            async def requests():
                while (row := source.take()) is not None:
                    key = str(row)
                    sent.append(key)
                    yield batch_item(key, payloads[row % len(payloads)])

            call = channel.stream_stream(f"{SERVICE}/EvaluateBatch")(requests(), timeout=24 * 3600)
            received = errors = 0
            try:
                async for raw in call:
                    key, ok = _result_key(raw)
                    if key != sent[received]:
                        raise AssertionError(f"EvaluateBatch answered {key!r} where {sent[received]!r} was due")
                    if not ok:
                        errors += 1
                    elif received % 1000 == 0:
                        result = pb.BatchEvaluateResult.FromString(raw)
                        check_reply(result.evaluation.SerializeToString())
                    received += 1
            except grpc.aio.AioRpcError as error:  # the whole stream failed (a server worker died?)
                print(f"an EvaluateBatch stream failed after {received:,} results: {error.code().name} "
                      f"{error.details()}", file=sys.stderr)
                return received - errors, errors + len(sent) - received
            if received != len(sent):
                raise AssertionError(f"EvaluateBatch answered {received} of {len(sent)} requests")
            return received - errors, errors

        async def sampler() -> None:
            while True:
                await asyncio.sleep(sample_every)
                sample()

        began = time.perf_counter()
        sampling = asyncio.ensure_future(sampler()) if sample else None
        try:
            counts = await asyncio.gather(*(stream(channel) for channel in channels))
        finally:
            if sampling:
                sampling.cancel()
        elapsed = time.perf_counter() - began
        return sum(c[0] for c in counts), sum(c[1] for c in counts), elapsed
    finally:
        for channel in channels:
            await channel.close()


def batch(server: Server, payloads: list[bytes], rows: int, streams: int,
          sample: Callable[[], None] | None = None, sample_every: float = 5.0) -> Load:
    """`rows` items through `streams` concurrent EvaluateBatch streams; `sample` is called now and then."""
    def run():
        calls, errors, elapsed = asyncio.run(_streams(server.target, payloads, rows, streams, sample, sample_every))
        return calls, errors, elapsed, []

    return _measured(server, run)
