"""Rows written to the database in batches by a thread of their own, off the event loop.

A call's reply must not wait for the database, so what a sink records goes into an
in-memory queue (`put`/`write`: one deque append, O(1), safe from any thread) and a
background thread writes it: every `flush_interval_s`, or as soon as a batch's worth
(`batch_rows`) is queued, it takes everything queued at that moment and inserts it in
ONE transaction (one driver `executemany` per table). Flushes start every interval whatever
the last one took, so a row queued at time t is committed by t + flush_interval_s + the
duration of the flush that takes it: that is what a SIGKILL can lose.
`close()` writes everything still queued (the server calls it after its last reply).

Queued items are either `(table, row)` pairs or objects that `prepare` turns into one
in the writer thread: the decision log queues the `Decision` itself and builds its row
there, so the event loop pays for the append only.

The queue is bounded (`max_queued`): when the database cannot keep up or is away, the
oldest items are dropped and counted (`dropped`), with one warning line when dropping
starts and one when it stops. A database outage keeps the batch in hand and retries it
with a backoff (0.5 s doubling to 30 s), logging one line when the database goes away
and one when it is back; a batch the database refuses for another reason (a row it
cannot take) is written row by row, the refused rows counted (`refused`) and logged
once per batch, never retried forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable, Iterable

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from jixiao.database.outage import OutageLog, describe, is_unavailable

Row = tuple[sa.Table, dict[str, Any]]
#: Turns a queued item into its (table, row), or None to write nothing for it (writer thread).
Prepare = Callable[[Any], "Row | None"]
#: Learns each flush's duration in seconds and its number of rows (metrics).
OnFlush = Callable[[float, int], None]

DEFAULT_BATCH_ROWS = 500
DEFAULT_MAX_QUEUED = 100_000
#: Rows one transaction takes at most (a queue that grew during an outage is written in several).
MAX_TRANSACTION_ROWS = 5_000
#: Seconds `close` keeps trying to write what is queued while the database is away.
DEFAULT_CLOSE_TIMEOUT_S = 10.0

log = structlog.get_logger("jixiao.audit")


class BatchWriter:
    """A background thread writing queued rows through `engine` in batches (see the module)."""

    def __init__(self, engine: Engine, *, name: str = "rows", flush_interval_s: float = 0.5,
                 batch_rows: int = DEFAULT_BATCH_ROWS, max_queued: int = DEFAULT_MAX_QUEUED,
                 prepare: Prepare | None = None, on_flush: OnFlush | None = None,
                 close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S):
        if flush_interval_s <= 0:
            raise ValueError(f"a flush interval must be positive, not {flush_interval_s}")
        if batch_rows < 1 or max_queued < batch_rows:
            raise ValueError(f"need 1 <= batch_rows ({batch_rows}) <= max_queued ({max_queued})")
        self.engine = engine
        self.name = name
        self.flush_interval_s = flush_interval_s
        self.batch_rows = batch_rows
        self.max_queued = max_queued
        self.on_flush = on_flush
        self.close_timeout_s = close_timeout_s
        self.dropped = 0  # items dropped because the queue was full
        self.refused = 0  # rows the database refused (not an outage)
        self.written = 0  # rows committed
        self._prepare = prepare or _not_a_row
        self._queue: deque[Any] = deque()
        self._held = 0  # items a flush has taken and not yet written (a batch held through an outage)
        self._wake = threading.Event()
        self._closing = False
        self._stop = threading.Event()  # set by close: ends an outage's wait in the thread
        self._dropping = False  # the writer thread's view, for its one line per change
        self._dropped_seen = 0
        self._went_away: Exception | None = None
        self._outage = OutageLog(log, f"{name} writer", engine.url)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one flush at a time (the thread's, or close's)
        self._statements: dict[tuple[str, str], tuple[str, tuple[str, ...], bool]] = {}

    # --- any thread (the event loop): O(1) -------------------------------------------

    def put(self, item: Any) -> None:
        """Queue an item for the writer thread (dropping the oldest one when the queue is full)."""
        queue = self._queue
        if len(queue) >= self.max_queued:
            try:
                queue.popleft()
                self.dropped += 1
            except IndexError:  # the writer took everything meanwhile
                pass
        queue.append(item)
        if len(queue) == self.batch_rows:
            self._wake.set()

    def write(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Queue one row of `table`."""
        self.put((table, row))

    def queue_depth(self) -> int:
        """Items not yet written: those queued and the batch a flush holds (during an outage too)."""
        return len(self._queue) + self._held

    # --- life cycle -----------------------------------------------------------------

    def start(self) -> "BatchWriter":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"jixiao-{self.name}-writer", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and write everything queued (giving up after close_timeout_s of outage)."""
        self._closing = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        deadline = time.monotonic() + self.close_timeout_s
        while self._queue and self._flush(deadline):
            pass
        if self._queue:
            log.warning(f"{self.name} not written at stop: the database is unavailable", rows=len(self._queue))

    # --- the writer thread ----------------------------------------------------------

    def _run(self) -> None:
        # Flushes start every flush_interval_s, however long the last one took (at once if
        # it took longer): a row waits at most one interval for the flush that takes it.
        next_flush = time.monotonic() + self.flush_interval_s
        while not self._closing:
            self._wake.wait(max(0.0, next_flush - time.monotonic()))
            self._wake.clear()
            if self._closing:
                return
            next_flush = time.monotonic() + self.flush_interval_s
            if self._queue:
                self._flush()
            else:
                self._note_dropping()

    def flush(self) -> bool:
        """Write everything queued now (any thread); False if the database was unavailable."""
        while self._queue:
            if not self._flush(time.monotonic()):
                return False
        return True

    def _flush(self, deadline: float | None = None) -> bool:
        """Take what is queued (up to one transaction's worth) and write it, retrying an outage
        with backoff until it is written, or until `deadline` (then put back; False)."""
        with self._lock:
            self._note_dropping()
            items = self._take(MAX_TRANSACTION_ROWS)
            if not items:
                return True
            self._held = len(items)
            try:
                return self._write_batch(items, deadline)
            finally:
                self._held = 0

    def _write_batch(self, items: list[Any], deadline: float | None) -> bool:
        """`_flush`'s work on the items it took (under its lock)."""
        rows = self._rows(items)
        self._held = len(rows)
        written_before = self.written
        one_by_one = False
        while rows:
            started = time.perf_counter()
            try:
                if one_by_one:
                    rows = self._insert_one_by_one(rows)
                    self._held = len(rows)
                    if rows:  # the database went away part way
                        raise self._went_away
                else:
                    self._insert(rows)
            except Exception as error:  # noqa: BLE001 - an outage is retried; another failure, row by row
                if not is_unavailable(error):
                    log.error(f"{self.name}: the database refused a batch; writing it row by row",
                              rows=len(rows), error=type(error).__name__, detail=describe(error, self.engine.url))
                    one_by_one = True
                    continue
                pause = self._outage.failed(error)
                if deadline is None:  # the thread: a close ends its wait at once
                    if self._stop.wait(pause):
                        self._held = 0
                        self._queue.extendleft(reversed(rows))  # in order, before what came since
                        return False
                elif time.monotonic() + pause > deadline:
                    self._held = 0
                    self._queue.extendleft(reversed(rows))
                    return False
                else:
                    time.sleep(pause)
                continue
            self._outage.recovered()
            if not one_by_one:
                self.written += len(rows)
            if self.on_flush is not None:  # the rows written (row by row: not those refused)
                self.on_flush(time.perf_counter() - started, self.written - written_before)
            break
        return True

    def _take(self, limit: int) -> list[Any]:
        queue = self._queue
        items = []
        popleft = queue.popleft
        for _ in range(min(len(queue), limit)):
            try:
                items.append(popleft())
            except IndexError:
                break
        return items

    def _rows(self, items: Iterable[Any]) -> list[Row]:
        """Each item's (table, row); an item `prepare` fails on is logged and counted, not written."""
        prepare = self._prepare
        rows = []
        for item in items:
            if type(item) is tuple:  # a row already (or one put back after an outage)
                rows.append(item)
                continue
            try:
                row = prepare(item)
            except Exception as error:  # noqa: BLE001 - one bad item must not stop the log
                self.refused += 1
                log.error(f"{self.name}: an item could not be made a row", error=repr(error)[:300])
                continue
            if row is not None:
                rows.append(row)
        return rows

    def _insert(self, rows: list[Row]) -> None:
        """One transaction: one executemany per table, of the INSERT SQLAlchemy compiles for
        the dialect, the rows handed to the driver as they are (SQLAlchemy's per-row bind
        processing cost as much CPU as the driver's insert: str, bytes, bool and float need none)."""
        by_table: dict[sa.Table, list[dict[str, Any]]] = {}
        for table, row in rows:
            by_table.setdefault(table, []).append(row)
        with self.engine.connect().execution_options(writing=True) as conn:
            with conn.begin():
                for table, table_rows in by_table.items():
                    sql, names, positional = self._statement(conn.dialect, table)
                    if positional:
                        parameters = [tuple([row.get(name) for name in names]) for row in table_rows]
                    else:
                        parameters = [{name: row.get(name) for name in names} for row in table_rows]
                    conn.exec_driver_sql(sql, parameters)

    def _statement(self, dialect: sa.Dialect, table: sa.Table) -> tuple[str, tuple[str, ...], bool]:
        """The INSERT of every column of `table`, compiled once per dialect: SQL, parameter names, positional."""
        key = (dialect.name, table.name)
        statement = self._statements.get(key)
        if statement is None:
            names = tuple(column.name for column in table.columns)
            compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
            order = tuple(compiled.positiontup) if compiled.positional else names
            statement = self._statements[key] = (str(compiled), order, bool(compiled.positional))
        return statement

    def _insert_one_by_one(self, rows: list[Row]) -> list[Row]:
        """Insert each row in its own transaction, counting the refused ones; the rows left
        unwritten when the database went away part way (else [])."""
        refused = 0
        for index, row in enumerate(rows):
            try:
                self._insert([row])
            except Exception as error:  # noqa: BLE001 - counted and logged once below
                if is_unavailable(error):
                    self._went_away = error
                    return rows[index:]
                refused += 1
                if refused == 1:
                    log.error(f"{self.name}: the database refused a row", error=type(error).__name__,
                              detail=describe(error, self.engine.url))
            else:
                self.written += 1
        self.refused += refused
        return []

    def _note_dropping(self) -> None:
        """One line when items start being dropped, one when they stop (writer thread)."""
        dropped = self.dropped
        if dropped > self._dropped_seen:
            if not self._dropping:
                self._dropping = True
                log.warning(f"{self.name} queue full: the oldest are dropped until the database catches up",
                            max_queued=self.max_queued, dropped=dropped)
        elif self._dropping:
            self._dropping = False
            log.warning(f"{self.name} queue no longer full", dropped=dropped)
        self._dropped_seen = dropped


def _not_a_row(item: Any) -> Row | None:
    raise TypeError(f"not a (table, row) pair: {type(item).__name__}")
