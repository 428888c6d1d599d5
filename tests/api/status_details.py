"""The google.rpc details a grpc.Status made by `status_for` carries, unpacked by type."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2


def details(status: grpc.Status, kind):
    (_, binary), = [m for m in status.trailing_metadata if m[0] == "grpc-status-details-bin"]
    found = []
    for packed in status_pb2.Status.FromString(binary).details:
        if packed.Is(kind.DESCRIPTOR):
            message = kind()
            packed.Unpack(message)
            found.append(message)
    return found
