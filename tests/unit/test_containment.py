"""Poison-request containment (engine/containment.py) in one process: a supervisor's record and
workers' guards over the same file, the hook in the durable-rules adapter, and the engine
failpoint (engine/failpoints.py), whose abort is proven in a child process.

The supervisor's side (which deaths quarantine, when to restart) and the whole chain through a
real server are in tests/e2e/test_poison_requests.py.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from jixiao.core.pack.cases import load_case
from jixiao.engine import containment, durable, failpoints
from jixiao.engine.containment import ContainmentRecord, Guard, QuarantinedRequest, request_digest
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

PACK_DIR = BUNDLED_PACKS / "quality-district-funding" / "1.0.0"
LABEL = "quality-district-funding@1.0.0/0"
BODY = '[{"a0": true, "a1": 398761.00'
MARKER = "123456.78"


@pytest.fixture
def record():
    made = ContainmentRecord(workers=3)
    yield made
    made.close()
    assert not os.path.exists(made.path)


@pytest.fixture(scope="module")
def compiled():
    return load_pack_dir(PACK_DIR).compiled


@pytest.fixture(scope="module")
def facts_2019() -> dict:
    case = PACK_DIR / "cases" / "2019.yaml"
    return load_case(case.read_text(encoding="utf-8"), str(case)).facts


def with_spent(facts: dict, spent: str) -> dict:
    changed = copy.deepcopy(facts)
    changed["budget"]["spent"] = spent
    return changed


def test_a_worker_records_what_it_gives_the_engine_while_the_engine_has_it(
        record, compiled, facts_2019, monkeypatch) -> None:
    monkeypatch.setattr(containment, "_guard", Guard(record.path, 1))
    seen = []
    assert_facts = durable._engine.assert_facts

    def spy(handle, facts):
        seen.append(record.in_engine(1))
        return assert_facts(handle, facts)

    monkeypatch.setattr(durable._engine, "assert_facts", spy)
    values = compiled.checker.check(facts_2019)
    compiled.matcher.match(values)
    compiled.matcher.match(values)  # another session id
    compiled.matcher.match(compiled.checker.check(with_spent(facts_2019, "398761.01")))

    assert [label for _, label in seen] == [LABEL] * 3
    assert seen[0][0] == seen[1][0] != seen[2][0]
    assert record.in_engine(1) is None and record.in_engine(0) is None


def test_the_record_is_cleared_when_the_engine_fails(record, compiled, facts_2019, monkeypatch) -> None:
    monkeypatch.setattr(containment, "_guard", Guard(record.path, 0))

    def failing(handle, facts):
        assert record.in_engine(0) is not None
        raise RuntimeError("engine fault")

    monkeypatch.setattr(durable._engine, "assert_facts", failing)
    with pytest.raises(durable.EngineError):
        compiled.matcher.match(compiled.checker.check(with_spent(facts_2019, "1.25")))
    assert record.in_engine(0) is None


def test_a_quarantined_request_is_refused_by_every_worker_and_by_one_started_later(record) -> None:
    first, second = Guard(record.path, 0), Guard(record.path, 1)
    first.enter(LABEL, BODY)
    first.leave()

    assert record.quarantine(request_digest(LABEL, BODY))
    assert not record.quarantine(request_digest(LABEL, BODY))  # once is enough

    for guard in (first, second, Guard(record.path, 2)):
        with pytest.raises(QuarantinedRequest) as refused:
            guard.enter(LABEL, BODY)
        assert refused.value.digest == request_digest(LABEL, BODY).hex()
        assert refused.value.label == LABEL
        guard.enter(LABEL, BODY + ', "a2": 1')  # another request passes
        guard.enter("other@1.0.0/0", BODY)  # so does the same fact for another ruleset
        guard.leave()


def test_the_quarantine_holds_as_many_requests_as_its_capacity() -> None:
    small = ContainmentRecord(workers=1, capacity=2)
    bodies = [BODY + f', "a9": {n}' for n in range(3)]
    try:
        assert [small.quarantine(request_digest(LABEL, body)) for body in bodies] == [True, True, False]
        assert small.full
        guard = Guard(small.path, 0)
        for body in bodies[:2]:
            with pytest.raises(QuarantinedRequest):
                guard.enter(LABEL, body)
        guard.enter(LABEL, bodies[2])
    finally:
        small.close()


def enter_in_thread(guard: Guard, body: str) -> tuple[threading.Thread, list]:
    outcome: list = []

    def enter() -> None:
        try:
            guard.enter(LABEL, body)
        except QuarantinedRequest as error:
            outcome.append(error)
        else:
            outcome.append("entered")

    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    return thread, outcome


def test_a_worker_holding_back_a_request_another_worker_died_on_learns_the_verdict(record) -> None:
    dying, retrying = Guard(record.path, 0), Guard(record.path, 1)
    dying.enter(LABEL, BODY)  # and crashes there: its slot stays set

    thread, outcome = enter_in_thread(retrying, BODY)
    time.sleep(0.1)
    assert outcome == []  # waiting for the supervisor
    record.quarantine(request_digest(LABEL, BODY))
    record.clear(0)
    thread.join(timeout=containment.VERDICT_WAIT_S)

    assert len(outcome) == 1 and isinstance(outcome[0], QuarantinedRequest)
    assert record.in_engine(1) is None


def test_a_worker_evaluating_the_same_request_as_another_goes_on_once_the_other_leaves(record) -> None:
    busy, second = Guard(record.path, 0), Guard(record.path, 1)
    busy.enter(LABEL, BODY)

    thread, outcome = enter_in_thread(second, BODY)
    time.sleep(0.05)
    busy.leave()
    thread.join(timeout=containment.VERDICT_WAIT_S)

    assert outcome == ["entered"]
    assert record.in_engine(1) == (request_digest(LABEL, BODY), LABEL)


def test_without_install_the_hook_records_and_refuses_nothing(record) -> None:
    # One server process, the CLI, the gate's trial: no supervisor, no guard.
    record.quarantine(request_digest(LABEL, BODY))
    assert containment._guard is None
    containment.before_engine(LABEL, BODY)
    assert record.in_engine(0) is None
    containment.after_engine()


@pytest.mark.parametrize("body", [
    '[{"a0": true, "a11": 123456.78, "a12": false',
    '[{"a0": true, "a11": 123456.78',
    '[{"a3": "123456.78", "a4": 1',
    '[{"a3": "123456.78"}]',
])
def test_the_failpoint_finds_its_marker_as_a_whole_value(body: str) -> None:
    assert failpoints.engine_abort_pattern(MARKER).search(body)


@pytest.mark.parametrize("body", [
    '[{"a0": true, "a11": 1123456.78, "a12": false',
    '[{"a0": true, "a11": 123456.789',
    '[{"a3": "x123456.78", "a4": 1',
    '[{"a3": "123456.78 ", "a4": 1',
    '[{"a123456.78": 1',
    '[{"a3": "1234567.8", "a4": 1',
])
def test_the_failpoint_ignores_other_values(body: str) -> None:
    assert not failpoints.engine_abort_pattern(MARKER).search(body)


@pytest.mark.parametrize("marker", ["12 3", "a\n", "x" * 65, '"', "1.0e5\\"])
def test_a_failpoint_marker_that_cannot_be_one_is_refused_naming_the_variable(marker: str) -> None:
    with pytest.raises(failpoints.FailpointError, match=failpoints.ENGINE_ABORT_VARIABLE):
        failpoints.engine_abort_pattern(marker)


def test_the_failpoint_is_off_unless_its_variable_is_set() -> None:
    assert failpoints.engine_abort_pattern("") is None
    if not os.environ.get(failpoints.ENGINE_ABORT_VARIABLE):
        assert failpoints.ENGINE_ABORT is None and containment._abort_if_marked is None


CHILD = f"""
import copy, sys
from jixiao.core.pack.cases import load_case
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
pack = BUNDLED_PACKS / "quality-district-funding" / "1.0.0"
compiled = load_pack_dir(pack).compiled
facts = load_case((pack / "cases" / "2019.yaml").read_text(encoding="utf-8"), "2019.yaml").facts
compiled.matcher.match(compiled.checker.check(facts))
print("healthy facts matched", flush=True)
facts["budget"]["spent"] = {MARKER!r}
compiled.matcher.match(compiled.checker.check(facts))
print("marker matched", flush=True)
"""


def test_the_failpoint_aborts_the_process_on_its_marker_only() -> None:
    environment = {**os.environ, failpoints.ENGINE_ABORT_VARIABLE: MARKER}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=environment,
                          timeout=120)
    assert done.returncode == -signal.SIGABRT, done.stderr
    assert done.stdout == "healthy facts matched\n"
