"""`jixiao batch` and `jixiao template`, run as the real command in a subprocess.

Inputs are generated from the 2019 report's facts (the pack's golden case) with
variations and a few bad rows; every check is what a user sees: the output files,
the errors file, the last stderr line and the exit status.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import openpyxl
import pytest

from jixiao.core.evaluation.facts import lookup
from jixiao_cli.batch_outcomes import row_score, score_record
from jixiao_cli.fact_columns import FactColumn, fact_columns
from jixiao_cli.local import LocalJixiao

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"  # the 2019 report's version
PINNED = ["--pack", PACK_ID, "--version", VERSION]
LEVEL1_2019 = {"decision": "11", "process": "11.89", "output": "26.9", "benefit": "25.24"}
LEAVES_2019 = {"process.funds.execution": "2.39", "output.quantity.applicants": "0.9",
               "benefit.social.awareness": "3.49", "benefit.satisfaction.participants": "4.76"}
LEAF_COUNT = 28


def run_cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], capture_output=True,
                          text=True, env=_environment(), timeout=timeout)


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"}


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sheet_values(path: Path, titles: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """The sheets of a workbook called `titles` (default: every one, hidden ones too) as rows of values."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets
                if not titles or sheet.title in titles}
    finally:
        book.close()


VISIBLE_SHEETS = ("评分", "说明", "问题与建议", "错误")


@pytest.fixture(scope="module")
def service() -> Iterator[LocalJixiao]:
    with LocalJixiao.from_folder() as local:
        yield local


@pytest.fixture(scope="module")
def columns(service: LocalJixiao) -> tuple[FactColumn, ...]:
    return fact_columns(service.get_pack(PACK_ID, VERSION))


def cells_2019(columns: tuple[FactColumn, ...], facts: dict) -> dict[str, str]:
    """The 2019 facts as CSV cells by fact name; booleans written the way Excel users do,
    a list of texts one item a line."""
    cells = {}
    for column in columns:
        value = lookup(facts, column.name)
        if isinstance(value, bool):
            cells[column.name] = "TRUE" if value else "FALSE"
        elif isinstance(value, list):
            cells[column.name] = "\n".join(value)
        else:
            cells[column.name] = "" if value is None else str(value)
    return cells


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def varied_rows(columns: tuple[FactColumn, ...], facts: dict, count: int,
                bad: dict[int, tuple[str, str]] = {}) -> list[list[str]]:
    """`count` rows keyed k0, k1, ...: k0 the 2019 facts unchanged, the others with the
    budget spent, the applicants, a training flag and the awareness survey varied;
    `bad` maps a row index to a (fact name, cell) that spoils it."""
    base = cells_2019(columns, facts)
    rows = []
    for index in range(count):
        cells = dict(base)
        if index:
            cells["budget.spent"] = f"{300000 + index * 17 % 200000}.{index % 100:02d}"
            cells["output.applicants_submitted"] = str(index % 60)
            cells["quality.standards_defined"] = "是" if index % 3 else "否"
            familiar = Decimal("47.5") - Decimal(index % 40)
            cells["survey.awareness.familiar"] = str(familiar)
            cells["survey.awareness.unfamiliar"] = str(Decimal("14.17") + Decimal(index % 40))
        if index in bad:
            name, cell = bad[index]
            cells[name] = cell
        rows.append([f"k{index}", *(cells[column.name] for column in columns)])
    return rows


# --- the 10,000-row CSV --------------------------------------------------------------


def test_10000_row_csv_scores_every_good_row_and_lists_every_bad_one(
        tmp_path: Path, columns: tuple[FactColumn, ...], golden_2019_facts: dict, service: LocalJixiao) -> None:
    bad = {17: ("budget.spent", ""), 4242: ("output.applicants_submitted", "abc"),
           7777: ("survey.awareness.very_familiar", "120")}
    rows = varied_rows(columns, golden_2019_facts, 10_000, bad)
    rows.append(list(rows[5]))  # k5 again: a duplicate key on the last row
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)], rows)
    output = tmp_path / "scores.jsonl"

    started = time.monotonic()
    result = run_cli("batch", source, *PINNED, "--out", output, "--local", "--jobs", "2", timeout=600)
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stderr
    errors_file = tmp_path / "scores.jsonl.errors.jsonl"
    assert last_line(result.stderr) == f"9997 scored, 4 failed (see {errors_file})"
    scores = read_jsonl(output)
    assert len(scores) == 9997
    assert {s["key"] for s in scores} == {f"k{i}" for i in range(10_000)} - {f"k{i}" for i in bad}
    first = next(s for s in scores if s["key"] == "k0")
    assert (first["version"], first["score"], first["grade"]) == (VERSION, "75.03", "中")
    assert first["level1"] == LEVEL1_2019
    assert LEAVES_2019.items() <= first["leaves"].items()
    by_key = {s["key"]: s for s in scores}
    for index in (1, 2, 999, 5000, 9999):  # the varied rows score as the same facts do in process
        expected = service.evaluate(PACK_ID, _facts_of(columns, rows[index]), version=VERSION)
        assert by_key[f"k{index}"]["score"] == expected.score
    errors = {e["key"]: e for e in read_jsonl(errors_file)}
    assert set(errors) == {"k17", "k4242", "k7777", "k5"}
    assert errors["k17"]["row"] == 19  # the header is row 1, k0 row 2
    assert "budget.spent: missing" in errors["k17"]["message"]
    assert "output.applicants_submitted: expected an integer, got 'abc'" in errors["k4242"]["message"]
    assert "survey.awareness.very_familiar: share 120% is out of range [0, 100]" in errors["k7777"]["message"]
    assert errors["k5"]["message"] == "duplicate key 'k5': also on row 7"
    assert errors["k5"]["row"] == 10_002
    print(f"10,000 rows in {elapsed:.1f} s")


def _facts_of(columns: tuple[FactColumn, ...], row: list[str]) -> dict:
    facts: dict = {}
    for column, cell in zip(columns, row[1:]):
        value: object = cell
        if column.kind == "text_list":
            value = [line.strip() for line in cell.splitlines() if line.strip()]
            if not value:
                continue
        elif cell in ("TRUE", "是"):
            value = True
        elif cell in ("FALSE", "否"):
            value = False
        elif column.kind == "integer":
            value = int(cell)
        node = facts
        *parents, last = column.name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return facts


# --- resuming ------------------------------------------------------------------------


def test_a_rerun_after_an_interruption_scores_only_the_rows_not_written(
        tmp_path: Path, columns: tuple[FactColumn, ...], golden_2019_facts: dict) -> None:
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)],
                       varied_rows(columns, golden_2019_facts, 2000))
    output = tmp_path / "scores.jsonl"
    assert run_cli("batch", source, *PINNED, "--out", output, "--local").returncode == 0
    lines = output.read_text(encoding="utf-8").splitlines(keepends=True)
    # An interruption: half the rows written, the next one cut off mid-line.
    output.write_text("".join(lines[:1000]) + lines[1000][:40], encoding="utf-8")

    result = run_cli("batch", source, *PINNED, "--out", output, "--local")

    assert result.returncode == 0, result.stderr
    assert f"resuming {output} (1000 done)" in result.stderr
    assert last_line(result.stderr) == f"1000 scored, 0 failed; 1000 skipped (already in {output})"
    rerun = output.read_text(encoding="utf-8").splitlines(keepends=True)
    assert rerun[:1000] == lines[:1000]  # nothing before the interruption was scored again
    keys = [json.loads(line)["key"] for line in rerun]
    assert sorted(keys) == sorted(f"k{i}" for i in range(2000))  # every key exactly once
    assert rerun == lines  # and the rows after it were scored as the first run had them


def test_a_killed_batch_resumes_where_it_stopped(
        tmp_path: Path, columns: tuple[FactColumn, ...], golden_2019_facts: dict) -> None:
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)],
                       varied_rows(columns, golden_2019_facts, 2000, {3: ("budget.spent", "abc")}))
    output = tmp_path / "scores.csv"
    process = subprocess.Popen([sys.executable, "-m", "jixiao_cli", "batch", str(source), *PINNED,
                                "--out", str(output), "--local"], env=_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _line_count(output) < 300 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    before = output.read_bytes()
    written = _line_count(output) - 1  # the header
    assert 0 < written < 1999, "the batch should have been killed part way"

    result = run_cli("batch", source, *PINNED, "--out", output, "--local")

    assert result.returncode == 1, result.stderr
    complete = before[:before.rfind(b"\n") + 1]  # a row cut short by the kill is scored again
    after = output.read_bytes()
    assert after.startswith(complete)
    with output.open(encoding="utf-8-sig", newline="") as stream:
        keys = [row[0] for row in csv.reader(stream)][1:]
    assert sorted(keys) == sorted(f"k{i}" for i in range(2000) if i != 3)
    done_before = complete.count(b"\n") - 1  # the header
    assert last_line(result.stderr).startswith(f"{1999 - done_before} scored, 1 failed")


def _line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


# --- the template, filled in with openpyxl -------------------------------------------


def test_the_filled_in_template_scores_its_projects_not_its_example_and_reports_the_bad_row(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    made = run_cli("template", *PINNED, "--out", template, "--local")
    assert made.returncode == 0, made.stderr

    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "编号" and sheet["A2"].value == "key"
    names = [cell.value for cell in sheet[2]]
    labels = [cell.value for cell in sheet[1]]
    spent = names.index("budget.spent")
    assert labels[spent] == "实际使用资金（元）"
    assert labels[names.index("survey.awareness.familiar")] == "问卷：首义质量奖政策知晓率.了解（%）"
    assert sheet.freeze_panes == "B3"
    checks = {str(check.sqref).split(":")[0]: check for check in sheet.data_validations.dataValidation}
    flag = openpyxl.utils.get_column_letter(names.index("initiation.procedure_followed") + 1)
    assert checks[f"{flag}3"].formula1 == '"TRUE,FALSE"'
    share = checks[f"{openpyxl.utils.get_column_letter(names.index('survey.awareness.familiar') + 1)}3"]
    assert (share.type, share.formula1, share.formula2) == ("decimal", "0", "100")
    year = checks[f"{openpyxl.utils.get_column_letter(names.index('project.year') + 1)}3"]
    assert (year.type, year.formula1, year.formula2) == ("whole", "2000", "2100")
    assert book.worksheets[1].max_row > len(names)  # a line of explanation per column
    example = [cell.value for cell in sheet[3]]
    assert example[0] == "示例" and example[spent] == 398761
    # An evaluator leaves the example in and fills in two projects below it: the 2019
    # one, and one with text where the money belongs.
    sheet.append(["甲", *example[1:]])
    sheet.append(["坏行", *example[1:spent], "不详", *example[spent + 1:]])
    book.save(template)

    output = tmp_path / "scores.xlsx"
    result = run_cli("batch", template, *PINNED, "--out", output, "--local")

    errors_file = tmp_path / "scores.xlsx.errors.jsonl"
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == f"1 scored, 1 failed (see {errors_file}); example row 3 (示例) not scored"
    sheets = sheet_values(output)
    assert list(sheets) == ["评分", "说明", "问题与建议", "错误", "records"]
    rows = sheets["评分"]
    assert rows[0][:5] == ("编号", "版本", "摘要", "总分", "等级")  # labels first, as in the template
    assert rows[1][:5] == ("key", "version", "digest", "total", "grade")
    assert rows[2][0] == "甲" and rows[2][1] == VERSION and rows[2][3] == 75.03 and rows[2][4] == "中"
    assert rows[2][rows[1].index("process.funds.execution")] == 2.39
    assert len(rows) == 3
    details = sheets["说明"]
    assert len(details) == 1 + LEAF_COUNT and {row[0] for row in details[1:]} == {"甲"}
    assert all(row[7] for row in details[1:])  # every leaf's rationale
    assert sheets["错误"][1][:2] == (5, "坏行") and "budget.spent: expected a decimal number" in sheets["错误"][1][2]
    assert not (tmp_path / "scores.journal.jsonl").exists()
    [error] = read_jsonl(errors_file)
    assert (error["key"], error["row"]) == ("坏行", 5)
    assert "budget.spent: expected a decimal number" in error["message"] and "不详" in error["message"]

    again = run_cli("batch", template, *PINNED, "--out", output, "--local")  # the workbook resumes too

    assert last_line(again.stderr) == f"0 scored, 1 failed (see {errors_file}); 1 skipped (already in {output}); " \
                                      f"example row 3 (示例) not scored"
    assert sheet_values(output) == sheets


def test_a_sheet_headed_by_chinese_labels_alone_is_read_by_its_labels(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    assert run_cli("template", *PINNED, "--out", template, "--local").returncode == 0
    book = openpyxl.load_workbook(template)
    book.worksheets[0].delete_rows(2)  # no row of fact names: the labels are the header
    book.worksheets[0]["A2"] = "甲"  # the example, filled in over as a project of its own
    book.save(template)
    output = tmp_path / "scores.jsonl"

    result = run_cli("batch", template, *PINNED, "--out", output, "--local")

    assert result.returncode == 0, result.stderr
    assert last_line(result.stderr) == "1 scored, 0 failed"
    [score] = read_jsonl(output)
    assert (score["key"], score["score"], score["grade"]) == ("甲", "75.03", "中")


def test_a_gb18030_csv_with_label_headers_and_chinese_booleans(
        tmp_path: Path, columns: tuple[FactColumn, ...], golden_2019_facts: dict) -> None:
    cells = cells_2019(columns, golden_2019_facts)
    row = ["甲", *(("是" if cells[c.name] == "TRUE" else "否") if cells[c.name] in ("TRUE", "FALSE")
                   else cells[c.name] for c in columns)]
    source = write_csv(tmp_path / "excel.csv", ["编号", *(c.label for c in columns)], [row], "gb18030")
    output = tmp_path / "scores.csv"

    result = run_cli("batch", source, *PINNED, "--out", output, "--local")

    assert result.returncode == 0, result.stderr
    with output.open(encoding="utf-8-sig", newline="") as stream:
        header, scored = list(csv.reader(stream))
    assert scored[:5] == ["甲", VERSION, scored[2], "75.03", "中"]
    assert header[5:9] == list(LEVEL1_2019) and scored[5:9] == list(LEVEL1_2019.values())


# --- JSONL input ---------------------------------------------------------------------


def test_jsonl_rows_with_and_without_a_key(tmp_path: Path, golden_2019_facts: dict) -> None:
    lines = [json.dumps({"key": "报告", "facts": golden_2019_facts}, ensure_ascii=False),
             json.dumps(golden_2019_facts, ensure_ascii=False),
             "",
             "{not json",
             json.dumps({"key": "半", "facts": {"project": {"year": 2019}}}, ensure_ascii=False)]
    source = tmp_path / "projects.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "scores.jsonl"

    result = run_cli("batch", source, *PINNED, "--out", output, "--local", "--lang", "en")

    assert result.returncode == 1
    scores = {s["key"]: s for s in read_jsonl(output)}
    assert set(scores) == {"报告", "2"}  # a bare facts object is keyed by its line number
    assert scores["2"]["score"] == "75.03" and scores["2"]["grade"] == "fair"  # --lang en: the pack's English name
    errors = {e["key"]: e["message"] for e in read_jsonl(tmp_path / "scores.jsonl.errors.jsonl")}
    assert errors["4"].startswith("invalid JSON")
    assert "budget.spent: missing" in errors["半"] and "initiation.procedure_followed: missing" in errors["半"]


# --- bad usage -----------------------------------------------------------------------


@pytest.mark.parametrize("header, message", [
    (["key", "budget.spent", "预算批复金钱"], "columns not in the pack: C '预算批复金钱'"),
    (["key", "budget.spent", "实际使用资金"], "columns B and C are both budget.spent"),
], ids=["a label of no fact", "one fact twice"])
def test_a_header_naming_no_fact_is_refused_before_any_row(tmp_path: Path, header: list[str],
                                                             message: str) -> None:
    source = write_csv(tmp_path / "projects.csv", header, [["a", "1", "2"]])
    output = tmp_path / "scores.jsonl"

    result = run_cli("batch", source, *PINNED, "--out", output, "--local")

    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "scores.jsonl.errors.jsonl").exists()


def test_an_output_of_another_version_is_not_resumed(tmp_path: Path, columns: tuple[FactColumn, ...],
                                                      golden_2019_facts: dict) -> None:
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)],
                       varied_rows(columns, golden_2019_facts, 2))
    output = tmp_path / "scores.jsonl"
    assert run_cli("batch", source, *PINNED, "--out", output, "--local").returncode == 0

    result = run_cli("batch", source, "--pack", PACK_ID, "--version", "1.1.0", "--out", output, "--local")

    assert result.returncode == 2
    assert "was scored with quality-district-funding 1.0.0" in result.stderr
    assert "Traceback" not in result.stderr


# --- through a server ----------------------------------------------------------------


def test_a_batch_streams_through_a_server(tmp_path: Path, jixiao_server, columns: tuple[FactColumn, ...],
                                          golden_2019_facts: dict) -> None:
    rows = varied_rows(columns, golden_2019_facts, 300, {42: ("budget.spent", ""),
                                                        250: ("project.year", "1999")})
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)], rows)
    output = tmp_path / "scores.jsonl"

    result = run_cli("batch", source, *PINNED, "--out", output, "--server", jixiao_server.address,
                     "--jobs", "3")

    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr).startswith("298 scored, 2 failed")
    scores = {s["key"]: s for s in read_jsonl(output)}
    assert len(scores) == 298
    assert (scores["k0"]["score"], scores["k0"]["grade"], scores["k0"]["level1"]) == ("75.03", "中", LEVEL1_2019)
    errors = {e["key"]: e["message"] for e in read_jsonl(tmp_path / "scores.jsonl.errors.jsonl")}
    assert "budget.spent: missing" in errors["k42"]
    assert "project.year: 1999 is out of range [2000, 2100]" in errors["k250"]

    local = tmp_path / "local.jsonl"
    assert run_cli("batch", source, *PINNED, "--out", local, "--local").returncode == 1
    assert {s["key"]: s for s in read_jsonl(local)} == scores  # the same scores as in process


def test_an_unreachable_server_exits_3(tmp_path: Path, columns: tuple[FactColumn, ...],
                                       golden_2019_facts: dict) -> None:
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)],
                       varied_rows(columns, golden_2019_facts, 2))

    result = run_cli("batch", source, *PINNED, "--out", tmp_path / "scores.jsonl", "--server", "127.0.0.1:9")

    assert result.returncode == 3
    assert result.stderr.startswith("server unavailable")


def test_a_batch_rides_out_the_server_processes_being_killed(
        tmp_path: Path, start_jixiao_server, columns: tuple[FactColumn, ...], golden_2019_facts: dict) -> None:
    server = start_jixiao_server(args=["--processes", "2"])
    _wait_for(lambda: "all workers serving" in server.log(), "both server processes to serve")
    source = write_csv(tmp_path / "projects.csv", ["key", *(c.name for c in columns)],
                       varied_rows(columns, golden_2019_facts, 1500))
    output = tmp_path / "scores.jsonl"
    batch = subprocess.Popen([sys.executable, "-m", "jixiao_cli", "batch", str(source), *PINNED,
                              "--out", str(output), "--server", server.address, "--jobs", "2"],
                             env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _line_count(output) >= 200 or batch.poll() is not None, "rows to be scored")
        killed = _server_processes(server.process.pid)
        for pid in killed:  # every process: the streams cannot have escaped to a live one
            os.kill(pid, signal.SIGKILL)
        _, stderr = batch.communicate(timeout=300)
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.wait()

    assert killed and batch.returncode == 0, stderr
    assert last_line(stderr) == "1500 scored, 0 failed"
    keys = [score["key"] for score in read_jsonl(output)]
    assert sorted(keys) == sorted(f"k{i}" for i in range(1500))  # each once: none lost, none twice


def _wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _server_processes(supervisor: int) -> list[int]:
    """The server's worker processes: the supervisor's children that multiprocessing spawned."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == supervisor and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):  # not a process, or it exited meanwhile
            continue
    return found


# --- outputs that explain: 2,000 rows of the pack with findings ----------------------

EXPLAINED = "1.0.1"  # 1.0.0's scores, with findings, recommendations and observations
OBSERVED = {"evaluation.observed_problems": "甲问题\n\n  乙问题  ", "evaluation.observed_recommendations": ""}
EXPLAINED_BAD = {17: ("budget.spent", ""), 444: ("output.applicants_submitted", "abc"),
                 1500: ("evaluation.observed_problems", "\n".join(f"问题{i}" for i in range(21)))}


@pytest.fixture(scope="module")
def explained(tmp_path_factory: pytest.TempPathFactory, service: LocalJixiao) -> dict:
    """2,000 rows (k0 the 2019 report's facts with its observations, every tenth row from
    k3 on with two observations of its own, three bad rows) scored with --local into a
    .jsonl and an .xlsx output: the paths, the rows, and the CLI's answers."""
    folder = tmp_path_factory.mktemp("explained")
    case = next(case for case in service.golden_cases(PACK_ID, EXPLAINED) if case.name == "2019年度评价报告")
    columns = fact_columns(service.get_pack(PACK_ID, EXPLAINED))
    rows = varied_rows(columns, dict(case.facts), 2000, EXPLAINED_BAD)
    position = {column.name: at for at, column in enumerate(columns, start=1)}
    for index in range(3, 2000, 10):
        for name, cell in OBSERVED.items():
            rows[index][position[name]] = cell
    source = write_csv(folder / "projects.csv", ["key", *(c.name for c in columns)], rows)
    runs = {}
    for suffix in (".jsonl", ".xlsx"):
        started = time.monotonic()
        runs[suffix] = run_cli("batch", source, "--pack", PACK_ID, "--version", EXPLAINED,
                               "--out", folder / f"scores{suffix}", "--local", timeout=300)
        print(f"2,000 rows to {suffix} with --local in {time.monotonic() - started:.1f} s")
    return {"folder": folder, "source": source, "columns": columns, "rows": rows, "case": case, "runs": runs}


def test_every_row_of_a_2000_row_batch_carries_its_explanation_in_jsonl(explained: dict,
                                                                         service: LocalJixiao) -> None:
    folder, case, rows, columns = explained["folder"], explained["case"], explained["rows"], explained["columns"]
    result = explained["runs"][".jsonl"]
    errors_file = folder / "scores.jsonl.errors.jsonl"
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == f"1997 scored, 3 failed (see {errors_file})"

    records = read_jsonl(folder / "scores.jsonl")
    assert [r["key"] for r in records] == [f"k{i}" for i in range(2000) if i not in EXPLAINED_BAD]
    for record in records:
        assert [d["id"] for d in record["details"]] == list(record["leaves"]) and len(record["details"]) == LEAF_COUNT
        assert all(d["rationale"] and d["name"] for d in record["details"]), record["key"]
        assert record["findings"] and record["recommendations"], record["key"]  # 2019's targets are never declared
        assert sum(Decimal(d["deducted"]) for d in record["details"]) == Decimal(record["total_weight"]) - \
            Decimal(record["score"])
    by_key = {record["key"]: record for record in records}
    assert [f["text"] for f in by_key["k0"]["findings"]] == case.expected["findings"]  # word for word
    assert [f["text"] for f in by_key["k0"]["recommendations"]] == case.expected["recommendations"]
    assert [(f["text"], f["observation"]) for f in by_key["k3"]["findings"][-2:]] == [("甲问题", True), ("乙问题", True)]
    for index in (1, 3, 999, 1999):  # the whole row, explanation and all, as the core gives it
        evaluation = service.evaluate_result(PACK_ID, _facts_of(columns, rows[index]), version=EXPLAINED)
        assert by_key[f"k{index}"] == score_record(row_score(f"k{index}", 0, evaluation))

    errors = {e["key"]: e for e in read_jsonl(errors_file)}
    assert set(errors) == {"k17", "k444", "k1500"}
    assert "evaluation.observed_problems: has 21 texts, more than the 20 it may have" in errors["k1500"]["message"]


def test_the_workbook_of_the_same_batch_explains_each_row_leaf_by_leaf_and_lists_the_bad_rows(explained: dict) -> None:
    folder = explained["folder"]
    result = explained["runs"][".xlsx"]
    errors_file = folder / "scores.xlsx.errors.jsonl"
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == f"1997 scored, 3 failed (see {errors_file})"
    assert (folder / "scores.jsonl.errors.jsonl").exists()  # the .jsonl run's errors are still there
    records = read_jsonl(folder / "scores.jsonl")

    sheets = sheet_values(folder / "scores.xlsx", VISIBLE_SHEETS)
    assert [row[0] for row in sheets["评分"][2:]] == [r["key"] for r in records]
    names = {d["id"]: d["name"] for d in records[0]["dimensions"]}
    assert [row[:3] + row[7:8] for row in sheets["说明"][1:]] == [
        (r["key"], names[d["dimension"]], d["name"], d["rationale"]) for r in records for d in r["details"]]
    assert [row[:4] for row in sheets["问题与建议"][1:]] == [
        (r["key"], kind, number, finding["text"]) for r in records
        for kind, items in (("存在的问题", r["findings"]), ("有关建议", r["recommendations"]))
        for number, finding in enumerate(items, start=1)]
    assert sheets["错误"][1:] == [(e["row"], e["key"], e["message"]) for e in read_jsonl(errors_file)]
    assert [row[:2] for row in sheets["错误"][1:]] == [(19, "k17"), (446, "k444"), (1502, "k1500")]


def test_a_batch_through_a_server_writes_the_rows_the_local_batch_writes(explained: dict, jixiao_server,
                                                                          tmp_path: Path) -> None:
    """The 2,000 rows on two streams: the server's replies give the rows, explanation and
    all, that the core gives in process; and 500 of them in a workbook show them."""
    local = read_jsonl(explained["folder"] / "scores.jsonl")
    output, workbook = tmp_path / "scores.jsonl", tmp_path / "scores.xlsx"

    started = time.monotonic()
    result = run_cli("batch", explained["source"], "--pack", PACK_ID, "--version", EXPLAINED, "--out", output,
                     "--server", jixiao_server.address, "--jobs", "2", timeout=300)
    print(f"2,000 rows to .jsonl through a server in {time.monotonic() - started:.1f} s")
    assert result.returncode == 1 and last_line(result.stderr).startswith("1997 scored, 3 failed"), result.stderr
    served = {r["key"]: r for r in read_jsonl(output)}
    assert served == {r["key"]: r for r in local}

    with explained["source"].open(encoding="utf-8", newline="") as stream:
        head = list(csv.reader(stream))[:501]
    source = write_csv(tmp_path / "projects.csv", head[0], head[1:])
    started = time.monotonic()
    result = run_cli("batch", source, "--pack", PACK_ID, "--version", EXPLAINED, "--out", workbook,
                     "--server", jixiao_server.address, "--jobs", "2")
    print(f"500 rows to .xlsx through a server in {time.monotonic() - started:.1f} s")
    assert result.returncode == 1 and last_line(result.stderr).startswith("498 scored, 2 failed"), result.stderr
    served = {key: record for key, record in served.items() if int(key[1:]) < 500}
    sheets = sheet_values(workbook, VISIBLE_SHEETS)
    names = {d["id"]: d["name"] for d in local[0]["dimensions"]}
    assert sorted(row[:3] + row[7:8] for row in sheets["说明"][1:]) == sorted(
        (r["key"], names[d["dimension"]], d["name"], d["rationale"]) for r in served.values() for d in r["details"])
    assert sorted(row[:4] for row in sheets["问题与建议"][1:]) == sorted(
        (r["key"], kind, number, finding["text"]) for r in served.values()
        for kind, items in (("存在的问题", r["findings"]), ("有关建议", r["recommendations"]))
        for number, finding in enumerate(items, start=1))
    assert [row[:2] for row in sheets["错误"][1:]] == [(19, "k17"), (446, "k444")]
