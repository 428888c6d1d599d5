"""The bench's lean EvaluateBatch client (on h2) agrees with grpc.aio against a real gRPC server.

bench/grpc_load.py streams through a lean client of its own built on the h2 library
(grpcio's Python layers would take the cores the server is measured on). Here both clients
stream the same rows, good and bad, through an in-process server: same counts, every key
in order, no hang when the server goes away mid-stream, and a stream that ends with a
non-OK grpc-status is reported and its unanswered rows counted.
"""

from __future__ import annotations

import collections
import copy
import itertools
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import grpc
import pytest
from google.rpc import code_pb2
from grpc_health.v1 import health, health_pb2

from jixiao.api.decoding import add_service
from jixiao.api.servicer import EvaluationServicer
from jixiao.packs import PackLibrary
from jixiao.server import build_server
from jixiao.settings import ConnectionLimits
from jixiao.v1 import evaluation_pb2 as pb

from aio_servers import served

pytest.importorskip("h2", reason="h2 is in the bench extra: pip install -e '.[bench]'")

# Appended, not prepended: bench/profile.py must not shadow the standard library's profile.
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

import bench_common  # noqa: E402
import grpc_load  # noqa: E402
from bench_common import PACK_ID, VERSION, case_facts  # noqa: E402

RULES = Path(__file__).resolve().parents[2] / "rules"


class InProcess:
    """What grpc_load.batch needs of a server: its target (and CPU, here nothing)."""

    def __init__(self, target: str):
        self.target = target

    def cpu_by_process(self) -> dict[int, float]:
        return {}


def jixiao_server(library: PackLibrary):
    """What `served` builds: the server's own build_server over `library`."""
    return lambda: build_server(library, port=0, health_servicer=health.aio.HealthServicer())


@pytest.fixture(scope="module")
def server() -> Iterator[InProcess]:
    library = PackLibrary.from_directory(RULES)
    with served(jixiao_server(library)) as running:
        yield InProcess(running.target)
    library.close()


@pytest.fixture(scope="module")
def payloads() -> list[bytes]:
    good = case_facts()
    missing = copy.deepcopy(good)
    del missing["budget"]["spent"]
    return [*grpc_load.evaluate_payloads([good, good], PACK_ID, VERSION),
            *grpc_load.evaluate_payloads([missing], PACK_ID, VERSION),
            *grpc_load.evaluate_payloads([good], "no-such-pack", "")]


@pytest.mark.parametrize("client", ["h2", "aio"])
def test_both_clients_count_the_same_evaluations_and_item_errors(server, payloads, client) -> None:
    samples: list[int] = []
    load = grpc_load.batch(server, payloads, 1_003, 3, sample=lambda: samples.append(1), sample_every=0.01,
                           client=client)
    # rows cycle good, good, missing facts, unknown pack: 1,003 rows = 250 of each and 3 more
    assert (load.calls, load.errors) == (502, 501)
    assert samples


def test_error_results_are_counted_by_status_code_and_the_warm_up_request_may_differ(server, payloads) -> None:
    codes: collections.Counter[int] = collections.Counter()
    bad_first = [payloads[2], *payloads]  # missing facts, then good, good, missing facts, unknown pack
    load = grpc_load.batch(server, bad_first, 1_000, 2, error_codes=codes, warm_up=payloads[0])
    assert (load.calls, load.errors) == (400, 600)
    assert codes == {code_pb2.INVALID_ARGUMENT: 400, code_pb2.NOT_FOUND: 200}
    with pytest.raises(RuntimeError, match="warm-up failed"):
        grpc_load.batch(server, bad_first, 10, 1)


def health_and_jixiao_server(library: PackLibrary, limits: ConnectionLimits):
    """build_server over `library` with `limits`, its service already SERVING on the health service."""
    async def build():
        health_servicer = health.aio.HealthServicer()
        built = await build_server(library, port=0, health_servicer=health_servicer, limits=limits)
        await health_servicer.set("jixiao.v1.EvaluationService", health_pb2.HealthCheckResponse.SERVING)
        return built
    return build


@pytest.mark.parametrize("limit", [2000, 30], ids=["under-the-limit", "past-the-limit"])
def test_idle_streams_are_held_open_while_health_and_evaluate_are_timed(payloads, limit) -> None:
    library = PackLibrary.from_directory(RULES)
    with served(health_and_jixiao_server(library, ConnectionLimits(max_batch_streams=limit))) as running:
        probed = grpc_load.probe_with_idle_streams(InProcess(running.target), payloads[:2], 60, 0.5,
                                                   idle_channels=3, probes=2, rate=10)
    library.close()
    assert probed.held == min(60, limit)  # streams the server refused are not counted as held
    assert probed.errors == 0 and len(probed.health) >= 4 and len(probed.evaluate) >= 4
    assert all(0 < latency < 5 for latency in probed.health + probed.evaluate)


def test_the_bench_streams_the_fuzz_tests_hostile_facts() -> None:
    payloads = bench_common.hostile_payloads(case_facts(), 50)
    assert len(payloads) == 50 and len(set(payloads)) > 40
    requests = [pb.EvaluateRequest.FromString(raw) for raw in payloads]
    assert {(r.pack_id, r.version) for r in requests} == {(PACK_ID, VERSION)}
    assert payloads == bench_common.hostile_payloads(case_facts(), 50)  # the same seed, the same facts


def test_a_result_out_of_order_fails_the_run(server, payloads, monkeypatch) -> None:
    original = grpc_load._H2Stream.send

    def send_with_wrong_key(self, key: bytes, request: bytes) -> None:
        original(self, key + b"x" if key == b"7" else key, request)

    monkeypatch.setattr(grpc_load._H2Stream, "send", send_with_wrong_key)
    with pytest.raises(AssertionError, match="answered '7' where '7x' was due"):
        grpc_load.batch(server, payloads, 20, 1)
    time.sleep(0.5)  # the server notices the closed connection: its log line lands in this test's output


def test_a_server_that_goes_away_mid_stream_fails_its_rows_instead_of_hanging(payloads, capsys) -> None:
    library = PackLibrary.from_directory(RULES)
    original = grpc_load._H2Stream._results
    stopping = threading.Event()
    with served(jixiao_server(library)) as running:
        def results_then_stop(self, check) -> None:
            original(self, check)
            if self.received >= 50 and not stopping.is_set():
                stopping.set()
                running.loop.call_soon_threadsafe(lambda: running.loop.create_task(running.server.stop(None)))

        try:
            grpc_load._H2Stream._results = results_then_stop
            load = grpc_load.batch(InProcess(running.target), payloads[:1], 100_000, 2)
        finally:
            grpc_load._H2Stream._results = original
    library.close()
    assert load.calls >= 50 and load.errors > 0 and load.calls + load.errors < 100_000  # rows never sent
    assert "an EvaluateBatch stream failed after" in capsys.readouterr().err


class AbortsAfter(EvaluationServicer):
    """Answers the first `calls_ok` EvaluateBatch calls (the client's warm-up) in full; every
    later call gets `results` results, then ends with RESOURCE_EXHAUSTED."""

    MESSAGE = "enough: 100% done, ça suffit"  # grpc-message is percent-encoded on the wire

    def __init__(self, library: PackLibrary, calls_ok: int, results: int):
        super().__init__(library)
        self.calls = itertools.count()
        self.calls_ok, self.results = calls_ok, results

    async def EvaluateBatch(self, requests, context):
        cut = next(self.calls) >= self.calls_ok
        number = 0
        async for result in super().EvaluateBatch(requests, context):
            if cut and number == self.results:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self.MESSAGE)
            number += 1
            yield result


@pytest.mark.parametrize("results", [5, 0], ids=["after-results", "trailers-only"])
def test_a_stream_that_ends_with_an_error_status_is_reported_and_its_rows_counted(payloads, capsys,
                                                                                    results) -> None:
    library = PackLibrary.from_directory(RULES)

    async def build():
        grpc_server = grpc.aio.server()
        add_service(grpc_server, pb.DESCRIPTOR.services_by_name["EvaluationService"],
                    AbortsAfter(library, 2, results))
        return grpc_server, grpc_server.add_insecure_port("127.0.0.1:0")

    with served(build) as running:
        load = grpc_load.batch(InProcess(running.target), payloads[:1], 1_000, 2)
    library.close()
    assert load.calls == 2 * results  # each stream's results before the abort, all good
    assert load.errors > 0 and load.calls + load.errors <= 1_000  # what each stream had sent, unanswered
    err = capsys.readouterr().err
    assert err.count(f"failed after {results:,} results: grpc-status 8 (RESOURCE_EXHAUSTED): "
                     f"{AbortsAfter.MESSAGE}; ") == 2, err


def test_requests_the_bench_sends_are_the_messages_a_grpc_client_would_send() -> None:
    payload = pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION).SerializeToString()
    item = pb.BatchEvaluateRequest.FromString(grpc_load.batch_item("row-1", payload))
    assert (item.key, item.request.pack_id, item.request.version) == ("row-1", PACK_ID, VERSION)
