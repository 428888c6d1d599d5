"""Answering one RPC: time it, log one line about it, and turn failures into statuses.

The log line names the method, the pack and the outcome; it never carries the facts,
nor the violation texts (they quote the facts). When the log level leaves info lines
out (a server at `--log-level warning`), nothing is assembled for the line.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

import grpc
import structlog

from .errors import status_for

Reply = TypeVar("Reply")

log = structlog.get_logger("jixiao.api")


def answer(
    context: grpc.ServicerContext,
    method: str,
    produce: Callable[[], tuple[Reply, dict[str, object]]],
    **request_fields: object,
) -> Reply:
    """Run `produce` (which returns the reply and fields to log) or abort with a status."""
    started = time.perf_counter()
    try:
        reply, outcome = produce()
    except Exception as error:  # every failure becomes a status, never a traceback
        status = status_for(error)
    else:
        if _logs_info():
            log.info("rpc", method=method, **request_fields, **outcome, code="OK",
                     duration_ms=_since(started))
        return reply
    if _logs_info():
        log.info("rpc", method=method, **request_fields, code=status.code.name,
                 duration_ms=_since(started))
    context.abort_with_status(status)  # raises: the call ends here


def _logs_info() -> bool:
    """Whether an info line would be written (asked each call: the configuration may change)."""
    try:
        return log.is_enabled_for(logging.INFO)
    except AttributeError:  # a wrapper class that does not filter by level
        return True


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
