"""Answering one RPC: time it, log one line about it, and turn failures into statuses.

The log line names the method, the pack and the outcome; it never carries the facts,
nor the violation texts (they quote the facts).
"""

from __future__ import annotations

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
        log.info("rpc", method=method, **request_fields, **outcome, code="OK",
                 duration_ms=_since(started))
        return reply
    log.info("rpc", method=method, **request_fields, code=status.code.name,
             duration_ms=_since(started))
    context.abort_with_status(status)  # raises: the call ends here


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
