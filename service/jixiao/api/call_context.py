"""What the service knows of the call being answered, for the log lines and records it writes.

The request id is the caller's `x-request-id` metadata when it is an acceptable one, else
one the server makes; the interceptor that reads it (observability) sets it here for the
whole call, its stream's every step and the threads its blocking work runs in (each call
runs in an asyncio task with its own copy of the context, which asyncio.to_thread copies).
"""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("jixiao_request_id", default="")


def request_id() -> str:
    """The current call's request id ("" outside a call, or when no interceptor set one)."""
    return _request_id.get()


def set_request_id(value: str) -> None:
    _request_id.set(value)
