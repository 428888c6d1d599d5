"""Admin calls need a deploy token; evaluation is open unless configured otherwise; health
is always open; the servicer learns the caller's token name."""

from __future__ import annotations

from concurrent import futures
from typing import Iterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from jixiao.api.auth import AuthInterceptor, caller
from jixiao.api.tokens import TokenEntry, TokenTable, hash_token
from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc

TOKENS = TokenTable((
    TokenEntry("ops-alice", hash_token("deploy-secret"), frozenset({"deploy"})),
    TokenEntry("portal", hash_token("evaluate-secret"), frozenset({"evaluate"})),
))


class EchoAdmin(admin_pb2_grpc.PackAdminServiceServicer):
    def ListPackVersions(self, request, context):
        return admin_pb2.ListPackVersionsResponse(versions=[admin_pb2.PackVersion(publisher=caller())])


class EmptyEvaluation(evaluation_pb2_grpc.EvaluationServiceServicer):
    def ListPacks(self, request, context):
        return evaluation_pb2.ListPacksResponse()

    def EvaluateBatch(self, request_iterator, context):
        # The caller is read while the stream runs, after the handler returned its generator.
        for request in request_iterator:
            yield evaluation_pb2.BatchEvaluateResult(key=f"{request.key}:{caller()}")


def serve(tokens: TokenTable, require_token_for_evaluate: bool = False) -> tuple[grpc.Server, grpc.Channel]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                         interceptors=[AuthInterceptor(tokens, require_token_for_evaluate)])
    admin_pb2_grpc.add_PackAdminServiceServicer_to_server(EchoAdmin(), server)
    evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server(EmptyEvaluation(), server)
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, grpc.insecure_channel(f"127.0.0.1:{port}")


@pytest.fixture
def channel_for() -> Iterator:
    started = []

    def open_channel(tokens: TokenTable = TOKENS, require_token_for_evaluate: bool = False) -> grpc.Channel:
        server, channel = serve(tokens, require_token_for_evaluate)
        started.append((server, channel))
        return channel

    yield open_channel
    for server, channel in started:
        channel.close()
        server.stop(None)


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def list_versions(channel: grpc.Channel, metadata=None) -> admin_pb2.ListPackVersionsResponse:
    return admin_pb2_grpc.PackAdminServiceStub(channel).ListPackVersions(
        admin_pb2.ListPackVersionsRequest(pack_id="p"), metadata=metadata, timeout=5)


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_an_admin_call_with_a_deploy_token_runs_as_that_tokens_name(channel_for) -> None:
    reply = list_versions(channel_for(), bearer("deploy-secret"))
    assert reply.versions[0].publisher == "ops-alice"


def test_an_admin_call_without_a_token_is_unauthenticated(channel_for) -> None:
    error = refusal(lambda: list_versions(channel_for()))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in error.details()


def test_an_admin_call_with_an_unknown_token_is_unauthenticated(channel_for) -> None:
    error = refusal(lambda: list_versions(channel_for(), bearer("guess")))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


def test_an_admin_call_with_an_evaluate_only_token_is_permission_denied(channel_for) -> None:
    error = refusal(lambda: list_versions(channel_for(), bearer("evaluate-secret")))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "portal" in error.details() and "deploy" in error.details()


def test_without_any_token_configured_admin_calls_are_refused_saying_how_to_configure(channel_for) -> None:
    error = refusal(lambda: list_versions(channel_for(TokenTable()), bearer("deploy-secret")))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "--auth-config" in error.details() and "JIXIAO_TOKENS" in error.details()


def test_evaluation_and_health_are_open_by_default(channel_for) -> None:
    channel = channel_for()
    evaluation_pb2_grpc.EvaluationServiceStub(channel).ListPacks(evaluation_pb2.ListPacksRequest(), timeout=5)
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_evaluation_can_require_an_evaluate_or_deploy_token(channel_for) -> None:
    channel = channel_for(require_token_for_evaluate=True)
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)

    error = refusal(lambda: stub.ListPacks(evaluation_pb2.ListPacksRequest(), timeout=5))

    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    for token in ("evaluate-secret", "deploy-secret"):
        stub.ListPacks(evaluation_pb2.ListPacksRequest(), metadata=bearer(token), timeout=5)
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)


def test_a_streaming_call_runs_as_the_tokens_name_while_it_streams(channel_for) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel_for(require_token_for_evaluate=True))
    requests = [evaluation_pb2.BatchEvaluateRequest(key=str(i)) for i in range(3)]
    results = stub.EvaluateBatch(iter(requests), metadata=bearer("evaluate-secret"), timeout=5)
    assert [r.key for r in results] == ["0:portal", "1:portal", "2:portal"]
