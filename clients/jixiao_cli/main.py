"""The `jixiao` command: score facts, browse packs and test pack folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import grpc
from click.core import ParameterSource
from google.protobuf import json_format
from rich.console import Console

from jixiao.core.errors import PackError
from jixiao.packs import load_pack_dir

from . import exit_codes
from .client import JixiaoClient, JixiaoError
from .exit_codes import CliError
from .facts_file import read_facts
from .local import LocalJixiao
from .pack_test_report import render_case_result, render_pack_problems, render_summary, run_cases
from .pack_view import render_pack, render_pack_list
from .score_table import render_score_table

DEFAULT_SERVER = "127.0.0.1:50051"
# Wide enough that a piped table keeps each rationale on one line, so it can be grepped.
PIPE_WIDTH = 1000

HELP = f"""Score project performance evaluations (绩效评价) with versioned rule packs.

Commands talk to a Jixiao server (--server HOST:PORT, or $JIXIAO_SERVER, default
{DEFAULT_SERVER}) or, with --local, evaluate in this process with the packs in a
folder (--packs DIR, default the bundled rules/).

\b
Exit status:
  0  success
  1  a pack test failed, or the server reported an internal error
  2  bad usage or input: missing or unreadable file, bad JSON/YAML,
     unknown pack or version, invalid facts
  3  the server is unavailable or did not answer in time

Errors are one line on stderr. Set JIXIAO_DEBUG=1 to see the traceback instead.
"""


class JixiaoGroup(click.Group):
    """Turns every failure into one stderr line and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:
            if os.environ.get("JIXIAO_DEBUG") == "1":
                raise
            message, code = describe_error(error)
            click.echo(message, err=True)
            ctx.exit(code)


def describe_error(error: Exception) -> tuple[str, int]:
    """The one stderr line and the exit status for a failure."""
    if isinstance(error, CliError):
        return str(error), error.exit_code
    if isinstance(error, JixiaoError):
        return _describe_api_error(error)
    if isinstance(error, PackError):
        return f"invalid pack: {error}", exit_codes.USAGE
    first_line = (str(error).splitlines() or [""])[0]
    return f"internal error: {type(error).__name__}: {first_line}", exit_codes.FAILED


def _describe_api_error(error: JixiaoError) -> tuple[str, int]:
    code = error.code
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        if error.violations:
            listed = "; ".join(f"{v.field.removeprefix('facts.')}: {v.description}"
                               for v in error.violations)
            return f"invalid facts: {listed}", exit_codes.USAGE
        return f"invalid request: {error.message}", exit_codes.USAGE
    if code == grpc.StatusCode.NOT_FOUND:
        return f"not found: {error.message}", exit_codes.USAGE
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return f"server unavailable: {error.message}", exit_codes.UNAVAILABLE
    return f"server error ({code.name}): {error.message}", exit_codes.FAILED


def _console() -> Console:
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=PIPE_WIDTH)


def _open_service(ctx: click.Context, local: bool, server: str,
                  packs: Path | None) -> JixiaoClient | LocalJixiao:
    if local and ctx.get_parameter_source("server") == ParameterSource.COMMANDLINE:
        raise click.UsageError("use either --server or --local, not both")
    if packs is not None and not local:
        raise click.UsageError("--packs works only with --local")
    if local:
        return LocalJixiao(packs)
    return JixiaoClient(server)


def _service_options(command):
    command = click.option(
        "--packs", type=click.Path(file_okay=False, path_type=Path),
        help="With --local: the folder of packs (default: the bundled rules/).")(command)
    command = click.option("--local", is_flag=True,
                           help="Evaluate in this process instead of calling a server.")(command)
    command = click.option("--server", envvar="JIXIAO_SERVER", default=DEFAULT_SERVER,
                           show_default=True, metavar="HOST:PORT",
                           help="The server to call (also $JIXIAO_SERVER).")(command)
    return command


language_option = click.option("--lang", "language", type=click.Choice(["zh", "en"]),
                               default="zh", show_default=True,
                               help="The language of names and rationales.")


@click.group(cls=JixiaoGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    pass


@cli.command()
@click.argument("facts_file", metavar="FACTS.json|FACTS.yaml", type=click.Path(path_type=Path))
@click.option("--pack", "pack_id", required=True,
              help="The pack's id, e.g. quality-district-funding.")
@click.option("--version", help="The pack version (default: the newest).")
@_service_options
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A score table, or the reply as protobuf JSON.")
@language_option
@click.pass_context
def score(ctx: click.Context, facts_file: Path, pack_id: str, version: str | None, server: str,
          local: bool, packs: Path | None, output_format: str, language: str) -> None:
    """Score the facts in a JSON or YAML file with a pack."""
    facts = read_facts(facts_file)
    with _open_service(ctx, local, server, packs) as service:
        evaluation = service.evaluate(pack_id, facts, version=version, language=language)
    if output_format == "json":
        click.echo(json_format.MessageToJson(evaluation, ensure_ascii=False))
    else:
        _console().print(render_score_table(evaluation, language))


@cli.command("packs")
@_service_options
@language_option
@click.pass_context
def list_packs(ctx: click.Context, server: str, local: bool, packs: Path | None,
               language: str) -> None:
    """List every pack version available."""
    with _open_service(ctx, local, server, packs) as service:
        summaries = service.list_packs()
    _console().print(render_pack_list(summaries, language))


@cli.group()
def pack() -> None:
    """Show a pack, or test a pack folder."""


@pack.command()
@click.argument("pack_id", metavar="ID")
@click.option("--version", help="The pack version (default: the newest).")
@_service_options
@language_option
@click.pass_context
def show(ctx: click.Context, pack_id: str, version: str | None, server: str, local: bool,
         packs: Path | None, language: str) -> None:
    """Show a pack's indicator tree (weights, methods) and fact schema."""
    with _open_service(ctx, local, server, packs) as service:
        described = service.get_pack(pack_id, version=version)
    _console().print(render_pack(described, language))


@pack.command("test")
@click.argument("directory", metavar="DIR",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
def test_pack(directory: Path) -> None:
    """Load, validate and compile the pack in DIR and run its golden cases (DIR/cases/*.yaml).

    Exits 1 if the pack is invalid or any case fails.
    """
    console = _console()
    try:
        loaded = load_pack_dir(directory)
    except PackError as error:
        console.print(render_pack_problems(error, directory))
        raise click.exceptions.Exit(exit_codes.FAILED)
    try:
        outcomes = run_cases(loaded)
    finally:
        loaded.compiled.close()
    console.print(f"{loaded.pack.ref}  {directory}", style="bold", markup=False)
    if not outcomes:
        console.print(f"no golden cases in {directory / 'cases'}", style="yellow", markup=False)
    for outcome in outcomes:
        console.print(render_case_result(outcome, directory))
    console.print(render_summary(outcomes))
    if not all(outcome.passed for outcome in outcomes):
        raise click.exceptions.Exit(exit_codes.FAILED)
