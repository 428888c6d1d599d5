"""Load against a real `jixiao-server` subprocess: unary latency, streamed throughput, memory.

The clients run in this process, one TCP connection per client or stream, so that a
server whose processes share the port with SO_REUSEPORT gets connections spread over
its processes. Unary calls go through grpc.aio; EvaluateBatch streams through a lean
client of this module built on the `h2` HTTP/2 library (see below: grpc.aio costs
100-250 µs of CPU per streamed result, the threaded grpc client more, this one 65-80 µs).
Requests are serialised once, before timing, and replies are checked but parsed only as
far as needed: the client's own cost is kept small, because it shares the machine's cores
with the server.
"""

from __future__ import annotations

import asyncio
import collections
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import grpc
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
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
    extra: Sequence[str] = ()  # more jixiao-server options
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
        self.command += list(self.extra)
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
    lateness: list[float] = field(default_factory=list)  # paced calls: how late the client sent each, seconds

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
    return _check_evaluation(pb.Evaluation.FromString(raw), expected_score)


def _check_evaluation(reply: pb.Evaluation, expected_score: str | None = None) -> pb.Evaluation:
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
                     ) -> tuple[list[float], int, float, list[float]]:
    """Each client sends at rate/clients per second on a fixed schedule, whatever the replies do.

    Returns the latencies (from when each call was due), errors, elapsed time, and how
    late each call left this process (its timers wake up to a millisecond late).
    """
    channels = _channels(target, clients)
    try:
        calls = [channel.unary_unary(f"{SERVICE}/Evaluate") for channel in channels]
        for call in calls:
            check_reply(await call(payloads[0], timeout=CALL_TIMEOUT_SECONDS))
        latencies: list[float] = []
        lateness: list[float] = []
        interval = clients / rate
        began = time.perf_counter()
        stop = began + seconds

        errors = [0]

        async def one(call, payload: bytes, scheduled: float) -> None:
            lateness.append(time.perf_counter() - scheduled)
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
        return latencies, errors[0], time.perf_counter() - began, lateness
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
    lateness: list[float] = []

    def run():
        latencies, errors, elapsed, late = asyncio.run(_open_loop(server.target, payloads, clients, rate, seconds))
        lateness.extend(late)
        return len(latencies), errors, elapsed, latencies

    load = _measured(server, run)
    load.lateness = lateness
    return load


@dataclass
class Probed:
    """Health checks and Evaluate calls timed while the server held (or did not hold) idle streams."""

    health: list[float]  # seconds
    evaluate: list[float]  # seconds
    errors: int
    held: int  # idle streams still open on the server at the end
    elapsed: float


def quantile(latencies: list[float], p: int) -> float:
    if len(latencies) < 2:
        return latencies[0] if latencies else float("nan")
    return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1]


async def _probe(target: str, payloads: list[bytes], idle: int, idle_channels: int, probes: int, rate: float,
                 seconds: float) -> Probed:
    """Open `idle` EvaluateBatch streams that send nothing (over `idle_channels` connections), then
    have `probes` clients, each on its own connection, alternate a health check and an Evaluate
    at `rate` calls per second each, timing every call."""
    holders = _channels(target, idle_channels)
    callers = _channels(target, probes)
    silent = asyncio.Event()  # never set: the idle streams' requests never come

    async def nothing():
        await silent.wait()
        yield b""  # pragma: no cover - never reached

    calls = []
    try:
        for number in range(idle):
            channel = holders[number % idle_channels]
            calls.append(channel.stream_stream(f"{SERVICE}/EvaluateBatch")(nothing(), timeout=3600))
        # A stream the server refuses (e.g. past --max-batch-streams) ends at once: `held` counts it out.
        await asyncio.wait_for(asyncio.gather(*(call.wait_for_connection() for call in calls),
                                              return_exceptions=True), 60)
        await asyncio.sleep(1.0)  # let the server settle with the streams open
        name = "jixiao.v1.EvaluationService"
        health_request = health_pb2.HealthCheckRequest(service=name).SerializeToString()
        health_latencies: list[float] = []
        evaluate_latencies: list[float] = []
        errors = [0]
        for channel in callers:  # connect and warm up
            check_reply(await channel.unary_unary(f"{SERVICE}/Evaluate")(payloads[0], timeout=CALL_TIMEOUT_SECONDS))
        began = time.perf_counter()
        stop = began + seconds

        async def client(number: int) -> None:
            channel = callers[number]
            health = channel.unary_unary("/grpc.health.v1.Health/Check")
            evaluate = channel.unary_unary(f"{SERVICE}/Evaluate")
            due, k = began + number / (probes * rate), number
            while due < stop:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = time.perf_counter()
                try:
                    if k % 2:
                        check_reply(await evaluate(payloads[k % len(payloads)], timeout=CALL_TIMEOUT_SECONDS))
                        evaluate_latencies.append(time.perf_counter() - started)
                    else:
                        reply = health_pb2.HealthCheckResponse.FromString(
                            await health(health_request, timeout=CALL_TIMEOUT_SECONDS))
                        if reply.status != health_pb2.HealthCheckResponse.SERVING:
                            raise AssertionError(f"health check answered {reply.status}")
                        health_latencies.append(time.perf_counter() - started)
                except grpc.aio.AioRpcError:
                    errors[0] += 1
                k += probes
                due += 1 / rate

        await asyncio.gather(*(client(n) for n in range(probes)))
        elapsed = time.perf_counter() - began
        held = sum(not call.done() for call in calls)
        return Probed(health_latencies, evaluate_latencies, errors[0], held, elapsed)
    finally:
        for call in calls:
            call.cancel()
        for channel in holders + callers:
            await channel.close()


def probe_with_idle_streams(server: Server, payloads: list[bytes], idle: int, seconds: float, idle_channels: int = 20,
                            probes: int = 8, rate: float = 20.0) -> Probed:
    """Health and Evaluate latency while `idle` silent EvaluateBatch streams are held open (0: none)."""
    return asyncio.run(_probe(server.target, payloads, idle, idle_channels, probes, rate, seconds))


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
                        _check_result(raw)
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
          sample: Callable[[], None] | None = None, sample_every: float = 5.0, client: str = "h2",
          error_codes: collections.Counter[int] | None = None, warm_up: bytes | None = None) -> Load:
    """`rows` items through `streams` concurrent EvaluateBatch streams; `sample` is called now and then.

    `client` "h2" streams through this module's lean client on the `h2` library (below);
    "aio" through grpc.aio, for comparison. `error_codes`, when given (h2 only), counts the
    error results by their google.rpc status code; `warm_up` (h2 only) is the request that
    connects each stream before the timing (default: the first payload), which must be scored.
    """
    def run():
        if client == "h2":
            calls, errors, elapsed = _h2_streams(server.target, payloads, rows, streams, sample, sample_every,
                                                 error_codes, warm_up)
        elif client == "aio":
            calls, errors, elapsed = asyncio.run(_streams(server.target, payloads, rows, streams, sample,
                                                          sample_every))
        else:
            raise ValueError(f"unknown client {client!r}: h2 or aio")
        return calls, errors, elapsed, []

    return _measured(server, run)


# --- EvaluateBatch over a lean HTTP/2 client (h2) -----------------------------------------
#
# Why: grpcio's Python layers cost a client 100-250 µs of CPU per streamed result (grpc.aio;
# its threaded client costs more): completion-queue wake-ups, task switches and a few
# syscalls per message, on the cores the server needs. A gRPC stream is one HTTP/2 stream
# of length-prefixed messages, so the bench drives it itself with the `h2` library, which
# does the HTTP/2 part (framing, HPACK, flow-control windows, SETTINGS and PING), over a
# plain non-blocking socket: one connection per stream (SO_REUSEPORT still spreads them),
# requests written many to a syscall within the server's flow-control windows, results read
# in large chunks, and a receive window and frame size large enough that the server never
# waits for this client. It costs 65-80 µs of CPU per result here (grpc.aio about 155),
# some 40 of them in h2's handling of the DATA frames (a third of that is h2 formatting each
# frame it receives for its trace log, logging on or off). The server does exactly the work
# it does for any gRPC client.
#
# What it checks: each result's key is the next one due (in order), its error flag is
# counted, every 1,000th result is parsed in full; the call must end with HTTP status 200
# and grpc-status 0 after answering every request. A stream that ends otherwise (a non-zero
# grpc-status, RST_STREAM, GOAWAY, a closed connection, silence) says so on stderr and
# counts the requests it left unanswered as errors, as a failed grpc call did. (h2 takes any
# GOAWAY, even a graceful one, as the end of the connection: the stream fails there.)

_RECEIVE_WINDOW = 1 << 30  # what the server may send before this client acknowledges it
_MAX_FRAME = 1 << 20  # the largest DATA frame the server may send (HTTP/2 allows up to 16 MiB - 1)
_READ_BYTES = 1 << 20  # one recv's worth
_MOST_IN_FLIGHT = 256  # requests a stream sends ahead of its results, at most
_SILENCE_SECONDS = 120.0  # a stream that hears nothing for this long has failed
_TICK_SECONDS = 0.01  # the client wakes up at most this often: results are read many to a syscall
_STATUS_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
#: Events h2 has already acted on (it keeps the windows and settings, answers SETTINGS and PING):
#: a WINDOW_UPDATE makes room that the next tick's `flush` uses.
_BOOKKEEPING = frozenset((h2.events.WindowUpdated, h2.events.SettingsAcknowledged, h2.events.RemoteSettingsChanged,
                          h2.events.PingReceived, h2.events.PingAckReceived))


class _H2Stream:
    """A connection to the server carrying one EvaluateBatch call at a time, driven by `_h2_streams`."""

    def __init__(self, target: str, number: int):
        host, port = target.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.number = number
        self.authority = target.encode()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.ENABLE_PUSH: 0,
                                   h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _RECEIVE_WINDOW,
                                   h2.settings.SettingCodes.MAX_FRAME_SIZE: _MAX_FRAME})
        self.conn.increment_flow_control_window(_RECEIVE_WINDOW - self.conn.inbound_flow_control_window)
        self.out = bytearray()  # bytes the socket has not taken yet
        self.pending = bytearray()  # gRPC messages not yet handed to h2 (flow control)
        self.messages = bytearray()  # the stream's DATA, not yet a whole message
        self.stream_id = 0
        self.sent: collections.deque[bytes] = collections.deque()  # keys of the requests awaiting results
        self.received = self.errors = self.unanswered = 0  # results; error results; requests never answered
        self.error_codes: collections.Counter[int] | None = None  # when set: error results by status code
        self.answered = 0  # results read in the last tick
        self.closed_sending = self.ended_sending = self.done = self.dead = False
        self.failure = ""
        self.http_status: bytes | None = None
        self.grpc_status: bytes | None = None
        self.grpc_message = b""
        self.heard = time.monotonic()

    def start(self, path: bytes) -> None:
        """Open the next stream (its headers): the requests sent from now on go on it."""
        if self.dead:
            raise RuntimeError(f"connection {self.number} is closed: {self.failure}")
        self.stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(self.stream_id, [
            (b":method", b"POST"), (b":scheme", b"http"), (b":path", path), (b":authority", self.authority),
            (b"content-type", b"application/grpc"), (b"te", b"trailers")])
        self.sent.clear()
        self.pending.clear()
        self.messages.clear()
        self.received = self.errors = self.unanswered = 0
        self.closed_sending = self.ended_sending = self.done = False
        self.failure = ""
        self.http_status = self.grpc_status = None
        self.grpc_message = b""

    def room(self, size: int) -> bool:
        """Whether a request of `size` bytes may be queued now: no more in flight than twice what
        the stream answered in the last tick (at least 16), so that the server never waits for
        requests while rows still go to whichever stream is answered fastest; and within the
        flow-control window, except for a request queued alone: `flush` sends it as the window opens."""
        wanted = min(max(16, 2 * self.answered + 8), _MOST_IN_FLIGHT)
        if len(self.sent) >= wanted:
            return False
        return not self.pending or len(self.pending) + size + 5 <= self.conn.local_flow_control_window(self.stream_id)

    def send(self, key: bytes, request: bytes) -> None:
        """Queue one BatchEvaluateRequest (already serialised, `key` its key) as a gRPC message."""
        self.sent.append(key)
        self.pending += b"\x00" + len(request).to_bytes(4, "big")  # gRPC: not compressed, length
        self.pending += request

    def close_sending(self) -> None:
        self.closed_sending = True

    def flush(self) -> None:
        """Hand h2 what the windows allow, as few DATA frames as may be, and write out what h2 has."""
        if self.dead:
            return
        conn = self.conn
        try:
            if not self.done:
                pending = self.pending
                if pending:
                    room = conn.local_flow_control_window(self.stream_id)
                    largest = conn.max_outbound_frame_size
                    while pending and room > 0:
                        size = min(len(pending), room, largest)
                        conn.send_data(self.stream_id, bytes(pending[:size]))
                        del pending[:size]
                        room -= size
                if self.closed_sending and not pending and not self.ended_sending:
                    conn.end_stream(self.stream_id)
                    self.ended_sending = True
            self.out += conn.data_to_send()
        except h2.exceptions.ProtocolError as error:
            self._lost(f"HTTP/2: {error!r}")
            return
        if self.out:
            try:
                written = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError as error:
                self._lost(f"connection error: {error}")
                return
            del self.out[:written]

    def fail(self, why: str) -> None:
        """The stream is over before its end: whatever it still awaited counts as errors."""
        if not self.done:
            self.failure = why
            self.unanswered += len(self.sent)
            self.sent.clear()
            self.pending.clear()
            self.messages.clear()
            self.done = True
            if not self.dead:  # let the server stop too, if the stream is still open on our side
                try:
                    self.conn.reset_stream(self.stream_id, h2.errors.ErrorCodes.CANCEL)
                except h2.exceptions.ProtocolError:
                    pass  # already closed

    def _lost(self, why: str) -> None:
        self.dead = True
        self.fail(why)

    def read(self, check: Callable[[bytes], None]) -> None:
        """Take what the socket has, act on h2's events, check every whole result."""
        try:
            chunk = self.sock.recv(_READ_BYTES)
        except BlockingIOError:
            return
        except OSError as error:
            self._lost(f"connection error: {error}")
            return
        if not chunk:
            self._lost("the server closed the connection")
            return
        self.heard = time.monotonic()
        conn, stream_id = self.conn, self.stream_id
        try:
            events = conn.receive_data(chunk)
        except h2.exceptions.ProtocolError as error:
            self._lost(f"HTTP/2: {error!r}")
            return
        received = 0  # flow-controlled bytes of this stream's DATA, acknowledged once below
        for event in events:
            kind = type(event)
            if kind is h2.events.DataReceived:
                if event.stream_id == stream_id:
                    received += event.flow_controlled_length
                    if not self.done:  # after a failure, whatever comes is dropped
                        self.messages += event.data
                else:  # an earlier stream's: only the connection's window needs it back
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif kind in _BOOKKEEPING:
                continue
            elif kind is h2.events.ConnectionTerminated:
                self._results(check)
                self._lost(f"GOAWAY, HTTP/2 error code {event.error_code!r}"
                           + (f" ({event.additional_data!r})" if event.additional_data else ""))
                return
            elif getattr(event, "stream_id", stream_id) != stream_id:
                continue  # the end of an earlier stream
            elif kind is h2.events.ResponseReceived or kind is h2.events.TrailersReceived:
                self._headers(event.headers)  # a Trailers-Only response has grpc-status in its headers
            elif kind is h2.events.StreamEnded:
                if not self.done:
                    self._results(check)
                    self._ended()
            elif kind is h2.events.StreamReset:
                self._results(check)
                self.fail(f"RST_STREAM, HTTP/2 error code {event.error_code!r}")
        if received and not self.dead:  # h2 sends WINDOW_UPDATE once half the window is used up
            conn.acknowledge_received_data(received, stream_id)
        self._results(check)

    def _headers(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Note the HTTP status, grpc-status and grpc-message of response headers or trailers."""
        for name, value in headers:
            if name == b":status":
                self.http_status = value
            elif name == b"grpc-status":
                self.grpc_status = value
            elif name == b"grpc-message":
                self.grpc_message = value

    def _ended(self) -> None:
        """The server ended the stream: it must have said 200, grpc-status 0, and answered everything."""
        if self.http_status != b"200":
            self.fail(f"HTTP status {(self.http_status or b'(none)').decode()}")
        elif self.grpc_status is None:
            self.fail("the stream ended without a grpc-status")
        elif self.grpc_status != b"0":
            code = int(self.grpc_status)
            message = urllib.parse.unquote(self.grpc_message.decode("ascii", "replace"))
            self.fail(f"grpc-status {code} ({_STATUS_NAMES.get(code, 'unknown')}): {message}"
                      + (f"; {len(self.sent):,} requests unanswered" if self.sent else ""))
        elif self.sent:
            self.fail(f"the call ended with {len(self.sent):,} requests unanswered")
        else:
            self.done = True

    def _results(self, check: Callable[[bytes], None]) -> None:
        """Each whole BatchEvaluateResult: its key must be the next one due; count the errors."""
        messages, sent = self.messages, self.sent
        position, end = 0, len(messages)
        while end - position >= 5:
            size = int.from_bytes(messages[position + 1:position + 5], "big")
            start = position + 5
            if end - start < size:
                break
            position = start + size
            due = sent.popleft() if sent else b"(none)"
            length = messages[start + 1] if size > 1 and messages[start] == 0x0A else 0
            if length < 0x80:  # key (field 1) first, then field 2 (an evaluation) or 3 (an error)
                after = start + 2 + length if length else start
                key, evaluation = messages[start + 2:after], messages[after:after + 1] == b"\x12"
            else:
                text, evaluation = _result_key(bytes(messages[start:position]))
                key = text.encode()
            if key != due:
                raise AssertionError(f"EvaluateBatch answered {key.decode()!r} where {due.decode()!r} was due")
            if not evaluation:
                self.errors += 1
                if self.error_codes is not None:
                    self.error_codes[pb.BatchEvaluateResult.FromString(bytes(messages[start:position])).error.code] += 1
            elif self.received % 1000 == 0:
                check(bytes(messages[start:position]))
            self.received += 1
        del messages[:position]


def _check_result(raw: bytes) -> None:
    _check_evaluation(pb.BatchEvaluateResult.FromString(raw).evaluation)


def _h2_streams(target: str, payloads: list[bytes], rows: int, streams: int,
                sample: Callable[[], None] | None, sample_every: float,
                error_codes: collections.Counter[int] | None = None, warm_up: bytes | None = None
                ) -> tuple[int, int, float]:
    path = f"{SERVICE}/EvaluateBatch".encode()
    fields = [b"\x12" + _varint(len(payload)) + payload for payload in payloads]  # BatchEvaluateRequest.request
    largest = max(map(len, fields)) + 32  # the longest request, with room for its key
    selector = selectors.DefaultSelector()
    connections: list[_H2Stream] = []
    try:
        for number in range(streams):
            connections.append(_H2Stream(target, number))
            selector.register(connections[-1].sock, selectors.EVENT_READ, connections[-1])

        warm_field = fields[0] if warm_up is None else b"\x12" + _varint(len(warm_up)) + warm_up

        def run(take: Callable[[_H2Stream], int | None], field: Callable[[int], bytes]) -> None:
            """Drive a new stream on every connection, each taking rows from `take`, until all are done."""
            for connection in connections:
                connection.start(path)
            live = list(connections)
            writing: set[_H2Stream] = set()
            next_sample = time.monotonic() + sample_every
            tick = 0.0
            while live:
                for connection in live:
                    while not connection.closed_sending and connection.room(largest):
                        row = take(connection)
                        if row is None:
                            connection.close_sending()
                            break
                        key = str(row).encode()
                        head = b"\x0a" + (bytes((len(key),)) if len(key) < 0x80 else _varint(len(key)))
                        connection.send(key, head + key + field(row))
                for connection in connections:
                    connection.flush()
                    if connection.dead:
                        if connection.sock.fileno() >= 0:  # closed by the server: stop watching it
                            selector.unregister(connection.sock)
                            connection.sock.close()
                    elif bool(connection.out) != (connection in writing):
                        (writing.add if connection.out else writing.discard)(connection)
                        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if connection.out else 0)
                        selector.modify(connection.sock, events, connection)
                # At most one round per tick: results pile up meanwhile and are read many to a syscall.
                pause = tick - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                for connection in live:
                    connection.answered = connection.received
                for key, mask in selector.select(timeout=1.0):
                    if mask & selectors.EVENT_READ:
                        key.data.read(_check_result)
                for connection in live:
                    connection.answered = connection.received - connection.answered
                now = time.monotonic()
                tick = now + _TICK_SECONDS
                for connection in live:
                    if not connection.done and now - connection.heard > _SILENCE_SECONDS:
                        connection.fail(f"no answer for {_SILENCE_SECONDS:.0f} s")
                    if connection.done and connection.failure:
                        print(f"an EvaluateBatch stream failed after {connection.received:,} results: "
                              f"{connection.failure}", file=sys.stderr)
                live = [connection for connection in live if not connection.done]
                if sample is not None and now >= next_sample:
                    sample()
                    next_sample = now + sample_every

        # Connect and warm up first, one row per connection checked in full: the timing is
        # for scoring, not for handshakes.
        run(lambda connection: None if connection.sent or connection.received else 0, lambda _row: warm_field)
        for connection in connections:
            if connection.received != 1 or connection.errors or connection.unanswered:
                raise RuntimeError(f"EvaluateBatch warm-up failed on connection {connection.number}: "
                                   f"{connection.failure or 'an error result'}")
        source = _Rows(rows)
        for connection in connections:
            connection.error_codes = error_codes
        began = time.perf_counter()
        run(lambda _connection: source.take(), lambda row: fields[row % len(fields)])
        elapsed = time.perf_counter() - began
        return (sum(c.received - c.errors for c in connections),
                sum(c.errors + c.unanswered for c in connections), elapsed)
    finally:
        selector.close()
        for connection in connections:
            connection.sock.close()
