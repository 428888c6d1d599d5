"""What a server process sets up for observability from its settings: one call from server.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import click

from jixiao.settings import ServerSettings

from . import metrics
from .exposition import serve_own
from .interceptor import ObservabilityInterceptor
from .tracing import Tracing, TracingUnavailable, check_available


@dataclass
class ProcessObservability:
    """The interceptor to put first, and what to call once the server has stopped."""

    interceptor: ObservabilityInterceptor
    at_stop: list[Callable[[], None]] = field(default_factory=list)


def for_server(settings: ServerSettings, *, supervised: bool) -> ProcessObservability:
    """Metrics (served here unless `supervised`: the supervisor serves its workers'), tracing
    with `--otel`, and the request-id interceptor every server has.

    Raises click.ClickException when the metrics port cannot be had or OpenTelemetry is missing.
    """
    at_stop: list[Callable[[], None]] = []
    if settings.metrics_port is not None:
        if supervised:
            metrics.enable()  # values in the supervisor's folder (PROMETHEUS_MULTIPROC_DIR)
        else:
            try:
                endpoint = serve_own(settings.host, settings.metrics_port)
            except OSError as error:
                raise click.ClickException(str(error)) from error
            at_stop.append(endpoint.close)
    tracing = None
    if settings.otel:
        try:
            tracing = Tracing.from_environment()
        except TracingUnavailable as error:
            raise click.ClickException(str(error)) from error
        at_stop.append(tracing.shutdown)
    return ProcessObservability(ObservabilityInterceptor(tracing), at_stop)


def check_tracing(settings: ServerSettings) -> None:
    """Before a supervisor starts workers: refuse --otel without OpenTelemetry, clearly."""
    if settings.otel:
        try:
            check_available()
        except TracingUnavailable as error:
            raise click.ClickException(str(error)) from error
