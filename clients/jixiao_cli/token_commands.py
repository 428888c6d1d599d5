"""`jixiao token hash` and `token new`: bearer tokens for the server's token config, which
stores only their sha256 (see jixiao.api.tokens)."""

from __future__ import annotations

import secrets
import sys

import click

from jixiao.api.tokens import hash_token

from .exit_codes import CliError

TOKEN_BYTES = 32


@click.group("token")
def token() -> None:
    """Make bearer tokens and their hashes for the server's config."""


@token.command("hash")
@click.option("--token", "given", metavar="TOKEN",
              help="The token (default: read from stdin, so it stays out of the shell history).")
def hash_command(given: str | None) -> None:
    """Print the `sha256:` line of a token for the server's token config."""
    value = given if given is not None else sys.stdin.read()
    value = value.strip()
    if not value:
        raise CliError("no token given: pipe it to stdin or pass --token")
    click.echo(f"sha256: {hash_token(value)}")


@token.command("new")
def new_command() -> None:
    """Print a new random token and its `sha256:` line. Only the hash goes in the config."""
    value = secrets.token_urlsafe(TOKEN_BYTES)
    click.echo(f"token: {value}")
    click.echo(f"sha256: {hash_token(value)}")
