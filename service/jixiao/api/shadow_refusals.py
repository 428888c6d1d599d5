"""The shadow runs' refusals and their statuses (errors.status_for answers with them)."""

from __future__ import annotations

from typing import Callable

import grpc
from google.rpc import code_pb2, error_details_pb2

from jixiao.core.identifiers import echo
from jixiao.shadow.runs import NoShadowRunGoing, ShadowNeedsDecisionLog, ShadowRunGoing, ShadowRunNotFound

from .details import rich_status

SHADOW_RUN_RESOURCE_TYPE = "jixiao.v1.ShadowRun"


def _precondition(kind: str, subject: str, text: str) -> grpc.Status:
    violation = error_details_pb2.PreconditionFailure.Violation(type=kind, subject=subject, description=text)
    return rich_status(code_pb2.FAILED_PRECONDITION, text, error_details_pb2.PreconditionFailure(violations=[violation]))


def run_going(error: ShadowRunGoing) -> grpc.Status:
    """FAILED_PRECONDITION: one run per pack at a time; the going run is named."""
    return _precondition("SHADOW_RUN_GOING", echo(error.run.pack_id), str(error))


def no_run_going(error: NoShadowRunGoing) -> grpc.Status:
    """FAILED_PRECONDITION: nothing to stop."""
    return _precondition("SHADOW_RUN_GOING", echo(error.pack_id), str(error))


def needs_decision_log(error: ShadowNeedsDecisionLog) -> grpc.Status:
    """FAILED_PRECONDITION: this server hands out no decision ids, so it cannot sample."""
    return _precondition("DECISION_LOG", "jixiao-server --decision-log", str(error))


def run_not_found(error: ShadowRunNotFound) -> grpc.Status:
    """NOT_FOUND: the pack has had no run, or none with that id."""
    resource = error_details_pb2.ResourceInfo(resource_type=SHADOW_RUN_RESOURCE_TYPE,
                                              resource_name=echo(error.run_id or error.pack_id),
                                              description=str(error))
    return rich_status(code_pb2.NOT_FOUND, str(error), resource)


SHADOW_REFUSALS: dict[type[Exception], Callable[..., grpc.Status]] = {
    ShadowRunGoing: run_going,
    NoShadowRunGoing: no_run_going,
    ShadowNeedsDecisionLog: needs_decision_log,
    ShadowRunNotFound: run_not_found,
}
