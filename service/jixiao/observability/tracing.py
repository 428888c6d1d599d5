"""OpenTelemetry tracing behind `--otel`: a server span per call, child of the caller's traceparent.

Nothing of OpenTelemetry is imported unless the server is started with `--otel` (it is
the `otel` extra: pip install 'jixiao[otel]'). The spans go to an OTLP gRPC exporter
configured by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _CERTIFICATE,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES…; see docs/operations.md), in batches from a
thread of the SDK, so a call never waits for the collector.
"""

from __future__ import annotations

from typing import Any

import grpc

#: The service name spans carry unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name one.
SERVICE_NAME = "jixiao-server"


class TracingUnavailable(RuntimeError):
    """--otel was asked for, but the OpenTelemetry packages are not installed."""


def check_available() -> None:
    """Raise TracingUnavailable, naming what to install, unless the otel extra is installed."""
    try:
        import opentelemetry.exporter.otlp.proto.grpc.trace_exporter  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError as error:
        raise TracingUnavailable(
            f"--otel needs OpenTelemetry, which is not installed ({error.name or error} is missing): "
            "pip install 'jixiao[otel]'") from error


class Tracing:
    """Starts and ends the server span of each call on `provider` (an SDK TracerProvider)."""

    def __init__(self, provider: Any):
        from opentelemetry import context, trace
        from opentelemetry.trace import Status, StatusCode
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.provider = provider
        self._tracer = provider.get_tracer("jixiao.server")
        self._propagator = TraceContextTextMapPropagator()
        self._trace, self._context = trace, context
        self._error = lambda code: Status(StatusCode.ERROR, code)

    @classmethod
    def from_environment(cls) -> "Tracing":
        """A provider exporting over OTLP gRPC as the OTEL_* variables say (check_available first)."""
        check_available()
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create()
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    def start(self, method: str, request_id: str, traceparent: str | None) -> Any:
        """The span of a call to `method` ("/package.Service/Method"), made current for the call."""
        parent = self._propagator.extract({"traceparent": traceparent}) if traceparent else None
        service, _, name = method.strip("/").partition("/")
        span = self._tracer.start_span(
            method.strip("/"), context=parent, kind=self._trace.SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name,
                        "jixiao.request_id": request_id})
        # The call's own task: its context, and so this, ends with the call.
        self._context.attach(self._trace.set_span_in_context(span))
        return span

    def finish(self, span: Any, code: str) -> None:
        """End the call's span with its status code (a grpc.StatusCode name)."""
        status = grpc.StatusCode.__members__.get(code, grpc.StatusCode.UNKNOWN)
        span.set_attribute("rpc.grpc.status_code", status.value[0])
        if status is not grpc.StatusCode.OK:
            span.set_status(self._error(code))
        span.end()

    def shutdown(self) -> None:
        """Export the spans still held (at the server's stop)."""
        self.provider.shutdown()
