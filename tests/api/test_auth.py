"""Admin changes need a deploy token; admin reads and evaluation are open unless configured
otherwise; health is always open; the servicer learns the caller's token name."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Iterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from jixiao.api.auth import AuthInterceptor, caller
from jixiao.api.tokens import TokenEntry, TokenTable, hash_token
from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc

from aio_servers import served

TOKENS = TokenTable((
    TokenEntry("ops-alice", hash_token("deploy-secret"), frozenset({"deploy"})),
    TokenEntry("portal", hash_token("evaluate-secret"), frozenset({"evaluate"})),
))


class EchoAdmin(admin_pb2_grpc.PackAdminServiceServicer):
    async def ListPackVersions(self, request, context):
        return admin_pb2.ListPackVersionsResponse(versions=[admin_pb2.PackVersion(publisher=caller())])

    async def ActivatePackVersion(self, request, context):
        return admin_pb2.ActivationResponse(activation=admin_pb2.Activation(actor=caller()))


class EmptyEvaluation(evaluation_pb2_grpc.EvaluationServiceServicer):
    async def ListPacks(self, request, context):
        return evaluation_pb2.ListPacksResponse()

    async def EvaluateBatch(self, request_iterator, context):
        # The caller is read while the stream runs, after the handler started.
        async for request in request_iterator:
            yield evaluation_pb2.BatchEvaluateResult(key=f"{request.key}:{caller()}")


def server_builder(tokens: TokenTable, require_token_for_evaluate: bool = False):
    async def build() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(interceptors=[AuthInterceptor(tokens, require_token_for_evaluate)])
        admin_pb2_grpc.add_PackAdminServiceServicer_to_server(EchoAdmin(), server)
        evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server(EmptyEvaluation(), server)
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        return server, server.add_insecure_port("127.0.0.1:0")

    return build


@pytest.fixture
def channel_for() -> Iterator:
    with ExitStack() as stack:
        def open_channel(tokens: TokenTable = TOKENS, require_token_for_evaluate: bool = False) -> grpc.Channel:
            server = stack.enter_context(served(server_builder(tokens, require_token_for_evaluate)))
            return stack.enter_context(grpc.insecure_channel(server.target))

        yield open_channel


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def list_versions(channel: grpc.Channel, metadata=None) -> admin_pb2.ListPackVersionsResponse:
    return admin_pb2_grpc.PackAdminServiceStub(channel).ListPackVersions(
        admin_pb2.ListPackVersionsRequest(pack_id="p"), metadata=metadata, timeout=5)


def activate(channel: grpc.Channel, metadata=None) -> admin_pb2.ActivationResponse:
    return admin_pb2_grpc.PackAdminServiceStub(channel).ActivatePackVersion(
        admin_pb2.ActivatePackVersionRequest(pack_id="p", version="1.0.0"), metadata=metadata, timeout=5)


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_an_admin_call_with_a_deploy_token_runs_as_that_tokens_name(channel_for) -> None:
    reply = activate(channel_for(), bearer("deploy-secret"))
    assert reply.activation.actor == "ops-alice"


def test_an_admin_call_without_a_token_is_unauthenticated(channel_for) -> None:
    error = refusal(lambda: activate(channel_for()))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in error.details()


def test_an_admin_call_with_an_unknown_token_is_unauthenticated(channel_for) -> None:
    error = refusal(lambda: activate(channel_for(), bearer("guess")))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


def test_an_admin_call_with_an_evaluate_only_token_is_permission_denied(channel_for) -> None:
    error = refusal(lambda: activate(channel_for(), bearer("evaluate-secret")))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "portal" in error.details() and "deploy" in error.details()


def test_without_any_token_configured_admin_calls_are_refused_saying_how_to_configure(channel_for) -> None:
    error = refusal(lambda: activate(channel_for(TokenTable()), bearer("deploy-secret")))
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


def test_admin_reads_need_what_evaluation_needs(channel_for) -> None:
    """Listing versions changes nothing: open when evaluation is, else an evaluate or deploy token."""
    assert list_versions(channel_for()).versions[0].publisher == "anonymous"
    assert list_versions(channel_for(TokenTable())).versions  # no tokens configured at all

    guarded = channel_for(require_token_for_evaluate=True)
    assert refusal(lambda: list_versions(guarded)).code() is grpc.StatusCode.UNAUTHENTICATED
    assert list_versions(guarded, bearer("evaluate-secret")).versions[0].publisher == "portal"
    assert list_versions(guarded, bearer("deploy-secret")).versions[0].publisher == "ops-alice"


def test_a_token_sent_to_an_open_method_still_names_the_caller(channel_for) -> None:
    channel = channel_for()
    assert list_versions(channel, bearer("deploy-secret")).versions[0].publisher == "ops-alice"
    assert list_versions(channel, bearer("no-such-token")).versions[0].publisher == "anonymous"
