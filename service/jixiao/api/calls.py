"""Answering one RPC: time it, log one line about it, and turn failures into statuses.

The log line names the method, the pack and the outcome; it never carries the facts,
nor the violation texts (they quote the facts); caller text in its fields is passed
through `echo` by the servicers. When the log level leaves info lines out (a server at
`--log-level warning`), nothing is assembled for the line.

The server runs on one asyncio event loop. Evaluation is short CPU work under the GIL,
so it runs on the loop itself; work that waits (a publish's trial process, registry
I/O) is `blocking` and runs in a thread, so that the loop keeps answering meanwhile, and
so does a report's rendering (reports.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Awaitable, Callable, TypeVar

import grpc
import structlog

from .errors import status_for

Reply = TypeVar("Reply")

log = structlog.get_logger("jixiao.api")


async def answer(
    context: grpc.aio.ServicerContext,
    method: str,
    produce: Callable[[], tuple[Reply, dict[str, object]] | Awaitable[tuple[Reply, dict[str, object]]]],
    *,
    blocking: bool = False,
    on_failure: Callable[[grpc.Status], None] | None = None,
    **request_fields: object,
) -> Reply:
    """Run `produce` (which returns the reply and fields to log) or abort with a status.

    `blocking` runs it in a worker thread (it waits on I/O or a child process). A coroutine
    function is awaited on the loop (it hands its long work to a thread of its own).
    `on_failure` learns the status a failed call is answered with (the decision's record).
    """
    started = time.perf_counter()
    try:
        produced = await asyncio.to_thread(produce) if blocking else produce()
        reply, outcome = await produced if inspect.isawaitable(produced) else produced
    except Exception as error:  # every failure becomes a status, never a traceback
        status = status_for(error)
    else:
        if _logs_info():
            log.info("rpc", method=method, **request_fields, **outcome, code="OK",
                     duration_ms=_since(started))
        return reply
    if on_failure is not None:
        on_failure(status)
    if _logs_info():
        log.info("rpc", method=method, **request_fields, code=status.code.name,
                 duration_ms=_since(started))
    await context.abort_with_status(status)  # raises: the call ends here


def _logs_info() -> bool:
    """Whether an info line would be written (asked each call: the configuration may change)."""
    try:
        return log.is_enabled_for(logging.INFO)
    except AttributeError:  # a wrapper class that does not filter by level
        return True


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
