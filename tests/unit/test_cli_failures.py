"""The CLI's line for an unavailable server says whether the connection never came or broke
during the call (a server process may have crashed on the input)."""

from __future__ import annotations

import grpc

from jixiao_cli import exit_codes
from jixiao_cli.client import JixiaoError
from jixiao_cli.failures import describe_error

# What grpcio says, as seen from a real server (tests/e2e/test_poison_requests.py).
BROKE_DURING_THE_CALL = "Stream removed (Socket closed)"
NEVER_CONNECTED = ("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: "
                   "Failed to connect to remote host: Connection refused")


def test_a_connection_that_broke_during_the_call_points_at_the_input_not_the_network() -> None:
    line, status = describe_error(JixiaoError(grpc.StatusCode.UNAVAILABLE, BROKE_DURING_THE_CALL))
    assert status == exit_codes.UNAVAILABLE
    assert line.startswith("server unavailable: the server closed the connection while answering this request "
                           "(a server process may have crashed on this input; evaluations are resent once)")
    assert line.endswith(BROKE_DURING_THE_CALL)


def test_a_server_that_could_not_be_reached_is_unavailable_and_names_the_way_out() -> None:
    line, status = describe_error(JixiaoError(grpc.StatusCode.UNAVAILABLE, NEVER_CONNECTED))
    assert (line, status) == (
        f"server unavailable: {NEVER_CONNECTED} (no server answers there: name one with --server "
        "HOST:PORT, or score and browse the bundled packs in this process with --local)",
        exit_codes.UNAVAILABLE)


def test_a_call_that_timed_out_is_unavailable_without_the_connect_hint() -> None:
    line, status = describe_error(JixiaoError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
    assert (line, status) == ("server unavailable: Deadline Exceeded", exit_codes.UNAVAILABLE)


def test_a_reader_that_closed_the_pipe_ends_the_command_quietly(monkeypatch, tmp_path) -> None:
    # `jixiao … | head -1`: once the reader has gone, writing raises BrokenPipeError inside
    # the command. It ends quietly (status 1, as click ends a broken pipe), not as an
    # "internal error".
    from click.testing import CliRunner

    from jixiao_cli import main

    def write_to_a_closed_pipe(_path):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(main, "read_facts", write_to_a_closed_pipe)
    facts = tmp_path / "facts.json"
    facts.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(main.cli, ["score", str(facts), "--pack", "quality-district-funding", "--local"])
    assert result.exit_code == 1
    assert "internal error" not in result.output


# What grpcio says for a name that does not resolve (`--server no-such-host.invalid:50051`,
# with and without dns:///): no connection was tried, so neither a crash nor a request id.
NOT_RESOLVED = ("errors resolving no-such-host.invalid:50051: [field:hostname lookup error:address lookup "
                "failed for no-such-host.invalid:50051: Domain name not found]")


def test_a_server_name_that_does_not_resolve_is_named_so_not_as_a_crash_and_without_a_request_id() -> None:
    line, status = describe_error(JixiaoError(grpc.StatusCode.UNAVAILABLE, NOT_RESOLVED, request_id="4c1d0c6f"))
    assert status == exit_codes.UNAVAILABLE
    assert line == (f"server unavailable: its name could not be resolved: {NOT_RESOLVED} (check the host of "
                    "--server or $JIXIAO_SERVER, or score and browse the bundled packs in this process with --local)")


def test_a_server_whose_database_is_away_is_unavailable_not_crashed_and_keeps_its_request_id() -> None:
    # What a server answers an admin or audit call while PostgreSQL is down (api/errors.py).
    error = JixiaoError(grpc.StatusCode.UNAVAILABLE, "the database is unavailable; retry later",
                        reason="DATABASE_UNAVAILABLE", request_id="a4c8e214d39d4507a8dd41600cbd5251")
    line, status = describe_error(error)
    assert (line, status) == ("server unavailable: the database is unavailable; retry later "
                              "(request id a4c8e214d39d4507a8dd41600cbd5251)", exit_codes.UNAVAILABLE)
