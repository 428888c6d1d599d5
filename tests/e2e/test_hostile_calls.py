"""A real server under callers who hold streams open, send bytes that do not decode, or
send identifiers that are too long, look alike or are unknown.

The server serves from one asyncio event loop: silent streams and half-open connections
hold no thread, so health checks and evaluations keep answering; stream limits answer
RESOURCE_EXHAUSTED naming the limit; a stream whose deadline passes stops being scored.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2, error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import details

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"
SILENT_STREAMS = 1_000
CHANNELS = 10  # 100 streams each: the default limit of streams per connection
ANSWER_WITHIN_S = 0.1  # what a health check or an Evaluate may take with the streams open
PROBES = 20
DEADLINE_S = 10
SLOW_SERVER = Path(__file__).with_name("slow_server.py")
EVALUATE = "/jixiao.v1.EvaluationService/Evaluate"
EVALUATE_BATCH = "/jixiao.v1.EvaluationService/EvaluateBatch"
ERROR_ID = re.compile(r"error id ([0-9a-f]{12})")


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message


def log_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def wait_for(condition, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


@pytest.fixture(scope="module")
def server(launch_server):
    running = launch_server("hostile", args=["--max-batch-streams", str(SILENT_STREAMS)])
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def request_2019(golden_2019_facts) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct(golden_2019_facts))


def own_connection(address: str) -> grpc.aio.Channel:
    """An aio channel with a connection of its own (channels alike would share one)."""
    return grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])


async def open_silent_streams(channels: list[grpc.aio.Channel], per_channel: int) -> list:
    """EvaluateBatch streams that send nothing, each accepted by the server (its headers came back)."""
    calls = [evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch()
             for channel in channels for _ in range(per_channel)]
    await asyncio.wait_for(asyncio.gather(*(call.initial_metadata() for call in calls)), 60)
    return calls


async def timed(call) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


# --- streams that cost no thread ------------------------------------------------------


def test_with_1000_silent_streams_open_health_and_evaluate_answer_within_100_ms(server, request_2019) -> None:
    async def attack() -> tuple[list[float], list[float], grpc.aio.AioRpcError]:
        channels = [own_connection(server.address) for _ in range(CHANNELS)]
        try:
            calls = await open_silent_streams(channels, SILENT_STREAMS // CHANNELS)
            async with own_connection(server.address) as probe:
                health = health_pb2_grpc.HealthStub(probe)
                stub = evaluation_pb2_grpc.EvaluationServiceStub(probe)
                await health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_S)  # connected
                await stub.Evaluate(request_2019, timeout=DEADLINE_S)  # 1.0.0 compiled on its first use
                checks, evaluations = [], []
                for _ in range(PROBES):
                    checks.append(await timed(health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_S)))
                    evaluations.append(await timed(stub.Evaluate(request_2019, timeout=DEADLINE_S)))
                with pytest.raises(grpc.aio.AioRpcError) as refused:  # sending nothing: no write races the refusal
                    await stub.EvaluateBatch(timeout=DEADLINE_S).read()
            for call in calls:
                call.cancel()
            return checks, evaluations, refused.value
        finally:
            for channel in channels:
                await channel.close()

    checks, evaluations, refused = asyncio.run(attack())

    assert max(checks) < ANSWER_WITHIN_S, checks
    assert max(evaluations) < ANSWER_WITHIN_S, evaluations
    assert refused.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"{SILENT_STREAMS} EvaluateBatch streams open" in refused.details()
    assert "--max-batch-streams" in refused.details()
    # The cancelled streams end, each logged once, and leave their places free again.
    wait_for(lambda: sum(1 for line in log_lines(server)
                         if line.get("method") == "EvaluateBatch" and line.get("items") == 0) >= SILENT_STREAMS,
             "the cancelled streams to end")
    with server.channel() as channel:
        results = evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch(
            iter([pb.BatchEvaluateRequest(key="after", request=request_2019)]), timeout=DEADLINE_S)
        assert [(r.key, r.evaluation.score) for r in results] == [("after", "75.03")]


def test_half_open_connections_leave_health_answering_within_100_ms(server) -> None:
    sockets = []
    try:
        host, port = server.address.rsplit(":", 1)
        for number in range(200):
            connection = socket.create_connection((host, int(port)), timeout=5)
            if number % 2:  # half of them start HTTP/2 and stop half-way through the preface
                connection.sendall(b"PRI * HTTP/2.0\r\n")
            sockets.append(connection)
        with server.channel() as channel:
            health = health_pb2_grpc.HealthStub(channel)
            health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_S)
            took = []
            for _ in range(PROBES):
                started = time.perf_counter()
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_S)
                took.append(time.perf_counter() - started)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        for connection in sockets:
            connection.close()
    assert max(took) < ANSWER_WITHIN_S, took


def test_streams_past_the_process_limit_are_resource_exhausted_and_past_the_connection_limit_wait(
        start_jixiao_server, request_2019) -> None:
    server = start_jixiao_server(args=["--max-batch-streams", "3", "--max-streams-per-connection", "2"])

    async def attack():
        first, second, third = (own_connection(server.address) for _ in range(3))
        try:
            calls = await open_silent_streams([first], 2)
            # A third call on a connection holding two waits for one of them to end.
            with pytest.raises(grpc.aio.AioRpcError) as queued:
                await health_pb2_grpc.HealthStub(first).Check(health_pb2.HealthCheckRequest(), timeout=0.5)
            calls += await open_silent_streams([second], 1)
            with pytest.raises(grpc.aio.AioRpcError) as refused:  # sending nothing: no write races the refusal
                await evaluation_pb2_grpc.EvaluationServiceStub(third).EvaluateBatch(timeout=DEADLINE_S).read()
            calls.pop().cancel()  # one place free again, once the server has seen the cancellation
            results = []
            for _ in range(100):
                try:
                    results = [r async for r in evaluation_pb2_grpc.EvaluationServiceStub(third).EvaluateBatch(
                        iter([pb.BatchEvaluateRequest(key="again", request=request_2019)]), timeout=DEADLINE_S)]
                    break
                except grpc.aio.AioRpcError as error:  # refused (or its write raced the refusal): not yet free
                    if error.code() not in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL):
                        raise
                    await asyncio.sleep(0.05)
            for call in calls:
                call.cancel()
            return queued.value, refused.value, results
        finally:
            for channel in (first, second, third):
                await channel.close()

    queued, refused, results = asyncio.run(attack())

    assert queued.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert refused.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "3 EvaluateBatch streams open" in refused.details()
    status = rpc_status.from_call(refused)
    (quota,) = [d for d in status.details if d.Is(error_details_pb2.QuotaFailure.DESCRIPTOR)]
    assert [(r.key, r.evaluation.score) for r in results] == [("again", "75.03")]
    assert any(line.get("event") == "rpc refused" and line.get("code") == "RESOURCE_EXHAUSTED"
               for line in log_lines(server))


def test_a_batch_whose_deadline_passes_stops_being_scored(start_jixiao_server, request_2019) -> None:
    delay_s, deadline_s = 0.05, 1.0
    server = start_jixiao_server([sys.executable, str(SLOW_SERVER), "--evaluation-delay", str(delay_s)])
    items = [pb.BatchEvaluateRequest(key=str(n), request=request_2019) for n in range(500)]  # 25 s of work

    with server.channel() as channel:
        results = evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch(iter(items), timeout=deadline_s)
        received = []
        with pytest.raises(grpc.RpcError) as ended:
            for result in results:
                received.append(result)
    ended_at = time.monotonic()

    assert ended.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    (stream,) = wait_for(lambda: [line for line in log_lines(server) if line.get("method") == "EvaluateBatch"],
                         "the stream's log line", timeout=5)
    assert time.monotonic() - ended_at < 3, "the server went on scoring after the deadline"
    assert stream["code"] in ("DEADLINE_EXCEEDED", "CANCELLED")
    started = server.log().count("slow evaluation started")
    time.sleep(1.0)
    assert server.log().count("slow evaluation started") == started  # nothing more is scored
    assert len(received) <= stream["items"] <= deadline_s / delay_s + 3


# --- requests that do not decode ------------------------------------------------------


def length_delimited(tag: int, data: bytes) -> bytes:
    """A protobuf field of wire type 2: its tag byte, the length as a varint, the data."""
    size, varint = len(data), bytearray()
    while size >= 0x80:
        varint.append(size & 0x7F | 0x80)
        size >>= 7
    varint.append(size)
    return bytes([tag]) + bytes(varint) + data


def nested_struct_bytes(depth: int) -> bytes:
    """An EvaluateRequest whose facts are a Struct `depth` levels deep, written by hand
    (protobuf refuses to encode one past its own nesting limit)."""
    string_value = length_delimited(0x1A, b"x")  # Value.string_value
    struct = length_delimited(0x0A, length_delimited(0x0A, b"a") + length_delimited(0x12, string_value))
    for _ in range(depth - 1):
        value = length_delimited(0x2A, struct)  # Value.struct_value
        struct = length_delimited(0x0A, length_delimited(0x0A, b"a") + length_delimited(0x12, value))
    return length_delimited(0x0A, PACK_ID.encode()) + length_delimited(0x1A, struct)


UNDECODABLE = {
    "invalid UTF-8 in the pack id": b"\x0a\x03\xff\xfe\xfd",
    "facts nested 50 deep": None,  # made by nested_struct_bytes
    "truncated": b"\x0a\x20quality",
}


@pytest.mark.parametrize("kind", list(UNDECODABLE))
def test_an_undecodable_request_is_invalid_argument_and_logged_with_its_error_id(server, kind) -> None:
    raw = UNDECODABLE[kind] or nested_struct_bytes(50)
    with server.channel() as channel:
        evaluate = channel.unary_unary(EVALUATE, request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as refused:
            evaluate(raw, timeout=DEADLINE_S)

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("request could not be decoded: ")
    (error_id,) = ERROR_ID.findall(refused.value.details())
    (logged,) = [line for line in log_lines(server) if line.get("error_id") == error_id]
    assert (logged["event"], logged["method"], logged["bytes"]) == ("undecodable request", "Evaluate", len(raw))


def test_a_batch_item_that_does_not_decode_fails_alone(server, request_2019) -> None:
    good = pb.BatchEvaluateRequest(key="good", request=request_2019).SerializeToString()
    bad = b"\x0a\x02\xc3\x28"  # key: invalid UTF-8
    with server.channel() as channel:
        stream = channel.stream_stream(EVALUATE_BATCH, request_serializer=None,
                                       response_deserializer=pb.BatchEvaluateResult.FromString)
        results = list(stream(iter([good, bad, good]), timeout=DEADLINE_S))

    assert [(r.key, r.WhichOneof("outcome")) for r in results] == [
        ("good", "evaluation"), ("", "error"), ("good", "evaluation")]
    assert results[1].error.code == code_pb2.INVALID_ARGUMENT
    (error_id,) = ERROR_ID.findall(results[1].error.message)
    assert any(line.get("error_id") == error_id and line["method"] == "EvaluateBatch" for line in log_lines(server))


# --- identifiers ------------------------------------------------------------------------


def test_a_1_mb_pack_id_is_invalid_argument_with_a_short_message_and_a_short_log_line(
        server, request_2019) -> None:
    huge = "q" * 1_000_000
    request = pb.EvaluateRequest(pack_id=huge, facts=request_2019.facts)
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Evaluate(request, timeout=DEADLINE_S)
        (result,) = stub.EvaluateBatch(iter([pb.BatchEvaluateRequest(key="huge", request=request)]),
                                       timeout=DEADLINE_S)

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "1000000 characters, more than 64" in refused.value.details()
    assert len(refused.value.details()) < 300
    (bad_request,) = details(refused.value, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == ["pack_id"]
    assert result.error.code == code_pb2.INVALID_ARGUMENT and len(result.error.message) < 300
    assert max(len(line) for line in server.log().splitlines()) < 2_000


@pytest.mark.parametrize("field, change, expected", [
    ("pack_id", {"pack_id": f"{PACK_ID}\n"}, "is not a pack id"),
    ("version", {"version": "1.0.0\n"}, "is not a semantic version"),
    ("language", {"language": 3}, "LANGUAGE_UNSPECIFIED (0), LANGUAGE_ZH (1), LANGUAGE_EN (2)"),
    ("language", {"language": -1}, "-1 is not a Language"),
])
def test_look_alike_ids_and_unknown_languages_are_invalid_argument_naming_the_field(
        server, request_2019, field, change, expected) -> None:
    request = pb.EvaluateRequest()
    request.CopyFrom(request_2019)
    for name, value in change.items():
        setattr(request, name, value)
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Evaluate(request, timeout=DEADLINE_S)
        if field != "language":
            with pytest.raises(grpc.RpcError) as refused_get:
                stub.GetPack(pb.GetPackRequest(pack_id=request.pack_id, version=request.version), timeout=DEADLINE_S)
            assert refused_get.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith(f"{field}: ") and expected in refused.value.details()
    (bad_request,) = details(refused.value, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == [field]


def test_a_token_config_with_a_bad_name_stops_the_server_at_start_naming_the_entry(tmp_path) -> None:
    digest = "0" * 64
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    done = subprocess.run(
        [sys.executable, "-m", "jixiao.server", "--port", "0", "--processes", "1",
         "--registry", str(tmp_path / "registry.sqlite3"),
         "--tokens", f"ops-alice:{digest}:deploy,ops\tbob:{digest}:deploy"],
        capture_output=True, text=True, timeout=60, env={**environment, "XDG_DATA_HOME": str(tmp_path)})

    assert done.returncode == 1
    assert "JIXIAO_TOKENS entry 2: bad token name: 'ops\\\\tbob' is not a name" in done.stderr, done.stderr


def test_a_client_that_stops_answering_pings_is_disconnected_and_its_stream_ends(start_jixiao_server) -> None:
    h2_connection = pytest.importorskip("h2.connection", reason="h2 is in the bench extra")
    server = start_jixiao_server(args=["--keepalive-time", "1", "--keepalive-timeout", "1"])
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        client = h2_connection.H2Connection()
        client.initiate_connection()
        client.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":path", EVALUATE_BATCH),
                                (":authority", server.address), ("content-type", "application/grpc"),
                                ("te", "trailers")])
        connection.sendall(client.data_to_send())
        started = time.monotonic()
        # The client hangs: it reads nothing more, so the server's keep-alive pings go unanswered.
        wait_for(lambda: any(line.get("method") == "EvaluateBatch" for line in log_lines(server)),
                 "the server to end the stream", timeout=20)
        ended_after = time.monotonic() - started
        connection.settimeout(10)
        while connection.recv(65536):  # what the server sent before closing the connection
            pass

    assert ended_after < 10  # a second of quiet, a second without the ping's answer, and some slack
    (stream,) = [line for line in log_lines(server) if line.get("method") == "EvaluateBatch"]
    assert stream["items"] == 0
    assert stream["code"] in ("CANCELLED", "OK")  # OK when the requests' end reached it before the cancellation


def test_a_stream_on_which_nothing_moves_is_ended_and_one_that_keeps_sending_is_not(
        start_jixiao_server, request_2019) -> None:
    server = start_jixiao_server(args=["--batch-idle-timeout", "1"])

    def slow_rows():
        for number in range(4):
            yield pb.BatchEvaluateRequest(key=str(number), request=request_2019)
            time.sleep(0.6)  # 2.4 s in all, each gap shorter than the timeout

    async def silent() -> tuple[grpc.aio.AioRpcError, float]:
        async with own_connection(server.address) as channel:
            (call,) = await open_silent_streams([channel], 1)
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await call.read()
            return ended.value, time.monotonic() - started

    with server.channel() as channel:
        results = list(evaluation_pb2_grpc.EvaluationServiceStub(channel).EvaluateBatch(
            slow_rows(), timeout=DEADLINE_S))
    ended, after = asyncio.run(silent())

    assert [(r.key, r.evaluation.score) for r in results] == [(str(n), "75.03") for n in range(4)]
    assert ended.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "--batch-idle-timeout" in ended.details() and "for 1 s" in ended.details()
    assert after < 5
    def stream_codes() -> list[str]:
        return [line["code"] for line in log_lines(server) if line.get("method") == "EvaluateBatch"]

    wait_for(lambda: len(stream_codes()) == 2, "the ended stream's log line", timeout=5)
    assert stream_codes() == ["OK", "DEADLINE_EXCEEDED"]
