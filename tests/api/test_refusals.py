"""The registry's refusals reach callers as statuses with details a client can act on."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2

from jixiao.api.errors import status_for
from jixiao.catalog import NoActiveVersion
from jixiao.registry.publishing import GateRefused
from jixiao.registry.signing import SignatureError
from jixiao.registry.store import VersionConflict
from jixiao.registry.trial import CaseFailure, TrialReport

from status_details import details


def test_a_conflicting_version_is_already_exists_with_both_digests() -> None:
    status = status_for(VersionConflict("p", "1.0.0", "a" * 64, "b" * 64))

    assert status.code is grpc.StatusCode.ALREADY_EXISTS
    assert "a" * 64 in status.details and "b" * 64 in status.details
    (info,) = details(status, error_details_pb2.ErrorInfo)
    assert dict(info.metadata) == {"published_digest": "a" * 64, "offered_digest": "b" * 64}


def test_every_failing_node_is_a_violation_until_the_trailer_budget_runs_out() -> None:
    mismatches = [{"node": f"node.{n}", "field": "score", "expected": "1", "actual": "2"} for n in range(1000)]
    report = TrialReport(failures=[CaseFailure("cases/big.yaml", "big", mismatches)])

    status = status_for(GateRefused("p@1.0.0", report))

    assert status.code is grpc.StatusCode.FAILED_PRECONDITION
    (failure,) = details(status, error_details_pb2.PreconditionFailure)
    listed = len(failure.violations)
    assert 0 < listed < 1000
    assert failure.violations[0].subject == "cases/big.yaml:node.0.score"
    assert f"the first {listed} of 1000" in status.details
    assert sum(len(value) for _, value in status.trailing_metadata) < 8192


def test_signature_refusals_have_one_reason_each() -> None:
    reasons = {}
    for reason in ("unsigned", "unknown_key", "digest_mismatch", "bad_signature"):
        status = status_for(SignatureError(reason, f"refused: {reason}"))
        assert status.code is grpc.StatusCode.FAILED_PRECONDITION
        (info,) = details(status, error_details_pb2.ErrorInfo)
        reasons[reason] = (info.reason, info.domain)
    assert reasons == {
        "unsigned": ("PACK_UNSIGNED", "jixiao.dev"),
        "unknown_key": ("SIGNING_KEY_UNTRUSTED", "jixiao.dev"),
        "digest_mismatch": ("PACK_CHANGED_AFTER_SIGNING", "jixiao.dev"),
        "bad_signature": ("SIGNATURE_INVALID", "jixiao.dev"),
    }


def test_evaluating_a_pack_with_no_active_version_is_failed_precondition() -> None:
    status = status_for(NoActiveVersion("p"))
    assert status.code is grpc.StatusCode.FAILED_PRECONDITION
    assert status.details == ("pack 'p' has no active version; activate one with: "
                              "jixiao pack activate p <version> "
                              "(or name a version: --version, or the request's version field)")


def test_a_busy_gate_is_resource_exhausted_and_a_stopping_one_unavailable() -> None:
    from jixiao.registry.publishing import GateBusy, GateStopping
    from jixiao.registry.trial import TrialAbandoned, TrialsBusy

    busy = status_for(GateBusy(TrialsBusy()))
    assert busy.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "publish gate busy" in busy.details and "again" in busy.details
    (info,) = details(busy, error_details_pb2.ErrorInfo)
    assert info.reason == "PUBLISH_GATE_BUSY"
    assert details(busy, error_details_pb2.QuotaFailure)

    stopping = status_for(GateStopping(TrialAbandoned()))
    assert stopping.code is grpc.StatusCode.UNAVAILABLE
    assert "nothing was published" in stopping.details
