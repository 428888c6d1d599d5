"""`jixiao summary` and `jixiao batch --summary`, run as the real command on the real output
of `jixiao batch --local` for 200 generated projects: every figure of the workbook and the
page recomputed here from the JSONL rows."""

from __future__ import annotations

import json
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from bs4 import BeautifulSoup

from jixiao_cli.fact_columns import fact_columns
from jixiao_cli.local import LocalJixiao
from test_batch import last_line, read_jsonl, run_cli, varied_rows, write_csv

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
VERSION = "1.0.1"  # the version with findings and observations
PINNED = ["--pack", PACK_ID, "--version", VERSION]
OBSERVED = "项目档案资料不全"
CENT = Decimal("0.01")


def projects_csv(path: Path, facts: dict, count: int) -> Path:
    """`count` varied projects; every third one with an evaluator's observation."""
    with LocalJixiao.from_folder() as service:
        columns = fact_columns(service.get_pack(PACK_ID, VERSION))
    rows = varied_rows(columns, facts, count)
    names = [column.name for column in columns]
    for index, row in enumerate(rows):
        for position, name in enumerate(names, start=1):
            if name.startswith("evaluation.observed_"):
                row[position] = OBSERVED if name.endswith("problems") and index % 3 == 0 else ""
    return write_csv(path, ["key", *names], rows)


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory: pytest.TempPathFactory, golden_2019_facts: dict) -> dict:
    folder = tmp_path_factory.mktemp("summary")
    source = projects_csv(folder / "projects.csv", golden_2019_facts, 200)
    result = run_cli("batch", source, *PINNED, "--out", folder / "scores.jsonl", "--local",
                     "--summary", folder / "batch-summary.html", timeout=300)
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "source": source, "scores": folder / "scores.jsonl",
            "rows": read_jsonl(folder / "scores.jsonl"), "stderr": result.stderr}


def mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def sheet(book: openpyxl.Workbook, name: str) -> list[tuple]:
    return list(book[name].iter_rows(values_only=True))


def test_the_workbook_figures_are_those_of_the_rows(batch_run: dict) -> None:
    rows, out = batch_run["rows"], batch_run["folder"] / "summary.xlsx"
    assert len(rows) == 200 and all("details" in row and "findings" in row for row in rows)

    result = run_cli("summary", batch_run["scores"], "--local", "--out", out)

    assert result.returncode == 0, result.stderr
    assert last_line(result.stderr) == f"wrote {out}: 200 projects, {PACK_ID} {VERSION}"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["概览", "等级分布", "维度统计", "指标失分排名", "常见问题", "明细来源"]
    grades = Counter(row["grade"] for row in rows)
    assert {g: c for g, c, _share, _column in sheet(book, "等级分布")[1:]} == {g: grades[g] for g in "优良中差"}
    statistics = {(name.split(" (")[1].rstrip(")"), measure): values
                  for name, measure, *values in sheet(book, "维度统计")[1:]}
    for dimension in ("decision", "process", "output", "benefit"):
        scores = [Decimal(row["level1"][dimension]) for row in rows]
        rates = [Decimal(d["rate"]) for row in rows for d in row["dimensions"] if d["id"] == dimension]
        got = statistics[(dimension, "得分")]
        assert [Decimal(str(got[i])) for i in (0, 2, 3)] == [mean(scores), min(scores), max(scores)]
        assert Decimal(str(statistics[(dimension, "得分率（%）")][0])) == mean(rates)
    lost: dict[str, Decimal] = {}
    losing: Counter = Counter()
    for row in rows:
        for detail in row["details"]:
            lost[detail["id"]] = lost.get(detail["id"], Decimal(0)) + Decimal(detail["deducted"])
            losing[detail["id"]] += Decimal(detail["deducted"]) > 0
    ranking = sheet(book, "指标失分排名")[1:]
    assert {row[2]: (Decimal(str(row[4])), row[5]) for row in ranking} == {
        leaf: (total, losing[leaf]) for leaf, total in lost.items()}
    assert [Decimal(str(row[4])) for row in ranking] == sorted(lost.values(), reverse=True)
    given = Counter(finding["id"] if not finding["observation"] else finding["text"]
                    for row in rows for finding in row["findings"])
    findings = {(row[4] if row[2] == "评价人员发现" else row[1]): row[5] for row in sheet(book, "常见问题")[1:]}
    assert findings == dict(given)
    assert findings[OBSERVED] == 67  # k0, k3, ... k198


def test_batch_summary_page_names_the_rows_of_each_figure(batch_run: dict) -> None:
    rows = batch_run["rows"]
    assert "wrote " + str(batch_run["folder"] / "batch-summary.html") + ": 200 projects" in batch_run["stderr"]
    soup = BeautifulSoup((batch_run["folder"] / "batch-summary.html").read_bytes(), "html.parser")
    assert soup.select_one('[data-figure="projects"]').get_text() == "200"
    for tr in soup.select("#grades tr[data-id]"):
        keys = [li["data-key"] for li in tr.select("details li")]
        assert keys == [row["key"] for row in rows if row["grade"] == tr["data-id"]]
    first = soup.select("#indicators tr[data-id]")[0]
    expected = [(row["key"], d["deducted"]) for row in rows for d in row["details"]
                if d["id"] == first["data-id"] and Decimal(d["deducted"]) > 0]
    assert [(li["data-key"], li["data-value"]) for li in first.select("details li")] == expected
    assert len(soup.find_all("svg")) == 2 and soup.find("script") is None


def test_batch_summary_covers_the_rows_of_earlier_runs(batch_run: dict, golden_2019_facts: dict) -> None:
    folder = batch_run["folder"]
    first = projects_csv(folder / "first.csv", golden_2019_facts, 80)
    output, summary = folder / "resumed.jsonl", folder / "resumed.xlsx"
    assert run_cli("batch", first, *PINNED, "--out", output, "--local").returncode == 0

    result = run_cli("batch", batch_run["source"], *PINNED, "--out", output, "--local", "--summary", summary)

    assert result.returncode == 0, result.stderr
    assert "120 scored, 0 failed; 80 skipped" in last_line(result.stderr)
    overview = sheet(openpyxl.load_workbook(summary), "概览")
    assert overview[2][:2] == ("项目数", 200)


def test_a_file_that_is_not_batch_output_is_refused_naming_its_line(batch_run: dict, tmp_path: Path) -> None:
    scores = tmp_path / "scores.jsonl"
    first = json.dumps(batch_run["rows"][0], ensure_ascii=False)
    scores.write_text(first + "\n" + json.dumps({"key": "k9", "score": "80"}) + "\n", encoding="utf-8")
    out = tmp_path / "summary.html"

    result = run_cli("summary", scores, "--local", "--out", out)

    assert result.returncode == 2
    assert last_line(result.stderr) == (
        f"{scores}:2 is not a row of `jixiao batch` output: no pack, version, digest, grade, level1, leaves "
        f"(a row of `jixiao batch` output has key, pack, version, digest, score, grade, level1, leaves)")
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_rows_scored_with_another_digest_are_refused(batch_run: dict, tmp_path: Path) -> None:
    row = dict(batch_run["rows"][0], digest="0" * 64)
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")

    result = run_cli("summary", scores, "--local", "--out", tmp_path / "summary.html")

    assert result.returncode == 2
    assert f"{scores}:1 was scored with {PACK_ID} {VERSION} of digest 000000000000…" in last_line(result.stderr)


def test_rows_of_an_earlier_batch_are_summarized_with_a_note(batch_run: dict, tmp_path: Path) -> None:
    old = ("language", "total_weight", "rate", "dimensions", "details", "findings", "recommendations")
    scores = tmp_path / "old.jsonl"
    scores.write_text("".join(json.dumps({k: v for k, v in row.items() if k not in old}, ensure_ascii=False) + "\n"
                              for row in batch_run["rows"][:20]), encoding="utf-8")
    out = tmp_path / "old.html"

    result = run_cli("summary", scores, "--local", "--out", out, "--lang", "en")

    assert result.returncode == 0, result.stderr
    soup = BeautifulSoup(out.read_bytes(), "html.parser")
    assert [li["data-figure"] for li in soup.select("#missing li")] == ["rates", "indicators", "findings"]
    assert "20 rows have no details field (the first: k0)" in soup.select_one("#missing").get_text()


def test_rows_of_a_version_not_found_are_refused_naming_the_line(batch_run: dict, tmp_path: Path) -> None:
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps(dict(batch_run["rows"][0], version="9.9.9"), ensure_ascii=False) + "\n",
                      encoding="utf-8")

    result = run_cli("summary", scores, "--local", "--out", tmp_path / "summary.html")

    assert result.returncode == 2
    assert last_line(result.stderr).startswith(
        f"{scores}:1 was scored with {PACK_ID} 9.9.9, which could not be looked up: not found: ")


def test_a_batch_whose_rows_all_failed_writes_no_summary_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("key,budget.spent\nb1,abc\n", encoding="utf-8")
    output, summary = tmp_path / "bad.jsonl", tmp_path / "bad.html"

    result = run_cli("batch", source, *PINNED, "--out", output, "--local", "--summary", summary,
                     "--ignore-unknown-facts")

    assert result.returncode == 1
    assert f"no summary written: {output} holds no scored row" in result.stderr
    assert last_line(result.stderr).startswith("0 scored, 1 failed") and not summary.exists()


def test_through_a_server_the_page_is_the_same_bytes(batch_run: dict, jixiao_server) -> None:
    folder = batch_run["folder"]
    local, remote = folder / "local.html", folder / "remote.html"
    assert run_cli("summary", batch_run["scores"], "--local", "--out", local).returncode == 0

    result = run_cli("summary", batch_run["scores"], "--server", jixiao_server.address, "--out", remote)

    assert result.returncode == 0, result.stderr
    assert remote.read_bytes() == local.read_bytes()


# --- .xlsx and .csv outputs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs(batch_run: dict, golden_2019_facts: dict) -> dict[str, Path]:
    """The same 30 projects batched into each kind of output."""
    folder = batch_run["folder"]
    source = projects_csv(folder / "thirty.csv", golden_2019_facts, 30)
    written = {}
    for suffix in (".jsonl", ".xlsx", ".csv"):
        written[suffix] = folder / f"few{suffix}"
        result = run_cli("batch", source, *PINNED, "--out", written[suffix], "--local")
        assert result.returncode == 0, result.stderr
    written["source"] = source
    return written


def test_an_xlsx_output_gives_the_summary_its_jsonl_gives(outputs: dict[str, Path], tmp_path: Path) -> None:
    workbook = outputs[".xlsx"]
    before = workbook.read_bytes()
    from_jsonl, from_xlsx = tmp_path / "jsonl.html", tmp_path / "xlsx.html"
    assert run_cli("summary", outputs[".jsonl"], "--local", "--out", from_jsonl).returncode == 0

    result = run_cli("summary", workbook, *PINNED, "--local", "--out", from_xlsx)

    assert result.returncode == 0, result.stderr
    assert last_line(result.stderr) == f"wrote {from_xlsx}: 30 projects, {PACK_ID} {VERSION}"
    assert from_xlsx.read_bytes() == from_jsonl.read_bytes()
    assert workbook.read_bytes() == before and sorted(p.name for p in workbook.parent.glob("few.*")) == [
        "few.csv", "few.jsonl", "few.xlsx"]  # read only: no journal left beside it


def test_a_csv_output_gives_the_figures_of_its_scores_and_names_the_others(outputs: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    rows = read_jsonl(outputs[".jsonl"])
    out = tmp_path / "csv.html"

    result = run_cli("summary", outputs[".csv"], *PINNED, "--local", "--out", out, "--lang", "en")

    assert result.returncode == 0, result.stderr
    soup = BeautifulSoup(out.read_bytes(), "html.parser")
    assert [li["data-figure"] for li in soup.select("#missing li")] == [
        "rates", "indicators", "findings", "overrides", "not_applicable"]
    assert "30 rows have no findings field (the first: k0)" in soup.select_one("#missing").get_text()
    assert soup.select_one("#overrides-missing") and soup.select_one("#not-applicable-missing")
    for tr in soup.select("#grades tr[data-id]"):
        assert [li["data-key"] for li in tr.select("details li")] == [
            row["key"] for row in rows if row["grade"] == tr["data-id"]]
    totals = [(li["data-key"], Decimal(li["data-value"])) for li in soup.select('#totals tr.rows')[0].select("li")]
    assert totals == [(row["key"], Decimal(row["score"])) for row in rows]


def test_an_xlsx_or_csv_output_is_read_with_the_pack_it_was_scored_with(outputs: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "summary.html"
    unnamed = run_cli("summary", outputs[".csv"], "--local", "--out", out)
    assert unnamed.returncode == 2 and "few.csv does not name its pack: give the pack the batch was run with" in (
        unnamed.stderr)
    named = run_cli("summary", outputs[".jsonl"], *PINNED, "--local", "--out", out)
    assert named.returncode == 2 and "the rows of few.jsonl name their pack and version" in named.stderr

    other = run_cli("summary", outputs[".xlsx"], "--pack", PACK_ID, "--version", "1.0.0", "--local", "--out", out)

    assert other.returncode == 2
    assert last_line(other.stderr).startswith(f"{outputs['.xlsx']}")
    assert last_line(other.stderr).endswith(": name the pack and version the batch was run with (--pack, --version)")
    assert not out.exists()


def test_the_help_speaks_of_a_summarys_words() -> None:
    result = run_cli("summary", "--help")
    assert result.returncode == 0
    assert "SCORES.jsonl|.xlsx|.csv" in result.stdout and "rationales" not in result.stdout


def test_batch_summary_of_a_csv_output_names_what_a_csv_cannot_say(outputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "resumed.html"

    result = run_cli("batch", outputs["source"], *PINNED, "--out", outputs[".csv"], "--local", "--summary", out)

    assert result.returncode == 0, result.stderr
    assert "0 scored, 0 failed; 30 skipped" in last_line(result.stderr)
    soup = BeautifulSoup(out.read_bytes(), "html.parser")
    assert soup.select_one("#overrides-missing") and soup.select_one("#not-applicable-missing")
    assert soup.select_one('[data-figure="projects"]').get_text() == "30"
