"""Making admin requests and reading their refusals, for the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from jixiao.v1 import admin_pb2

PACK_ID = "quality-district-funding"


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def publish_request(folder: Path, signature: str = "") -> admin_pb2.PublishPackVersionRequest:
    """The pack in `folder` as `jixiao pack publish` sends it: pack.yaml and cases/*.yaml."""
    paths = [folder / "pack.yaml", *sorted((folder / "cases").glob("*.yaml"))]
    files = [admin_pb2.PackFile(path=p.relative_to(folder).as_posix(), content=p.read_bytes()) for p in paths]
    return admin_pb2.PublishPackVersionRequest(files=files, signature=signature)


def details(error: grpc.RpcError, kind):
    """The google.rpc details of type `kind` that the status carries."""
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no google.rpc details"
    found = []
    for packed in status.details:
        if packed.Is(kind.DESCRIPTOR):
            message = kind()
            packed.Unpack(message)
            found.append(message)
    return found


def error_reason(error: grpc.RpcError) -> str:
    (info,) = details(error, error_details_pb2.ErrorInfo)
    assert info.domain == "jixiao.dev"
    return info.reason


def struct(facts: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(facts)
    return message
