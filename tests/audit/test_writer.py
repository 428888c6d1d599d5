"""BatchWriter: batches, a flush at close, the bounded queue, outages and refused rows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from jixiao.audit.writer import BatchWriter
from jixiao.database.connection import create_engine

metadata = sa.MetaData()
notes = sa.Table("notes", metadata, sa.Column("n", sa.Integer, primary_key=True),
                 sa.Column("text", sa.String(20), nullable=False))
others = sa.Table("others", metadata, sa.Column("n", sa.Integer, primary_key=True))


def engine_at(path: Path, create: bool = True) -> sa.Engine:
    engine = create_engine(f"sqlite:///{path}")
    if create:
        metadata.create_all(engine)
    return engine


def numbers(engine: sa.Engine, table: sa.Table = notes) -> list[int]:
    with engine.connect() as conn:
        return [n for (n,) in conn.execute(sa.select(table.c.n).order_by(table.c.n))]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_full_batch_is_written_before_the_interval_and_close_writes_the_rest(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    flushes: list[tuple[float, int]] = []
    writer = BatchWriter(engine, flush_interval_s=60, batch_rows=50, max_queued=1000,
                         on_flush=lambda seconds, rows: flushes.append((seconds, rows))).start()
    for n in range(50):
        writer.write(notes, {"n": n, "text": f"note {n}"})
    wait_for(lambda: writer.written == 50)  # long before the 60 s interval
    assert numbers(engine) == list(range(50))
    assert flushes[0][1] == 50 and flushes[0][0] > 0
    for n in range(50, 70):
        writer.write(notes, {"n": n, "text": "x"})
        writer.write(others, {"n": n})
    assert writer.queue_depth() == 40
    writer.close()
    assert numbers(engine) == list(range(70))
    assert numbers(engine, others) == list(range(50, 70))
    assert writer.queue_depth() == 0 and writer.dropped == 0
    assert sum(rows for _, rows in flushes) == 90


def test_the_interval_flushes_what_is_queued(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    writer = BatchWriter(engine, flush_interval_s=0.05, batch_rows=500).start()
    try:
        writer.write(notes, {"n": 1, "text": "one"})
        wait_for(lambda: numbers(engine) == [1], timeout=5)
    finally:
        writer.close()


def test_items_are_made_rows_by_prepare_in_the_writer_thread(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    import threading
    threads = set()

    def prepare(n: int):
        threads.add(threading.current_thread().name)
        return None if n % 2 else (notes, {"n": n, "text": str(n)})

    writer = BatchWriter(engine, flush_interval_s=0.05, prepare=prepare).start()
    for n in range(10):
        writer.put(n)
    wait_for(lambda: writer.queue_depth() == 0 and writer.written == 5)
    writer.close()
    assert numbers(engine) == [0, 2, 4, 6, 8]
    assert threads == {"jixiao-rows-writer"}


def test_a_full_queue_drops_the_oldest_counts_them_and_says_so_once(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    writer = BatchWriter(engine, flush_interval_s=0.05, batch_rows=5, max_queued=10)  # not started yet
    for n in range(25):
        writer.write(notes, {"n": n, "text": "x"})
    assert writer.dropped == 15 and writer.queue_depth() == 10
    with capture_logs() as logs:
        writer.start()
        wait_for(lambda: writer.written == 10)
        time.sleep(0.2)  # a few empty intervals: the queue is no longer full
        writer.close()
    assert numbers(engine) == list(range(15, 25))  # the newest were kept
    lines = [entry for entry in logs if "queue" in entry["event"]]
    assert [entry["event"] for entry in lines] == ["rows queue full: the oldest are dropped until the database "
                                                   "catches up", "rows queue no longer full"]
    assert lines[0]["dropped"] == 15


def test_an_outage_keeps_the_rows_and_writes_them_when_the_database_is_back(tmp_path: Path):
    folder = tmp_path / "not-yet"
    engine = engine_at(folder / "db.sqlite", create=False)  # its folder is missing: cannot be opened
    with capture_logs() as logs:
        writer = BatchWriter(engine, flush_interval_s=0.05).start()
        for n in range(3):
            writer.write(notes, {"n": n, "text": "x"})
        wait_for(lambda: any("unavailable" in entry["event"] and entry.get("task") == "rows writer"
                             for entry in logs))
        time.sleep(0.6)  # a second failed try, not logged again
        folder.mkdir()
        metadata.create_all(engine)
        wait_for(lambda: writer.written == 3)
        writer.close()
    assert numbers(engine) == [0, 1, 2]
    assert [(entry["event"], entry["task"]) for entry in logs if entry.get("task") == "rows writer"] == [
        ("database unavailable; retrying with backoff", "rows writer"), ("database back", "rows writer")]
    assert not [entry for entry in logs if "rows" in entry["event"]]  # nothing else of the writer's
    assert "db.sqlite" not in str(logs)


def test_close_gives_up_after_its_timeout_while_the_database_is_away(tmp_path: Path):
    engine = engine_at(tmp_path / "missing" / "db.sqlite", create=False)
    writer = BatchWriter(engine, flush_interval_s=60, close_timeout_s=0.3).start()
    writer.write(notes, {"n": 1, "text": "x"})
    with capture_logs() as logs:
        started = time.monotonic()
        writer.close()
    assert time.monotonic() - started < 5
    assert writer.written == 0 and writer.queue_depth() == 1
    assert logs[-1]["event"] == "rows not written at stop: the database is unavailable" and logs[-1]["rows"] == 1


def test_close_during_an_outage_does_not_wait_for_the_thread_s_backoff(tmp_path: Path):
    engine = engine_at(tmp_path / "missing" / "db.sqlite", create=False)
    writer = BatchWriter(engine, flush_interval_s=0.05, close_timeout_s=0.2).start()
    writer.write(notes, {"n": 1, "text": "x"})
    time.sleep(1.7)  # failed tries at ≈ 0.05, 0.55 and 1.55 s: the thread now waits until ≈ 3.55 s
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 1.0
    assert writer.queue_depth() == 1  # kept, in order, for close's own tries


def test_rows_the_database_refuses_are_counted_and_the_others_written(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    writer = BatchWriter(engine, flush_interval_s=60)
    writer.write(notes, {"n": 1, "text": "x"})
    writer.write(notes, {"n": 2, "text": None})  # NOT NULL
    writer.write(notes, {"n": 1, "text": "again"})  # the same key
    writer.write(notes, {"n": 3, "text": "x"})
    with capture_logs() as logs:
        writer.close()
    assert numbers(engine) == [1, 3]
    assert writer.refused == 2 and writer.written == 2
    assert sum(entry["log_level"] == "error" for entry in logs) == 2  # the batch, then its first refused row


def test_the_rows_written_one_by_one_are_what_the_flush_reports(tmp_path: Path):
    engine = engine_at(tmp_path / "db.sqlite")
    flushes: list[int] = []
    writer = BatchWriter(engine, flush_interval_s=60, on_flush=lambda seconds, rows: flushes.append(rows))
    for n, text in ((1, "x"), (2, None), (3, "x"), (4, "x")):  # n=2 is refused (NOT NULL)
        writer.write(notes, {"n": n, "text": text})
    with capture_logs():
        writer.close()
    assert numbers(engine) == [1, 3, 4]
    assert flushes == [3]


def test_the_queue_depth_counts_the_batch_held_through_an_outage(tmp_path: Path):
    engine = engine_at(tmp_path / "missing" / "db.sqlite", create=False)
    with capture_logs() as logs:
        writer = BatchWriter(engine, flush_interval_s=0.05, close_timeout_s=0.2).start()
        for n in range(5):
            writer.write(notes, {"n": n, "text": "x"})
        wait_for(lambda: any(entry.get("task") == "rows writer" for entry in logs))  # the batch is held
        writer.write(notes, {"n": 5, "text": "x"})
        try:
            assert writer.queue_depth() == 6
        finally:
            writer.close()
    assert writer.queue_depth() == 6 and writer.written == 0  # put back, counted once


@pytest.mark.parametrize("bad", [dict(flush_interval_s=0), dict(batch_rows=0), dict(batch_rows=10, max_queued=5)])
def test_settings_that_cannot_work_are_refused(tmp_path: Path, bad):
    with pytest.raises(ValueError):
        BatchWriter(engine_at(tmp_path / "db.sqlite"), **bad)
