"""Shadow runs and samples in the database: one running run per pack, stop, which run a
report reads, samples read back in order, and concurrent starts, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from jixiao.registry.store import Registry
from jixiao.shadow import runs as runs_module
from jixiao.shadow.report import OK, nodes_json
from jixiao.shadow.runs import NoShadowRunGoing, ShadowRunGoing, ShadowRunNotFound, ShadowRuns

from postgres_server import ON_BOTH_DATABASES

PACK = "quality-district-funding"
DIGEST = "ab" * 32


@ON_BOTH_DATABASES
def test_one_running_run_per_pack_then_stop(runs: ShadowRuns) -> None:
    run = runs.start(PACK, "1.1.0", DIGEST, "0.5", "ops-alice")
    assert run.running and (run.pack_id, run.candidate_version, run.candidate_digest, run.sample,
                            run.started_by) == (PACK, "1.1.0", DIGEST, "0.5", "ops-alice")
    assert runs.running() == [run]
    with pytest.raises(ShadowRunGoing) as going:
        runs.start(PACK, "1.0.1", DIGEST, "1", "ops-bob")
    assert run.run_id in str(going.value) and "jixiao pack shadow stop" in str(going.value)
    other = runs.start("project-expenditure-framework", "1.0.1", DIGEST, "1", "ops-bob")
    assert {r.run_id for r in runs.running()} == {run.run_id, other.run_id}

    stopped = runs.stop(PACK, "ops-carol")
    assert not stopped.running and stopped.stopped_by == "ops-carol" and stopped.run_id == run.run_id
    assert runs.running() == [other]
    assert runs.run(PACK) == stopped  # the last run, once none is going
    with pytest.raises(NoShadowRunGoing):
        runs.stop(PACK, "ops-carol")

    again = runs.start(PACK, "1.0.1", DIGEST, "0.1", "ops-alice")
    assert runs.run(PACK) == again  # the running one first
    assert runs.run(PACK, run.run_id) == stopped  # or the one named
    with pytest.raises(ShadowRunNotFound):
        runs.run(PACK, "00000000-0000-7000-8000-000000000000")
    with pytest.raises(ShadowRunNotFound, match="has had no shadow run"):
        runs.run("no-such-pack")


def sample_row(run_id: str, index: int, outcome: str = OK) -> dict:
    return {"run_id": run_id, "decision_id": f"{index:08x}-0000-7000-8000-000000000000",
            "at": "2026-12-03T17:00:00.000Z", "live_version": "1.0.0", "live_total": f"{70 + index % 7}.5",
            "live_grade": "中", "outcome": outcome,
            "candidate_total": None if outcome != OK else f"{71 + index % 5}.25",
            "candidate_grade": None if outcome != OK else "良",
            "nodes": None if outcome != OK else nodes_json([("a", "1.5", "2"), ("b", "3", None)])}


@ON_BOTH_DATABASES
def test_samples_come_back_in_decision_order_across_read_batches(runs: ShadowRuns, monkeypatch) -> None:
    monkeypatch.setattr(runs_module, "READ_BATCH", 4)
    run = runs.start(PACK, "1.1.0", DIGEST, "1", "ops-alice")
    other = runs.start("project-expenditure-framework", "1.0.1", DIGEST, "1", "ops-alice")
    rows = [sample_row(run.run_id, i, OK if i % 3 else "INVALID_ARGUMENT") for i in (9, 3, 7, 0, 1, 8, 2, 5, 4, 6)]
    assert runs.add_samples(rows[:6]) == 6 and runs.add_samples(rows[6:]) == 4 and runs.add_samples([]) == 0
    runs.add_samples([sample_row(other.run_id, 11)])
    samples = list(runs.samples(run.run_id))
    assert [s.decision_id[:8] for s in samples] == [f"{i:08x}" for i in range(10)]
    first_ok = samples[1]
    assert (first_ok.live_total, first_ok.candidate_total, first_ok.candidate_grade) == (
        Decimal("71.5"), Decimal("72.25"), "良")
    assert list(first_ok.nodes.items()) == [("a", (Decimal("1.5"), Decimal(2))), ("b", (Decimal(3), None))]
    assert samples[0].outcome == "INVALID_ARGUMENT" and samples[0].candidate_total is None
    assert [s.decision_id for s in runs.samples(other.run_id)] == ["0000000b-0000-7000-8000-000000000000"]


@ON_BOTH_DATABASES
def test_servers_starting_a_run_at_once_start_one(registry: Registry, registry_url: str) -> None:
    contenders = [Registry(registry_url) for _ in range(4)]
    barrier = threading.Barrier(len(contenders))
    outcomes: list[object] = []

    def start(index: int) -> None:
        barrier.wait()
        try:
            outcomes.append(ShadowRuns(contenders[index].engine).start(PACK, "1.1.0", DIGEST, "1", f"ops-{index}"))
        except ShadowRunGoing as error:
            outcomes.append(error)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for contender in contenders:
        contender.close()
    started = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == 4 and len(started) == 1, outcomes
    assert ShadowRuns(registry.engine).running() == started
