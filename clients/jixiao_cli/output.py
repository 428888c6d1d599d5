"""Command output: a rich console, or JSON for scripts; and the options choosing its form and language."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from google.protobuf import json_format, message
from rich.console import Console

# Wide enough that a piped table keeps each rationale on one line, so it can be grepped.
PIPE_WIDTH = 1000

format_option = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="A table, or JSON for scripts.")

ignore_unknown_option = click.option(
    "--ignore-unknown-facts", "ignore_unknown", is_flag=True,
    help="Ignore facts the pack does not declare (listed with the result) instead of refusing them; "
         "by default a misspelled fact name is an error that suggests the declared one.")

language_option = click.option("--lang", "language", type=click.Choice(["zh", "en"]),
                               default="zh", show_default=True,
                               help="The language of names and rationales.")


def console() -> Console:
    """A console as wide as the terminal, or PIPE_WIDTH when the output is piped."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=PIPE_WIDTH)


def error_console() -> Console:
    """A console on stderr, for what comes before an error's line: a pack's problems."""
    return Console(stderr=True, width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH)


def echo_json(document: Any) -> None:
    """Print plain data as indented JSON, Chinese text as it is."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def message_dict(reply: message.Message) -> dict:
    """A reply message as JSON-ready data, every field present even when empty or false."""
    return json_format.MessageToDict(reply, always_print_fields_with_no_presence=True)
