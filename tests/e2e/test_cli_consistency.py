"""The `jixiao` command is the same everywhere: one exit-status table, one error line,
tables in the user's --lang, and messages that say what is wrong in the user's terms
rather than a library's.

Run as a subprocess, as a user runs it; what is checked is stdout, stderr and the exit status.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.core.pack.yaml12 import parse_yaml
from jixiao_cli.batch_outcomes import RowFailure
from jixiao_cli.batch_output import ErrorFile

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PACK_ID = "quality-district-funding"
PACK_1_0_0 = REPO / "rules" / PACK_ID / "1.0.0"
PACK_1_1_0 = REPO / "rules" / PACK_ID / "1.1.0"
CASE_2019 = PACK_1_0_0 / "cases" / "2019.yaml"


def run_cli(*args: str | Path, cwd: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    """`jixiao ARGS` in a fresh process, with none of the caller's JIXIAO_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"}
    env.update(extra_env)
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120, cwd=cwd)


def error_line(result: subprocess.CompletedProcess, exit_code: int) -> str:
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def facts_2019(tmp_path_factory) -> Path:
    case, _lines = parse_yaml(CASE_2019.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("facts") / "2019.json"
    path.write_text(json.dumps(case["facts"], ensure_ascii=False, default=str), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "registry.sqlite3"
    for folder in (PACK_1_0_0, PACK_1_1_0):
        assert run_cli("pack", "publish", folder, "--registry", path).returncode == 0
    assert run_cli("pack", "activate", PACK_ID, "1.0.0", "--registry", path).returncode == 0
    return path


# --- one error line, one exit-status table ---------------------------------------------------


@pytest.mark.parametrize("args", [
    ("--server", "127.0.0.1:1", "packs"),  # a command's option given before the command
    ("bogus",),
    ("score",),
    ("pack", "show"),
    ("pack", "versions", PACK_ID, "--as", "someone"),  # a read records no actor
    ("pack", "history", PACK_ID, "--as", "someone"),
])
def test_every_usage_error_is_one_usage_error_line_exit_2(args) -> None:
    line = error_line(run_cli(*args), 2)
    assert line.startswith("usage error: ") and "--help`)" in line, line


def test_an_option_before_the_command_says_options_go_after_it() -> None:
    line = error_line(run_cli("--server", "127.0.0.1:1", "packs"), 2)
    assert "No such option '--server'" in line and "options go after its name" in line
    assert "options go after" not in error_line(run_cli("--no-such-thing", "packs"), 2)  # no command has it


def test_top_level_help_does_not_present_command_options_as_global() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    said = " ".join(result.stdout.split())
    assert "options of its own, given after the command's name (`jixiao packs --server HOST:PORT`" in said
    assert "2 bad usage or input" in said and "invalid pack" in said


def test_read_commands_offer_no_as_and_changes_still_do() -> None:
    for command in ("versions", "history"):
        assert "--as" not in run_cli("pack", command, "--help").stdout
    for command in ("publish", "activate", "rollback"):
        assert "--as NAME" in run_cli("pack", command, "--help").stdout


def test_pack_test_exits_2_for_an_invalid_pack_and_1_for_a_failing_case(tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.yaml").write_text("id: [\n", encoding="utf-8")
    result = run_cli("pack", "test", broken)
    assert result.returncode == 2 and "pack.yaml" in result.stderr and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"invalid pack: 1 problem in {broken}"

    failing = tmp_path / "1.0.0"
    _copy_pack(PACK_1_0_0, failing)
    case = failing / "cases" / "2019.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace('score: "75.03"', 'score: "75.04"'), encoding="utf-8")
    result = run_cli("pack", "test", failing)
    assert result.returncode == 1 and "FAIL" in result.stdout, result.stdout + result.stderr


def test_local_work_reads_the_packs_folder_from_jixiao_packs_as_the_server_does(tmp_path) -> None:
    _copy_pack(PACK_1_0_0, tmp_path / "packs" / PACK_ID / "1.0.0")
    result = run_cli("packs", "--local", "--format", "json", JIXIAO_PACKS=str(tmp_path / "packs"))
    assert result.returncode == 0, result.stderr
    assert [p["version"] for p in json.loads(result.stdout)["packs"]] == ["1.0.0"]


# --- one language per table -----------------------------------------------------------------


def test_versions_history_and_diff_follow_lang(registry) -> None:
    zh = {("versions",): "版本", ("history",): "操作者"}
    en = {("versions",): "published at", ("history",): "actor"}
    for (command,), heading in zh.items():
        out = run_cli("pack", command, PACK_ID, "--registry", registry).stdout
        assert heading in out and en[(command,)] not in out, out
        out = run_cli("pack", command, PACK_ID, "--registry", registry, "--lang", "en").stdout
        assert en[(command,)] in out and heading not in out, out
    diff = ("pack", "diff", PACK_ID, "1.0.0", "1.1.0", "--registry", registry)
    assert "对象" in run_cli(*diff).stdout
    assert "subject" in run_cli(*diff, "--lang", "en").stdout


def test_lang_en_prints_the_grade_as_the_pack_names_it(facts_2019) -> None:
    out = run_cli("score", facts_2019, "--pack", PACK_ID, "--version", "1.0.0", "--local", "--lang", "en").stdout
    assert out.splitlines()[0].endswith("grade fair")
    assert "中" not in out.replace("rate", "")  # no Chinese grade left in the table
    out = run_cli("rescore", facts_2019, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0", "--local",
                  "--lang", "en").stdout
    grade = next(line for line in out.splitlines() if line.startswith("│ Grade"))
    assert grade.count("fair") == 2


# --- messages in the user's terms -----------------------------------------------------------


def test_a_json_facts_file_with_a_byte_order_mark_is_scored(tmp_path, facts_2019) -> None:
    bom = tmp_path / "excel.json"
    bom.write_bytes(b"\xef\xbb\xbf" + facts_2019.read_bytes())
    result = run_cli("score", bom, "--pack", PACK_ID, "--version", "1.0.0", "--local", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["score"] == "75.03"


def test_a_folder_given_as_a_facts_file_is_said_to_be_a_folder(tmp_path) -> None:
    line = error_line(run_cli("score", tmp_path, "--pack", PACK_ID, "--local"), 2)
    assert line == f"{tmp_path} is a folder, expected a facts file (.json or .yaml)"
    assert "Errno" not in line


def test_a_golden_case_file_is_scored_by_its_facts_with_a_note() -> None:
    result = run_cli("score", CASE_2019, "--pack", PACK_ID, "--version", "1.0.0", "--local", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["score"] == "75.03"
    assert result.stderr.strip() == f"note: {CASE_2019} is a golden case file; scoring the facts under its `facts:`"


def test_rescore_takes_an_array_of_facts_objects(tmp_path, facts_2019) -> None:
    facts = json.loads(facts_2019.read_text(encoding="utf-8"))
    weaker = json.loads(json.dumps(facts))
    weaker["budget"]["spent"] = "250000.00"
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([facts, weaker], ensure_ascii=False), encoding="utf-8")
    result = run_cli("rescore", cases, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0", "--local", "--format", "json")
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert [d["old"]["score"] for d in documents][0] == "75.03"
    assert len(documents) == 2 and documents[1]["old"]["score"] != "75.03"
    table = run_cli("rescore", cases, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0", "--local").stdout
    assert f"{cases}[0]" in table and f"{cases}[1]" in table

    scalar = tmp_path / "numbers.json"
    scalar.write_text("[1, 2]", encoding="utf-8")
    line = error_line(run_cli("rescore", scalar, "--pack", PACK_ID, "--versions", "1.0.0,1.1.0", "--local"), 2)
    assert "an array of such objects" in line


def test_a_key_that_is_not_pem_is_said_plainly(tmp_path) -> None:
    key = tmp_path / "notes.key"
    key.write_text("hello\n", encoding="utf-8")
    line = error_line(run_cli("pack", "sign", PACK_1_0_0, "--key", key), 2)
    assert line == (f"{key}: not a PEM ed25519 private key (unencrypted, as `jixiao pack keygen` "
                    f"writes it to PREFIX.key)")


def test_a_refused_publish_says_its_reason_once(tmp_path) -> None:
    broken = tmp_path / "broken"
    _copy_pack(PACK_1_1_0, broken)
    (broken / "pack.yaml").write_text("id: [\n", encoding="utf-8")
    result = run_cli("pack", "publish", broken, "--registry", tmp_path / "r.sqlite3")
    line = error_line(result, 1)
    assert line.startswith("publish refused: ")
    reason = line.split(": ", 2)[-1]
    assert (result.stdout + result.stderr).count(reason) == 1, result.stdout + result.stderr


def test_a_missing_output_folder_is_named_for_the_output_file(tmp_path, facts_2019) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"key": "a", "facts": json.loads(facts_2019.read_text("utf-8"))},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "nowhere" / "scores.csv"
    line = error_line(run_cli("batch", rows, "--pack", PACK_ID, "--local", "--out", out), 2)
    assert line == f"cannot write --out {out}: the folder {out.parent} does not exist"


def test_the_errors_file_lists_failed_rows_in_row_order(tmp_path) -> None:
    path = tmp_path / "scores.errors.jsonl"
    errors = ErrorFile(path)
    for number in (3, 1, 2):  # as parallel streams may finish them
        errors.write(RowFailure(f"k{number}", number, f"row {number} failed"))
    errors.close()
    assert [json.loads(line)["row"] for line in path.read_text("utf-8").splitlines()] == [1, 2, 3]


def test_keys_and_signatures_written_in_the_checkout_are_ignored_by_git() -> None:
    paths = ["ops.key", f"rules/{PACK_ID}/1.1.0/signature.json"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.split() == paths


def _copy_pack(source: Path, destination: Path) -> None:
    shutil.copytree(source, destination)
