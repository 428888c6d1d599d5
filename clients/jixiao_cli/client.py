"""A small client for the Jixiao APIs over gRPC: evaluation and pack administration.

Every call has a deadline and carries the bearer token when one is given; the channel
speaks TLS when CA certificates are given. Every failed call raises `JixiaoError` with
the status code, the message and the google.rpc details the server attached (BadRequest
field violations, PreconditionFailure violations, the ErrorInfo reason), so callers
never handle a raw `grpc.RpcError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping

import grpc
from google.protobuf import message, struct_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc

from .channels import open_channel
from .request_ids import request_id_of

DEFAULT_DEADLINE_SECONDS = 10.0
# The publish gate compiles the pack and runs its golden cases in a child process
# that may take up to a minute before the server refuses it.
PUBLISH_DEADLINE_SECONDS = 90.0
# A report waits for the server's render thread (one report at a time per server
# process), then takes up to a second or so to render.
REPORT_DEADLINE_SECONDS = 60.0
STATUS_DETAILS_KEY = "grpc-status-details-bin"
#: Activations asked for per ListActivations page (the server's default page).
HISTORY_PAGE_SIZE = 100
#: `render_report`'s format names → the API's ReportFormat.
REPORT_FORMATS = {"docx": evaluation_pb2.REPORT_FORMAT_DOCX, "markdown": evaluation_pb2.REPORT_FORMAT_MARKDOWN,
                  "html": evaluation_pb2.REPORT_FORMAT_HTML}


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field, e.g. ("facts.budget.spent", "missing (expected a decimal ...)")."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"


@dataclass(frozen=True)
class PreconditionViolation:
    """One unmet precondition, e.g. ("GOLDEN_CASE", "cases/2019.yaml:total.score",
    "expected 80.5, got 75.03")."""

    type: str
    subject: str
    description: str


class JixiaoError(Exception):
    """A failed call: its gRPC status code, message and the details the server attached."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 violations: tuple[FieldViolation, ...] = (),
                 preconditions: tuple[PreconditionViolation, ...] = (),
                 reason: str = "", metadata: Mapping[str, str] | None = None, request_id: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations
        self.preconditions = preconditions
        self.reason = reason  # the ErrorInfo reason, e.g. PACK_UNSIGNED; "" when none
        self.metadata = dict(metadata or {})  # the ErrorInfo metadata
        self.request_id = request_id  # the call's x-request-id ("" when no call failed: a local status)

    def __str__(self) -> str:
        if self.violations:
            return "; ".join(str(v) for v in self.violations)
        return self.message


class JixiaoClient:
    """Calls one Jixiao server. Use as a context manager, or call `close()`."""

    def __init__(self, target: str, deadline: float = DEFAULT_DEADLINE_SECONDS, *,
                 token: str | None = None, root_certificates: bytes | None = None):
        self.target = target
        self.deadline = deadline
        self._channel = open_channel(target, root_certificates)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = evaluation_pb2_grpc.EvaluationServiceStub(self._channel)
        self._admin = admin_pb2_grpc.PackAdminServiceStub(self._channel)

    # --- evaluation --------------------------------------------------------------

    def evaluate(self, pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                 language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.Evaluation:
        """Score `facts` with a pack; the active version unless `version` is given. With
        `ignore_unknown`, facts the pack does not declare are ignored (and listed in the
        reply) instead of refused."""
        return self._call(self._stub.Evaluate, evaluate_request(pack_id, facts, version, language, ignore_unknown))

    def evaluate_batch(self, items: Iterable[evaluation_pb2.BatchEvaluateRequest]
                       ) -> Iterator[evaluation_pb2.BatchEvaluateResult]:
        """Stream `items` (read as the server takes them) and yield each result as it
        comes, in the order of the items. An item that fails has a result whose `error`
        `error_from_status_message` reads. The stream has no deadline; if it breaks,
        JixiaoError is raised (UNAVAILABLE: resend the items not answered yet)."""
        results = self._stub.EvaluateBatch(iter(items), metadata=self._metadata)
        try:
            yield from results
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error
        finally:
            results.cancel()

    def render_report(self, pack_id: str, facts: Mapping[str, Any], report_format: str, version: str | None = None,
                      language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.RenderReportResponse:
        """The evaluation report of `facts` in `report_format` (docx, markdown or html) and the
        evaluation it was built from. Rendering takes the server a second or so: the deadline
        is REPORT_DEADLINE_SECONDS."""
        request = render_report_request(pack_id, facts, report_format, version, language, ignore_unknown)
        return self._call(self._stub.RenderReport, request, max(self.deadline, REPORT_DEADLINE_SECONDS))

    def list_packs(self) -> list[evaluation_pb2.PackSummary]:
        """Every pack version the server can evaluate with."""
        return list(self._call(self._stub.ListPacks, evaluation_pb2.ListPacksRequest()).packs)

    def get_pack(self, pack_id: str, version: str | None = None) -> evaluation_pb2.Pack:
        """One pack version's indicator tree and fact schema."""
        return self._call(self._stub.GetPack,
                          evaluation_pb2.GetPackRequest(pack_id=pack_id, version=version or ""))

    # --- administration (a token with the deploy role) ----------------------------

    def publish(self, files: Mapping[str, bytes],
                signature: str = "") -> admin_pb2.PublishPackVersionResponse:
        """Publish a pack version's files (path → content) through the server's gate."""
        request = admin_pb2.PublishPackVersionRequest(
            files=[admin_pb2.PackFile(path=path, content=content) for path, content in files.items()],
            signature=signature)
        return self._call(self._admin.PublishPackVersion, request, PUBLISH_DEADLINE_SECONDS)

    def list_versions(self, pack_id: str) -> list[admin_pb2.PackVersion]:
        """A pack's published versions, oldest first, the active one flagged."""
        request = admin_pb2.ListPackVersionsRequest(pack_id=pack_id)
        return list(self._call(self._admin.ListPackVersions, request).versions)

    def activate(self, pack_id: str, version: str) -> admin_pb2.ActivationResponse:
        """Make a published version the active one."""
        request = admin_pb2.ActivatePackVersionRequest(pack_id=pack_id, version=version)
        return self._call(self._admin.ActivatePackVersion, request)

    def rollback(self, pack_id: str) -> admin_pb2.ActivationResponse:
        """Re-activate the version that was active before the current one."""
        return self._call(self._admin.RollbackPack, admin_pb2.RollbackPackRequest(pack_id=pack_id))

    def history(self, pack_id: str) -> list[admin_pb2.Activation]:
        """Every activation and rollback of a pack, oldest first, read page after page."""
        activations: list[admin_pb2.Activation] = []
        token = ""
        while True:
            request = admin_pb2.ListActivationsRequest(pack_id=pack_id, page_size=HISTORY_PAGE_SIZE,
                                                       page_token=token)
            page = self._call(self._admin.ListActivations, request)
            activations.extend(page.activations)
            if not page.next_page_token:
                return activations
            if page.next_page_token == token:  # a server that never moves on
                raise JixiaoError(grpc.StatusCode.INTERNAL,
                                  "the server gave the same page token twice for ListActivations")
            token = page.next_page_token

    def start_shadow(self, pack_id: str, candidate_version: str, sample: str = "") -> admin_pb2.ShadowRun:
        """Start evaluating the pack's live traffic also with `candidate_version` (a fraction `sample` of it)."""
        request = admin_pb2.StartShadowRequest(pack_id=pack_id, candidate_version=candidate_version, sample=sample)
        return self._call(self._admin.StartShadow, request).run

    def shadow_report(self, pack_id: str, run_id: str = "", worst: int = 0) -> admin_pb2.GetShadowReportResponse:
        """What the pack's current or last shadow run (or the one named) found so far."""
        request = admin_pb2.GetShadowReportRequest(pack_id=pack_id, run_id=run_id, worst=worst)
        return self._call(self._admin.GetShadowReport, request, REPORT_DEADLINE_SECONDS)

    def stop_shadow(self, pack_id: str) -> admin_pb2.ShadowRun:
        """Stop the pack's shadow run; its report stays."""
        return self._call(self._admin.StopShadow, admin_pb2.StopShadowRequest(pack_id=pack_id)).run

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "JixiaoClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: Callable, request: Any, deadline: float | None = None) -> Any:
        try:
            return method(request, timeout=deadline or self.deadline, metadata=self._metadata)
        except grpc.RpcError as error:
            raise error_from_rpc(error) from error


def error_from_rpc(error: grpc.RpcError) -> JixiaoError:
    """A JixiaoError with the code, message and details of a failed call."""
    if not isinstance(error, grpc.Call):
        return JixiaoError(grpc.StatusCode.UNKNOWN, str(error))
    code = error.code()
    failure = _error(code, error.details() or code.name, rpc_status.from_call(error))
    failure.request_id = request_id_of(error)
    return failure


def error_from_status_message(status: status_pb2.Status) -> JixiaoError:
    """A JixiaoError for a google.rpc.Status carried in a reply, e.g. a batch item's error."""
    code = next((c for c in grpc.StatusCode if c.value[0] == status.code), grpc.StatusCode.UNKNOWN)
    return _error(code, status.message or code.name, status)


def error_from_status(status: grpc.Status) -> JixiaoError:
    """A JixiaoError for a status built in this process, as if a server had sent it."""
    details = dict(status.trailing_metadata or ()).get(STATUS_DETAILS_KEY)
    rich_status = status_pb2.Status.FromString(details) if details else None
    return _error(status.code, status.details or status.code.name, rich_status)


def _error(code: grpc.StatusCode, text: str, status: status_pb2.Status | None) -> JixiaoError:
    violations: list[FieldViolation] = []
    preconditions: list[PreconditionViolation] = []
    reason, metadata = "", {}
    for detail in status.details if status else ():
        if (bad_request := _unpack(detail, error_details_pb2.BadRequest)) is not None:
            violations.extend(FieldViolation(v.field, v.description)
                              for v in bad_request.field_violations)
        elif (failure := _unpack(detail, error_details_pb2.PreconditionFailure)) is not None:
            preconditions.extend(PreconditionViolation(v.type, v.subject, v.description)
                                 for v in failure.violations)
        elif (info := _unpack(detail, error_details_pb2.ErrorInfo)) is not None:
            reason, metadata = info.reason, dict(info.metadata)
    return JixiaoError(code, text, tuple(violations), tuple(preconditions), reason, metadata)


def _unpack(detail: Any, kind: type[message.Message]) -> message.Message | None:
    if not detail.Is(kind.DESCRIPTOR):
        return None
    unpacked = kind()
    detail.Unpack(unpacked)
    return unpacked


def evaluate_request(pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                     language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.EvaluateRequest:
    """The request to score `facts` with a pack version (empty: the server's choice)."""
    return evaluation_pb2.EvaluateRequest(
        pack_id=pack_id, version=version or "", facts=facts_to_struct(facts),
        language=evaluation_pb2.Language.Value(f"LANGUAGE_{language.upper()}"),
        ignore_unknown_facts=ignore_unknown)


def render_report_request(pack_id: str, facts: Mapping[str, Any], report_format: str, version: str | None = None,
                          language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.RenderReportRequest:
    """The request for the report of `facts` in `report_format` (docx, markdown or html)."""
    return evaluation_pb2.RenderReportRequest(
        request=evaluate_request(pack_id, facts, version, language, ignore_unknown),
        format=REPORT_FORMATS[report_format])


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
