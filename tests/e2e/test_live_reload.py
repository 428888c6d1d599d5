"""Activations reach a running server without a restart, and no call fails while they do.

One server for the module, seeded from rules/ with the bundled 1.0.0 and 1.1.0.
"""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from jixiao.registry.store import Registry
from jixiao.v1 import admin_pb2
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import PACK_ID, struct

pytestmark = pytest.mark.e2e

DEADLINE_S = 10
OLD, NEW = "1.0.0", "1.1.0"
CLIENTS = 5
SWITCHES = 100
LOAD_TEST_BUDGET_S = 20
PICKUP_LIMIT_S = 2.0


@pytest.fixture(scope="module")
def server(launch_server, auth_config):
    running = launch_server("reload", args=["--auth-config", str(auth_config.path)])
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def digests(admin, deploy) -> dict[str, str]:
    versions = admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy,
                                      timeout=DEADLINE_S).versions
    found = {v.version: v.digest for v in versions}
    assert {OLD, NEW} <= set(found), f"the bundled rules/ should hold {OLD} and {NEW}"
    return found


def activate(admin, deploy, version: str) -> admin_pb2.ActivationResponse:
    return admin.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version=version),
                                     metadata=deploy, timeout=DEADLINE_S)


class Caller(threading.Thread):
    """Calls Evaluate without a version, on a channel of its own, until stopped."""

    def __init__(self, server, request: pb.EvaluateRequest, stop: threading.Event):
        super().__init__(daemon=True)
        self._server, self._request, self._halt = server, request, stop
        self.replies: list[tuple[str, str, str]] = []  # version, digest, score
        self.failures: list[str] = []

    def run(self) -> None:
        with self._server.channel() as channel:
            stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
            while not self._halt.is_set():
                try:
                    reply = stub.Evaluate(self._request, timeout=DEADLINE_S)
                except grpc.RpcError as error:
                    self.failures.append(f"{error.code().name}: {error.details()}")
                else:
                    self.replies.append((reply.version, reply.digest, reply.score))


def test_100_activations_and_rollbacks_under_continuous_load_fail_no_call(
        server, admin, deploy, digests, golden_2019_facts) -> None:
    activate(admin, deploy, OLD)
    stop = threading.Event()
    callers = [Caller(server, pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts)), stop)
               for _ in range(CLIENTS)]
    for caller in callers:
        caller.start()
    deadline = time.monotonic() + LOAD_TEST_BUDGET_S
    try:
        for _ in range(SWITCHES // 2):
            assert activate(admin, deploy, NEW).changed
            back = admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id=PACK_ID), metadata=deploy,
                                      timeout=DEADLINE_S)
            assert (back.activation.from_version, back.activation.to_version) == (NEW, OLD)
            assert time.monotonic() < deadline, f"{SWITCHES} switches took over {LOAD_TEST_BUDGET_S} s"
    finally:
        stop.set()
        for caller in callers:
            caller.join(timeout=DEADLINE_S)

    failures = [failure for caller in callers for failure in caller.failures]
    replies = [reply for caller in callers for reply in caller.replies]
    assert failures == []
    assert len(replies) >= SWITCHES, "the load was not continuous"
    assert {(version, digest) for version, digest, _ in replies} == {(OLD, digests[OLD]), (NEW, digests[NEW])}
    scores = {version: {score for v, _, score in replies if v == version} for version in (OLD, NEW)}
    assert scores[OLD] == {"75.03"} and len(scores[NEW]) == 1


def test_an_activation_by_another_process_is_served_within_2_seconds(
        server, admin, deploy, digests, golden_2019_facts) -> None:
    activate(admin, deploy, OLD)
    request = pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts))
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        assert stub.Evaluate(request, timeout=DEADLINE_S).version == OLD
        other_process = Registry.open_file(server.registry)
        try:
            other_process.activate(PACK_ID, NEW, "ops-cli")
            changed_at = time.monotonic()
        finally:
            other_process.close()

        while (reply := stub.Evaluate(request, timeout=DEADLINE_S)).version != NEW:
            assert time.monotonic() - changed_at < PICKUP_LIMIT_S, "not picked up within 2 s"
            time.sleep(0.02)

    assert reply.digest == digests[NEW]
