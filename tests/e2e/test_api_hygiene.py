"""Through real servers: the CLI's dns:/// targets and round_robin over several servers,
reflection served as v1 beside v1alpha, and ListActivations a page at a time (the RPC,
and `jixiao pack history` following every page).

One server with tokens serves the module (a second one, without, joins for round_robin).
"""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from jixiao.registry.store import Registry
from jixiao.v1 import admin_pb2, evaluation_pb2, evaluation_pb2_grpc

from conftest import RunningServer
from test_cli_ops import run_cli

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
V1ALPHA_METHOD = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
#: Activations recorded in the registry, past the CLI's page of 100.
ACTIVATIONS = 230


@pytest.fixture(scope="module")
def server(launch_server, auth_config) -> RunningServer:
    return launch_server("hygiene", args=["--auth-config", str(auth_config.path)])


@pytest.fixture(scope="module")
def deploy_metadata(auth_config) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {auth_config.deploy_token}"),)


def _port(address: str) -> str:
    return address.rsplit(":", 1)[1]


# --- dns:/// and round_robin -------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_cli_calls_a_dns_target(server: RunningServer, host: str) -> None:
    result = run_cli("packs", "--server", f"dns:///{host}:{_port(server.address)}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert PACK_ID in result.stdout


def _calls_logged(server: RunningServer, method: str) -> int:
    return sum(1 for line in server.log().splitlines()
               if line.startswith("{") and json.loads(line).get("method") == method
               and json.loads(line).get("event") == "rpc")


def test_one_channel_spreads_its_calls_over_every_address_round_robin(server: RunningServer,
                                                                       jixiao_server: RunningServer) -> None:
    from jixiao_cli.channels import open_channel

    servers = (server, jixiao_server)
    before = [_calls_logged(s, "ListPacks") for s in servers]
    target = "ipv4:" + ",".join(f"127.0.0.1:{_port(s.address)}" for s in servers)  # one name, two addresses
    with open_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        for _ in range(20):
            stub.ListPacks(evaluation_pb2.ListPacksRequest(), timeout=10, wait_for_ready=True)
    # Both servers log their calls; a line is written as each call ends.
    after = [_calls_logged(s, "ListPacks") for s in servers]
    spread = [a - b for a, b in zip(after, before)]
    assert sum(spread) == 20 and min(spread) >= 5, spread


# --- reflection v1 -----------------------------------------------------------------


def _reflect(channel: grpc.Channel, method: str, request: reflection_pb2.ServerReflectionRequest):
    call = channel.stream_stream(method, request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    [reply] = list(call(iter([request]), timeout=10))
    return reply


@pytest.mark.parametrize("method", [V1_METHOD, V1ALPHA_METHOD])
def test_reflection_lists_the_services_and_gives_their_files_as_v1_and_v1alpha(server: RunningServer,
                                                                               method: str) -> None:
    with grpc.insecure_channel(server.address) as channel:
        listed = _reflect(channel, method, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in listed.list_services_response.service}
        assert {"jixiao.v1.EvaluationService", "jixiao.v1.PackAdminService", "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"} <= names
        found = _reflect(channel, method, reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="jixiao.v1.EvaluationService"))
        files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                 for raw in found.file_descriptor_response.file_descriptor_proto]
        evaluation = next(f for f in files if f.name == "jixiao/v1/evaluation.proto")
        assert "Evaluate" in {m.name for m in evaluation.service[0].method}
        # The v1 service can describe itself too (grpcurl describe).
        own = _reflect(channel, method, reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="grpc.reflection.v1.ServerReflection"))
        [v1_file] = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                     for raw in own.file_descriptor_response.file_descriptor_proto]
        assert (v1_file.name, v1_file.package) == ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1")


# --- ListActivations pages ---------------------------------------------------------


@pytest.fixture(scope="module")
def history(server: RunningServer) -> list[tuple[str, str]]:
    """ACTIVATIONS activations of the pack, written into the server's registry directly
    (as the CLI's --registry does); returns (from, to) of each, oldest first."""
    registry = Registry.open_file(server.registry)
    try:
        versions = [v.version for v in registry.versions(PACK_ID)]
        assert len(versions) >= 2, versions
        for index in range(ACTIVATIONS):
            registry.activate(PACK_ID, versions[index % 2], f"ops-{index}")
        return [(a.from_version or "", a.to_version) for a in registry.history(PACK_ID)]
    finally:
        registry.close()


def _admin(channel: grpc.Channel):
    from jixiao.v1 import admin_pb2_grpc
    return admin_pb2_grpc.PackAdminServiceStub(channel)


def test_list_activations_gives_every_activation_once_a_page_at_a_time(server, history, deploy_metadata) -> None:
    assert len(history) >= ACTIVATIONS
    with grpc.insecure_channel(server.address) as channel:
        admin = _admin(channel)
        first = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID), metadata=deploy_metadata,
                                      timeout=10)
        assert len(first.activations) == 100 and first.next_page_token  # page_size 0: 100
        seen, token, pages = [], "", 0
        while True:
            page = admin.ListActivations(admin_pb2.ListActivationsRequest(
                pack_id=PACK_ID, page_size=7, page_token=token), metadata=deploy_metadata, timeout=10)
            pages += 1
            assert len(page.activations) <= 7
            seen += [(a.from_version, a.to_version) for a in page.activations]
            token = page.next_page_token
            if not token:
                break
        assert seen == history
        assert pages == -(-len(history) // 7)
        big = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_size=5000),
                                    metadata=deploy_metadata, timeout=10)
        assert len(big.activations) == len(history) and not big.next_page_token  # capped at 1000


def _refused(admin, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        admin.ListActivations(request, metadata=metadata, timeout=10)
    return caught.value


def test_list_activations_refuses_a_token_of_another_pack_or_a_forged_one(server, history, deploy_metadata) -> None:
    with grpc.insecure_channel(server.address) as channel:
        admin = _admin(channel)
        token = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_size=1),
                                      metadata=deploy_metadata, timeout=10).next_page_token
        packs = evaluation_pb2_grpc.EvaluationServiceStub(channel).ListPacks(evaluation_pb2.ListPacksRequest(),
                                                                             timeout=10)
        other_pack = next(p.id for p in packs.packs if p.id != PACK_ID)
        for request, words in [
            (admin_pb2.ListActivationsRequest(pack_id=other_pack, page_token=token), "another pack"),
            (admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_token="not-a-token!"), "not one this call"),
            (admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_token=token[:-4] + "AAAA"), "not one this call"),
            (admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_token="x" * 5000), "not one this call"),
            (admin_pb2.ListActivationsRequest(pack_id=PACK_ID, page_size=-1), "page_size"),
        ]:
            error = _refused(admin, request, deploy_metadata)
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (request, error.details())
            assert words in error.details() and len(error.details()) < 300, error.details()


def test_jixiao_pack_history_follows_every_page(server, history, auth_config) -> None:
    result = run_cli("pack", "history", PACK_ID, "--server", server.address, "--format", "json",
                     JIXIAO_TOKEN=auth_config.deploy_token)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)["activations"]
    actors = [entry["actor"] for entry in listed]
    assert actors[-ACTIVATIONS:] == [f"ops-{index}" for index in range(ACTIVATIONS)]
    assert len(listed) == len(history)
