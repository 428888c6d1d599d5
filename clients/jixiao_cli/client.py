"""A small client for the Jixiao evaluation API over gRPC.

Every call has a deadline, and every failed call raises `JixiaoError` with the status
code, the message and the BadRequest field violations the server attached, so callers
never handle a raw `grpc.RpcError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping

import grpc
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from jixiao.v1 import evaluation_pb2, evaluation_pb2_grpc

DEFAULT_DEADLINE_SECONDS = 10.0
STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field, e.g. ("facts.budget.spent", "missing (expected a decimal ...)")."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"


class JixiaoError(Exception):
    """A failed call: its gRPC status code, message and field violations (if any)."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 violations: tuple[FieldViolation, ...] = ()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations

    def __str__(self) -> str:
        if self.violations:
            return "; ".join(str(v) for v in self.violations)
        return self.message


class JixiaoClient:
    """Calls one Jixiao server. Use as a context manager, or call `close()`."""

    def __init__(self, target: str, deadline: float = DEFAULT_DEADLINE_SECONDS):
        self.target = target
        self.deadline = deadline
        self._channel = grpc.insecure_channel(target)
        self._stub = evaluation_pb2_grpc.EvaluationServiceStub(self._channel)

    def evaluate(self, pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                 language: str = "zh") -> evaluation_pb2.Evaluation:
        """Score `facts` with a pack; the newest version unless `version` is given."""
        request = evaluation_pb2.EvaluateRequest(
            pack_id=pack_id, version=version or "", facts=facts_to_struct(facts),
            language=evaluation_pb2.Language.Value(f"LANGUAGE_{language.upper()}"))
        return self._call(self._stub.Evaluate, request)

    def list_packs(self) -> list[evaluation_pb2.PackSummary]:
        """Every pack version the server can evaluate with."""
        return list(self._call(self._stub.ListPacks, evaluation_pb2.ListPacksRequest()).packs)

    def get_pack(self, pack_id: str, version: str | None = None) -> evaluation_pb2.Pack:
        """One pack version's indicator tree and fact schema."""
        return self._call(self._stub.GetPack,
                          evaluation_pb2.GetPackRequest(pack_id=pack_id, version=version or ""))

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "JixiaoClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: Callable, request: Any) -> Any:
        try:
            return method(request, timeout=self.deadline)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error


def error_from_rpc(error: grpc.RpcError) -> JixiaoError:
    """A JixiaoError with the code, message and BadRequest violations of a failed call."""
    if not isinstance(error, grpc.Call):
        return JixiaoError(grpc.StatusCode.UNKNOWN, str(error))
    code = error.code()
    return JixiaoError(code, error.details() or code.name, _violations(rpc_status.from_call(error)))


def error_from_status(status: grpc.Status) -> JixiaoError:
    """A JixiaoError for a status built in this process, as if a server had sent it."""
    details = dict(status.trailing_metadata or ()).get(STATUS_DETAILS_KEY)
    rich_status = status_pb2.Status.FromString(details) if details else None
    return JixiaoError(status.code, status.details or status.code.name, _violations(rich_status))


def _violations(status: status_pb2.Status | None) -> tuple[FieldViolation, ...]:
    violations: list[FieldViolation] = []
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(FieldViolation(v.field, v.description)
                              for v in bad_request.field_violations)
    return tuple(violations)


def facts_to_struct(facts: Mapping[str, Any]) -> struct_pb2.Struct:
    """The facts as a protobuf Struct. Decimals travel as strings, as the API asks."""
    struct = struct_pb2.Struct()
    struct.update(_decimals_as_strings(facts))
    return struct


def _decimals_as_strings(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _decimals_as_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals_as_strings(item) for item in value]
    return value
