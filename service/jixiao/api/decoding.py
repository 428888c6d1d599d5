"""Registering a service whose requests may not decode: the caller is told so, and the log says so.

gRPC decodes each request with the method's request deserializer before the servicer
runs. When it raises (invalid UTF-8 in a string, a Struct nested past protobuf's depth
limit, truncated bytes), grpc.aio answers UNKNOWN with the exception's text and writes a
traceback through the standard library's logging, outside our log lines. So the
methods are registered here, from the service's descriptor, with deserializers that
return an `Undecodable` in place of the request. A unary method then answers
INVALID_ARGUMENT ("request could not be decoded: …") and logs one line with an error id;
a stream's servicer gets the `Undecodable` as an item and answers that item alone.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import grpc
import structlog
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import code_pb2

from jixiao.core.identifiers import echo

from .details import rich_status

log = structlog.get_logger("jixiao.api")

#: How much of protobuf's own description of the failure the caller and the log get.
REASON_MAX = 200


class Undecodable:
    """What a request that could not be decoded is replaced with; `status` is the caller's answer."""

    __slots__ = ("error_id", "reason", "size")

    def __init__(self, reason: str, size: int):
        self.error_id = uuid.uuid4().hex[:12]
        self.reason = echo(reason, REASON_MAX)
        self.size = size

    def status(self) -> grpc.Status:
        """INVALID_ARGUMENT saying why, with the error id the log line carries."""
        return rich_status(code_pb2.INVALID_ARGUMENT,
                           f"request could not be decoded: {self.reason} (error id {self.error_id})")

    def log(self, method: str) -> None:
        log.warning("undecodable request", method=method, error_id=self.error_id, reason=self.reason,
                    bytes=self.size, code="INVALID_ARGUMENT")


def tolerant(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """`parse`, returning an Undecodable instead of raising."""

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception as error:  # noqa: BLE001 - whatever protobuf raises, the bytes are not a request
            return Undecodable(str(error) or type(error).__name__, len(data))

    return deserialize


def _refusing_undecodable(behaviour: Callable, method: str) -> Callable:
    """A unary method's behaviour that answers an Undecodable request itself."""

    async def run(request, context: grpc.aio.ServicerContext):
        if type(request) is Undecodable:
            request.log(method)
            await context.abort_with_status(request.status())
        return await behaviour(request, context)

    return run


def _refusing_undecodable_stream(behaviour: Callable, method: str) -> Callable:
    """A server-streaming method's behaviour (an async generator) that answers an Undecodable request itself."""

    async def run(request, context: grpc.aio.ServicerContext):
        if type(request) is Undecodable:
            request.log(method)
            await context.abort_with_status(request.status())
        async for reply in behaviour(request, context):
            yield reply

    return run


def add_service(server: grpc.aio.Server, service: ServiceDescriptor, servicer: object) -> None:
    """Serve `servicer`'s methods of `service` (each an async method named as in the proto)."""
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        reply_class = message_factory.GetMessageClass(method.output_type)
        behaviour = getattr(servicer, method.name)
        options = {"request_deserializer": tolerant(request_class.FromString),
                   "response_serializer": reply_class.SerializeToString}
        if method.client_streaming:
            factory = (grpc.stream_stream_rpc_method_handler if method.server_streaming
                       else grpc.stream_unary_rpc_method_handler)
        elif method.server_streaming:
            behaviour = _refusing_undecodable_stream(behaviour, method.name)
            factory = grpc.unary_stream_rpc_method_handler
        else:
            behaviour = _refusing_undecodable(behaviour, method.name)
            factory = grpc.unary_unary_rpc_method_handler
        handlers[method.name] = factory(behaviour, **options)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)
