"""A gRPC status carrying google.rpc details, kept within what clients accept.

Status details travel in HTTP/2 trailers, and clients refuse trailers past 8 KiB by
default (RESOURCE_EXHAUSTED instead of our status), so long lists of details are cut to
a budget and the message says so.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

import grpc
from google.protobuf import any_pb2, message
from google.rpc import status_pb2
from grpc_status import rpc_status

DETAILS_BUDGET_BYTES = 7000
STATUS_DETAILS_KEY = "grpc-status-details-bin"

Item = TypeVar("Item", bound=message.Message)


def rich_status(code: int, text: str, *details: message.Message) -> grpc.Status:
    """A grpc.Status with `code` (a google.rpc.Code), `text` and the details packed in."""
    packed = []
    for detail in details:
        wrapper = any_pb2.Any()
        wrapper.Pack(detail)
        packed.append(wrapper)
    return rpc_status.to_status(status_pb2.Status(code=code, message=text, details=packed))


def within_budget(items: Sequence[Item], budget: int = DETAILS_BUDGET_BYTES) -> list[Item]:
    """The leading items whose encoded size fits the budget."""
    used = 0
    for count, item in enumerate(items):
        used += item.ByteSize() + 3  # the field's tag and length prefix
        if used > budget:
            return list(items[:count])
    return list(items)


def status_message(status: grpc.Status) -> status_pb2.Status:
    """The google.rpc.Status a call failing with `status` would carry: code, message, details.

    A stream answers a bad item with this message instead of ending the call.
    """
    for key, value in status.trailing_metadata or ():
        if key == STATUS_DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return status_pb2.Status(code=status.code.value[0], message=status.details)
