"""The `jixiao` command: score facts, browse packs, and ship pack versions."""

from __future__ import annotations

import os
from pathlib import Path

import click
from google.protobuf import json_format

from jixiao.core.errors import PackError
from jixiao.logs import configure_logging
from jixiao.about import version_text
from jixiao.packs import load_pack_dir
from jixiao.v1 import evaluation_pb2

from . import exit_codes
from .audit_commands import audit
from .batch_commands import batch, template
from .failures import describe_error
from .facts_file import read_facts
from .grades import evaluation_grade_names
from .output import console, echo_json, format_option, ignore_unknown_option, language_option, message_dict
from .pack_authoring import invalid_pack, keygen, sign_pack, validate_pack
from .pack_ops import activate_version, activation_history, list_versions, publish_pack, rollback_pack
from .pack_test_report import render_case_result, render_summary, run_cases
from .pack_view import render_pack, render_pack_list
from .report_command import report
from .review import diff_versions, rescore
from .score_table import render_score_table
from .shadow_commands import shadow
from .summary_command import summary
from .targets import DEFAULT_SERVER, evaluation_target_options, open_evaluation
from .token_commands import token

HELP = f"""Score project performance evaluations (绩效评价) with versioned rule packs.

Each command says where it works, with options of its own, given after the command's
name (`jixiao packs --server HOST:PORT`, not `jixiao --server ...`): a Jixiao server
(--server HOST:PORT, or $JIXIAO_SERVER, default {DEFAULT_SERVER}; --token or
$JIXIAO_TOKEN; --tls-ca PEM for TLS), a registry file worked on directly (--registry
PATH, or $JIXIAO_REGISTRY), or, for scoring, reports and browsing, this process with the packs
in a folder (--local; --packs DIR or $JIXIAO_PACKS, default the bundled rules/).
`jixiao COMMAND --help` lists a command's options. Tables follow --lang (zh, the
default, or en).

\b
Exit status:
  0  success
  1  a pack test failed, a publish or other change was refused,
     rows of a batch failed, or the server reported an internal error
  2  bad usage or input: missing or unreadable file, bad JSON/YAML,
     invalid pack, unknown pack or version, invalid facts
  3  the server is unavailable or did not answer in time
  4  not allowed: no token, an unknown token, or a token without the role
  130  interrupted (run jixiao batch again to resume)

Errors are one line on stderr, `usage error: ...` for bad usage (a pack's problems
come one a line before it). Set JIXIAO_DEBUG=1 to see the traceback instead.
"""

NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def usage_line(error: click.UsageError, where: str) -> str:
    """The one line every usage error is told in, whichever command it is in."""
    return f"usage error: {error.format_message()} (see `{where} --help`)"


class JixiaoGroup(click.Group):
    """Turns every failure into one stderr line and an exit status, never a traceback."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # `jixiao --bad` and `jixiao` options fail while parsing, before invoke: the same
        # one line as a subcommand's usage error, not click's three.
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            if isinstance(error, NO_ARGS_IS_HELP):
                raise
            line = usage_line(error, error.ctx.command_path if error.ctx else info_name)
            if isinstance(error, click.NoSuchOption) and parent is None and \
                    error.option_name in self.command_options():
                line += (f"; a command's options go after its name, e.g. `{info_name} packs "
                         f"{error.option_name} ...`")
            click.echo(line, err=True)
            raise click.exceptions.Exit(exit_codes.USAGE) from None

    def command_options(self) -> set[str]:
        """Every option any command takes (`--server`, `--local` ...)."""
        found: set[str] = set()
        pending: list[click.Command] = list(self.commands.values())
        while pending:
            command = pending.pop()
            found.update(opt for param in command.params for opt in param.opts if opt.startswith("-"))
            pending.extend(getattr(command, "commands", {}).values())
        return found

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if isinstance(error, NO_ARGS_IS_HELP):  # `jixiao pack` alone shows its help
                raise
            where = error.ctx.command_path if error.ctx else ctx.command_path
            click.echo(usage_line(error, where), err=True)
            ctx.exit(exit_codes.USAGE)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`jixiao packs | head -1`): click's own handling ends the
            # command quietly (status 1), as it does when the pipe breaks at the last flush.
            raise
        except Exception as error:
            if os.environ.get("JIXIAO_DEBUG") == "1":
                raise
            message, code = describe_error(error)
            click.echo(message, err=True)
            ctx.exit(code)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text("jixiao"))
        ctx.exit()


@click.group(cls=JixiaoGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the version and the bundled packs, then exit.")
def cli() -> None:
    # In-process work (--local, --registry) runs the service's code, which logs what a
    # server operator wants to know; a command's output is its own, so only warnings pass.
    configure_logging("console", "warning")


@cli.command()
@click.argument("facts_file", metavar="FACTS.json|FACTS.yaml", type=click.Path(path_type=Path))
@click.option("--pack", "pack_id", required=True,
              help="The pack's id, e.g. quality-district-funding.")
@click.option("--version", help="The pack version (default: the active one; with --local the newest).")
@evaluation_target_options
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A score table, or the reply as protobuf JSON.")
@ignore_unknown_option
@language_option
@click.pass_context
def score(ctx: click.Context, facts_file: Path, pack_id: str, version: str | None,
          output_format: str, ignore_unknown: bool, language: str, **_target: object) -> None:
    """Score the facts in a JSON or YAML file with a pack.

    The table lists the overrides that fired (一票否决, caps) and any facts ignored above
    the indicator tree; indicators not applicable (不适用) are marked with their reason,
    and weights a not-applicable treatment changed show as `old→new`.
    """
    facts = read_facts(facts_file)
    with open_evaluation(ctx) as service:
        evaluation = service.evaluate(pack_id, facts, version=version, language=language,
                                      ignore_unknown=ignore_unknown)
        grades = evaluation_grade_names(service, evaluation, language) if output_format == "table" else {}
    if output_format == "json":
        click.echo(json_format.MessageToJson(evaluation, ensure_ascii=False))
    else:
        console().print(render_score_table(evaluation, language, grades))


@cli.command("packs")
@evaluation_target_options
@format_option
@language_option
@click.pass_context
def list_packs(ctx: click.Context, output_format: str, language: str, **_target: object) -> None:
    """List every pack version available."""
    with open_evaluation(ctx) as service:
        summaries = service.list_packs()
    if output_format == "json":
        echo_json(message_dict(evaluation_pb2.ListPacksResponse(packs=summaries)))
    else:
        console().print(render_pack_list(summaries, language))


@cli.group()
def pack() -> None:
    """Check, sign, ship and compare pack versions; show a pack."""


@pack.command()
@click.argument("pack_id", metavar="ID")
@click.option("--version", help="The pack version (default: the active one; with --local the newest).")
@evaluation_target_options
@language_option
@click.pass_context
def show(ctx: click.Context, pack_id: str, version: str | None, language: str, **_target: object) -> None:
    """Show a pack's indicator tree (weights, methods) and fact schema."""
    with open_evaluation(ctx) as service:
        described = service.get_pack(pack_id, version=version)
    console().print(render_pack(described, language))


@pack.command("test")
@click.argument("directory", metavar="DIR",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
def test_pack(directory: Path) -> None:
    """Load, validate and compile the pack in DIR and run its golden cases (DIR/cases/*.yaml).

    Exits 1 if a case fails; 2, with every problem on stderr, if the pack is invalid
    (as `pack validate` does).
    """
    out = console()
    try:
        loaded = load_pack_dir(directory, check_case_facts=True)
    except PackError as error:
        raise invalid_pack(error, directory) from None
    try:
        outcomes = run_cases(loaded)
    finally:
        loaded.compiled.close()
    out.print(f"{loaded.pack.ref}  {directory}", style="bold", markup=False)
    if not outcomes:
        out.print(f"no golden cases in {directory / 'cases'}", style="yellow", markup=False)
    for outcome in outcomes:
        out.print(render_case_result(outcome, directory))
    out.print(render_summary(outcomes))
    if not all(outcome.passed for outcome in outcomes):
        raise click.exceptions.Exit(exit_codes.FAILED)


for command in (validate_pack, keygen, sign_pack, publish_pack, list_versions, activate_version,
                rollback_pack, activation_history, diff_versions, shadow):
    pack.add_command(command)
cli.add_command(report)
cli.add_command(rescore)
cli.add_command(batch)
cli.add_command(summary)
cli.add_command(template)
cli.add_command(token)
cli.add_command(audit)
