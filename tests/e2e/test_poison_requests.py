"""A request that crashes a server process is contained: `jixiao-server --processes 2` with the
engine failpoint armed (JIXIAO_FAILPOINT_ENGINE_ABORT) aborts a worker on a marker fact value;
the supervisor quarantines that request, so it crashes no second worker, its callers get
INTERNAL with an error id, and healthy calls go on.

Each test's poison differs in one more fact (`output.trainings_held`), so its digest is new
to the module's server whatever ran before it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime

import grpc
import pytest
from google.protobuf import json_format, struct_pb2

from jixiao.engine.failpoints import ENGINE_ABORT_VARIABLE
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc
from jixiao_cli.channels import open_channel

from test_server_processes import Caller, log_lines, wait_for, worker_pids

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
MARKER = "123456.78"  # budget.spent of the poison; the 2019 facts say 398761.00
CALLERS = 4
CALL_DEADLINE_S = 5
ATTACK_S = 10.0
ATTACKS_PER_S = 5
BATCHES = 6
ERROR_ID = re.compile(r"quote error id ([0-9a-f]{12}) to the operators")
DIED = "worker died; restarting it"
QUARANTINED = "request quarantined: it crashed a server process"
REFUSED = "quarantined request refused"


def evaluate_request(facts: dict) -> pb.EvaluateRequest:
    struct = struct_pb2.Struct()
    struct.update(facts)
    return pb.EvaluateRequest(pack_id=PACK_ID, version="1.0.0", facts=struct)


@pytest.fixture(scope="module")
def server(launch_server):
    command = ["env", f"{ENGINE_ABORT_VARIABLE}={MARKER}", sys.executable, "-m", "jixiao.server"]
    running = launch_server("poison", command=command, args=["--processes", "2"])
    wait_for(lambda: "all workers serving" in running.log(), "both workers to serve")
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def request_2019(golden_2019_facts) -> pb.EvaluateRequest:
    return evaluate_request(golden_2019_facts)


def poison(facts: dict, variant: int) -> pb.EvaluateRequest:
    """`facts` with the failpoint's marker, `variant` trainings held (a digest of the test's own)."""
    facts = copy.deepcopy(facts)
    facts["budget"]["spent"] = MARKER
    facts["output"]["trainings_held"] = variant
    return evaluate_request(facts)


@pytest.fixture
def both_serving(server) -> None:
    """Each test starts with both workers serving (a worker a previous test crashed has restarted)."""
    def serving() -> bool:
        workers = worker_pids(server.process.pid)
        listening = {line["pid"] for line in log_lines(server) if line["event"].startswith("jixiao-server listening")}
        return len(workers) == 2 and workers <= listening
    wait_for(serving, "both workers to serve")


def moment(line: dict) -> float:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()


def serving_workers_over_time(lines: list[dict], serving: set[int]) -> tuple[int, float]:
    """The fewest workers serving at once and the longest time with none, from the log lines."""
    fewest, longest, empty_since = len(serving), 0.0, None
    for line in lines:
        if line["event"].startswith("jixiao-server listening"):
            serving.add(line["pid"])
        elif line["event"] == DIED:
            serving.discard(line["worker_pid"])
        else:
            continue
        fewest = min(fewest, len(serving))
        if not serving and empty_since is None:
            empty_since = moment(line)
        elif serving and empty_since is not None:
            longest, empty_since = max(longest, moment(line) - empty_since), None
    return fewest, longest


class Attacker(threading.Thread):
    """Sends the poison ATTACKS_PER_S times a second, each on a new retrying channel (as a CLI run would)."""

    def __init__(self, address: str, request: pb.EvaluateRequest):
        super().__init__(daemon=True)
        self._address, self._request = address, request
        self.outcomes: list[tuple[str, str]] = []  # code, message

    def run(self) -> None:
        started = time.monotonic()
        for sent in range(int(ATTACK_S * ATTACKS_PER_S)):
            time.sleep(max(0.0, started + sent / ATTACKS_PER_S - time.monotonic()))
            with open_channel(self._address) as channel:
                try:
                    evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate(self._request, timeout=CALL_DEADLINE_S)
                except grpc.RpcError as error:
                    self.outcomes.append((error.code().name, error.details() or ""))
                else:
                    self.outcomes.append(("OK", ""))


def test_a_request_that_crashes_a_worker_is_quarantined_while_healthy_calls_go_on(
        server, both_serving, request_2019, golden_2019_facts) -> None:
    start = len(server.log())
    workers = worker_pids(server.process.pid)
    stop = threading.Event()
    callers = [Caller(server.address, request_2019, stop) for _ in range(CALLERS)]
    for caller in callers:
        caller.start()
    try:
        wait_for(lambda: all(len(c.replies) >= 5 for c in callers), "the healthy load to start")
        attacker = Attacker(server.address, poison(golden_2019_facts, variant=2))
        attacker.start()
        attacker.join(timeout=ATTACK_S + 2 * CALL_DEADLINE_S)
        time.sleep(0.5)  # healthy calls go on a while after the last attack
    finally:
        stop.set()
        for caller in callers:
            caller.join(timeout=2 * CALL_DEADLINE_S)

    answered = [score for c in callers for _, score in c.replies]
    failures = [f for c in callers for f in c.failures]
    success = len(answered) / (len(answered) + len(failures))
    lines = log_lines(server, start)
    deaths = [line for line in lines if line["event"] == DIED]
    fewest_serving, longest_without = serving_workers_over_time(lines, set(workers))
    print(f"\nhealthy calls: {len(answered)} answered, {len(failures)} failed ({success:.2%}); "
          f"slowest {max(c.slowest_s for c in callers) * 1000:.0f} ms; poison calls: {len(attacker.outcomes)}; "
          f"worker deaths: {len(deaths)}; fewest workers serving: {fewest_serving}; "
          f"longest time with none: {longest_without:.3f} s")

    assert success >= 0.99, failures[:5]
    assert set(answered) == {"75.03"}
    assert max(c.slowest_s for c in callers) < CALL_DEADLINE_S

    # Every poison call, the first included (its retry reached the other worker), is refused.
    assert len(attacker.outcomes) == ATTACK_S * ATTACKS_PER_S
    assert {code for code, _ in attacker.outcomes} == {"INTERNAL"}, attacker.outcomes[:3]
    error_ids = [ERROR_ID.search(message) for _, message in attacker.outcomes]
    assert all(error_ids), attacker.outcomes[:3]

    # One worker died, by the failpoint's abort; it was contained and restarted at once.
    (died,) = deaths
    assert (died["signal"], died["contained"], died["restart_in_s"]) == ("SIGABRT", True, 0.0)
    assert (fewest_serving, longest_without) == (1, 0.0)
    (quarantined,) = [line for line in lines if line["event"] == QUARANTINED]
    assert (quarantined["worker_pid"], quarantined["signal"]) == (died["worker_pid"], "SIGABRT")
    assert quarantined["ruleset"] == f"{PACK_ID}@1.0.0/0"

    # Each refusal is logged with the digest the supervisor quarantined and the error id the caller got.
    refused = [line for line in lines if line["event"] == REFUSED]
    assert {line["digest"] for line in refused} == {quarantined["digest"]}
    assert {match[1] for match in error_ids} <= {line["error_id"] for line in refused}


def batch(channel: grpc.Channel, requests: list[pb.EvaluateRequest]) -> list[pb.BatchEvaluateResult]:
    items = [pb.BatchEvaluateRequest(key=str(number), request=request) for number, request in enumerate(requests)]
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    return list(stub.EvaluateBatch(iter(items), timeout=CALL_DEADLINE_S))


def test_a_batch_item_that_crashes_a_worker_is_quarantined_and_the_stream_goes_on(
        server, both_serving, request_2019, golden_2019_facts) -> None:
    start = len(server.log())
    requests = [request_2019, poison(golden_2019_facts, variant=3), request_2019]

    with open_channel(server.address) as channel:
        try:  # the first stream crashes its worker: UNAVAILABLE after the first result, or retried at once
            first = batch(channel, requests)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
            first = None
    wait_for(lambda: any(line["event"] == QUARANTINED for line in log_lines(server, start)), "the quarantine")
    results = [batch(channel, requests) for channel in (open_channel(server.address) for _ in range(BATCHES))]
    if first is not None:
        results.append(first)

    for answered in results:
        assert [result.key for result in answered] == ["0", "1", "2"]
        assert [answered[0].evaluation.score, answered[2].evaluation.score] == ["75.03", "75.03"]
        assert answered[1].WhichOneof("outcome") == "error"
        assert answered[1].error.code == grpc.StatusCode.INTERNAL.value[0]
        assert ERROR_ID.search(answered[1].error.message), answered[1].error.message
    lines = log_lines(server, start)
    (died,) = [line for line in lines if line["event"] == DIED]
    assert (died["signal"], died["contained"]) == ("SIGABRT", True)
    (quarantined,) = [line for line in lines if line["event"] == QUARANTINED]
    refused = [line for line in lines if line["event"] == REFUSED]
    assert len(refused) >= BATCHES and {line["digest"] for line in refused} == {quarantined["digest"]}


def test_the_cli_resends_a_request_that_crashed_a_worker_once_and_says_it_was_refused(
        server, both_serving, golden_2019_facts, tmp_path) -> None:
    start = len(server.log())
    facts = tmp_path / "poison.json"
    facts.write_text(json.dumps(json.loads(json_format.MessageToJson(poison(golden_2019_facts, variant=4).facts))))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}

    done = subprocess.run([sys.executable, "-m", "jixiao_cli", "score", str(facts), "--pack", PACK_ID,
                           "--version", "1.0.0", "--server", server.address],
                          capture_output=True, text=True, env=environment, timeout=60)

    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("server error (INTERNAL): this request crashed a server process before and is refused")
    assert ERROR_ID.search(line)
    lines = log_lines(server, start)
    assert [(line["signal"], line["contained"]) for line in lines if line["event"] == DIED] == [("SIGABRT", True)]
    assert len([line for line in lines if line["event"] == REFUSED]) == 1  # sent twice: crashed once, refused once
