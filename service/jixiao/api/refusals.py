"""Statuses for the registry's refusals: each says what was refused and why, in details a
client can act on (the CLI prints them; scripts switch on the ErrorInfo reason).
"""

from __future__ import annotations

from typing import Callable

import grpc
from google.rpc import code_pb2, error_details_pb2

from jixiao.core.errors import PackError
from jixiao.registry.publishing import GateBusy, GateRefused, GateStopping
from jixiao.registry.signing import SignatureError
from jixiao.registry.store import NothingToRollBack, VersionConflict, VersionNotFound

from .details import rich_status, within_budget

DOMAIN = "jixiao.dev"
PACK_VERSION_RESOURCE_TYPE = "jixiao.v1.PackVersion"
MESSAGE_MISMATCHES = 3

#: SignatureError.reason → the ErrorInfo reason a client sees.
SIGNATURE_REASONS = {
    "unsigned": "PACK_UNSIGNED",
    "unknown_key": "SIGNING_KEY_UNTRUSTED",
    "digest_mismatch": "PACK_CHANGED_AFTER_SIGNING",
    "bad_signature": "SIGNATURE_INVALID",
    "malformed": "SIGNATURE_MALFORMED",
}


def version_conflict(error: VersionConflict) -> grpc.Status:
    """ALREADY_EXISTS naming the published digest and the offered one."""
    info = error_details_pb2.ErrorInfo(reason="VERSION_ALREADY_PUBLISHED", domain=DOMAIN, metadata={
        "published_digest": error.published, "offered_digest": error.offered})
    return rich_status(code_pb2.ALREADY_EXISTS, str(error), info)


def gate_refused(error: GateRefused) -> grpc.Status:
    """FAILED_PRECONDITION with one violation per load problem and per failing case node."""
    report = error.report
    violations = [error_details_pb2.PreconditionFailure.Violation(type="PACK", subject=error.pack_ref,
                                                                  description=problem)
                  for problem in report.problems]
    for failure in report.failures:
        violations.extend(
            error_details_pb2.PreconditionFailure.Violation(
                type="GOLDEN_CASE", subject=f"{failure.case}:{m['node']}.{m['field']}",
                description=f"expected {m['expected']}, got {m['actual']}")
            for m in failure.mismatches)
    listed = within_budget(violations)
    text = f"{error.pack_ref} refused by the publish gate: {_gate_summary(violations)}"
    if len(listed) < len(violations):
        text += f" (the details list the first {len(listed)} of {len(violations)})"
    reason = "GOLDEN_CASES_FAILED" if not report.problems else "PACK_INVALID"
    return rich_status(code_pb2.FAILED_PRECONDITION, text,
                       error_details_pb2.PreconditionFailure(violations=listed),
                       error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))


def gate_busy(error: GateBusy) -> grpc.Status:
    """RESOURCE_EXHAUSTED: every trial place is taken; nothing was tried, publish again shortly."""
    reason = error.report.problems[0] if error.report.problems else "too many packs are being tried at once"
    violation = error_details_pb2.QuotaFailure.Violation(subject="publish gate trials", description=reason)
    return rich_status(code_pb2.RESOURCE_EXHAUSTED, f"publish gate busy: {reason}; publish again shortly",
                       error_details_pb2.QuotaFailure(violations=[violation]),
                       error_details_pb2.ErrorInfo(reason="PUBLISH_GATE_BUSY", domain=DOMAIN))


def gate_stopping(error: GateStopping) -> grpc.Status:
    """UNAVAILABLE: the server stopped while trying the pack; nothing was published, so a retry is safe."""
    reason = error.report.problems[0] if error.report.problems else "the server is stopping"
    return rich_status(code_pb2.UNAVAILABLE, f"nothing was published: {reason}",
                       error_details_pb2.ErrorInfo(reason="SERVER_STOPPING", domain=DOMAIN))


def _gate_summary(violations: list[error_details_pb2.PreconditionFailure.Violation]) -> str:
    shown = [f"{v.subject} {v.description}" if v.type == "GOLDEN_CASE" else v.description
             for v in violations[:MESSAGE_MISMATCHES]]
    more = len(violations) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def signature_refused(error: SignatureError) -> grpc.Status:
    """FAILED_PRECONDITION with an ErrorInfo reason per kind of refusal; a malformed
    signature document is INVALID_ARGUMENT."""
    reason = SIGNATURE_REASONS.get(error.reason, "SIGNATURE_INVALID")
    code = code_pb2.INVALID_ARGUMENT if error.reason == "malformed" else code_pb2.FAILED_PRECONDITION
    return rich_status(code, str(error), error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))


def not_a_pack(error: PackError) -> grpc.Status:
    """INVALID_ARGUMENT with one BadRequest violation per bad file."""
    violations = [error_details_pb2.BadRequest.FieldViolation(field=f"files[{p.file or ''}]", description=p.message)
                  for p in error.problems]
    return rich_status(code_pb2.INVALID_ARGUMENT, f"the files are not a rule pack: {error}",
                       error_details_pb2.BadRequest(field_violations=within_budget(violations)))


def version_not_found(error: VersionNotFound) -> grpc.Status:
    """NOT_FOUND saying which pack or version does not exist and which versions do."""
    return rich_status(code_pb2.NOT_FOUND, str(error), error_details_pb2.ResourceInfo(
        resource_type=PACK_VERSION_RESOURCE_TYPE, description=str(error)))


def nothing_to_roll_back(error: NothingToRollBack) -> grpc.Status:
    """FAILED_PRECONDITION: no earlier activation to return to."""
    violation = error_details_pb2.PreconditionFailure.Violation(type="ROLLBACK", description=str(error))
    return rich_status(code_pb2.FAILED_PRECONDITION, str(error),
                       error_details_pb2.PreconditionFailure(violations=[violation]))


REFUSALS: dict[type[Exception], Callable[..., grpc.Status]] = {
    VersionConflict: version_conflict,
    # The gate's own subclasses first: the first matching kind decides.
    GateBusy: gate_busy,
    GateStopping: gate_stopping,
    GateRefused: gate_refused,
    SignatureError: signature_refused,
    PackError: not_a_pack,
    VersionNotFound: version_not_found,
    NothingToRollBack: nothing_to_roll_back,
}
