"""Structured logging for the server: JSON lines in production, readable in a terminal.

Every line goes to stderr, in one write: several server processes share the stream,
and a line written in pieces could interleave with another's. Call `configure_logging`
once, before the first log call. Tracebacks are logged without their frames' local
variables: those would hold facts.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, Mapping, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer

LogFormat = Literal["json", "console", "auto"]
FORMATS = ("json", "console", "auto")
LEVELS = ("debug", "info", "warning", "error")


def resolve_format(fmt: LogFormat, stream: TextIO) -> Literal["json", "console"]:
    """Resolve "auto": console for a person at a terminal, JSON for a log collector."""
    if fmt == "auto":
        return "console" if stream.isatty() else "json"
    return fmt


def configure_logging(fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None,
                      process: Mapping[str, Any] | None = None) -> None:
    """Set up structlog to write `fmt` lines at `level` and above to `stream` (stderr).

    `process` fields (e.g. a server process's worker number and pid) go on every line.
    """
    stream = stream or sys.stderr
    shared = [
        *([_add_fields(dict(process))] if process else []),
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if resolve_format(fmt, stream) == "json":
        renderer = [
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ]
    else:
        renderer = [structlog.dev.ConsoleRenderer(
            colors=stream.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )]
    structlog.configure(
        processors=[*shared, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )


def _add_fields(fields: dict[str, Any]) -> structlog.types.Processor:
    def add_fields(_logger: object, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        return {**fields, **event}

    return add_fields
