"""Retention: decisions older than the period are deleted in chunks, the rest (and shadow samples) kept."""

from __future__ import annotations

import time

import sqlalchemy as sa
from structlog.testing import capture_logs

from jixiao.audit.retention import RetentionPruner, cutoff_text, prune
from jixiao.database.connection import create_engine
from jixiao.database.schema import decisions, shadow_samples

DAY = 86400.0
NOW = 1_764_780_459.25  # 2025-12-03T16:47:39.250Z


def decision_row(n: int, at: str) -> dict:
    return {"decision_id": f"{n:08d}-0000-7000-8000-000000000000", "at": at, "method": "Evaluate", "caller": "t",
            "request_id": "", "served_by": "h:1", "item_key": None, "pack_id": "p", "requested_version": "",
            "version": "1.0.0", "pack_digest": "d" * 64, "language": "", "ignore_unknown_facts": False,
            "facts": "{}", "facts_digest": "f" * 64, "outcome": "OK", "score": "1", "grade": "A",
            "reply": b"r", "reply_digest": "e" * 64, "duration_ms": 1.0}


def fill(engine, days_old: list[float]) -> None:
    rows = [decision_row(n, cutoff_text(NOW, age * DAY)) for n, age in enumerate(days_old)]
    with engine.begin() as conn:
        conn.execute(decisions.insert(), rows)
        conn.execute(shadow_samples.insert(), [{
            "run_id": "run", "decision_id": rows[0]["decision_id"], "at": rows[0]["at"], "live_version": "1",
            "live_total": "1", "live_grade": "A", "outcome": "OK"}])


def remaining(engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(int(i[:8]) for i in conn.execute(sa.select(decisions.c.decision_id)).scalars())


def test_cutoff_is_the_rows_own_time_format():
    assert cutoff_text(NOW, 0) == "2025-12-03T16:47:39.250Z"
    assert cutoff_text(NOW, 400 * DAY) == "2024-10-29T16:47:39.250Z"


def test_prune_deletes_only_older_decisions_in_chunks_and_leaves_shadow_samples(database):
    ages = [500, 401, 400.01, 399.99, 10, 0] + [450] * 23
    fill(database, ages)
    deleted = prune(database, cutoff_text(NOW, 400 * DAY), chunk_rows=7)  # 26 older: 4 chunks
    assert deleted == 26
    assert remaining(database) == [3, 4, 5]
    with database.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(shadow_samples)).scalar_one() == 1
    assert prune(database, cutoff_text(NOW, 400 * DAY)) == 0


def test_the_pruner_runs_at_start_and_each_interval_with_one_line_per_run(database):
    fill(database, [3, 2, 1, 0.5])
    clock = [NOW]
    pruner = RetentionPruner(database, 2.5 * DAY, interval_s=0.1, clock=lambda: clock[0])
    with capture_logs() as logs:
        pruner.start()
        deadline = time.monotonic() + 30
        while pruner.runs < 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert remaining(database) == [1, 2, 3]
        clock[0] = NOW + 1.6 * DAY  # a later run: two more are past the period
        runs = pruner.runs
        while pruner.runs < runs + 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        pruner.close()
    assert remaining(database) == [3]
    pruners = [entry for entry in logs if entry["event"].startswith("decision log")
               or entry.get("task") == "decision log retention"]  # not another thread's
    assert [entry["deleted"] for entry in pruners if entry["event"] == "decision log pruned"] == [1, 2]
    assert len(pruners) == 2  # runs deleting nothing say nothing


def test_the_pruner_waits_out_an_outage_with_one_line(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    pruner = RetentionPruner(engine, DAY, interval_s=0.05)
    with capture_logs() as logs:
        pruner.start()
        time.sleep(0.8)  # tries at 0 and 0.5 s: both fail
        pruner.close()
    assert pruner.runs == 0
    pruners = [entry for entry in logs if entry["event"].startswith("decision log")
               or entry.get("task") == "decision log retention"]
    assert [entry["event"] for entry in pruners] == ["database unavailable; retrying with backoff"]
    assert "db.sqlite" not in str(logs)
