"""The real `jixiao` command, run as a subprocess, in process (--local) and against a server.

Every check is what a user sees: stdout, the single stderr line and the exit status.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jixiao.core.pack.yaml12 import parse_yaml

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PACK_ID = "quality-district-funding"
VERSION = "1.0.0"  # the 2019 report's version; newer ones may score differently
PACK_DIR = REPO / "rules" / PACK_ID / VERSION
EXECUTION_RATIONALE = "根据评分细则，扣0.61分，得2.39分"

# Every node of the 2019 report (contracts/quality-district-2019.md): id → score.
SCORES_2019 = {
    "decision": "11",
    "decision.initiation": "5",
    "decision.initiation.basis": "3",
    "decision.initiation.procedure": "2",
    "decision.targets": "1",
    "decision.targets.reasonableness": "1",
    "decision.targets.clarity": "0",
    "decision.funding": "5",
    "decision.funding.budgeting": "2",
    "decision.funding.allocation": "3",
    "process": "11.89",
    "process.funds": "8.39",
    "process.funds.arrival": "2",
    "process.funds.execution": "2.39",
    "process.funds.compliance": "4",
    "process.organisation": "3.5",
    "process.organisation.rules": "2",
    "process.organisation.execution": "0.5",
    "process.organisation.quality": "1",
    "output": "26.9",
    "output.quantity": "15.9",
    "output.quantity.selection": "5",
    "output.quantity.applicants": "0.9",
    "output.quantity.trainings": "5",
    "output.quantity.awards": "5",
    "output.quality": "4",
    "output.quality.procedure": "4",
    "output.quality.followup": "0",
    "output.cost": "3",
    "output.cost.rewards": "3",
    "output.timeliness": "4",
    "output.timeliness.on_time": "4",
    "benefit": "25.24",
    "benefit.economic": "4.65",
    "benefit.economic.excellence": "4.65",
    "benefit.social": "8.15",
    "benefit.social.awareness": "3.49",
    "benefit.social.quality_management": "2.32",
    "benefit.social.industry_upgrade": "2.34",
    "benefit.sustainability": "4.68",
    "benefit.sustainability.brand_awareness": "2.34",
    "benefit.sustainability.brand_cultivation": "2.34",
    "benefit.satisfaction": "7.76",
    "benefit.satisfaction.training": "3",
    "benefit.satisfaction.participants": "4.76",
}
GRADES_2019 = {"decision": "中", "process": "中", "output": "中", "benefit": "良"}


def run_cli(*args: str | Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("JIXIAO_DEBUG", "JIXIAO_SERVER", "COLUMNS")} | extra_env
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def score_2019(facts: Path, *options: str, **extra_env: str) -> subprocess.CompletedProcess:
    """`jixiao score FACTS` with the 2019 report's pack version."""
    return run_cli("score", facts, "--pack", PACK_ID, "--version", VERSION, *options, **extra_env)


def write_json(path: Path, facts: dict) -> Path:
    path.write_text(json.dumps(facts, ensure_ascii=False, default=str), encoding="utf-8")
    return path


@pytest.fixture
def facts_file(tmp_path: Path, golden_2019_facts: dict) -> Path:
    """The 2019 report's facts (from the golden case) as a JSON file."""
    return write_json(tmp_path / "facts-2019.json", golden_2019_facts)


@pytest.fixture(params=["local", "server"])
def where(request: pytest.FixtureRequest) -> list[str]:
    """The options that pick the mode: in process, or the session's real server."""
    if request.param == "local":
        return ["--local"]
    return ["--server", request.getfixturevalue("jixiao_server").address]


def nodes(indicators: list[dict]):
    for node in indicators:
        yield node
        yield from nodes(node.get("children", []))


def assert_one_line_error(result: subprocess.CompletedProcess, exit_code: int) -> str:
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- score ------------------------------------------------------------------------


def test_score_json_gives_2019_total_75_03_grade_zhong_and_every_node(where, facts_file) -> None:
    result = score_2019(facts_file, *where, "--format", "json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert (reply["packId"], reply["version"]) == (PACK_ID, VERSION)
    assert (reply["score"], reply["grade"], reply["totalWeight"]) == ("75.03", "中", "100")
    scored = {node["id"]: node["score"] for node in nodes(reply["indicators"])}
    assert scored == SCORES_2019
    assert {node["id"]: node["grade"] for node in reply["indicators"]} == GRADES_2019


def test_score_table_in_english_names_every_grade_as_the_pack_does(where, facts_file) -> None:
    result = score_2019(facts_file, *where, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("grade fair")
    assert "rate 68.75%, grade fair" in result.stdout  # decision, level 1
    assert "grade good" in result.stdout  # benefit, level 1: 良
    assert not any(grade in result.stdout for grade in ("grade 中", "grade 良"))


def test_local_and_server_print_identical_json(jixiao_server, facts_file) -> None:
    local = score_2019(facts_file, "--local", "--format", "json")
    remote = score_2019(facts_file, "--server", jixiao_server.address, "--format", "json")
    assert local.returncode == remote.returncode == 0, local.stderr + remote.stderr
    # The server's reply also names its decision (the decision log's id): the rest is identical.
    recorded = json.loads(remote.stdout)
    assert len(recorded.pop("decisionId")) == 36
    assert json.loads(local.stdout) == recorded and list(json.loads(local.stdout)) == list(recorded)


def test_score_table_shows_total_grade_and_execution_rate_rationale(where, facts_file) -> None:
    result = score_2019(facts_file, *where)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert f"{PACK_ID}@{VERSION}" in header and "75.03" in header and "中" in header
    execution_row = next(line for line in result.stdout.splitlines() if "预算执行率" in line)
    assert EXECUTION_RATIONALE in execution_row
    assert "2.39" in execution_row and "0.61" in execution_row


def test_score_table_in_english(facts_file) -> None:
    result = score_2019(facts_file, "--local", "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Indicator" in result.stdout and "Deducted" in result.stdout
    assert "75.03" in result.stdout


def test_yaml_facts_with_a_bare_no_option_score_like_json(tmp_path, facts_file) -> None:
    # YAML 1.1 would read the survey option key `no` as False; the CLI must not.
    text = yaml.safe_dump(json.loads(facts_file.read_text(encoding="utf-8")), allow_unicode=True)
    yaml_file = tmp_path / "facts-2019.yaml"
    yaml_file.write_text(text.replace("'no':", "no:"), encoding="utf-8")
    assert "\n    no:" in yaml_file.read_text(encoding="utf-8")
    from_yaml = score_2019(yaml_file, "--local", "--format", "json")
    from_json = score_2019(facts_file, "--local", "--format", "json")
    assert from_yaml.returncode == 0, from_yaml.stderr
    assert from_yaml.stdout == from_json.stdout


# --- bad input --------------------------------------------------------------------


def test_missing_and_ill_typed_facts_exit_2_naming_both_on_one_line(
        where, tmp_path, golden_2019_facts) -> None:
    facts = copy.deepcopy(golden_2019_facts)
    del facts["budget"]["spent"]
    facts["output"]["trainings_held"] = "abc"
    bad = write_json(tmp_path / "bad.json", facts)
    line = assert_one_line_error(score_2019(bad, *where), 2)
    assert line.startswith("invalid facts: ")
    assert "budget.spent: missing" in line
    assert "output.trainings_held: expected an integer, got 'abc'" in line


def test_unknown_pack_exits_2_with_one_line(where, facts_file) -> None:
    line = assert_one_line_error(run_cli("score", facts_file, "--pack", "no-such-pack", *where), 2)
    assert "no-such-pack" in line


def test_unknown_version_exits_2_with_one_line(where, facts_file) -> None:
    result = run_cli("score", facts_file, "--pack", PACK_ID, "--version", "9.9.9", *where)
    assert "9.9.9" in assert_one_line_error(result, 2)


def test_missing_facts_file_exits_2(tmp_path) -> None:
    result = score_2019(tmp_path / "nowhere.json", "--local")
    assert "nowhere.json" in assert_one_line_error(result, 2)


def test_malformed_json_exits_2_naming_the_line(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "budget": {"spent": }\n}', encoding="utf-8")
    line = assert_one_line_error(score_2019(broken, "--local"), 2)
    assert f"{broken}:2: invalid JSON" in line


def test_malformed_yaml_exits_2(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("budget: [unclosed\n", encoding="utf-8")
    line = assert_one_line_error(score_2019(broken, "--local"), 2)
    assert "invalid YAML" in line


def test_unreachable_server_exits_3_with_one_line(facts_file) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = score_2019(facts_file, "--server", f"127.0.0.1:{closed_port}")
    assert "unavailable" in assert_one_line_error(result, 3)


def test_jixiao_debug_shows_the_traceback_instead(tmp_path) -> None:
    result = score_2019(tmp_path / "nowhere.json", "--local", JIXIAO_DEBUG="1")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_server_and_local_together_is_a_usage_error(facts_file) -> None:
    result = score_2019(facts_file, "--local", "--server", "127.0.0.1:1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_help_documents_the_exit_statuses() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for line in ("0  success", "1  a pack test failed", "2  bad usage or input",
                 "3  the server is unavailable"):
        assert line in result.stdout


# --- packs ------------------------------------------------------------------------


def test_packs_lists_every_version_of_the_bundled_pack_one_of_them_default(where) -> None:
    result = run_cli("packs", *where)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if PACK_ID in line]
    assert any(VERSION in row for row in rows)
    assert sum("是" in row for row in rows) == 1


def test_pack_show_gives_the_tree_and_the_fact_schema(where) -> None:
    result = run_cli("pack", "show", PACK_ID, "--version", VERSION, *where)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    execution = next(line for line in lines if "process.funds.execution" in line)
    assert "预算执行率" in execution and "ratio" in execution and "budget.spent" in execution
    spent = next(line for line in lines if line.lstrip("│ ").startswith("budget.spent"))
    assert "decimal" in spent and "必填" in spent


# --- pack test --------------------------------------------------------------------


def test_pack_test_passes_on_the_bundled_pack() -> None:
    result = run_cli("pack", "test", PACK_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout and "FAIL" not in result.stdout


def test_pack_test_fails_on_a_wrong_expectation_showing_expected_and_actual(tmp_path) -> None:
    copied = tmp_path / VERSION
    shutil.copytree(PACK_DIR, copied)
    case = copied / "cases" / "2019.yaml"
    document, _lines = parse_yaml(case.read_text(encoding="utf-8"))
    document = json.loads(json.dumps(document, default=str))
    assert document["expected"]["score"] == "75.03"
    document["expected"]["score"] = "80.5"
    case.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    result = run_cli("pack", "test", copied)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout
    mismatch = next(line for line in result.stdout.splitlines() if "80.5" in line)
    assert "total" in mismatch and "score" in mismatch and "75.03" in mismatch


def test_pack_test_on_a_folder_without_a_pack_exits_2_with_its_problems_on_stderr_as_validate_does(tmp_path) -> None:
    for command in ("test", "validate"):
        result = run_cli("pack", command, tmp_path)
        assert result.returncode == 2, (command, result.stdout + result.stderr)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert lines[0] == f"INVALID {tmp_path}" and "pack.yaml" in result.stderr
        assert lines[-1] == f"invalid pack: 1 problem in {tmp_path}"
        assert "Traceback" not in result.stderr

