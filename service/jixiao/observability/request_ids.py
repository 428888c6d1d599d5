"""Request ids and W3C trace context read from a call's metadata, checked before use.

A caller's `x-request-id` is kept when it is a short token of safe characters (it goes
into log lines and reply metadata as is); anything else is replaced by an id the server
makes, and the value sent is not echoed. A `traceparent` is logged only when it is a
well-formed W3C trace context (version 00).
"""

from __future__ import annotations

import re
import uuid
from typing import Sequence

from jixiao.api.call_context import REQUEST_ID_KEY

REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
TRACEPARENT_KEY = "traceparent"
#: All-zero trace or parent ids are invalid in W3C trace context.
_ZERO_TRACE, _ZERO_PARENT = "0" * 32, "0" * 16

Metadata = Sequence[tuple[str, "str | bytes"]] | None


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: object) -> str | None:
    """`value` when it is an acceptable request id, else None."""
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else None


def valid_traceparent(value: object) -> str | None:
    """`value` when it is a W3C traceparent (version 00, non-zero ids), else None."""
    if not isinstance(value, str) or not TRACEPARENT.fullmatch(value):
        return None
    _, trace_id, parent_id, _ = value.split("-")
    return None if trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT else value


def _first(metadata: Metadata, key: str) -> str | bytes | None:
    for name, value in metadata or ():
        if name == key:
            return value
    return None


def request_id_of(metadata: Metadata) -> tuple[str, bool]:
    """The call's request id, and whether it is the caller's (else generated)."""
    given = valid_request_id(_first(metadata, REQUEST_ID_KEY))
    return (given, True) if given is not None else (new_request_id(), False)


def traceparent_of(metadata: Metadata) -> str | None:
    return valid_traceparent(_first(metadata, TRACEPARENT_KEY))
