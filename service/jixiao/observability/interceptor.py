"""One server interceptor for what every call shows operators: its request id, its latency, its span.

For every method (health and reflection included) it

- takes the caller's `x-request-id` when acceptable (request_ids.py), else makes one, and
  sets it for the call (`call_context.request_id()`, the decision's record);
- binds `request_id`, and `traceparent` when the caller sent a valid one, into structlog's
  context variables: every line logged during the call carries them. Each call runs in an
  asyncio task of its own (the interceptors too), so what is bound here stays with it;
- echoes the request id in the reply's trailing metadata, error replies included, and in
  its initial metadata too for a stream or a failure: the servicer gets the call's
  context through `ObservedCall`, whose `abort`/`abort_with_status` add the trailing
  metadata already set (the request id, a decision id) to the status's own (its rich
  details), which would otherwise replace them. A unary answer sends no headers of its
  own: gRPC sends them with the reply and its status in one batch, and a client retries
  a call that fails with UNAVAILABLE (its server process died) only while it has
  received no headers, so headers sent ahead of the reply left a window in which a
  process killed under load failed a call for good. A stream's headers go with its first
  message (or its end, or its failure), or when the servicer sends them itself
  (EvaluateBatch, at once);
- times the call into `jixiao_rpc_duration_seconds{method,code}` and counts input errors
  (metrics.py; nothing when metrics are off);
- with `--otel`, opens a server span for the call, child of the caller's traceparent (tracing.py).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Callable

import grpc
import structlog

from jixiao.api.call_context import REQUEST_ID_KEY, set_request_id
from jixiao.api.handlers import with_method

from . import metrics
from .request_ids import request_id_of, traceparent_of


class ObservedCall:
    """A call's ServicerContext, whose replies always carry the request id (see the module's docstring).

    Everything else is the context's own.
    """

    __slots__ = ("_context", "_pair", "code", "_headers_sent")

    def __init__(self, context: grpc.aio.ServicerContext, request_id: str):
        self._context = context
        self._pair = (REQUEST_ID_KEY, request_id)
        self.code: str | None = None  # the status code set or aborted with, if any
        self._headers_sent = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def begin(self) -> None:
        """Put the request id in the trailing metadata (the headers wait for the answer)."""
        self._context.set_trailing_metadata((self._pair,))

    async def send_headers(self) -> None:
        """Send the headers with the request id, unless they have gone."""
        if not self._headers_sent:
            self._headers_sent = True
            await self._context.send_initial_metadata((self._pair,))

    async def send_initial_metadata(self, metadata) -> None:
        if not self._headers_sent:
            self._headers_sent = True
            await self._context.send_initial_metadata(_with_pair(metadata, self._pair))

    async def write(self, message: Any) -> None:
        await self.send_headers()
        await self._context.write(message)

    def set_trailing_metadata(self, metadata) -> None:
        self._context.set_trailing_metadata(_with_pair(metadata, self._pair))

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = _code_name(code)
        self._context.set_code(code)

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()) -> None:
        self.code = _code_name(code)
        try:
            await self.send_headers()
        except Exception:  # noqa: BLE001 - a client that went away: the abort below ends the call all the same
            pass
        given = tuple(trailing_metadata or ())
        keys = {key for key, _ in given}
        kept = tuple(pair for pair in (self._context.trailing_metadata() or ()) if pair[0] not in keys)
        await self._context.abort(code, details, _with_pair(given + kept, self._pair))

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details, status.trailing_metadata)


def _with_pair(metadata, pair: tuple[str, str]) -> tuple:
    metadata = tuple(metadata or ())
    return metadata if any(key == pair[0] for key, _ in metadata) else metadata + (pair,)


def _code_name(code: object) -> str:
    return getattr(code, "name", None) or str(code)


def _ended(call: ObservedCall, error: BaseException | None) -> str:
    """The status code a call ended with: what it set or aborted with, else what its end says."""
    if error is None or isinstance(error, grpc.aio.AbortError):
        return call.code or "OK"
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)) or type(error).__name__ == "ExecuteBatchError":
        return "CANCELLED"  # ExecuteBatchError: gRPC could not send to a client that went away
    return "UNKNOWN"  # grpc.aio answers an exception it is not told about so


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    """Request ids, latency metrics and (with `tracing`) spans for every call; put it first."""

    def __init__(self, tracing: Any | None = None):
        self._tracing = tracing

    async def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails):
        metadata = details.invocation_metadata
        request_id, _ = request_id_of(metadata)
        traceparent = traceparent_of(metadata)
        set_request_id(request_id)
        # Bound before the next interceptors run (an auth refusal's log line carries them).
        structlog.contextvars.clear_contextvars()
        if traceparent is None:
            structlog.contextvars.bind_contextvars(request_id=request_id)
        else:
            structlog.contextvars.bind_contextvars(request_id=request_id, traceparent=traceparent)
        handler = await continuation(details)
        if handler is None:
            return None
        started = time.perf_counter()
        observe = _Observation(details.method, request_id, traceparent, started, self._tracing)
        return with_method(handler, observe.wrap)


class _Observation:
    """What the wrapped behaviour does around one call."""

    __slots__ = ("method", "request_id", "traceparent", "started", "tracing")

    def __init__(self, method: str, request_id: str, traceparent: str | None, started: float, tracing: Any):
        self.method, self.request_id, self.traceparent = method, request_id, traceparent
        self.started, self.tracing = started, tracing

    def wrap(self, behaviour: Callable) -> Callable:
        if inspect.isasyncgenfunction(behaviour):
            async def stream(request, context):
                call, span = self._begin(context)
                error = None
                try:
                    call.begin()
                    async for item in behaviour(request, call):
                        await call.send_headers()
                        yield item
                    await call.send_headers()  # a stream that ends without a message
                except BaseException as raised:
                    error = raised
                    raise
                finally:
                    self._end(call, span, error)

            return stream

        async def run(request, context):
            call, span = self._begin(context)
            error = None
            try:
                call.begin()
                return await behaviour(request, call)  # the request id goes in the trailers
            except BaseException as raised:
                error = raised
                raise
            finally:
                self._end(call, span, error)

        return run

    def _begin(self, context: grpc.aio.ServicerContext) -> tuple[ObservedCall, Any]:
        call = ObservedCall(context, self.request_id)
        span = None if self.tracing is None else self.tracing.start(self.method, self.request_id, self.traceparent)
        return call, span

    def _end(self, call: ObservedCall, span: Any, error: BaseException | None) -> None:
        code = _ended(call, error)
        metrics.rpc_finished(metrics.method_label(self.method), code, time.perf_counter() - self.started)
        if span is not None:
            self.tracing.finish(span, code)
