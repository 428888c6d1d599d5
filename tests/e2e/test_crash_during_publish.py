"""A server killed with SIGKILL while publishing restarts on a registry of whole versions."""

from __future__ import annotations

import random
import threading
import time

import grpc
import pytest

from jixiao.v1 import admin_pb2, admin_pb2_grpc
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import PACK_ID, bearer, publish_request, struct

pytestmark = pytest.mark.e2e

DEADLINE_S = 30
ROUNDS = 2


class Publisher(threading.Thread):
    """Publishes new versions one after another until the server goes away."""

    def __init__(self, server, token: str, folders: list):
        super().__init__(daemon=True)
        self._server, self._token, self._folders = server, token, folders
        self.published: list[str] = []

    def run(self) -> None:
        with self._server.channel() as channel:
            admin = admin_pb2_grpc.PackAdminServiceStub(channel)
            for folder in self._folders:
                try:
                    reply = admin.PublishPackVersion(publish_request(folder), metadata=bearer(self._token),
                                                     timeout=DEADLINE_S)
                except grpc.RpcError:
                    return  # killed mid-call
                self.published.append(reply.version.version)


def test_a_server_killed_while_publishing_restarts_with_only_whole_versions(
        start_jixiao_server, auth_config, make_pack_version, registry_is_whole, tmp_path, golden_2019_facts) -> None:
    registry = tmp_path / "registry.sqlite3"
    options = {"registry": registry, "args": ["--auth-config", str(auth_config.path)]}
    acknowledged: list[str] = []
    for round_ in range(ROUNDS):
        server = start_jixiao_server(**options)
        folders = [make_pack_version(f"1.0.{10 * (round_ + 1) + n}") for n in range(8)]
        publisher = Publisher(server, auth_config.deploy_token, folders)
        publisher.start()
        time.sleep(random.uniform(0.3, 1.2))
        server.process.kill()
        server.process.wait()
        publisher.join(timeout=DEADLINE_S)
        acknowledged += publisher.published

    registry_is_whole(registry)
    server = start_jixiao_server(**options)
    with server.channel() as channel:
        admin = admin_pb2_grpc.PackAdminServiceStub(channel)
        evaluation = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        stored = [v.version for v in admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID),
                                                            metadata=bearer(auth_config.deploy_token),
                                                            timeout=DEADLINE_S).versions]
        assert set(acknowledged) <= set(stored)
        for version in [v for v in stored if v.startswith("1.0.") and v != "1.0.0"]:
            reply = evaluation.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=version,
                                                           facts=struct(golden_2019_facts)), timeout=DEADLINE_S)
            assert (reply.version, reply.score) == (version, "75.03")
    assert server.stop() == 0, server.log()
