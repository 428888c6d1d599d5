"""Who may call what: a server interceptor that checks bearer tokens against their roles.

PackAdminService needs a token with the `deploy` role, except its two reads
(ListPackVersions, ListActivations), which are open to whoever may evaluate: the versions a
caller can pin, and which was active when, are no secret from someone who may score with
them. AuditService needs the `audit` role, which no other role implies (nor does it imply
another). EvaluationService is open unless the server requires tokens for it (then `evaluate`
or `deploy`). Health and reflection are always open. A missing or unknown token is UNAUTHENTICATED, a token without the role
PERMISSION_DENIED. While a checked call runs, `caller()` names its token.
"""

from __future__ import annotations

import inspect

from contextvars import ContextVar
from typing import Callable, Sequence

import grpc
import structlog

from jixiao.v1 import admin_pb2, audit_pb2, evaluation_pb2

from .handlers import with_method as _with_method
from .tokens import TokenTable, hash_token

__all__ = ["ADMIN_SERVICE", "AUDIT_SERVICE", "EVALUATION_SERVICE", "AuthInterceptor", "caller", "hash_token"]

ADMIN_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["PackAdminService"].full_name
EVALUATION_SERVICE = evaluation_pb2.DESCRIPTOR.services_by_name["EvaluationService"].full_name
AUDIT_SERVICE = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
#: PackAdminService methods that change nothing; they need what evaluating needs.
READ_ONLY_ADMIN_METHODS = frozenset(f"/{ADMIN_SERVICE}/{name}" for name in ("ListPackVersions", "ListActivations"))
ANONYMOUS = "anonymous"
NO_TOKENS_CONFIGURED = (
    "pack administration is disabled: no tokens are configured. Start jixiao-server with "
    "--auth-config FILE (or JIXIAO_TOKENS) listing a token with the deploy role; see deploy/README.md")
NO_AUDIT_TOKENS = (
    "the audit service is disabled: no tokens are configured. Start jixiao-server with "
    "--auth-config FILE (or JIXIAO_TOKENS) listing a token with the audit role; see docs/audit.md")

_caller: ContextVar[str] = ContextVar("jixiao_caller", default=ANONYMOUS)

log = structlog.get_logger("jixiao.auth")


def caller() -> str:
    """The name of the token the current call was authenticated with ("anonymous" if none)."""
    return _caller.get()


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls whose bearer token lacks the role their service needs (a grpc.aio interceptor)."""

    def __init__(self, tokens: TokenTable, require_token_for_evaluate: bool = False):
        self._tokens = tokens
        self._roles = {ADMIN_SERVICE: frozenset({"deploy"}), AUDIT_SERVICE: frozenset({"audit"})}
        if require_token_for_evaluate:
            self._roles[EVALUATION_SERVICE] = frozenset({"evaluate", "deploy"})

    async def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails):
        handler = await continuation(details)
        service = details.method.strip("/").split("/")[0]
        needed = self._roles.get(EVALUATION_SERVICE if details.method in READ_ONLY_ADMIN_METHODS else service)
        if handler is None or (needed is None and service not in (ADMIN_SERVICE, EVALUATION_SERVICE)):
            return handler
        token = _bearer_token(details.invocation_metadata)
        if needed is None:  # open to all: a token sent along still names the caller, if it is one
            entry = self._tokens.identify(token) if token is not None and self._tokens.entries else None
            if entry is None:
                return handler
            return _with_method(handler, lambda behaviour: _as_caller(behaviour, entry.name))
        if not self._tokens.entries:
            return self._refuse(handler, details.method, grpc.StatusCode.UNAUTHENTICATED,
                                NO_AUDIT_TOKENS if service == AUDIT_SERVICE else NO_TOKENS_CONFIGURED)
        if token is None:
            return self._refuse(handler, details.method, grpc.StatusCode.UNAUTHENTICATED,
                                "missing bearer token: send the metadata `authorization: Bearer <token>`")
        entry = self._tokens.identify(token)
        if entry is None:
            return self._refuse(handler, details.method, grpc.StatusCode.UNAUTHENTICATED, "unknown bearer token")
        if not entry.roles & needed:
            return self._refuse(handler, details.method, grpc.StatusCode.PERMISSION_DENIED,
                                f"token '{entry.name}' lacks the role {' or '.join(sorted(needed))} "
                                f"that {service} needs", entry.name)
        return _with_method(handler, lambda behaviour: _as_caller(behaviour, entry.name))

    @staticmethod
    def _refuse(handler, method: str, code: grpc.StatusCode, message: str, name: str | None = None):
        log.info("rpc refused", method=method, code=code.name, token=name)

        async def refuse(_request, context: grpc.aio.ServicerContext):
            await context.abort(code, message)

        return _with_method(handler, lambda _behaviour: refuse)


def _bearer_token(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _as_caller(behaviour: Callable, name: str) -> Callable:
    # Each call runs in an asyncio task of its own, with its own copy of the context: the
    # name set when the behaviour starts holds for the whole call, a stream's every step
    # included, and for the threads its blocking work runs in (asyncio.to_thread copies it).
    if inspect.isasyncgenfunction(behaviour):
        async def stream(request, context):
            _caller.set(name)
            async for item in behaviour(request, context):
                yield item

        return stream

    async def run(request, context):
        _caller.set(name)
        return await behaviour(request, context)

    return run
