"""The CLI's request id: sent with every call of a command, named at the end of a server error
(the reply's, else the one sent), never after a failure no server saw or a local one."""

from __future__ import annotations

from typing import Iterator

import grpc
import pytest
from google.rpc import code_pb2

from jixiao.api.details import rich_status
from jixiao.observability.interceptor import ObservabilityInterceptor
from jixiao.v1 import evaluation_pb2, evaluation_pb2_grpc
from jixiao_cli import request_ids
from jixiao_cli.client import JixiaoClient, JixiaoError, error_from_status
from jixiao_cli.failures import describe_error

from aio_servers import served


class Seen(evaluation_pb2_grpc.EvaluationServiceServicer):
    """Answers ListPacks; refuses GetPack (NOT_FOUND); remembers the request ids it was sent."""

    def __init__(self):
        self.sent: list[str] = []

    def _note(self, context) -> None:
        self.sent += [value for key, value in context.invocation_metadata() if key == "x-request-id"]

    async def ListPacks(self, request, context):
        self._note(context)
        return evaluation_pb2.ListPacksResponse()

    async def GetPack(self, request, context):
        self._note(context)
        await context.abort_with_status(rich_status(code_pb2.NOT_FOUND, f"no pack '{request.pack_id}'"))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    async def build():
        server = grpc.aio.server(interceptors=[ObservabilityInterceptor()])
        evaluation_pb2_grpc.add_EvaluationServiceServicer_to_server(seen, server)
        return server, server.add_insecure_port("127.0.0.1:0")

    with served(build) as running:
        yield running.target, seen


def test_every_call_of_a_command_sends_its_request_id(server) -> None:
    target, seen = server
    seen.sent.clear()
    with JixiaoClient(target) as client:
        client.list_packs()
        client.list_packs()
    assert seen.sent == [request_ids.REQUEST_ID] * 2
    assert len(request_ids.REQUEST_ID) == 32 and int(request_ids.REQUEST_ID, 16) >= 0


def test_a_server_error_ends_with_the_request_id_of_its_reply(server) -> None:
    target, _ = server
    with JixiaoClient(target) as client, pytest.raises(JixiaoError) as refused:
        client.get_pack("no-such-pack")
    assert refused.value.request_id == request_ids.REQUEST_ID
    line, status = describe_error(refused.value)
    assert line == f"not found: no pack 'no-such-pack' (request id {request_ids.REQUEST_ID})" and status == 2


def test_a_reply_without_one_names_the_id_sent() -> None:
    class Failed(grpc.RpcError, grpc.Call):  # a call whose reply carried no metadata
        def trailing_metadata(self):
            return ()

    assert request_ids.request_id_of(Failed()) == request_ids.REQUEST_ID


def test_no_request_id_when_no_server_saw_the_call_or_the_failure_is_local() -> None:
    never_connected = JixiaoError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; …",
                                  request_id="abc")
    assert "request id" not in describe_error(never_connected)[0]
    local = error_from_status(rich_status(code_pb2.NOT_FOUND, "no pack 'x'"))
    assert describe_error(local)[0] == "not found: no pack 'x'"
    answered = JixiaoError(grpc.StatusCode.INTERNAL, "internal error; quote error id 1a2b", request_id="abc")
    assert describe_error(answered)[0] == \
        "server error (INTERNAL): internal error; quote error id 1a2b (request id abc)"
