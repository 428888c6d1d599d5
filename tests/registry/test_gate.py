"""The publish gate parses nothing in the server: the trial process does, confined, and
says what the pack is. Attack packs (alias bombs, deep YAML, look-alike ids, cases that
state nothing, a pack the engine cannot evaluate on valid facts) are refused with a
message that says why; same files again cost no trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jixiao.core.pack import yaml12
from jixiao.core.pack.bundle import load_bundle, make_bundle
from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
from jixiao.core.decimals import plain
from jixiao.core.evaluation.edge_facts import EXTREME, edge_facts
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.engine.durable import durable_matcher
from jixiao.engine.failpoints import ENGINE_ABORT_VARIABLE
from jixiao.packs import pack_schema, read_bundle
from jixiao.registry import publishing, trial
from jixiao.registry.publishing import GateRefused, PublishRequest, publish
from jixiao.registry.signing import SignatureError, TrustPolicy, generate_key_pair, key_id, load_public_key
from jixiao.registry.store import Registry

from .attack_packs import all_or_nothing_pack, alias_bomb_bundle, deep_bundle

OPEN = TrustPolicy()


@pytest.fixture
def nothing_parsed_here(monkeypatch) -> None:
    """Fail the test if this process (the server's side of the gate) parses any YAML."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the server parsed pack YAML")
    monkeypatch.setattr(yaml12, "parse_yaml", refuse)


def refused(registry: Registry, bundle) -> GateRefused:
    with pytest.raises(GateRefused) as info:
        publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)
    assert registry.is_empty()
    return info.value


def test_an_alias_bomb_is_refused_by_the_trial_in_about_a_second(registry, nothing_parsed_here) -> None:
    started = time.monotonic()
    refusal = refused(registry, alias_bomb_bundle())
    elapsed = time.monotonic() - started

    [problem] = refusal.report.problems
    assert problem.startswith("pack.yaml:") and "alias" in problem and f"{yaml12.MAX_NODES:,}" in problem
    assert elapsed < 10, elapsed


def test_yaml_nested_fifty_thousand_deep_is_refused_saying_the_limit(registry, nothing_parsed_here) -> None:
    [problem] = refused(registry, deep_bundle()).report.problems
    assert f"more than {yaml12.MAX_DEPTH} levels" in problem


@pytest.mark.parametrize("old, new, field", [
    ("id: quality-district-funding\n", 'id: "quality-district-funding\\n"\n', "id"),
    ("version: 1.0.7\n", 'version: "1.0.7\\n"\n', "version"),
])
def test_look_alike_ids_and_versions_are_refused(registry, make_pack_version, old, new, field) -> None:
    folder = make_pack_version("1.0.7")
    pack_yaml = folder / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    assert old in text
    pack_yaml.write_text(text.replace(old, new, 1), encoding="utf-8")

    problems = refused(registry, read_bundle(folder)).report.problems

    assert any(f"at {field}:" in p for p in problems), problems


def test_a_golden_case_that_states_nothing_is_refused_naming_it(registry, make_pack_version) -> None:
    folder = make_pack_version("1.0.8")
    (folder / "cases" / "empty.yaml").write_text("name: empty\nfacts: {}\nexpected: {}\n", encoding="utf-8")

    problems = refused(registry, read_bundle(folder)).report.problems

    assert any("cases/empty.yaml" in p and "must state at least the total score and grade" in p for p in problems)


def test_an_all_or_nothing_leaf_over_seventy_booleans_is_admitted_only_if_the_engine_scores_all_false(
        registry) -> None:
    """Its golden case (all true) once passed while every all-false Evaluate failed (engine
    error 303). The gate runs the all-false facts through the engine: it either refuses the
    pack naming them, or the engine scores them as the reference does."""
    bundle = all_or_nothing_pack()
    try:
        outcome = publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)
    except GateRefused as refusal:
        assert refusal.pack_ref == "seventy-booleans@1.0.0" and refusal.report.failures == []
        assert any(p.startswith("generated facts [every boolean false]:") for p in refusal.report.problems)
        return
    assert outcome.created
    loaded = load_bundle(bundle, pack_schema())
    engine, reference = compile_pack(loaded.pack, durable_matcher), compile_pack(loaded.pack, plain_matcher)
    requests = {r.name: r for r in edge_facts(loaded.pack, engine.rules)}
    all_false = requests["every boolean false"].facts
    try:
        assert evaluate(engine, all_false).score == evaluate(reference, all_false).score == 0
    finally:
        engine.close()


def test_generated_edge_facts_go_through_the_engine_in_the_trial_and_a_crash_names_them(
        registry, make_pack_version, monkeypatch) -> None:
    # The engine failpoint aborts the trial process when the engine is given this value,
    # which no golden case holds and the generator tries for every unbounded number.
    monkeypatch.setenv(ENGINE_ABORT_VARIABLE, plain(EXTREME))

    [problem] = refused(registry, read_bundle(make_pack_version("1.0.1"))).report.problems

    assert problem.startswith("the trial process died (signal 6) evaluating generated facts [")
    assert f"= {plain(EXTREME)} (the largest value tried)]" in problem


def test_the_same_pack_over_fewer_booleans_passes_the_edge_facts(registry) -> None:
    outcome = publish(registry, PublishRequest(all_or_nothing_pack("ten-booleans", booleans=10), "ops-alice"), OPEN)
    assert (outcome.created, outcome.record.pack_id, outcome.record.title) == (True, "ten-booleans", "攻击样例")


def test_the_same_files_again_are_unchanged_without_a_trial(registry, make_pack_version, monkeypatch) -> None:
    bundle = read_bundle(make_pack_version("1.0.1"))
    first = publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)
    monkeypatch.setattr(publishing, "try_in_child_process", lambda _bundle: pytest.fail("tried again"))

    again = publish(registry, PublishRequest(bundle, "ops-bob"), OPEN)

    assert (first.created, again.created, again.record.publisher) == (True, False, "ops-alice")


def test_an_unsigned_pack_is_refused_without_a_trial_when_signatures_are_required(registry, make_pack_version,
                                                                                monkeypatch) -> None:
    public = load_public_key(generate_key_pair()[1])
    strict = TrustPolicy({key_id(public): public}, require_signatures=True)
    monkeypatch.setattr(publishing, "try_in_child_process", lambda _bundle: pytest.fail("tried"))

    with pytest.raises(SignatureError) as refusal:
        publish(registry, PublishRequest(alias_bomb_bundle(), "ops-alice"), strict)

    assert refusal.value.reason == "unsigned" and "jixiao pack sign" in str(refusal.value)


def test_a_trial_over_its_memory_limit_is_refused_saying_so(registry, make_pack_version, monkeypatch) -> None:
    monkeypatch.setattr(trial, "TRIAL_MEMORY_BYTES", 40 * 1024**2)
    [problem] = refused(registry, read_bundle(make_pack_version("1.0.1"))).report.problems
    assert "more than 40 MB" in problem or "died" in problem, problem


def test_a_trial_over_its_time_is_killed_and_refused(registry, make_pack_version) -> None:
    started = time.monotonic()
    report = trial.try_in_child_process(read_bundle(make_pack_version("1.0.1")), timeout=0.05)
    assert "took over 0.05 s" in report.problems[0]
    assert time.monotonic() - started < 5


def test_trials_beyond_those_running_and_waiting_are_refused_at_once() -> None:
    slots = trial._TrialSlots(running=1, waiting=1)
    running, waiting_started, release = threading.Event(), threading.Event(), threading.Event()
    order = []

    def hold(name: str, started: threading.Event) -> None:
        started.set()
        with slots.turn():
            order.append(name)
            running.set()
            release.wait(5)

    first = threading.Thread(target=hold, args=("first", threading.Event()))
    first.start()
    assert running.wait(5)
    second = threading.Thread(target=hold, args=("second", waiting_started))
    second.start()
    assert waiting_started.wait(5)
    time.sleep(0.2)  # the second is waiting for the first's turn

    with pytest.raises(trial.TrialsBusy):
        with slots.turn():
            pass
    release.set()
    first.join(5)
    second.join(5)
    with slots.turn():  # places are given back
        pass
    assert order == ["first", "second"]


def test_a_busy_gate_is_a_refusal_that_says_to_publish_again(registry, make_pack_version, monkeypatch) -> None:
    def busy(_bundle):
        raise trial.TrialsBusy()
    monkeypatch.setattr(publishing, "try_in_child_process", busy)

    refusal = refused(registry, read_bundle(make_pack_version("1.0.1")))

    assert isinstance(refusal, publishing.GateBusy) and "publish again" in str(refusal)


PARENT = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import os, sys, time; from jixiao.registry.trial import confine; confine(int(sys.argv[1])); "
        "print(os.getpid(), flush=True); time.sleep(60)", str(__import__("os").getpid())],
        stdout=sys.stdout)
    time.sleep(60)
""")


def test_a_trial_process_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child_pid):
            assert time.monotonic() < deadline, "the trial process outlived its parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_trial_process_whose_parent_is_already_gone_exits_at_once() -> None:
    done = subprocess.run([sys.executable, "-c", "from jixiao.registry.trial import confine; confine(1); "
                                                 "print('still here')"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (70, "")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_the_trial_refuses_files_that_are_not_yaml_of_a_pack(registry) -> None:
    problems = refused(registry, make_bundle({"pack.yaml": "just text", "cases/a.yaml": "x"})).report.problems
    assert any("a pack must be a mapping" in p for p in problems)


def test_abandoning_trials_kills_the_running_one_and_refuses_the_waiting_ones(monkeypatch, make_pack_version) -> None:
    monkeypatch.setattr(trial, "_abandoned", threading.Event())
    monkeypatch.setattr(trial, "trial_command", lambda: [sys.executable, "-c", SLEEPING_TRIAL])
    monkeypatch.setattr(trial, "_slots", trial._TrialSlots(running=1, waiting=1))
    bundle = read_bundle(make_pack_version("1.0.1"))
    outcomes: list[str] = []

    def publish_one() -> None:
        try:
            trial.try_in_child_process(bundle)
            outcomes.append("tried")
        except trial.TrialAbandoned:
            outcomes.append("abandoned")

    threads = [threading.Thread(target=publish_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # one sleeps in its "trial", the other waits for its turn
    # Only this test's "trials": the session may have other children (servers of e2e fixtures).
    children = [pid for pid in _children_of(os.getpid()) if SLEEPING_TRIAL in _command_line(pid)]
    assert len(children) == 1
    started = time.monotonic()
    trial.abandon_trials()
    for thread in threads:
        thread.join(5)

    assert outcomes == ["abandoned", "abandoned"]
    assert time.monotonic() - started < 2
    assert not _alive(children[0])


SLEEPING_TRIAL = "import time; time.sleep(60)  # a trial that never ends"


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii")
            except OSError:
                continue
            fields = stat.rsplit(") ", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_a_trial_process_sees_none_of_the_server_settings_but_the_failpoints(monkeypatch) -> None:
    monkeypatch.setenv("JIXIAO_TOKENS", "secret-hashes")
    monkeypatch.setenv("JIXIAO_REGISTRY_URL", "postgresql://ops:password@db/jixiao")
    monkeypatch.setenv(ENGINE_ABORT_VARIABLE, "123.45")

    environment = trial.trial_environment()

    assert "JIXIAO_TOKENS" not in environment and "JIXIAO_REGISTRY_URL" not in environment
    assert environment[ENGINE_ABORT_VARIABLE] == "123.45" and environment["PATH"] == os.environ["PATH"]
