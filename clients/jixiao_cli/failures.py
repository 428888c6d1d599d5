"""The one stderr line and the exit status for each way a command can fail."""

from __future__ import annotations

import grpc

from jixiao.core.errors import PackError

from . import exit_codes
from .client import JixiaoError
from .exit_codes import CliError

#: ErrorInfo reasons of a refused signature → what the CLI calls the refusal.
SIGNATURE_REFUSALS = {
    "PACK_UNSIGNED": "the pack is not signed",
    "SIGNING_KEY_UNTRUSTED": "the signing key is not trusted",
    "PACK_CHANGED_AFTER_SIGNING": "the pack was changed after signing",
    "SIGNATURE_INVALID": "the signature is invalid",
    "SIGNATURE_MALFORMED": "signature.json is malformed",
}

#: How gRPC's message starts when no connection could be made (the server is down or
#: unreachable), as opposed to one that broke during the call ("Socket closed"): with
#: pick_first (a HOST:PORT target), and with round_robin (a dns:/// target).
CONNECT_FAILED = ("failed to connect", "connections to all backends failing")
#: How gRPC's message starts when the server's name could not be resolved (grpc-core's
#: resolver, then its c-ares one): no connection was tried at all.
RESOLVE_FAILED = ("errors resolving", "DNS resolution failed")
#: How that message ends when the server accepted the connection, then closed it: what a
#: TLS-only server does to a plaintext client.
CLOSED_AT_CONNECT = "Socket closed"
#: What to do when no server could be reached: name the right one, or work without one.
NOT_REACHED_HINT = ("no server answers there: name one with --server HOST:PORT, or score and browse "
                    "the bundled packs in this process with --local")


def describe_error(error: Exception) -> tuple[str, int]:
    """The one stderr line and the exit status for a failure."""
    if isinstance(error, CliError):
        return str(error), error.exit_code
    if isinstance(error, JixiaoError):
        message, status = _describe_api_error(error)
        return _with_request_id(message, error), status
    if isinstance(error, PackError):
        return f"invalid pack: {error}", exit_codes.USAGE
    first_line = (str(error).splitlines() or [""])[0]
    return f"internal error: {type(error).__name__}: {first_line}", exit_codes.FAILED


def _with_request_id(message: str, error: JixiaoError) -> str:
    """A server's refusal ends with the call's request id, which its log lines carry (none
    when no connection was made: no server saw the call)."""
    never_reached = error.code == grpc.StatusCode.UNAVAILABLE and (
        error.message.startswith(CONNECT_FAILED + RESOLVE_FAILED) or error.message.endswith(CLOSED_AT_CONNECT))
    if not error.request_id or never_reached:
        return message
    return f"{message} (request id {error.request_id})"


def _describe_api_error(error: JixiaoError) -> tuple[str, int]:
    code = error.code
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return (f"not authenticated: {error.message} (give a token with --token or $JIXIAO_TOKEN)",
                exit_codes.DENIED)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return f"permission denied: {error.message}", exit_codes.DENIED
    if error.reason in SIGNATURE_REFUSALS:
        status = exit_codes.USAGE if code == grpc.StatusCode.INVALID_ARGUMENT else exit_codes.FAILED
        return f"publish refused, {SIGNATURE_REFUSALS[error.reason]}: {error.message}", status
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return f"publish refused, version already published: {error.message}", exit_codes.FAILED
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        if error.violations and all(v.field.startswith("facts.") for v in error.violations):
            listed = "; ".join(f"{v.field.removeprefix('facts.')}: {v.description}"
                               for v in error.violations)
            return f"invalid facts: {listed}", exit_codes.USAGE
        return f"invalid request: {error.message}", exit_codes.USAGE
    if code == grpc.StatusCode.NOT_FOUND:
        return f"not found: {error.message}", exit_codes.USAGE
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return f"refused: {error.message}", exit_codes.FAILED
    if code == grpc.StatusCode.UNAVAILABLE and error.reason == "DATABASE_UNAVAILABLE":
        # The server answered: its database is away (a call that needs it), not a crash.
        return f"server unavailable: {error.message}", exit_codes.UNAVAILABLE
    if code == grpc.StatusCode.UNAVAILABLE and error.message.startswith(RESOLVE_FAILED):
        return (f"server unavailable: its name could not be resolved: {error.message} (check the host of "
                "--server or $JIXIAO_SERVER, or score and browse the bundled packs in this process with --local)",
                exit_codes.UNAVAILABLE)
    if code == grpc.StatusCode.UNAVAILABLE and not error.message.startswith(CONNECT_FAILED):
        return (f"server unavailable: the server closed the connection while answering this request (a server "
                f"process may have crashed on this input; evaluations are resent once): {error.message}",
                exit_codes.UNAVAILABLE)
    if code == grpc.StatusCode.UNAVAILABLE and error.message.endswith(CLOSED_AT_CONNECT):
        return (f"server unavailable: {error.message} (the server took the connection and closed it: if it "
                "speaks TLS, give its CA certificates with --tls-ca PEM or $JIXIAO_TLS_CA)", exit_codes.UNAVAILABLE)
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"server unavailable: {error.message} ({NOT_REACHED_HINT})", exit_codes.UNAVAILABLE
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"server unavailable: {error.message}", exit_codes.UNAVAILABLE
    return f"server error ({code.name}): {error.message}", exit_codes.FAILED
