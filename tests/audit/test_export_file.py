"""`jixiao audit export` writes its file whole or not at all."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from jixiao_cli.audit_commands import write_lines
from jixiao_cli.client import JixiaoError
from jixiao_cli.exit_codes import CliError


def test_the_lines_replace_the_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    out.write_text("before\n")
    assert write_lines(out, iter(['{"a":1}', '{"b":"中"}'])) == 2
    assert out.read_text(encoding="utf-8") == '{"a":1}\n{"b":"中"}\n'
    assert list(tmp_path.iterdir()) == [out]


def test_a_stream_failing_half_way_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    out.write_text("before\n")

    def lines():
        yield '{"a":1}'
        raise JixiaoError(grpc.StatusCode.UNAVAILABLE, "the server went away")

    with pytest.raises(JixiaoError):
        write_lines(out, lines())
    assert out.read_text() == "before\n"
    assert list(tmp_path.iterdir()) == [out]


def test_a_folder_that_cannot_be_written_is_said(tmp_path: Path) -> None:
    with pytest.raises(CliError) as refused:
        write_lines(tmp_path / "missing" / "decisions.jsonl", iter([]))
    assert "cannot write" in str(refused.value)
