"""RenderReport's limits, in process: the format named or refused, the render queue bounded,
the reply kept under its size limit, each refusal a status a client can act on; the
tokens Evaluate needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health

from jixiao.api import reports
from jixiao.api.auth import AuthInterceptor
from jixiao.api.decoding import add_service
from jixiao.api.errors import status_for
from jixiao.api.servicer import EvaluationServicer, evaluated, report_for
from jixiao.api.tokens import TokenEntry, TokenTable, hash_token
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.core.pack.cases import load_case
from jixiao.packs import PackLibrary
from jixiao.server import build_server
from jixiao.settings import ConnectionLimits
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from aio_servers import served
from status_details import details

RULES = Path(__file__).resolve().parents[2] / "rules"
PACK_ID = "quality-district-funding"
CASE_2019 = RULES / PACK_ID / "1.0.0" / "cases" / "2019.yaml"


@pytest.fixture(scope="module")
def library():
    packs = PackLibrary.from_directory(RULES)
    yield packs
    packs.close()


@pytest.fixture(scope="module")
def request_2019() -> pb.EvaluateRequest:
    facts = struct_pb2.Struct()
    facts.update(load_case(CASE_2019.read_text(encoding="utf-8"), str(CASE_2019)).facts)
    return pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=facts)


@pytest.mark.parametrize("value, said", [(pb.REPORT_FORMAT_UNSPECIFIED, "missing"), (42, "unknown value 42")])
def test_a_missing_or_unknown_format_names_the_field(value, said) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        reports.report_format(value)
    status = status_for(raised.value)
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details(status, error_details_pb2.BadRequest)
    (violation,) = bad_request.field_violations
    assert violation.field == "format" and violation.description.startswith(said)


def test_past_the_queue_a_report_is_refused(library, request_2019) -> None:
    renderer = reports.ReportRenderer(max_waiting=1)
    compiled, facts, evaluation = evaluated(request_2019, library.get)

    async def three_at_once():
        return await asyncio.gather(*(renderer.render(compiled, evaluation, facts, "markdown") for _ in range(3)),
                                    return_exceptions=True)

    try:
        first, second, third = asyncio.run(three_at_once())
    finally:
        renderer.close()
    assert first == second and first.content  # one rendering, one waiting
    assert isinstance(third, reports.RendersBusy)
    status = status_for(third)
    assert status.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    (quota,) = details(status, error_details_pb2.QuotaFailure)
    assert quota.violations[0].subject == "report renders per server process"
    assert renderer.in_hand == 0  # both renders counted out when they finished


def test_a_reply_past_the_size_limit_is_refused_saying_its_size(library, request_2019, monkeypatch) -> None:
    request = pb.RenderReportRequest(request=request_2019, format=pb.REPORT_FORMAT_HTML)
    size = report_for(request, library.get).ByteSize()
    monkeypatch.setattr(reports, "REPLY_MAX_BYTES", size - 1)
    with pytest.raises(reports.ReportTooLarge) as raised:
        report_for(request, library.get)
    status = status_for(raised.value)
    assert status.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"{size:,} bytes" in status.details and f"{size - 1:,}" in status.details


def test_a_report_needs_the_token_evaluate_needs(library, request_2019) -> None:
    """Behind `--require-token-for-evaluate`, RenderReport is refused without an evaluate
    (or deploy) token, as Evaluate is, and served with one."""
    tokens = TokenTable((TokenEntry("portal", hash_token("evaluate-secret"), frozenset({"evaluate"})),))

    async def build() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(interceptors=[AuthInterceptor(tokens, require_token_for_evaluate=True)])
        add_service(server, pb.DESCRIPTOR.services_by_name["EvaluationService"], EvaluationServicer(library))
        return server, server.add_insecure_port("127.0.0.1:0")

    request = pb.RenderReportRequest(request=request_2019, format=pb.REPORT_FORMAT_MARKDOWN)
    with served(build) as server, grpc.insecure_channel(server.target) as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        for call, argument in ((stub.RenderReport, request), (stub.Evaluate, request_2019)):
            with pytest.raises(grpc.RpcError) as refused:
                call(argument, timeout=30)
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        reply = stub.RenderReport(request, metadata=(("authorization", "Bearer evaluate-secret"),), timeout=30)
    assert reply.evaluation.score == "75.03" and reply.content


def test_the_servers_render_queue_follows_its_limit(library, request_2019) -> None:
    """A server built with --max-waiting-reports 0 renders one report at a time and refuses
    the ones that come meanwhile; the others are answered."""

    async def build() -> tuple[grpc.aio.Server, int]:
        return await build_server(library, 0, health_servicer=health.aio.HealthServicer(),
                                  limits=ConnectionLimits(max_waiting_reports=0))

    request = pb.RenderReportRequest(request=request_2019, format=pb.REPORT_FORMAT_DOCX)
    with served(build) as server, grpc.insecure_channel(server.target) as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        calls = [stub.RenderReport.future(request, timeout=60) for _ in range(4)]
        codes = [call.code() for call in calls]
    assert grpc.StatusCode.OK in codes and grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
