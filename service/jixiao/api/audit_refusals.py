"""The AuditService's own refusals and their statuses (errors.status_for answers with them)."""

from __future__ import annotations

from typing import Callable

import grpc
from google.rpc import code_pb2, error_details_pb2

from jixiao.core.identifiers import echo

from .details import rich_status

DECISION_RESOURCE_TYPE = "jixiao.v1.Decision"
NO_DECISION_LOG = ("this server keeps no decision log (it was started with --no-decision-log): "
                   "ask a server that records decisions")


class DecisionLogOff(Exception):
    """The server was started without the decision log."""

    def __init__(self) -> None:
        super().__init__(NO_DECISION_LOG)


class DecisionNotFound(LookupError):
    """No decision with this id in the log."""

    def __init__(self, decision_id: str):
        super().__init__(f"no decision '{echo(decision_id)}' in the decision log")
        self.decision_id = decision_id


def decision_log_off(error: DecisionLogOff) -> grpc.Status:
    """FAILED_PRECONDITION: an empty answer would read as "no decisions were made"."""
    violation = error_details_pb2.PreconditionFailure.Violation(
        type="DECISION_LOG", subject="jixiao-server --decision-log", description=str(error))
    return rich_status(code_pb2.FAILED_PRECONDITION, str(error),
                       error_details_pb2.PreconditionFailure(violations=[violation]))


def decision_not_found(error: DecisionNotFound) -> grpc.Status:
    """NOT_FOUND naming the decision id."""
    resource = error_details_pb2.ResourceInfo(resource_type=DECISION_RESOURCE_TYPE,
                                              resource_name=echo(error.decision_id), description=str(error))
    return rich_status(code_pb2.NOT_FOUND, str(error), resource)


AUDIT_REFUSALS: dict[type[Exception], Callable[..., grpc.Status]] = {
    DecisionLogOff: decision_log_off,
    DecisionNotFound: decision_not_found,
}
