"""Observability end to end: a server of two processes with --metrics-port, scraped after a
known mix of calls from many connections (every counter and histogram adds up across
both processes), the active version after an activation, a worker killed and counted as
restarted; request ids echoed and found in the server's log lines with the traceparent;
the CLI naming the request id of a server error."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import grpc
import pytest
from google.protobuf import struct_pb2
from prometheus_client.parser import text_string_to_metric_families

from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2 as pb, evaluation_pb2_grpc

from admin_calls import bearer
from conftest import AuthConfig, RunningServer

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"
METRICS = re.compile(r"metrics served on http://[\w.:\[\]-]+:(?P<port>\d+)/metrics")
GENERATED = re.compile(r"[0-9a-f]{32}")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#: The mix: Evaluate answered, refused for a malformed pack id, refused for an unknown pack;
#: one EvaluateBatch stream of answered and refused items; one RenderReport.
ANSWERED, MALFORMED, UNKNOWN = 48, 5, 3
BATCH_ANSWERED, BATCH_UNKNOWN = 10, 2
#: Connections the calls are spread over; the kernel puts each on one of the two processes
#: (all on one: a chance of 2 in 2^16).
CONNECTIONS = 16


@pytest.fixture(scope="module")
def server(launch_server, auth_config: AuthConfig) -> Iterator[RunningServer]:
    running = launch_server("observed", args=["--processes", "2", "--metrics-port", "0",
                                              "--auth-config", str(auth_config.path)])
    # Health answers once one process serves; the load must find both listening.
    deadline = time.monotonic() + 60
    while "all workers serving" not in running.log():
        assert time.monotonic() < deadline, running.log()
        time.sleep(0.05)
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def metrics_url(server: RunningServer) -> str:
    return f"http://127.0.0.1:{METRICS.search(server.log())['port']}/metrics"


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    text = urllib.request.urlopen(url, timeout=10).read().decode("utf-8")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def get(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settled(url: str, check, within_s: float = 10.0) -> dict:
    """A scrape for which `check(samples)` holds (a refused call is counted just after its
    status goes; the decision log writes every half second), else the last one."""
    deadline = time.monotonic() + within_s
    while True:
        samples = scrape(url)
        if check(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def log_lines(server: RunningServer) -> list[dict]:
    lines = []
    for line in server.log().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def evaluate_request(facts: dict, pack_id: str = PACK_ID) -> pb.EvaluateRequest:
    message = struct_pb2.Struct()
    message.update(facts)
    return pb.EvaluateRequest(pack_id=pack_id, version=VERSION, facts=message)


def test_every_counter_adds_up_over_both_processes_after_a_known_mix(server, metrics_url, golden_2019_facts):
    before = scrape(metrics_url)
    request = evaluate_request(golden_2019_facts)
    channels = [grpc.insecure_channel(server.address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(CONNECTIONS)]
    stubs = [evaluation_pb2_grpc.EvaluationServiceStub(channel) for channel in channels]

    def answered(n: int) -> str:
        reply = stubs[n % CONNECTIONS].Evaluate(request, metadata=(("x-request-id", f"load-{n}"),), timeout=30)
        return reply.grade

    def refused(n: int, pack_id: str) -> grpc.StatusCode:
        try:
            stubs[n % CONNECTIONS].Evaluate(evaluate_request(golden_2019_facts, pack_id), timeout=30)
        except grpc.RpcError as error:
            return error.code()
        raise AssertionError("answered")

    try:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            grades = list(pool.map(answered, range(ANSWERED)))
            codes = list(pool.map(refused, range(MALFORMED), ["Bad Pack!"] * MALFORMED))
            codes += list(pool.map(refused, range(UNKNOWN), ["no-such-pack"] * UNKNOWN))
        items = [pb.BatchEvaluateRequest(key=f"ok-{n}", request=request) for n in range(BATCH_ANSWERED)]
        items += [pb.BatchEvaluateRequest(key=f"unknown-{n}", request=evaluate_request(golden_2019_facts, "nope"))
                  for n in range(BATCH_UNKNOWN)]
        results = list(stubs[0].EvaluateBatch(iter(items), timeout=30))
        report = stubs[1].RenderReport(pb.RenderReportRequest(request=request, format=pb.REPORT_FORMAT_MARKDOWN),
                                       timeout=60)
    finally:
        for channel in channels:
            channel.close()
    assert set(grades) == {"中"} and report.evaluation.grade == "中"
    assert codes.count(grpc.StatusCode.INVALID_ARGUMENT) == MALFORMED and codes.count(grpc.StatusCode.NOT_FOUND) == 3
    assert sum(r.HasField("error") for r in results) == BATCH_UNKNOWN

    # Both processes answered some of the calls (each connection lands on one of them).
    workers = {line.get("worker") for line in log_lines(server) if str(line.get("request_id", "")).startswith("load-")}
    assert workers == {0, 1}

    decisions = ANSWERED + MALFORMED + UNKNOWN + BATCH_ANSWERED + BATCH_UNKNOWN + 1

    def delta(samples, name, **labels) -> float:
        return get(samples, name, **labels) - get(before, name, **labels)

    def all_counted(samples) -> bool:
        return (delta(samples, "jixiao_rpc_duration_seconds_count", method="Evaluate", code="NOT_FOUND") == UNKNOWN
                and delta(samples, "jixiao_decision_log_rows_total") >= decisions
                and get(samples, "jixiao_decision_log_queue_depth") == 0)

    after = settled(metrics_url, all_counted)
    rpc = "jixiao_rpc_duration_seconds"
    assert delta(after, f"{rpc}_count", method="Evaluate", code="OK") == ANSWERED
    assert delta(after, f"{rpc}_count", method="Evaluate", code="INVALID_ARGUMENT") == MALFORMED
    assert delta(after, f"{rpc}_count", method="Evaluate", code="NOT_FOUND") == UNKNOWN
    assert delta(after, f"{rpc}_count", method="EvaluateBatch", code="OK") == 1
    assert delta(after, f"{rpc}_count", method="RenderReport", code="OK") == 1
    for method, code in (("Evaluate", "OK"), ("Evaluate", "INVALID_ARGUMENT"), ("RenderReport", "OK")):
        count = get(after, f"{rpc}_count", method=method, code=code)
        assert get(after, f"{rpc}_bucket", method=method, code=code, le="+Inf") == count
        assert 0 < get(after, f"{rpc}_sum", method=method, code=code)
    assert get(after, f"{rpc}_bucket", method="Evaluate", code="OK", le="0.0005") <= \
        get(after, f"{rpc}_bucket", method="Evaluate", code="OK", le="1.0")

    graded = dict(pack=PACK_ID, version=VERSION, grade="中")
    assert delta(after, "jixiao_evaluations_total", method="Evaluate", **graded) == ANSWERED
    assert delta(after, "jixiao_evaluations_total", method="EvaluateBatch", **graded) == BATCH_ANSWERED
    assert delta(after, "jixiao_evaluations_total", method="RenderReport", **graded) == 1
    assert delta(after, "jixiao_input_errors_total", method="Evaluate", code="INVALID_ARGUMENT") == MALFORMED
    assert delta(after, "jixiao_input_errors_total", method="Evaluate", code="NOT_FOUND") == UNKNOWN
    assert delta(after, "jixiao_input_errors_total", method="EvaluateBatch", code="NOT_FOUND") == BATCH_UNKNOWN
    assert not any(name == "jixiao_engine_failures_total" and value for (name, _), value in after.items())
    # Every decision written by the decision log, in flushes timed by the histogram; nothing left queued.
    assert delta(after, "jixiao_decision_log_rows_total") == decisions
    assert delta(after, "jixiao_decision_log_flush_seconds_count") >= 1
    assert get(after, "jixiao_decision_log_queue_depth") == 0


def test_the_active_version_follows_an_activation_and_each_process_counts_its_reload(
        server, metrics_url, auth_config):
    before = scrape(metrics_url)
    assert get(before, "jixiao_active_version", pack=PACK_ID, version="1.1.1") == 1
    with server.channel() as channel:
        admin = admin_pb2_grpc.PackAdminServiceStub(channel)
        admin.ActivatePackVersion(admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version="1.0.0"),
                                  metadata=bearer(auth_config.deploy_token), timeout=30)
        reloads = get(before, "jixiao_registry_reloads_total")
        after = settled(metrics_url, lambda s: get(s, "jixiao_registry_reloads_total") == reloads + 2)
        assert get(after, "jixiao_active_version", pack=PACK_ID, version="1.0.0") == 1
        assert get(after, "jixiao_active_version", pack=PACK_ID, version="1.1.1") == 0
        assert get(after, "jixiao_registry_reloads_total") == reloads + 2  # one per process
        admin.RollbackPack(admin_pb2.RollbackPackRequest(pack_id=PACK_ID),
                           metadata=bearer(auth_config.deploy_token), timeout=30)


def test_request_ids_are_echoed_and_carried_by_the_calls_log_lines(server, golden_2019_facts):
    request = evaluate_request(golden_2019_facts)
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        _, given = stub.Evaluate.with_call(request, metadata=(("x-request-id", "portal:case/42"),
                                                               ("traceparent", TRACEPARENT)), timeout=30)
        _, replaced = stub.Evaluate.with_call(request, metadata=(("x-request-id", "drop table;"),), timeout=30)
        with pytest.raises(grpc.RpcError) as refused:
            admin_pb2_grpc.PackAdminServiceStub(channel).ActivatePackVersion(
                admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version="1.0.0"),
                metadata=(("x-request-id", "no-token-7"),), timeout=30)
    assert dict(given.trailing_metadata())["x-request-id"] == "portal:case/42"
    assert "x-request-id" not in dict(given.initial_metadata())  # no headers ahead of a unary reply
    generated = dict(replaced.trailing_metadata())["x-request-id"]
    assert GENERATED.fullmatch(generated)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert dict(refused.value.trailing_metadata())["x-request-id"] == "no-token-7"

    lines = log_lines(server)
    [traced] = [line for line in lines if line.get("request_id") == "portal:case/42"]
    assert traced["event"] == "rpc" and traced["traceparent"] == TRACEPARENT and traced["code"] == "OK"
    assert [line["event"] for line in lines if line.get("request_id") == generated] == ["rpc"]
    assert "drop table" not in server.log()
    # The auth interceptor's refusal is logged inside the call: it carries the id too.
    assert [line["event"] for line in lines if line.get("request_id") == "no-token-7"] == ["rpc refused"]


def test_the_cli_names_the_request_id_of_a_server_error(server, tmp_path, golden_2019_facts):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(golden_2019_facts, ensure_ascii=False, default=str), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("JIXIAO_DEBUG", "JIXIAO_SERVER", "COLUMNS")}
    done = subprocess.run([sys.executable, "-m", "jixiao_cli", "score", str(facts), "--pack", "no-such-pack",
                           "--server", server.address], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    match = re.fullmatch(r"not found: .*no-such-pack.* \(request id (?P<id>[0-9a-f]{32})\)\n", done.stderr)
    assert match, done.stderr
    logged = [line for line in log_lines(server) if line.get("request_id") == match["id"]]
    assert [(line["event"], line["code"]) for line in logged] == [("rpc", "NOT_FOUND")]


def test_a_killed_worker_is_counted_as_restarted_and_its_counts_stay(server, metrics_url):
    before = scrape(metrics_url)
    answered = get(before, "jixiao_evaluations_total", method="Evaluate", pack=PACK_ID, version=VERSION, grade="中")
    assert answered >= ANSWERED
    pids = [line["worker_pid"] for line in log_lines(server) if line.get("event") == "worker started"]
    os.kill(pids[0], signal.SIGKILL)
    restarts = get(before, "jixiao_worker_restarts_total")
    after = settled(metrics_url, lambda s: get(s, "jixiao_worker_restarts_total") == restarts + 1, within_s=20)
    assert get(after, "jixiao_worker_restarts_total") == restarts + 1
    # The dead process's counters are still counted (its live gauges are dropped).
    assert get(after, "jixiao_evaluations_total", method="Evaluate", pack=PACK_ID, version=VERSION,
               grade="中") == answered
