"""How far a batch has got, on stderr: a progress bar with rate and ETA on a terminal,
a plain line every few seconds otherwise (a log file, CI), never on stdout."""

from __future__ import annotations

import sys
import time
from typing import Protocol

import click
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TaskProgressColumn,
                           TextColumn, TimeRemainingColumn)
from rich.text import Text

LOG_EVERY_SECONDS = 5.0


class BatchProgress(Protocol):
    """Told the counts as rows finish; `total` may be an estimate, or None when unknown."""

    def update(self, done: int, failed: int) -> None: ...

    def close(self) -> None: ...


def batch_progress(total: int | None, label: str) -> BatchProgress:
    """A bar when stderr is a terminal, log lines when it is not."""
    if sys.stderr.isatty():
        return ProgressBar(total, label)
    return ProgressLines(total, label)


class RateColumn(ProgressColumn):
    """Rows per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


class ProgressBar:
    """A rich progress bar on stderr, left in place when done."""

    def __init__(self, total: int | None, label: str):
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            RateColumn(), TimeRemainingColumn(), TextColumn("{task.fields[failed]}", style="red"),
            console=Console(stderr=True))
        self._task = self._progress.add_task(label, total=total, failed="")
        self._progress.start()

    def update(self, done: int, failed: int) -> None:
        self._progress.update(self._task, completed=done, failed=f"{failed} failed" if failed else "")

    def close(self) -> None:
        self._progress.stop()


class ProgressLines:
    """A line on stderr every LOG_EVERY_SECONDS: rows done, rate, ETA, failures."""

    def __init__(self, total: int | None, label: str):
        self._total = total
        self._label = label
        self._start = self._last = time.monotonic()
        self._done = 0

    def update(self, done: int, failed: int) -> None:
        now = time.monotonic()
        if now - self._last < LOG_EVERY_SECONDS:
            return
        self._last = now
        rate = done / (now - self._start) if now > self._start else 0.0
        where = f"{done}/{self._total}" if self._total else str(done)
        eta = f", ETA {(self._total - done) / rate:.0f} s" if self._total and rate and done < self._total else ""
        click.echo(f"{self._label}: {where} rows, {rate:,.0f} rows/s{eta}, {failed} failed", err=True)

    def close(self) -> None:
        """The command prints the summary line."""
