"""The observability interceptor on a real grpc.aio server in this process: request ids in the
reply's metadata (errors and auth refusals included), decision ids beside them, latency and
evaluation metrics, and OpenTelemetry server spans (an in-memory exporter)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator

import grpc
import pytest
from google.protobuf import struct_pb2
from grpc_health.v1 import health
from grpc_status import rpc_status
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from jixiao.api.auth import AuthInterceptor
from jixiao.api.decisions import DecisionHub
from jixiao.api.tokens import TokenEntry, TokenTable, hash_token
from jixiao.core.pack.cases import load_case
from jixiao.observability import metrics
from jixiao.observability.decision_metrics import MetricsSink
from jixiao.observability.interceptor import ObservabilityInterceptor
from jixiao.observability.tracing import Tracing
from jixiao.packs import PackLibrary
from jixiao.server import build_server
from jixiao.v1 import evaluation_pb2 as pb, evaluation_pb2_grpc

from aio_servers import served

RULES = Path(__file__).resolve().parents[2] / "rules"
PACK_ID = "quality-district-funding"
GOLDEN_2019 = RULES / PACK_ID / "1.0.0" / "cases" / "2019.yaml"
TOKEN = "evaluate-secret"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
TRACE_ID, PARENT_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
def channel(spans) -> Iterator[grpc.Channel]:
    metrics.enable()
    library = PackLibrary.from_directory(RULES)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tokens = TokenTable((TokenEntry("portal", hash_token(TOKEN), frozenset({"evaluate"})),))

    async def build():
        return await build_server(
            library, 0, health_servicer=health.aio.HealthServicer(),
            interceptors=[ObservabilityInterceptor(Tracing(provider)), AuthInterceptor(tokens, True)],
            decisions=DecisionHub([MetricsSink()], records=True))

    try:
        with served(build) as server, grpc.insecure_channel(server.target) as opened:
            yield opened
    finally:
        library.close()


@pytest.fixture(scope="module")
def stub(channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(channel)


@pytest.fixture(scope="module")
def facts_2019() -> struct_pb2.Struct:
    facts = struct_pb2.Struct()
    facts.update(load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts)
    return facts


def request(facts: struct_pb2.Struct, pack_id: str = PACK_ID) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(pack_id=pack_id, version="1.0.0", facts=facts)


def sent(metadata, key: str) -> list[str]:
    return [value for name, value in metadata or () if name == key]


def sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def settled(read, expected, within_s: float = 5.0):
    """`read()` once it equals `expected` (a refused call's status goes before the server has
    counted it: abort sends it at once), else what it last gave."""
    deadline = time.monotonic() + within_s
    while (found := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_a_valid_request_id_is_echoed_in_the_trailers_beside_the_decision_id(stub, facts_2019):
    reply, call = stub.Evaluate.with_call(request(facts_2019), metadata=(*AUTH, ("x-request-id", "portal:job/7")),
                                          timeout=10)
    assert reply.grade == "中" and reply.decision_id
    # A unary answer sends no headers ahead of the reply (a client resends only a call that
    # received none): the id travels in the trailers, with the reply and its status.
    assert sent(call.initial_metadata(), "x-request-id") == []
    assert sent(call.trailing_metadata(), "x-request-id") == ["portal:job/7"]
    assert sent(call.trailing_metadata(), "x-decision-id") == [reply.decision_id]


def test_an_invalid_request_id_is_replaced_and_never_echoed(stub, facts_2019):
    _, call = stub.Evaluate.with_call(request(facts_2019), metadata=(*AUTH, ("x-request-id", "two words")),
                                      timeout=10)
    [generated] = sent(call.trailing_metadata(), "x-request-id")
    assert GENERATED.fullmatch(generated)
    _, call = stub.Evaluate.with_call(request(facts_2019), metadata=AUTH, timeout=10)
    assert GENERATED.fullmatch(sent(call.trailing_metadata(), "x-request-id")[0]) != generated


def test_an_error_reply_keeps_its_rich_details_and_carries_the_request_id(stub, facts_2019):
    error = refusal(lambda: stub.Evaluate(request(facts_2019, "no-such-pack"),
                                          metadata=(*AUTH, ("x-request-id", "r-404")), timeout=10))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert rpc_status.from_call(error).details  # the ResourceInfo is still there
    assert sent(error.initial_metadata(), "x-request-id") == ["r-404"]
    assert sent(error.trailing_metadata(), "x-request-id") == ["r-404"]


def test_an_auth_refusal_carries_the_request_id(stub, facts_2019):
    error = refusal(lambda: stub.Evaluate(request(facts_2019), metadata=(("x-request-id", "no-token"),),
                                          timeout=10))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert sent(error.initial_metadata(), "x-request-id") == ["no-token"]
    assert sent(error.trailing_metadata(), "x-request-id") == ["no-token"]


def test_an_undecodable_request_is_refused_with_the_request_id(channel):
    evaluate = channel.unary_unary(  # raw bytes: not an EvaluateRequest
        "/jixiao.v1.EvaluationService/Evaluate", request_serializer=lambda data: data,
        response_deserializer=lambda data: data)
    error = refusal(lambda: evaluate(b"\x0a\xff", metadata=(*AUTH, ("x-request-id", "garbled")), timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sent(error.trailing_metadata(), "x-request-id") == ["garbled"]


def test_a_batch_stream_sends_the_request_id_first_and_last(stub, facts_2019):
    items = [pb.BatchEvaluateRequest(key="ok", request=request(facts_2019)),
             pb.BatchEvaluateRequest(key="bad", request=request(facts_2019, "no-such-pack"))]
    stream = stub.EvaluateBatch(iter(items), metadata=(*AUTH, ("x-request-id", "batch-1")), timeout=10)
    assert sent(stream.initial_metadata(), "x-request-id") == ["batch-1"]
    results = {result.key: result for result in stream}
    assert results["ok"].evaluation.grade == "中" and results["bad"].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert sent(stream.trailing_metadata(), "x-request-id") == ["batch-1"]


def test_calls_are_timed_and_evaluations_counted_each_batch_item_one(stub, facts_2019):
    ok = sample("jixiao_rpc_duration_seconds_count", method="Evaluate", code="OK")
    missing = sample("jixiao_input_errors_total", method="Evaluate", code="NOT_FOUND")
    refused = sample("jixiao_rpc_duration_seconds_count", method="Evaluate", code="UNAUTHENTICATED")
    graded = dict(pack=PACK_ID, version="1.0.0", grade="中")
    single, batched = (sample("jixiao_evaluations_total", method=m, **graded) for m in ("Evaluate", "EvaluateBatch"))
    item_errors = sample("jixiao_input_errors_total", method="EvaluateBatch", code="NOT_FOUND")
    stub.Evaluate(request(facts_2019), metadata=AUTH, timeout=10)
    refusal(lambda: stub.Evaluate(request(facts_2019, "no-such-pack"), metadata=AUTH, timeout=10))
    refusal(lambda: stub.Evaluate(request(facts_2019), timeout=10))
    items = [pb.BatchEvaluateRequest(key=str(n), request=request(facts_2019)) for n in range(3)]
    items.append(pb.BatchEvaluateRequest(key="bad", request=request(facts_2019, "no-such-pack")))
    assert len(list(stub.EvaluateBatch(iter(items), metadata=AUTH, timeout=10))) == 4
    assert sample("jixiao_rpc_duration_seconds_count", method="Evaluate", code="OK") == ok + 1
    assert settled(lambda: sample("jixiao_input_errors_total", method="Evaluate", code="NOT_FOUND"),
                   missing + 1) == missing + 1
    assert settled(lambda: sample("jixiao_rpc_duration_seconds_count", method="Evaluate", code="UNAUTHENTICATED"),
                   refused + 1) == refused + 1
    assert sample("jixiao_evaluations_total", method="Evaluate", **graded) == single + 1
    assert sample("jixiao_evaluations_total", method="EvaluateBatch", **graded) == batched + 3
    assert sample("jixiao_input_errors_total", method="EvaluateBatch", code="NOT_FOUND") == item_errors + 1


def test_each_call_is_a_server_span_child_of_the_callers_traceparent(stub, facts_2019, spans):
    spans.clear()
    stub.Evaluate(request(facts_2019), metadata=(*AUTH, ("traceparent", TRACEPARENT), ("x-request-id", "traced")),
                  timeout=10)
    refusal(lambda: stub.Evaluate(request(facts_2019, "no-such-pack"), metadata=AUTH, timeout=10))
    assert settled(lambda: len(spans.get_finished_spans()), 2) == 2
    ok, failed = spans.get_finished_spans()
    assert ok.name == "jixiao.v1.EvaluationService/Evaluate" and ok.kind == SpanKind.SERVER
    assert ok.context.trace_id == int(TRACE_ID, 16) and ok.parent.span_id == int(PARENT_ID, 16)
    assert ok.attributes["jixiao.request_id"] == "traced" and ok.attributes["rpc.grpc.status_code"] == 0
    assert ok.status.status_code != StatusCode.ERROR
    assert failed.parent is None and failed.context.trace_id != ok.context.trace_id  # a trace of its own
    assert failed.status.status_code == StatusCode.ERROR and failed.attributes["rpc.grpc.status_code"] == 5
