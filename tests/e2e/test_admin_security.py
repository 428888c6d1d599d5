"""A locked-down server: TLS only, signed packs only, tokens for evaluation too.

Its pack folder holds 1.0.0 signed by the trusted key, so its registry starts from a
signed version. Each kind of signature refusal has its own ErrorInfo reason and message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.packs import read_bundle
from jixiao.registry.signing import (
    SIGNATURE_FILE,
    generate_key_pair,
    key_id,
    load_private_key,
    load_public_key,
    sign_bundle,
)
from jixiao.v1 import admin_pb2, admin_pb2_grpc
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import PACK_ID, bearer, error_reason, publish_request, struct

pytestmark = pytest.mark.e2e

DEADLINE_S = 30
REPO = Path(__file__).resolve().parents[2]


def signature_for(folder: Path, version: str, private_pem: bytes) -> str:
    return json.dumps(sign_bundle(read_bundle(folder), PACK_ID, version, load_private_key(private_pem)))


@pytest.fixture(scope="module")
def trusted_key(tmp_path_factory) -> tuple[bytes, Path]:
    """(private key PEM, public key file) of the key the server trusts."""
    private_pem, public_pem = generate_key_pair()
    public_file = tmp_path_factory.mktemp("keys") / "trusted.pub.pem"
    public_file.write_bytes(public_pem)
    return private_pem, public_file


@pytest.fixture(scope="module")
def signed_packs(make_pack_version, trusted_key) -> Path:
    """A pack folder holding 1.0.0 with its signature.json."""
    folder = make_pack_version("1.0.0")
    (folder / SIGNATURE_FILE).write_text(signature_for(folder, "1.0.0", trusted_key[0]), encoding="utf-8")
    return folder.parents[1]


@pytest.fixture(scope="module")
def server(launch_server, auth_config, tls_certificate, trusted_key, signed_packs):
    running = launch_server("strict", packs=signed_packs, tls=tls_certificate, args=[
        "--auth-config", str(auth_config.path), "--require-token-for-evaluate",
        "--require-signatures", "--trusted-key", str(trusted_key[1])])
    yield running
    assert running.stop() == 0, running.log()


def refused_publish(admin, deploy, folder: Path, signature: str = "") -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        admin.PublishPackVersion(publish_request(folder, signature), metadata=deploy, timeout=DEADLINE_S)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION, refused.value.details()
    return refused.value


# --- TLS ------------------------------------------------------------------------------


def test_the_port_speaks_tls_only(server) -> None:
    check = health_pb2.HealthCheckRequest()
    with grpc.insecure_channel(server.address) as plaintext:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(plaintext).Check(check, timeout=5)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    with server.channel() as tls:
        assert health_pb2_grpc.HealthStub(tls).Check(check, timeout=5).status == health_pb2.HealthCheckResponse.SERVING


def test_the_container_health_check_speaks_tls_to_a_tls_server(server, tls_certificate) -> None:
    port = server.address.rsplit(":", 1)[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    check = [sys.executable, "-m", "jixiao.healthcheck"]

    with_tls = subprocess.run(check, env={**environment, "JIXIAO_PORT": port,
                                          "JIXIAO_TLS_CERT": str(tls_certificate.cert)}, timeout=30)
    plaintext = subprocess.run(check, env={**environment, "JIXIAO_PORT": port}, timeout=30)

    assert (with_tls.returncode, plaintext.returncode) == (0, 1)


# --- tokens for evaluation --------------------------------------------------------------


def test_evaluation_without_a_token_is_unauthenticated_when_tokens_are_required(server_channel, golden_2019_facts) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(server_channel)
    request = pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts))

    with pytest.raises(grpc.RpcError) as refused:
        stub.Evaluate(request, timeout=DEADLINE_S)

    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_evaluation_with_an_evaluate_token_is_served(server_channel, auth_config, golden_2019_facts) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(server_channel)
    request = pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts))

    reply = stub.Evaluate(request, metadata=bearer(auth_config.evaluate_token), timeout=DEADLINE_S)

    assert (reply.version, reply.score) == ("1.0.0", "75.03")


def test_a_batch_stream_needs_the_same_token_as_evaluate(server_channel, auth_config, golden_2019_facts) -> None:
    stub = evaluation_pb2_grpc.EvaluationServiceStub(server_channel)
    item = pb.BatchEvaluateRequest(key="a", request=pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts)))

    with pytest.raises(grpc.RpcError) as refused:
        list(stub.EvaluateBatch(iter([item]), timeout=DEADLINE_S))
    (result,) = stub.EvaluateBatch(iter([item]), metadata=bearer(auth_config.evaluate_token), timeout=DEADLINE_S)

    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert (result.key, result.evaluation.score) == ("a", "75.03")


# --- signatures -------------------------------------------------------------------------


def test_a_pack_signed_by_the_trusted_key_is_published_naming_the_key(admin, deploy, make_pack_version,
                                                                      trusted_key) -> None:
    folder = make_pack_version("1.0.1")
    reply = admin.PublishPackVersion(publish_request(folder, signature_for(folder, "1.0.1", trusted_key[0])),
                                     metadata=deploy, timeout=DEADLINE_S)
    assert reply.created
    assert reply.version.signed_by == key_id(load_public_key(trusted_key[1].read_bytes()))


def test_each_kind_of_bad_signature_is_refused_with_its_own_reason_and_message(
        admin, server_channel, deploy, auth_config, make_pack_version, trusted_key, golden_2019_facts) -> None:
    unsigned = make_pack_version("1.0.3")
    stranger = make_pack_version("1.0.4")
    tampered = make_pack_version("1.0.5")
    moved = make_pack_version("1.0.6")
    stranger_signature = signature_for(stranger, "1.0.4", generate_key_pair()[0])
    tampered_signature = signature_for(tampered, "1.0.5", trusted_key[0])
    case = tampered / "cases" / "2019.yaml"
    case.write_text(case.read_text(encoding="utf-8") + "# edited after signing\n", encoding="utf-8")
    moved_signature = signature_for(make_pack_version("1.0.1"), "1.0.1", trusted_key[0])

    refusals = {
        "unsigned": refused_publish(admin, deploy, unsigned),
        "stranger": refused_publish(admin, deploy, stranger, stranger_signature),
        "tampered": refused_publish(admin, deploy, tampered, tampered_signature),
        "moved": refused_publish(admin, deploy, moved, moved_signature),
    }

    assert {kind: error_reason(error) for kind, error in refusals.items()} == {
        "unsigned": "PACK_UNSIGNED",
        "stranger": "SIGNING_KEY_UNTRUSTED",
        "tampered": "PACK_CHANGED_AFTER_SIGNING",
        "moved": "SIGNATURE_INVALID",
    }
    messages = [error.details() for error in refusals.values()]
    assert len(set(messages)) == len(messages)
    assert "not signed" in refusals["unsigned"].details()
    assert "does not trust" in refusals["stranger"].details()
    assert "changed after signing" in refusals["tampered"].details()
    assert "made for quality-district-funding@1.0.1" in refusals["moved"].details()
    stub = evaluation_pb2_grpc.EvaluationServiceStub(server_channel)
    still = stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts)),
                          metadata=bearer(auth_config.evaluate_token), timeout=DEADLINE_S)
    assert (still.version, still.score) == ("1.0.0", "75.03")


def test_a_server_requiring_signatures_will_not_start_on_unsigned_bundled_packs(tmp_path, trusted_key) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    done = subprocess.run(
        [sys.executable, "-m", "jixiao.server", "--port", "0", "--registry", str(tmp_path / "registry.sqlite3"),
         "--packs", str(REPO / "rules"), "--require-signatures", "--trusted-key", str(trusted_key[1])],
        capture_output=True, text=True, timeout=60, env={**environment, "XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "not signed" in done.stderr and "jixiao pack sign" in done.stderr


# --- a server without tokens --------------------------------------------------------------


def test_a_server_without_tokens_refuses_admin_calls_saying_how_to_configure_them(jixiao_server) -> None:
    with jixiao_server.channel() as channel:
        with pytest.raises(grpc.RpcError) as refused:
            admin_pb2_grpc.PackAdminServiceStub(channel).RollbackPack(
                admin_pb2.RollbackPackRequest(pack_id=PACK_ID), timeout=DEADLINE_S)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "--auth-config" in refused.value.details()



# --- signatures re-verified when a version is served ----------------------------------------


def test_a_version_written_unsigned_into_the_registry_is_not_served_also_after_a_restart(
        start_jixiao_server, auth_config, trusted_key, signed_packs, make_pack_version, golden_2019_facts,
        tmp_path) -> None:
    registry = tmp_path / "registry.sqlite3"
    options = {"registry": registry, "packs": signed_packs, "args": [
        "--auth-config", str(auth_config.path), "--require-signatures", "--trusted-key", str(trusted_key[1])]}
    first = start_jixiao_server(**options)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    written = subprocess.run([sys.executable, "-m", "jixiao_cli", "pack", "publish", str(make_pack_version("1.0.9")),
                              "--registry", str(registry), "--as", "ops-cli"],
                             capture_output=True, text=True, env=environment, timeout=120)
    assert written.returncode == 0, written.stdout + written.stderr  # the file itself requires nothing

    for server in (first, None):
        if server is None:
            assert first.stop() == 0, first.log()
            server = start_jixiao_server(**options)
        with server.channel() as channel:
            stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
            request = pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.9", facts=struct(golden_2019_facts))
            deadline = time.monotonic() + 5
            while True:  # the first server's watcher notices the new version within its poll interval
                with pytest.raises(grpc.RpcError) as refused:
                    stub.Evaluate(request, timeout=DEADLINE_S)
                if "does not serve it" in refused.value.details() or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert refused.value.code() is grpc.StatusCode.NOT_FOUND
            assert "1.0.9 is published but this server does not serve it" in refused.value.details()
            assert "not signed" in refused.value.details()
            served = stub.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(golden_2019_facts)),
                                   timeout=DEADLINE_S)
            assert (served.version, served.score) == ("1.0.0", "75.03")
        assert "published version not served" in server.log() and '"version": "1.0.9"' in server.log()
    assert server.stop() == 0, server.log()
