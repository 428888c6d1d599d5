"""The request id the CLI sends with every call, and the one a failed call names.

Each command (one run of `jixiao`) sends one `x-request-id`, a fresh uuid4 hex, with every
call it makes; the server logs it with every line about those calls and echoes it in its
replies. A server error then ends with "(request id …)": the id the reply carried, else
the one sent, so that the operators can find the call in the server's log.
"""

from __future__ import annotations

import collections
import uuid

import grpc

REQUEST_ID_KEY = "x-request-id"
#: This command's request id.
REQUEST_ID = uuid.uuid4().hex


class _CallDetails(collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                           "wait_for_ready", "compression")),
                   grpc.ClientCallDetails):
    pass


class SendRequestId(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                    grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `x-request-id: REQUEST_ID` to every call's metadata (unless the call sets one)."""

    def __init__(self, request_id: str = REQUEST_ID):
        self.request_id = request_id

    def _details(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = list(details.metadata or ())
        if not any(key == REQUEST_ID_KEY for key, _ in metadata):
            metadata.append((REQUEST_ID_KEY, self.request_id))
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


def with_request_id(channel: grpc.Channel) -> grpc.Channel:
    """`channel`, sending this command's request id with every call."""
    return grpc.intercept_channel(channel, SendRequestId())


def request_id_of(error: grpc.RpcError) -> str:
    """The request id a failed call's reply carried, else the one this command sent."""
    try:
        trailing = error.trailing_metadata() or ()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an error that is not a call has no reply
        trailing = ()
    for key, value in trailing:
        if key == REQUEST_ID_KEY and isinstance(value, str):
            return value
    return REQUEST_ID
