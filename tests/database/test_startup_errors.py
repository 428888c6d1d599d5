"""A server that cannot open its registry says which one, with the password as ***."""

from __future__ import annotations

import click
import pytest

from jixiao.startup import open_registry

from postgres_server import ENCODED_PASSWORD, PASSWORD, PostgresServer


def refusal(url: str) -> str:
    with pytest.raises(click.ClickException) as refused:
        open_registry(None, url)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    return refused.value.format_message()


def test_a_wrong_password_is_named_with_the_url_redacted(postgres_server: PostgresServer, postgres_url: str):
    database = postgres_url.rsplit("/", 1)[1]
    wrong = "wr0ng:" + PASSWORD[3:]
    message = refusal(postgres_server.url(database, password=wrong.replace(":", "%3A").replace("/", "%2F")
                                          .replace("@", "%40")))
    assert message.startswith(f"cannot open the registry postgresql://jixiao:***@127.0.0.1:{postgres_server.port}/")
    assert "password authentication failed" in message
    for secret in (wrong, PASSWORD, ENCODED_PASSWORD, PASSWORD[3:]):
        assert secret not in message


def test_a_url_that_is_not_one_is_not_repeated():
    message = refusal(f"jixiao:{PASSWORD} at db")
    assert message.startswith("cannot open the registry (an unparseable database URL): BadDatabaseUrl")
    assert PASSWORD not in message


@pytest.mark.parametrize("url", ["postgresql://jixiao:p@ss/w0rd@127.0.0.1:1/jixiao",
                                 "postgresql://jixiao:p@ssw0rd@127.0.0.1:1/jixiao"])
def test_a_password_with_an_unencoded_at_sign_is_refused_and_hidden(url: str):
    message = refusal(url)
    assert "ssw0rd" not in message and "ss/w0rd" not in message
    assert message.startswith("cannot open the registry postgresql://jixiao:***@…: BadDatabaseUrl: ")
    assert "percent-encoded" in message


@pytest.mark.parametrize("url", ["postgresql://jixiao:p@ss:w0rd@127.0.0.1:1/jixiao",
                                 "postgresql://jixiao:p@ss:w0rd/x@127.0.0.1:1/jixiao",
                                 "postgresql://jixiao:pw@127.0.0.1:w0rd/jixiao"])
def test_a_url_whose_port_is_no_number_is_refused_without_a_traceback_or_its_text(url: str):
    # SQLAlchemy reads `p@ss:w0rd@…` as host `p`, port `ss:w0rd…`, and raises a ValueError
    # quoting the port (a piece of the password) rather than its ArgumentError.
    message = refusal(url)
    assert message.startswith("cannot open the registry (an unparseable database URL): BadDatabaseUrl: ")
    assert "w0rd" not in message
    assert "percent-encoded" in message
