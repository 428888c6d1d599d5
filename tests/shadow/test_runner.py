"""The shadow sink in one process: which decisions it samples, the candidate evaluated on
the event loop after the reply (calls served between two of them), the rows it writes,
a full queue, following runs started elsewhere, and its stop."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from structlog.testing import capture_logs

from jixiao.api import convert
from jixiao.api.decisions import Decision, new_decision_id
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.database.schema import shadow_samples
from jixiao.packs import BUNDLED_PACKS, PackNotFound, load_pack_dir
from jixiao.registry.store import Registry
from jixiao.shadow.report import OK, parse_nodes
from jixiao.shadow.runner import ShadowSink
from jixiao.shadow.runs import ShadowRuns
from jixiao.shadow.sampling import sampled, threshold
from jixiao.v1 import evaluation_pb2 as pb

from jixiao_cli.client import facts_to_struct

from postgres_server import ON_BOTH_DATABASES

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
from bench_common import variants  # noqa: E402

PACK = "quality-district-funding"


class Versions:
    """The two versions compiled, as the catalog gives them."""

    def __init__(self) -> None:
        self.loaded = {v: load_pack_dir(BUNDLED_PACKS / PACK / v) for v in ("1.0.0", "1.1.0")}

    def get(self, pack_id: str, version: str | None = None):
        return self.loaded[version or "1.0.0"].compiled


class Rows:
    """What the decision log's writer would be handed."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.threads: set[str] = set()

    def write(self, table, row) -> None:
        assert table is shadow_samples
        self.threads.add(threading.current_thread().name)
        self.rows.append(row)


@pytest.fixture(scope="module")
def versions() -> Iterator[Versions]:
    made = Versions()
    yield made
    for loaded in made.loaded.values():
        loaded.compiled.close()


@pytest.fixture(scope="module")
def facts(versions: Versions) -> list[dict]:
    return variants(versions.get(PACK, "1.0.0"), 60, seed=7)


def decision(versions: Versions, facts: dict, version: str = "1.0.0", language: str = "zh") -> Decision:
    request = pb.EvaluateRequest(pack_id=PACK, facts=facts_to_struct(facts))
    compiled = versions.get(PACK, version)
    evaluation = evaluate(compiled, convert.facts_from_struct(request.facts), language)
    return Decision(decision_id=new_decision_id(), at_ms=0, method="Evaluate", caller="test", request_id="r",
                    request=request, compiled=compiled, evaluation=evaluation,
                    reply=convert.evaluation_bytes(evaluation))


def test_sampled_decisions_are_evaluated_with_the_candidate_after_the_reply(
        registry: Registry, versions: Versions, facts: list[dict]) -> None:
    runs = ShadowRuns(registry.engine)
    run = runs.start(PACK, "1.1.0", "d" * 64, "0.5", "ops")
    rows = Rows()

    async def scenario() -> tuple[int, list[int]]:
        sink = ShadowSink(runs, versions, rows).start()
        made = [decision(versions, f) for f in facts]
        made.append(decision(versions, facts[0], "1.1.0"))  # answered by the candidate: compared with itself
        failed = decision(versions, facts[1])
        failed.evaluation = None  # refused: nothing to compare
        made.append(failed)
        for d in made:
            sink.decided(d)
        queued = len(rows.rows)  # decided() only took note
        seen: list[int] = []

        async def another_call() -> None:  # what the loop serves meanwhile
            while len(rows.rows) < expected:
                seen.append(len(rows.rows))
                await asyncio.sleep(0)

        bound = threshold(__import__("decimal").Decimal("0.5"))
        expected = sum(sampled(d.decision_id, bound) for d in made[:-2])
        await asyncio.wait_for(another_call(), 30)
        await asyncio.to_thread(sink.stop)
        return queued, seen, made, expected

    queued, seen, made, expected = asyncio.run(scenario())
    assert queued == 0 and 10 < expected < 50
    assert len(rows.rows) == expected
    assert len(set(seen)) >= expected - 1  # a turn of the loop between any two candidate evaluations
    assert rows.threads == {"MainThread"}  # the engine ran on the loop's thread only
    by_id = {d.decision_id: d for d in made}
    for row in rows.rows:
        live = by_id[row["decision_id"]]
        assert sampled(row["decision_id"], threshold(__import__("decimal").Decimal("0.5")))
        candidate = evaluate(versions.get(PACK, "1.1.0"), convert.facts_from_struct(live.request.facts))
        assert row["run_id"] == run.run_id and row["live_version"] == "1.0.0"
        assert row["outcome"] == OK and row["candidate_total"] == convert.decimal_text(candidate.score)
        assert (row["live_total"], row["live_grade"], row["candidate_grade"]) == (
            convert.decimal_text(live.evaluation.score), live.evaluation.grade, candidate.grade)
        nodes = parse_nodes(row["nodes"])
        assert list(nodes) == [n.id for n in live.evaluation.nodes()]
        scores = {n.id: n.score for n in candidate.nodes()}
        assert all(pair == (n.score, scores.get(n.id)) for n, pair in zip(live.evaluation.nodes(), nodes.values()))


def test_a_full_queue_drops_and_counts_and_a_candidate_refusal_is_recorded(
        registry: Registry, versions: Versions, facts: list[dict]) -> None:
    runs = ShadowRuns(registry.engine)
    run = runs.start(PACK, "1.1.0", "d" * 64, "1", "ops")
    rows = Rows()

    async def scenario() -> ShadowSink:
        sink = ShadowSink(runs, versions, rows, queue_size=3).start()
        odd = decision(versions, facts[0])
        odd.request.facts.update({"no_such_fact": 1})  # the live call ignored it; the candidate refuses
        odd.request.ignore_unknown_facts = False
        for d in [odd, *(decision(versions, f) for f in facts[1:6])]:
            sink.decided(d)
        await asyncio.to_thread(sink.stop)
        return sink

    sink = asyncio.run(scenario())
    assert sink.dropped == {run.run_id: 3} and len(rows.rows) == 3
    assert rows.rows[0]["outcome"] == "INVALID_ARGUMENT" and rows.rows[0]["nodes"] is None


@ON_BOTH_DATABASES
def test_runs_started_and_stopped_elsewhere_are_followed(registry: Registry, registry_url: str,
                                                         versions: Versions) -> None:
    elsewhere = Registry(registry_url)
    try:
        async def scenario() -> None:
            sink = ShadowSink(ShadowRuns(registry.engine), versions, Rows(), poll_interval=0.05).start()
            assert sink.following() == {}
            run = await asyncio.to_thread(ShadowRuns(elsewhere.engine).start, PACK, "1.1.0", "d" * 64, "0.1", "x")
            await until(lambda: sink.following() == {PACK: run})
            await asyncio.to_thread(ShadowRuns(elsewhere.engine).stop, PACK, "x")
            await until(lambda: sink.following() == {})
            await asyncio.to_thread(sink.stop)

        asyncio.run(scenario())
    finally:
        elsewhere.close()


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not followed in time: {condition.__doc__}"
        await asyncio.sleep(0.02)


class WithoutCandidate(Versions):
    """A server that does not serve the candidate (say, its signature is not trusted here)."""

    def __init__(self, versions: Versions) -> None:
        self.loaded = versions.loaded
        self.asked: list[str | None] = []

    def get(self, pack_id: str, version: str | None = None):
        self.asked.append(version)
        if version == "1.1.0":
            raise PackNotFound("quality-district-funding@1.1.0 is published but this server does not serve it",
                               pack_id, version)
        return super().get(pack_id, version)


def test_a_candidate_not_served_here_is_said_once_and_makes_candidate_errors(
        registry: Registry, versions: Versions, facts: list[dict]) -> None:
    runs = ShadowRuns(registry.engine)
    runs.start(PACK, "1.1.0", "d" * 64, "1", "ops")
    rows, catalog = Rows(), WithoutCandidate(versions)

    async def scenario() -> None:
        with capture_logs() as logs:
            sink = ShadowSink(runs, catalog, rows).start()  # follows the run at once, asks for the candidate
        assert catalog.asked == ["1.1.0"] and sink.following()[PACK].candidate_version == "1.1.0"
        assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == [
            "shadow candidate not served here: its samples will be candidate errors"]
        sink.decided(decision(versions, facts[0]))
        await asyncio.to_thread(sink.stop)

    asyncio.run(scenario())
    assert [row["outcome"] for row in rows.rows] == ["NOT_FOUND"]
