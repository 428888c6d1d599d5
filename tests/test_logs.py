"""Server logs: one JSON object per line for collectors, and no local variables in tracebacks."""

from __future__ import annotations

import io
import json

import structlog

from jixiao.logs import configure_logging, resolve_format


def test_auto_format_is_console_on_a_terminal_and_json_otherwise() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve_format("auto", Terminal()) == "console"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("console", io.StringIO()) == "console"


def test_json_lines_keep_chinese_readable_and_tracebacks_carry_no_locals() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    log = structlog.get_logger("test")

    def evaluate(facts: dict) -> None:
        raise ValueError("boom")

    try:
        evaluate({"budget": {"spent": "398761.00"}})
    except ValueError as error:
        log.error("unexpected error", exc_info=error)
    log.debug("not shown at info")
    log.info("rpc", grade="中")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["unexpected error", "rpc"]
    assert lines[0]["exception"][0]["exc_type"] == "ValueError"
    assert "398761" not in stream.getvalue()
    assert '"grade": "中"' in stream.getvalue()
