"""Wrapping a gRPC method handler's behaviour, whatever its kind (the server interceptors do)."""

from __future__ import annotations

from typing import Callable

import grpc

_HANDLER_KINDS = {
    (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
    (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
    (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
    (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
}


def with_method(handler: grpc.RpcMethodHandler, replace: Callable[[Callable], Callable]) -> grpc.RpcMethodHandler:
    """The same kind of handler, with its behaviour replaced by `replace(behaviour)`."""
    attribute, factory = _HANDLER_KINDS[(handler.request_streaming, handler.response_streaming)]
    return factory(replace(getattr(handler, attribute)), request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)
