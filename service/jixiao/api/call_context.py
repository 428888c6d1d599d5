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


#: Reply metadata keys the service sets: the call's request id (every call) and the
#: decision id of an evaluation recorded by the decision log (unary calls).
REQUEST_ID_KEY = "x-request-id"
DECISION_ID_KEY = "x-decision-id"


def add_trailing_metadata(context, *pairs: tuple[str, str]) -> None:
    """Add `pairs` to the reply's trailing metadata, keeping what is already there (the
    request id the interceptor put in): `set_trailing_metadata` alone would replace it.

    An error reply keeps them too: the observability interceptor adds what was set here
    to the metadata of the status a call aborts with.
    """
    keys = {key for key, _ in pairs}
    kept = tuple(pair for pair in (context.trailing_metadata() or ()) if pair[0] not in keys)
    context.set_trailing_metadata(kept + tuple(pairs))
