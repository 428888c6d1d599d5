"""`jixiao report`, run as a user runs it: through a real server, --local and --registry, the same bytes;
the file written whole or not at all; errors told exactly as `jixiao score` tells them.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from jixiao_cli.exit_codes import CliError
from jixiao_cli.whole_files import write_whole

from conftest import REPO, RunningServer

pytestmark = pytest.mark.e2e

PACK_ID = "quality-district-funding"
FACTS_2019 = REPO / "examples" / "quality-district-2019.facts.json"
INVALID_FACTS = REPO / "examples" / "invalid-facts.json"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _texts(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    return [value] if isinstance(value, str) and CJK.search(value) else []


FACT_TEXTS = sorted(_texts(json.loads(FACTS_2019.read_text(encoding="utf-8"))), key=len, reverse=True)


def jixiao(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`jixiao ARGS` in a fresh process, with none of the caller's JIXIAO_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=cwd)


def without_fact_texts(text: str) -> str:
    """`text` without the 2019 facts' own texts (the project's name, its unit): Chinese in any language."""
    for value in FACT_TEXTS:
        text = text.replace(value, "")
    return text


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one stderr line, without the request id a server's refusal ends with (each command
    sends its own, so two commands' lines differ there and only there)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return REQUEST_ID_SUFFIX.sub("", lines[0])


REQUEST_ID_SUFFIX = re.compile(r" \(request id [0-9a-f]{32}\)$")


def unused_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture(scope="module")
def server_option(jixiao_server: RunningServer) -> list[str]:
    return ["--server", jixiao_server.address]


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_the_server_local_and_a_registry_write_the_same_bytes(tmp_path, jixiao_server, server_option,
                                                              suffix) -> None:
    written = {}
    places = {"server": server_option, "local": ["--local"]}
    if suffix == ".md":  # the registry's path is local's (the same code in this process): once is enough
        places["registry"] = ["--registry", jixiao_server.registry]
    for place, options in places.items():
        out = tmp_path / place / f"report{suffix}"
        out.parent.mkdir()
        result = jixiao("report", FACTS_2019, "--pack", PACK_ID, "--version", "1.0.0", "--out", out, *options)
        assert result.returncode == 0, result.stderr
        size = out.stat().st_size
        assert result.stdout == f"{out}  {size:,} 字节  {PACK_ID}@1.0.0  总分 75.03 / 100  等级 中\n"
        written[place] = out.read_bytes()
        assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary file left behind
    assert len(set(written.values())) == 1, list(written)


def test_a_word_report_through_the_server_in_english(tmp_path, server_option) -> None:
    out = tmp_path / "report.DOCX"
    result = jixiao("report", FACTS_2019, "--pack", PACK_ID, "--version", "1.0.0", "--out", out, "--lang", "en",
                    *server_option)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}  {out.stat().st_size:,} bytes  {PACK_ID}@1.0.0  total 75.03 / 100  grade ")
    document = docx.Document(io.BytesIO(out.read_bytes()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading") and p.text]
    assert headings and not [h for h in headings if CJK.search(without_fact_texts(h))], headings
    assert len(document.inline_shapes) == 1  # the chart


def test_the_english_markdown_has_english_headings(tmp_path, server_option) -> None:
    out = tmp_path / "report.md"
    assert jixiao("report", FACTS_2019, "--pack", PACK_ID, "--out", out, "--lang", "en", *server_option).returncode == 0
    headings = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert headings and not [h for h in headings if CJK.search(without_fact_texts(h))], headings


@pytest.mark.parametrize("facts, pack, place", [(INVALID_FACTS, PACK_ID, "server"), (INVALID_FACTS, PACK_ID, "local"),
                                                (FACTS_2019, "no-such-pack", "server")])
def test_errors_are_told_as_score_tells_them_and_leave_the_file_alone(tmp_path, server_option, facts, pack,
                                                                       place) -> None:
    options = server_option if place == "server" else ["--local"]
    out = tmp_path / "report.html"
    out.write_bytes(b"the report of last week")
    reported = jixiao("report", facts, "--pack", pack, "--out", out, *options)
    scored = jixiao("score", facts, "--pack", pack, *options)
    assert reported.returncode == scored.returncode == 2
    assert one_error_line(reported) == one_error_line(scored)
    assert out.read_bytes() == b"the report of last week"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_an_unknown_fact_is_refused_as_score_refuses_it_unless_ignored(tmp_path, server_option) -> None:
    facts = json.loads(FACTS_2019.read_text(encoding="utf-8"))
    facts["budget"]["spnt"] = "1.00"
    misspelt = tmp_path / "facts.json"
    misspelt.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "report.md"
    reported = jixiao("report", misspelt, "--pack", PACK_ID, "--out", out, *server_option)
    scored = jixiao("score", misspelt, "--pack", PACK_ID, *server_option)
    assert reported.returncode == scored.returncode == 2
    assert one_error_line(reported) == one_error_line(scored)
    assert "did you mean budget.spent?" in one_error_line(reported) and not out.exists()
    ignored = jixiao("report", misspelt, "--pack", PACK_ID, "--out", out, "--ignore-unknown-facts", *server_option)
    assert ignored.returncode == 0, ignored.stderr
    assert out.stat().st_size > 0


def test_an_unreachable_server_is_told_as_score_tells_it(tmp_path) -> None:
    address = unused_address()
    reported = jixiao("report", FACTS_2019, "--pack", PACK_ID, "--out", tmp_path / "r.md", "--server", address)
    scored = jixiao("score", FACTS_2019, "--pack", PACK_ID, "--server", address)
    assert reported.returncode == scored.returncode == 3
    assert one_error_line(reported) == one_error_line(scored)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["report.pdf", "report", "report.md.txt"])
def test_an_unknown_suffix_is_a_usage_error_naming_the_accepted_ones(tmp_path, name) -> None:
    # The server named does not exist: the suffix is refused before anything is asked of it.
    result = jixiao("report", FACTS_2019, "--pack", PACK_ID, "--out", tmp_path / name, "--server", unused_address())
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("usage error: --out ") and ".docx, .md, .html" in line, line
    assert "jixiao report --help" in line
    assert not list(tmp_path.iterdir())


def test_a_folder_that_does_not_exist_is_said_before_anything_is_asked_of_the_server(tmp_path) -> None:
    out = tmp_path / "missing" / "report.md"
    result = jixiao("report", FACTS_2019, "--pack", PACK_ID, "--out", out, "--server", unused_address())
    assert result.returncode == 2
    assert one_error_line(result) == f"cannot write --out {out}: the folder {out.parent} does not exist"


def test_a_file_that_cannot_be_replaced_is_said_and_nothing_is_left_behind(tmp_path) -> None:
    out = tmp_path / "report.md"
    (out / "inside").mkdir(parents=True)  # a folder in the report's place: the rename fails after the write
    with pytest.raises(CliError) as raised:
        write_whole(out, [b"# report\n"], "the report ")
    assert str(raised.value).startswith(f"cannot write the report {out}: ")
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"] and (out / "inside").is_dir()
