"""The metric functions: no-ops (nothing imported) until enabled, then each counts what it says;
across processes, a supervisor's endpoint adds its workers' values up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.observability import metrics

HERE = Path(__file__).resolve().parent


def run_script(code: str | None = None, path: Path | None = None) -> str:
    command = [sys.executable, "-c", code] if path is None else [sys.executable, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_before_enable_every_function_is_a_no_op_and_prometheus_client_is_not_imported() -> None:
    out = run_script(
        "import sys\n"
        "from jixiao.observability import metrics as m\n"
        "m.rpc_finished('Evaluate', 'NOT_FOUND', 0.1); m.evaluated('Evaluate', 'p', '1.0.0', 'A')\n"
        "m.item_refused('EvaluateBatch', 'INVALID_ARGUMENT'); m.engine_failed('Evaluate')\n"
        "m.worker_restarted(); m.registry_reloaded(); m.catalog_loaded({'p': '1.0.0'}, first=False)\n"
        "m.decision_log_flushed(0.1, 3); m.decision_log_queue_depth(5); m.watch_queue_depth(lambda: 1)\n"
        "print('prometheus_client' in sys.modules, m.enabled())\n"
        "m.enable()\n"
        "print('prometheus_client' in sys.modules, m.enabled())\n")
    assert out.split("\n")[:2] == ["False False", "True True"]


@pytest.fixture(scope="module")
def registry():
    metrics.enable()
    from prometheus_client import REGISTRY

    return REGISTRY


def value(registry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_an_rpc_is_timed_by_method_and_code_and_an_input_error_counted(registry) -> None:
    before = {code: value(registry, "jixiao_rpc_duration_seconds_count", method="Evaluate", code=code)
              for code in ("OK", "NOT_FOUND", "UNAUTHENTICATED")}
    errors_before = value(registry, "jixiao_input_errors_total", method="Evaluate", code="NOT_FOUND")
    metrics.rpc_finished("Evaluate", "OK", 0.002)
    metrics.rpc_finished("Evaluate", "OK", 0.2)
    metrics.rpc_finished("Evaluate", "NOT_FOUND", 0.001)
    metrics.rpc_finished("Evaluate", "UNAUTHENTICATED", 0.001)  # who asks, not what: no input error
    assert value(registry, "jixiao_rpc_duration_seconds_count", method="Evaluate", code="OK") == before["OK"] + 2
    assert value(registry, "jixiao_rpc_duration_seconds_bucket", method="Evaluate", code="OK", le="0.0025") >= 1
    assert value(registry, "jixiao_rpc_duration_seconds_count", method="Evaluate",
                 code="NOT_FOUND") == before["NOT_FOUND"] + 1
    assert value(registry, "jixiao_input_errors_total", method="Evaluate", code="NOT_FOUND") == errors_before + 1
    assert value(registry, "jixiao_input_errors_total", method="Evaluate", code="UNAUTHENTICATED") == 0


def test_evaluations_count_by_method_pack_version_and_grade(registry) -> None:
    labels = dict(method="EvaluateBatch", pack="p", version="1.0.0", grade="中")
    before = value(registry, "jixiao_evaluations_total", **labels)
    for _ in range(3):
        metrics.evaluated("EvaluateBatch", "p", "1.0.0", "中")
    metrics.evaluated("EvaluateBatch", "p", "1.0.0", "优")
    assert value(registry, "jixiao_evaluations_total", **labels) == before + 3


def test_batch_items_refused_for_their_input_and_engine_failures(registry) -> None:
    before = value(registry, "jixiao_input_errors_total", method="EvaluateBatch", code="INVALID_ARGUMENT")
    failures = value(registry, "jixiao_engine_failures_total", method="RenderReport")
    metrics.item_refused("EvaluateBatch", "INVALID_ARGUMENT")
    metrics.item_refused("EvaluateBatch", "RESOURCE_EXHAUSTED")  # load, not input
    metrics.engine_failed("RenderReport")
    assert value(registry, "jixiao_input_errors_total", method="EvaluateBatch",
                 code="INVALID_ARGUMENT") == before + 1
    assert value(registry, "jixiao_input_errors_total", method="EvaluateBatch", code="RESOURCE_EXHAUSTED") == 0
    assert value(registry, "jixiao_engine_failures_total", method="RenderReport") == failures + 1


def test_the_catalog_sets_the_active_versions_and_counts_reloads_but_not_the_first_load(registry) -> None:
    reloads = value(registry, "jixiao_registry_reloads_total")
    metrics.catalog_loaded({"pack-a": "1.0.0", "pack-b": "2.0.0"}, first=True)
    assert value(registry, "jixiao_registry_reloads_total") == reloads
    assert value(registry, "jixiao_active_version", pack="pack-a", version="1.0.0") == 1
    metrics.catalog_loaded({"pack-a": "1.1.0", "pack-b": "2.0.0"}, first=False)
    assert value(registry, "jixiao_registry_reloads_total") == reloads + 1
    assert value(registry, "jixiao_active_version", pack="pack-a", version="1.0.0") == 0
    assert value(registry, "jixiao_active_version", pack="pack-a", version="1.1.0") == 1
    assert value(registry, "jixiao_active_version", pack="pack-b", version="2.0.0") == 1


def test_decision_log_flushes_and_queue_depth(registry) -> None:
    count = value(registry, "jixiao_decision_log_flush_seconds_count")
    rows = value(registry, "jixiao_decision_log_rows_total")
    metrics.decision_log_flushed(0.004, 250)
    metrics.decision_log_queue_depth(17)
    assert value(registry, "jixiao_decision_log_flush_seconds_count") == count + 1
    assert value(registry, "jixiao_decision_log_rows_total") == rows + 250
    assert value(registry, "jixiao_decision_log_queue_depth") == 17


def test_worker_restarts(registry) -> None:
    before = value(registry, "jixiao_worker_restarts_total")
    metrics.worker_restarted()
    assert value(registry, "jixiao_worker_restarts_total") == before + 1


def test_a_supervisors_endpoint_adds_up_its_workers_and_forgets_a_dead_ones_live_gauges() -> None:
    found = json.loads(run_script(path=HERE / "workers_metrics_run.py").splitlines()[-1])  # after its log line
    # Two workers evaluated 3 and 4 times, each with 5 and 7 queued; the supervisor restarted one.
    assert found["evaluations"] == 7
    assert found["rpc_count"] == 7 and found["rpc_le_0.005"] == 7
    assert found["queue_depth"] == 12
    assert found["restarts"] == 1
    assert found["active"] == [1.0]  # one series per pack and version, whatever the process count
    # The first worker died: its queue no longer counts, its evaluations still do.
    assert found["after_death"] == {"evaluations": 7, "queue_depth": 7}
    assert found["folder_removed"] is True
    assert found["folder_was_new_and_empty"] is True
