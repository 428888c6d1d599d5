"""RenderReport's own part: the format asked for, the render off the event loop, the reply's limits.

The servicer evaluates the request exactly as Evaluate does (on the event loop, through
the engine's containment), then the report is rendered by `jixiao.report.render_report`.
Rendering is 0.1–1 s of CPU work (matplotlib, python-docx), too long for the event loop,
so a server renders in one thread of its own (`ReportRenderer`): health checks, Evaluate
and every other call keep being answered meanwhile, the GIL passing between that thread
and the loop. One render at a time per server process (the loop's share of the GIL stays
large, and matplotlib's global state is never used by two renders at once); at most
`DEFAULT_MAX_WAITING_REPORTS` more wait their turn, past which a request is refused with
RESOURCE_EXHAUSTED before it is evaluated (the servicer asks `check_room` first). The
render reads the pack, the evaluation and the request's facts only; the rendering
libraries raise on what they cannot write (INTERNAL with an error id; the process serves
on). The reply message is made on the event loop, whose caches the conversion keeps.

The reply stays under `REPLY_MAX_BYTES`, half of the 4 MiB gRPC clients accept by
default: a report that would be larger (texts of thousands of characters in many facts)
is refused with RESOURCE_EXHAUSTED saying its size. `--local` answers through the
servicer's `report_for`, with the same functions, so it gives the same bytes and errors.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Mapping

import grpc
from google.rpc import code_pb2, error_details_pb2

from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.results import Evaluation
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.v1 import evaluation_pb2 as pb

from .details import rich_status

if TYPE_CHECKING:
    from jixiao.report import RenderedReport

Lookup = Callable[[str, str | None], CompiledPack]

#: ReportFormat → the name `jixiao.report.render_report` takes.
FORMATS = {pb.REPORT_FORMAT_DOCX: "docx", pb.REPORT_FORMAT_MARKDOWN: "markdown", pb.REPORT_FORMAT_HTML: "html"}
#: Largest reply (the document and the evaluation): half of what a gRPC client accepts by default.
REPLY_MAX_BYTES = 2 * 1024 * 1024
#: Reports one server process holds waiting for its render thread, beyond the one rendering.
DEFAULT_MAX_WAITING_REPORTS = 16


class RendersBusy(RuntimeError):
    """Every place in this process's render queue is taken; nothing was evaluated."""

    def __init__(self, limit: int):
        super().__init__(f"this server process is already rendering a report with {limit} more waiting, its "
                         "limit; retry shortly")
        self.limit = limit


class ReportTooLarge(RuntimeError):
    """The reply would pass REPLY_MAX_BYTES."""

    def __init__(self, size: int, fmt: str):
        super().__init__(f"the {fmt} report would make a reply of {size:,} bytes, more than the "
                         f"{REPLY_MAX_BYTES:,} a reply may carry; shorten the longest texts in the facts")
        self.size = size


def renders_busy(error: RendersBusy) -> grpc.Status:
    """RESOURCE_EXHAUSTED with a QuotaFailure naming the render queue."""
    violation = error_details_pb2.QuotaFailure.Violation(subject="report renders per server process",
                                                         description=str(error))
    return rich_status(code_pb2.RESOURCE_EXHAUSTED, str(error), error_details_pb2.QuotaFailure(violations=[violation]))


def report_too_large(error: ReportTooLarge) -> grpc.Status:
    """RESOURCE_EXHAUSTED with a QuotaFailure naming the reply size limit."""
    violation = error_details_pb2.QuotaFailure.Violation(subject="RenderReport reply bytes", description=str(error))
    return rich_status(code_pb2.RESOURCE_EXHAUSTED, str(error), error_details_pb2.QuotaFailure(violations=[violation]))


#: How errors.status_for answers this module's refusals.
REPORT_REFUSALS: dict[type[Exception], Callable[..., grpc.Status]] = {
    RendersBusy: renders_busy,
    ReportTooLarge: report_too_large,
}


def report_format(value: int) -> str:
    """The render_report name of a ReportFormat; InvalidIdentifier naming `format` when unset or unknown."""
    fmt = FORMATS.get(value)
    if fmt is None:
        said = "missing" if value == pb.REPORT_FORMAT_UNSPECIFIED else f"unknown value {value}"
        raise InvalidIdentifier("format", f"{said} (expected REPORT_FORMAT_DOCX, REPORT_FORMAT_MARKDOWN "
                                          "or REPORT_FORMAT_HTML)")
    return fmt


def render(compiled: CompiledPack, evaluation: Evaluation, facts: Mapping[str, Any], fmt: str) -> RenderedReport:
    """The report document (any thread: it reads the pack, the evaluation and the facts, shares nothing)."""
    from jixiao.report import render_report  # matplotlib and python-docx: loaded at the first report

    return render_report(compiled.pack, evaluation, facts, fmt)


def reply_with(report: RenderedReport, evaluation: pb.Evaluation, fmt: str) -> pb.RenderReportResponse:
    """The reply carrying `report` and the evaluation it was built from; ReportTooLarge past the limit."""
    reply = pb.RenderReportResponse(content=report.content, media_type=report.media_type,
                                    file_name=report.file_name, evaluation=evaluation)
    size = reply.ByteSize()
    if size > REPLY_MAX_BYTES:
        raise ReportTooLarge(size, fmt)
    return reply


def outcome(reply: pb.RenderReportResponse) -> dict[str, object]:
    """The log line's fields for a reply (nothing from the facts)."""
    evaluation = reply.evaluation
    return {"version": evaluation.version, "bytes": len(reply.content), "score": evaluation.score,
            "grade": evaluation.grade}


class ReportRenderer:
    """One server process's renders: one at a time in a thread of its own, up to `max_waiting` queued."""

    def __init__(self, max_waiting: int = DEFAULT_MAX_WAITING_REPORTS):
        if max_waiting < 0:
            raise ValueError(f"a render queue cannot hold {max_waiting} reports")
        self.max_waiting = max_waiting
        self.in_hand = 0  # submitted renders not finished yet (counted on the event loop's thread)
        self._executor: ThreadPoolExecutor | None = None

    def check_room(self) -> None:
        """Raise RendersBusy when a new report would pass the queue's limit."""
        if self.in_hand > self.max_waiting:
            raise RendersBusy(self.max_waiting)

    async def render(self, compiled: CompiledPack, evaluation: Evaluation, facts: Mapping[str, Any],
                     fmt: str) -> RenderedReport:
        """`render` in the render thread, once the renders before it are done.

        A caller that cancels while its render waits takes it out of the queue; one already
        rendering finishes in the thread (a render cannot be interrupted) and still counts.
        """
        self.check_room()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jixiao-report")
        loop = asyncio.get_running_loop()
        rendering = self._executor.submit(render, compiled, evaluation, facts, fmt)
        self.in_hand += 1

        def finished(_rendering: object) -> None:
            try:
                loop.call_soon_threadsafe(self._finished)
            except RuntimeError:  # the loop is closed: the server stopped
                pass

        rendering.add_done_callback(finished)
        return await asyncio.wrap_future(rendering)

    def _finished(self) -> None:
        self.in_hand -= 1

    def close(self) -> None:
        """Stop the render thread once the renders in hand are done."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
