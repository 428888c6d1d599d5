"""Calls to a server's AuditService (a token with the `audit` role).

Unary calls have the client's deadline; the streams (replay, export) have none, since
they last as long as the log is large: keepalive pings notice a server that went away.
Every failed call raises `JixiaoError`, as the other calls of the CLI do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import grpc

from jixiao.v1 import audit_pb2, audit_pb2_grpc

from .channels import open_channel
from .client import DEFAULT_DEADLINE_SECONDS, error_from_rpc
from .exit_codes import CliError

#: Decisions asked for per page when following pages (the server gives at most 1000).
PAGE_SIZE = 250


class AuditClient:
    """The AuditService of one server. Use as a context manager."""

    def __init__(self, target: str, token: str | None = None, root_certificates: bytes | None = None,
                 deadline: float = DEFAULT_DEADLINE_SECONDS):
        self.target = target
        self.deadline = deadline
        self._channel = open_channel(target, root_certificates)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = audit_pb2_grpc.AuditServiceStub(self._channel)

    @classmethod
    def from_options(cls, params: dict[str, Any]) -> "AuditClient":
        """The client the command's --server, --token and --tls-ca name."""
        tls_ca: Path | None = params.get("tls_ca")
        try:
            root_certificates = tls_ca.read_bytes() if tls_ca else None
        except OSError as error:
            raise CliError(f"cannot read the CA certificates {tls_ca}: {error.strerror}") from None
        if root_certificates is not None and b"-----BEGIN CERTIFICATE-----" not in root_certificates:
            raise CliError(f"--tls-ca {tls_ca}: not PEM CA certificates (expected -----BEGIN CERTIFICATE-----)")
        return cls(params["server"], params.get("token") or None, root_certificates)

    def list_page(self, where: audit_pb2.DecisionFilter, page_size: int,
                  page_token: str = "") -> audit_pb2.ListDecisionsResponse:
        request = audit_pb2.ListDecisionsRequest(filter=where, page_size=page_size, page_token=page_token)
        return self._call(self._stub.ListDecisions, request)

    def decisions(self, where: audit_pb2.DecisionFilter, limit: int) -> Iterator[audit_pb2.DecisionSummary]:
        """Up to `limit` decisions, newest first, following the pages."""
        given, token = 0, ""
        while given < limit:
            page = self.list_page(where, min(limit - given, PAGE_SIZE), token)
            for summary in page.decisions[:limit - given]:
                given += 1
                yield summary
            token = page.next_page_token
            if not token:
                return

    def get(self, decision_id: str) -> audit_pb2.GetDecisionResponse:
        return self._call(self._stub.GetDecision, audit_pb2.GetDecisionRequest(decision_id=decision_id))

    def replay(self, where: audit_pb2.DecisionFilter) -> Iterator[audit_pb2.ReplayDecisionsResponse]:
        return self._stream(self._stub.ReplayDecisions, audit_pb2.ReplayDecisionsRequest(filter=where))

    def export(self, where: audit_pb2.DecisionFilter) -> Iterator[audit_pb2.GetDecisionResponse]:
        for item in self._stream(self._stub.ExportDecisions, audit_pb2.ExportDecisionsRequest(filter=where)):
            yield item.decision

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "AuditClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.deadline, metadata=self._metadata)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error

    def _stream(self, method, request) -> Iterator:
        replies = method(request, metadata=self._metadata)
        try:
            yield from replies
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error
        finally:
            replies.cancel()
