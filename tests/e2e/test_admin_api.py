"""Ops ship pack versions to a running server through jixiao.v1.PackAdminService.

One server for the module, with a registry of its own seeded from rules/ and a token
config (ops-alice may deploy, portal may only evaluate). Each test activates what it
needs instead of relying on the order the tests run in.
"""

from __future__ import annotations

import re

import grpc
import pytest
from google.rpc import error_details_pb2

from jixiao.packs import read_bundle
from jixiao.v1 import admin_pb2
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import PACK_ID, bearer, details, error_reason, publish_request, struct

pytestmark = pytest.mark.e2e

DEADLINE_S = 30
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(scope="module")
def server(launch_server, auth_config):
    running = launch_server("admin", args=["--auth-config", str(auth_config.path)])
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def evaluation(server_channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(server_channel)


@pytest.fixture(scope="module")
def folder_1_0_7(make_pack_version):
    return make_pack_version("1.0.7")


@pytest.fixture(scope="module")
def published_1_0_7(admin, deploy, folder_1_0_7) -> admin_pb2.PublishPackVersionResponse:
    """1.0.0's rules published as 1.0.7 by ops-alice: the reply to the first publish."""
    return admin.PublishPackVersion(publish_request(folder_1_0_7), metadata=deploy, timeout=DEADLINE_S)


def activate(admin, deploy, version: str) -> admin_pb2.ActivationResponse:
    return admin.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version=version),
                                     metadata=deploy, timeout=DEADLINE_S)


def evaluate(evaluation, facts: dict, version: str = "") -> pb.Evaluation:
    return evaluation.Evaluate(pb.EvaluateRequest(pack_id=PACK_ID, version=version, facts=struct(facts)),
                               timeout=DEADLINE_S)


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


# --- publish ------------------------------------------------------------------------


def test_a_new_version_is_published_with_its_digest_and_publisher(published_1_0_7, folder_1_0_7) -> None:
    version = published_1_0_7.version
    assert published_1_0_7.created
    assert (version.pack_id, version.version, version.publisher) == (PACK_ID, "1.0.7", "ops-alice")
    assert version.digest == read_bundle(folder_1_0_7).digest
    assert (version.signed_by, version.active) == ("", False)
    assert RFC3339_UTC.match(version.published_at)


def test_publishing_the_same_files_again_changes_nothing(admin, deploy, published_1_0_7, folder_1_0_7) -> None:
    again = admin.PublishPackVersion(publish_request(folder_1_0_7), metadata=deploy, timeout=DEADLINE_S)
    assert not again.created
    assert (again.version.digest, again.version.published_at) == \
        (published_1_0_7.version.digest, published_1_0_7.version.published_at)


def test_republishing_a_version_with_changed_files_is_already_exists_naming_both_digests(
        admin, deploy, published_1_0_7, make_pack_version) -> None:
    changed = make_pack_version("1.0.7")
    (changed / "pack.yaml").write_text((changed / "pack.yaml").read_text(encoding="utf-8") + "# edited\n",
                                       encoding="utf-8")

    error = refusal(lambda: admin.PublishPackVersion(publish_request(changed), metadata=deploy, timeout=DEADLINE_S))

    assert error.code() is grpc.StatusCode.ALREADY_EXISTS
    offered = read_bundle(changed).digest
    assert published_1_0_7.version.digest in error.details() and offered in error.details()
    assert error_reason(error) == "VERSION_ALREADY_PUBLISHED"


def test_a_pack_whose_golden_cases_fail_is_refused_with_every_failing_node_and_nothing_changes(
        admin, evaluation, deploy, make_pack_version, golden_2019_facts) -> None:
    before = evaluate(evaluation, golden_2019_facts)
    broken = make_pack_version("1.0.2", failing_cases=True)

    error = refusal(lambda: admin.PublishPackVersion(publish_request(broken), metadata=deploy, timeout=DEADLINE_S))

    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    (failure,) = details(error, error_details_pb2.PreconditionFailure)
    assert {(v.type, v.subject, v.description) for v in failure.violations} == {
        ("GOLDEN_CASE", "cases/2019.yaml:total.score", "expected 76.00, got 75.03"),
        ("GOLDEN_CASE", "cases/2019.yaml:process.score", "expected 12, got 11.89"),
        ("GOLDEN_CASE", "cases/all-pass.yaml:total.score", "expected 99, got 100"),
    }
    assert "quality-district-funding@1.0.2" in error.details() and "expected 76.00, got 75.03" in error.details()
    assert error_reason(error) == "GOLDEN_CASES_FAILED"
    versions = admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy,
                                      timeout=DEADLINE_S).versions
    assert "1.0.2" not in [v.version for v in versions]
    after = evaluate(evaluation, golden_2019_facts)
    assert (after.version, after.digest, after.score) == (before.version, before.digest, before.score)


def test_a_pack_with_a_broken_schema_is_refused_with_its_problems(admin, deploy, make_pack_version) -> None:
    broken = make_pack_version("1.0.3")
    pack_yaml = broken / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8").replace("total_weight: 100", "total_weight: lots"),
                         encoding="utf-8")

    error = refusal(lambda: admin.PublishPackVersion(publish_request(broken), metadata=deploy, timeout=DEADLINE_S))

    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    (failure,) = details(error, error_details_pb2.PreconditionFailure)
    assert failure.violations and all(v.type == "PACK" for v in failure.violations)
    assert any("total_weight" in v.description for v in failure.violations)


def test_files_that_are_not_a_pack_are_invalid_argument_naming_them(admin, deploy) -> None:
    request = admin_pb2.PublishPackVersionRequest(files=[admin_pb2.PackFile(path="notes.txt", content=b"hello")])

    error = refusal(lambda: admin.PublishPackVersion(request, metadata=deploy, timeout=DEADLINE_S))

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details(error, error_details_pb2.BadRequest)
    fields = {v.field for v in bad_request.field_violations}
    assert fields == {"files[notes.txt]", "files[pack.yaml]"}


# --- versions, activation, rollback, history ---------------------------------------------


def test_list_versions_gives_digest_publisher_time_and_exactly_one_active(admin, deploy, published_1_0_7) -> None:
    versions = admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy,
                                      timeout=DEADLINE_S).versions

    by_version = {v.version: v for v in versions}
    assert {"1.0.0", "1.0.7"} <= set(by_version)
    assert by_version["1.0.0"].publisher == "bootstrap" and by_version["1.0.7"].publisher == "ops-alice"
    assert by_version["1.0.7"].digest == published_1_0_7.version.digest
    assert all(re.fullmatch(r"[0-9a-f]{64}", v.digest) and RFC3339_UTC.match(v.published_at) for v in versions)
    assert sum(v.active for v in versions) == 1


def test_an_activated_version_serves_unpinned_calls_at_once_while_1_0_0_pinned_still_gives_75_03(
        admin, evaluation, deploy, published_1_0_7, golden_2019_facts) -> None:
    activate(admin, deploy, "1.0.0")

    reply = activate(admin, deploy, "1.0.7")
    unpinned = evaluate(evaluation, golden_2019_facts)
    pinned = evaluate(evaluation, golden_2019_facts, "1.0.0")

    assert reply.changed
    assert (reply.activation.from_version, reply.activation.to_version) == ("1.0.0", "1.0.7")
    assert (reply.activation.kind, reply.activation.actor) == ("activate", "ops-alice")
    assert (unpinned.version, unpinned.digest) == ("1.0.7", published_1_0_7.version.digest)
    assert (pinned.version, pinned.score, pinned.grade) == ("1.0.0", "75.03", "中")
    assert pinned.digest != unpinned.digest


def test_with_1_1_0_active_the_2019_facts_pinned_to_1_0_0_still_give_75_03(
        admin, evaluation, deploy, golden_2019_facts) -> None:
    activate(admin, deploy, "1.1.0")

    unpinned = evaluate(evaluation, golden_2019_facts)
    pinned = evaluate(evaluation, golden_2019_facts, "1.0.0")

    assert unpinned.version == "1.1.0"
    assert (pinned.version, pinned.score, pinned.grade) == ("1.0.0", "75.03", "中")


def test_activating_the_active_version_again_changes_nothing(admin, deploy, published_1_0_7) -> None:
    activate(admin, deploy, "1.0.7")
    assert not activate(admin, deploy, "1.0.7").changed


def test_rollback_returns_to_the_previous_version_and_history_records_who_did_what(
        admin, evaluation, deploy, published_1_0_7, golden_2019_facts) -> None:
    activate(admin, deploy, "1.0.0")
    activate(admin, deploy, "1.0.7")

    rolled_back = admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id=PACK_ID), metadata=deploy,
                                     timeout=DEADLINE_S)
    history = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID), metadata=deploy,
                                    timeout=DEADLINE_S).activations

    assert (rolled_back.activation.from_version, rolled_back.activation.to_version) == ("1.0.7", "1.0.0")
    assert evaluate(evaluation, golden_2019_facts).version == "1.0.0"
    assert history[0].actor == "bootstrap" and history[0].from_version == ""
    assert [(a.kind, a.from_version, a.to_version, a.actor) for a in history[-2:]] == [
        ("activate", "1.0.0", "1.0.7", "ops-alice"), ("rollback", "1.0.7", "1.0.0", "ops-alice")]
    assert all(RFC3339_UTC.match(a.at) for a in history)


def test_rolling_back_past_the_first_activation_is_failed_precondition(admin, deploy) -> None:
    request = admin_pb2.RollbackPackRequest(pack_id=PACK_ID)
    with pytest.raises(grpc.RpcError) as refused:
        for _ in range(100):
            admin.RollbackPack(request, metadata=deploy, timeout=DEADLINE_S)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "nothing to roll back" in refused.value.details()


def test_unknown_packs_and_versions_are_not_found(admin, deploy) -> None:
    calls = [
        lambda: admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id="no-such-pack"), metadata=deploy),
        lambda: admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id="no-such-pack"), metadata=deploy),
        lambda: admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id="no-such-pack"), metadata=deploy),
        lambda: activate(admin, deploy, "9.9.9"),
    ]
    for call in calls:
        error = refusal(call)
        assert error.code() is grpc.StatusCode.NOT_FOUND, error.details()
    assert "9.9.9" in error.details() and "1.0.0" in error.details()


# --- who may do what ------------------------------------------------------------------


def test_admin_changes_without_a_token_are_unauthenticated_and_reads_are_open(admin) -> None:
    error = refusal(lambda: admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id=PACK_ID), timeout=DEADLINE_S))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    # Reads need what evaluating needs, and this server evaluates without a token.
    assert admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), timeout=DEADLINE_S).versions
    admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID), timeout=DEADLINE_S)


def test_admin_calls_with_an_evaluate_only_token_are_permission_denied(admin, auth_config, folder_1_0_7) -> None:
    portal = bearer(auth_config.evaluate_token)
    for call in (
        lambda: admin.PublishPackVersion(publish_request(folder_1_0_7), metadata=portal, timeout=DEADLINE_S),
        lambda: activate(admin, portal, "1.0.0"),
    ):
        assert refusal(call).code() is grpc.StatusCode.PERMISSION_DENIED


def test_evaluation_needs_no_token_by_default(evaluation, golden_2019_facts) -> None:
    assert evaluate(evaluation, golden_2019_facts, "1.0.0").score == "75.03"


def test_tokens_never_reach_the_log(server, admin, auth_config, deploy) -> None:
    admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy, timeout=DEADLINE_S)
    refusal(lambda: admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id=PACK_ID),
                                       metadata=bearer(auth_config.evaluate_token), timeout=DEADLINE_S))
    log = server.log()
    assert '"caller": "ops-alice"' in log
    assert auth_config.deploy_token not in log and auth_config.evaluate_token not in log


# --- identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize("call, field", [
    (lambda admin, deploy: activate(admin, deploy, "1.0.0\n"), "version"),
    (lambda admin, deploy: admin.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(
        pack_id=f"{PACK_ID}\n", version="1.0.0"), metadata=deploy, timeout=DEADLINE_S), "pack_id"),
    (lambda admin, deploy: admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id="p" * 1_000_000),
                                              metadata=deploy, timeout=DEADLINE_S), "pack_id"),
    (lambda admin, deploy: admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id="Quality"),
                                                 metadata=deploy, timeout=DEADLINE_S), "pack_id"),
    (lambda admin, deploy: admin.ListPackVersions(admin_pb2.ListPackVersionsRequest(pack_id=" " + PACK_ID),
                                                  metadata=deploy, timeout=DEADLINE_S), "pack_id"),
])
def test_admin_calls_with_look_alike_or_huge_ids_are_invalid_argument_naming_the_field(
        server, admin, deploy, call, field) -> None:
    before = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID), metadata=deploy,
                                   timeout=DEADLINE_S)
    error = refusal(lambda: call(admin, deploy))

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ") and len(error.details()) < 300
    (bad_request,) = details(error, error_details_pb2.BadRequest)
    assert [v.field for v in bad_request.field_violations] == [field]
    after = admin.ListActivations(admin_pb2.ListActivationsRequest(pack_id=PACK_ID), metadata=deploy,
                                  timeout=DEADLINE_S)
    assert after == before  # nothing was activated or rolled back
    assert max(len(line) for line in server.log().splitlines()) < 2_000
