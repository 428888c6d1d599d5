"""Fuzz the real server with hostile facts: it stays up, and every answer is the reference's.

Thousands of spoiled requests (tests/e2e/hostile_facts.py) go through EvaluateBatch and,
one in ten, through Evaluate. Each must be answered OK or INVALID_ARGUMENT, never with
another code; every OK reply must equal, field for field, what the plain reference
evaluator (Decimal comparisons, no rule engine) gives for the same Struct; and the
server process must still be alive and SERVING at the end.

JIXIAO_FUZZ_SEED and JIXIAO_FUZZ_CASES choose the run (defaults: a fixed seed, 2,000
cases); a failure names the seed and the case so that it can be replayed. The bundled
project-expenditure framework pack (derived values, a choice, not-applicable leaves,
constraints, overrides) gets its own spoiled requests (`framework_cases`, 1,000 by default,
JIXIAO_FUZZ_CASES when set), half of them with ignore_unknown_facts.
"""

from __future__ import annotations

import copy
import os
import time

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.api import convert
from jixiao.core.evaluation.compiler import plain_matcher
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import load_pack_dir
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from conftest import RULES
from jixiao.core.pack.cases import load_case

from hostile_facts import FLOATS, NUMBER_TEXTS, framework_cases, hostile_cases

pytestmark = pytest.mark.e2e

PACK = "quality-district-funding"
VERSIONS = ("1.0.0", "1.1.0")
SEED = int(os.environ.get("JIXIAO_FUZZ_SEED", "20261203"))
CASES = int(os.environ.get("JIXIAO_FUZZ_CASES", "2000"))
LANGUAGES = (pb.LANGUAGE_UNSPECIFIED, pb.LANGUAGE_ZH, pb.LANGUAGE_EN)
FRAMEWORK = "project-expenditure-framework"
FRAMEWORK_CASES = int(os.environ.get("JIXIAO_FUZZ_CASES", "1000"))


@pytest.fixture(scope="module")
def server(launch_server):
    return launch_server("fuzz")


@pytest.fixture(scope="module")
def reference():
    """Each version compiled with the plain matcher: the executable specification."""
    packs = {version: load_pack_dir(RULES / PACK / version, plain_matcher).compiled for version in VERSIONS}
    yield packs
    for compiled in packs.values():
        compiled.close()


def _requests(golden_2019_facts: dict) -> list[pb.EvaluateRequest]:
    requests = []
    for number, facts in enumerate(hostile_cases(golden_2019_facts, SEED, CASES)):
        struct = struct_pb2.Struct()
        struct.update(facts)
        requests.append(pb.EvaluateRequest(pack_id=PACK, version=VERSIONS[number % 2], facts=struct,
                                           language=LANGUAGES[number % 3]))
    return requests


def _expected(request: pb.EvaluateRequest, reference) -> pb.Evaluation | None:
    """The reference's reply, or None when the facts are invalid (INVALID_ARGUMENT expected)."""
    facts = convert.facts_from_struct(request.facts)
    try:
        evaluation = evaluate(reference[request.version], facts, convert.language_code(request.language),
                              ignore_unknown=request.ignore_unknown_facts)
    except FactsError:
        return None
    return convert.evaluation_message(evaluation)


def _check(number: int, request, reply: pb.Evaluation | None, code: int, message: str, reference,
           problems: list[str]) -> None:
    where = f"case {number} (JIXIAO_FUZZ_SEED={SEED})"
    if reply is not None:
        reply.ClearField("decision_id")  # the server's decision log gave it one; the reference has none
    if code not in (code_pb2.OK, code_pb2.INVALID_ARGUMENT):
        problems.append(f"{where}: {code_pb2.Code.Name(code)} {message[:200]}")
        return
    expected = _expected(request, reference)
    if expected is None and code != code_pb2.INVALID_ARGUMENT:
        problems.append(f"{where}: the reference refuses these facts, the server answered OK")
    elif expected is not None and code != code_pb2.OK:
        problems.append(f"{where}: the reference scores these facts, the server answered {message[:200]}")
    elif expected is not None and reply != expected:
        problems.append(f"{where}: reply differs from the reference: total {reply.score} vs {expected.score}")


def _send_all(server, requests: list[pb.EvaluateRequest], reference) -> tuple[list, float]:
    """Every request through EvaluateBatch, and one in ten through Evaluate too, each answer
    checked against the reference (`_check`); the server must still be alive and SERVING.
    Returns the batch results and the seconds the stream took."""
    problems: list[str] = []
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        started = time.perf_counter()
        items = (pb.BatchEvaluateRequest(key=str(n), request=r) for n, r in enumerate(requests))
        results = list(stub.EvaluateBatch(items, timeout=600))
        streamed_s = time.perf_counter() - started
        assert [r.key for r in results] == [str(n) for n in range(len(requests))]
        for number, (request, result) in enumerate(zip(requests, results)):
            if result.HasField("evaluation"):
                _check(number, request, result.evaluation, code_pb2.OK, "", reference, problems)
            else:
                _check(number, request, None, result.error.code, result.error.message, reference, problems)
        for number in range(0, len(requests), 10):
            try:
                reply = stub.Evaluate(requests[number], timeout=30)
            except grpc.RpcError as error:
                _check(number, requests[number], None, error.code().value[0], error.details() or "", reference,
                       problems)
            else:
                _check(number, requests[number], reply, code_pb2.OK, "", reference, problems)
        assert server.process.poll() is None, f"the server died:\n{server.log()[-3000:]}"
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert not problems, f"{len(problems)} of {len(requests)} cases went wrong:\n" + "\n".join(problems[:30])
    return results, streamed_s


def test_hostile_facts_never_crash_and_always_agree_with_the_reference(server, golden_2019_facts, reference):
    requests = _requests(golden_2019_facts)
    results, streamed_s = _send_all(server, requests, reference)
    accepted = sum(r.HasField("evaluation") for r in results)
    # Both kinds of answer must be exercised, or the fuzz proves little.
    assert 0 < accepted < len(requests)
    print(f"fuzz: {len(requests)} cases streamed in {streamed_s:.2f} s "
          f"({len(requests) / streamed_s:.0f}/s), {accepted} scored, {len(requests) - accepted} refused")


@pytest.fixture(scope="module")
def framework_reference():
    """The framework pack compiled with the plain matcher, keyed by its version as `_check` expects."""
    compiled = load_pack_dir(RULES / FRAMEWORK / "1.0.0", plain_matcher).compiled
    yield {"1.0.0": compiled}
    compiled.close()


def _framework_requests() -> list[pb.EvaluateRequest]:
    """Spoiled copies of two of its golden cases' facts: everything applicable, and two leaves
    not applicable with the facts only they read left out."""
    bases = []
    for name in ("excellent", "not-applicable"):
        path = RULES / FRAMEWORK / "1.0.0" / "cases" / f"{name}.yaml"
        bases.append(load_case(path.read_text(encoding="utf-8"), str(path)).facts)
    requests = []
    for half, base in enumerate(bases):
        count = FRAMEWORK_CASES // 2 + (FRAMEWORK_CASES % 2) * (1 - half)
        for number, facts in enumerate(framework_cases(base, SEED + half, count)):
            struct = struct_pb2.Struct()
            struct.update(facts)
            requests.append(pb.EvaluateRequest(pack_id=FRAMEWORK, version="1.0.0", facts=struct,
                                               language=LANGUAGES[number % 3], ignore_unknown_facts=number % 2 == 1))
    return requests


def test_hostile_framework_requests_never_crash_and_always_agree_with_the_reference(server, framework_reference):
    """Its choice, derived values' inputs, not-applicable flags, reasons and deferred inputs,
    broken constraints, unknown and misspelt names, nested and flat duplicates, with
    ignore_unknown_facts on and off: OK equal to the reference, or INVALID_ARGUMENT."""
    requests = _framework_requests()
    results, streamed_s = _send_all(server, requests, framework_reference)
    accepted = sum(r.HasField("evaluation") for r in results)
    not_applicable = sum(r.HasField("evaluation") and r.evaluation.not_applicable_treatment != "" for r in results)
    assert 0 < accepted < len(requests) and 0 < not_applicable < accepted
    print(f"framework fuzz: {len(requests)} cases streamed in {streamed_s:.2f} s, {accepted} scored "
          f"({not_applicable} with leaves not applicable), {len(requests) - accepted} refused")


def test_crash_corpus_values_are_answered(server, golden_2019_facts, reference):
    """Every fact value that once crashed the engine, through Evaluate, for a decimal, an integer and a share."""
    problems: list[str] = []
    targets = (("budget", "spent"), ("output", "applicants_submitted"),
               ("survey", "training_satisfaction", "very_satisfied"))
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        number = 0
        for path in targets:
            for value in [*NUMBER_TEXTS, *FLOATS]:
                facts = _copy_with(golden_2019_facts, path, value)
                struct = struct_pb2.Struct()
                struct.update(facts)
                request = pb.EvaluateRequest(pack_id=PACK, version="1.0.0", facts=struct)
                try:
                    reply = stub.Evaluate(request, timeout=30)
                except grpc.RpcError as error:
                    _check(number, request, None, error.code().value[0], error.details() or "", reference, problems)
                else:
                    _check(number, request, reply, code_pb2.OK, "", reference, problems)
                number += 1
    assert server.process.poll() is None, f"the server died:\n{server.log()[-3000:]}"
    assert not problems, "\n".join(problems[:30])


def _copy_with(facts: dict, path: tuple[str, ...], value: object) -> dict:
    copied = copy.deepcopy(facts)
    node = copied
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copied


def test_the_generator_is_reproducible(golden_2019_facts):
    first = list(hostile_cases(golden_2019_facts, 7, 50))
    assert first == list(hostile_cases(golden_2019_facts, 7, 50))
    assert first != list(hostile_cases(golden_2019_facts, 8, 50))
    framework = list(framework_cases(golden_2019_facts, 7, 50))
    assert framework == list(framework_cases(golden_2019_facts, 7, 50))

