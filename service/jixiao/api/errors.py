"""Turning exceptions into gRPC statuses with google.rpc details.

Callers get a status code and machine-readable details, never a traceback: an
unexpected error is logged with an id and the caller gets only that id.
"""

from __future__ import annotations

import uuid

import grpc
import structlog
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2

from jixiao.catalog import NoActiveVersion
from jixiao.core.errors import FactsError
from jixiao.engine.containment import QuarantinedRequest
from jixiao.core.identifiers import InvalidIdentifier, echo
from jixiao.database.outage import UNAVAILABLE_MESSAGE, describe, is_unavailable
from jixiao.packs import PackNotFound

from .details import rich_status, within_budget
from .limits import StreamLimitReached
from .refusals import REFUSALS
from .reports import REPORT_REFUSALS
from .audit_refusals import AUDIT_REFUSALS
from .shadow_refusals import SHADOW_REFUSALS

log = structlog.get_logger("jixiao.api")

PACK_RESOURCE_TYPE = "jixiao.v1.Pack"
SUMMARY_FACTS = 5


def status_for(error: Exception) -> grpc.Status:
    """The status a caller should see for `error` (INTERNAL for anything unforeseen)."""
    if isinstance(error, FactsError):
        return invalid_facts(error)
    if isinstance(error, InvalidIdentifier):
        return invalid_field(error)
    if isinstance(error, PackNotFound):
        return pack_not_found(error)
    if isinstance(error, NoActiveVersion):
        return no_active_version(error)
    if isinstance(error, StreamLimitReached):
        return stream_limit_reached(error)
    for kind, refusal in (*REFUSALS.items(), *REPORT_REFUSALS.items(), *AUDIT_REFUSALS.items(),
                          *SHADOW_REFUSALS.items()):
        if isinstance(error, kind):
            return refusal(error)
    if isinstance(error, QuarantinedRequest):
        return quarantined(error)
    if is_unavailable(error):
        return database_unavailable(error)
    return internal(error)


def invalid_facts(error: FactsError) -> grpc.Status:
    """INVALID_ARGUMENT with one BadRequest field violation per bad fact, all at once.

    Violations beyond the trailer budget are left out and the message says how many are listed.
    """
    violations = [
        error_details_pb2.BadRequest.FieldViolation(field=f"facts.{v.fact}", description=v.description)
        for v in error.violations
    ]
    listed = within_budget(violations)
    message = _summary(error)
    if len(listed) < len(violations):
        message += f" (the details list the first {len(listed)})"
    return rich_status(code_pb2.INVALID_ARGUMENT, message, error_details_pb2.BadRequest(field_violations=listed))


def _summary(error: FactsError) -> str:
    """A short message naming the first few bad facts; the details carry the descriptions."""
    names = list(dict.fromkeys(v.fact for v in error.violations))
    shown = ", ".join(names[:SUMMARY_FACTS]) + (", …" if len(names) > SUMMARY_FACTS else "")
    count = len(error.violations)
    return f"{count} invalid fact{'s' if count != 1 else ''}: {shown}"


def invalid_field(error: InvalidIdentifier) -> grpc.Status:
    """INVALID_ARGUMENT with a BadRequest violation naming the field (pack_id, version, key, language).

    The message quotes at most `echo`'s share of what was sent.
    """
    violation = error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.problem)
    return rich_status(code_pb2.INVALID_ARGUMENT, str(error),
                       error_details_pb2.BadRequest(field_violations=[violation]))


def stream_limit_reached(error: StreamLimitReached) -> grpc.Status:
    """RESOURCE_EXHAUSTED naming the limit, with a QuotaFailure a client can switch on."""
    violation = error_details_pb2.QuotaFailure.Violation(subject="EvaluateBatch streams per server process",
                                                         description=str(error))
    return rich_status(code_pb2.RESOURCE_EXHAUSTED, str(error),
                       error_details_pb2.QuotaFailure(violations=[violation]))


def pack_not_found(error: PackNotFound) -> grpc.Status:
    """NOT_FOUND saying which pack or version does not exist and which ones do."""
    name = echo(f"{error.pack_id}@{error.version}" if error.version else error.pack_id)
    resource = error_details_pb2.ResourceInfo(resource_type=PACK_RESOURCE_TYPE, resource_name=name,
                                              description=str(error))
    return rich_status(code_pb2.NOT_FOUND, str(error), resource)


def no_active_version(error: NoActiveVersion) -> grpc.Status:
    """FAILED_PRECONDITION: the pack is published, but a version must be activated or named."""
    violation = error_details_pb2.PreconditionFailure.Violation(
        type="ACTIVE_VERSION", subject=echo(error.pack_id), description=str(error))
    return rich_status(code_pb2.FAILED_PRECONDITION, str(error),
                       error_details_pb2.PreconditionFailure(violations=[violation]))


def internal(error: Exception) -> grpc.Status:
    """INTERNAL with an error id to quote to ops; the details stay in the server's log."""
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error", error_id=error_id, exc_info=error)
    return rich_status(code_pb2.INTERNAL, f"internal error; quote error id {error_id} to the operators")


def database_unavailable(error: Exception) -> grpc.Status:
    """UNAVAILABLE (clients retry): the database cannot be reached. The caller is told no more;
    the log gets one short line with the driver's first line, passwords scrubbed, no traceback."""
    log.warning("database unavailable for a call", error=describe(error))
    return rich_status(code_pb2.UNAVAILABLE, UNAVAILABLE_MESSAGE,
                       error_details_pb2.ErrorInfo(reason="DATABASE_UNAVAILABLE", domain="jixiao.dev"),
                       error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1)))


def quarantined(error: QuarantinedRequest) -> grpc.Status:
    """INTERNAL with an error id: the request crashed a server process before (engine/containment.py)."""
    error_id = uuid.uuid4().hex[:12]
    log.error("quarantined request refused", error_id=error_id, digest=error.digest, ruleset=error.label)
    return rich_status(code_pb2.INTERNAL, "this request crashed a server process before and is refused; "
                                          f"quote error id {error_id} to the operators")
