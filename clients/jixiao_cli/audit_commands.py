"""`jixiao audit list|show|replay|export`: the server's decision log (a token with the audit role).

Every command calls a server (--server, --token, --tls-ca, as the other server commands
do). The filters (--pack, --version, --caller, --since, --until, --grade, --outcome,
--method) are checked by the server, which names a bad one (exit 2).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

import click

from jixiao.v1 import audit_pb2

from . import exit_codes
from .audit_client import AuditClient
from .audit_view import export_record, render_decision, render_decisions, replay_lines, replay_summary
from .output import console, echo_json, format_option, language_option, message_dict
from .report_command import check_folder
from .targets import server_option, tls_ca_option, token_option
from .whole_files import write_whole

#: Seconds between two progress lines of a replay on stderr.
PROGRESS_EVERY_S = 2.0
#: A replay's results that fail it (exit 1).
FAILING = (audit_pb2.REPLAY_OUTCOME_DIFFERENT, audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED,
           audit_pb2.REPLAY_OUTCOME_RECORD_ALTERED)


def _filters(command):
    for option in reversed((
            click.option("--pack", "pack_id", metavar="ID", help="Only this pack's decisions."),
            click.option("--version", metavar="VERSION", help="Only those scored with this pack version."),
            click.option("--caller", metavar="NAME", help="Only this caller's: a token name, or peer:<address>."),
            click.option("--since", metavar="TIME", help="From this RFC 3339 time on, e.g. 2026-12-01T00:00:00Z."),
            click.option("--until", metavar="TIME", help="Before this RFC 3339 time."),
            click.option("--grade", metavar="GRADE", help="Only those given this grade, e.g. 中."),
            click.option("--outcome", metavar="CODE", help="Only those answered with this status code name: OK, "
                                                           "INVALID_ARGUMENT, NOT_FOUND …"),
            click.option("--method", type=click.Choice(["Evaluate", "EvaluateBatch", "RenderReport"]),
                         help="Only those of this call."),
            server_option, token_option, tls_ca_option)):
        command = option(command)
    return command


def decision_filter(params: dict) -> audit_pb2.DecisionFilter:
    return audit_pb2.DecisionFilter(**{name: params.get(name) or "" for name in (
        "pack_id", "version", "caller", "since", "until", "grade", "outcome", "method")})


@click.group("audit")
def audit() -> None:
    """The decision log: list, show, replay and export the decisions a server recorded.

    Needs a token with the audit role (--token or $JIXIAO_TOKEN); deploy does not imply it.
    """


#: Said (on stderr) under the heading when `audit list` found nothing.
NO_DECISION = {"zh": "没有符合这些条件的决策（等级按答复所写，如 中 或 fair；时间为 RFC 3339）",
               "en": "no decision matches these filters (a grade as the reply gave it, e.g. 中 or fair; "
                     "times in RFC 3339)"}


@audit.command("list")
@_filters
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many decisions (the pages are followed).")
@format_option
@language_option
@click.pass_context
def list_command(ctx: click.Context, limit: int, output_format: str, language: str, **_options: object) -> None:
    """List decisions, newest first."""
    with AuditClient.from_options(ctx.params) as client:
        summaries = list(client.decisions(decision_filter(ctx.params), limit))
    if output_format == "json":
        echo_json([message_dict(summary) for summary in summaries])
        return
    console().print(render_decisions(summaries, language))
    if not summaries:  # else a bare heading: say it, so that a filter that matched nothing shows
        click.echo(NO_DECISION[language], err=True)


@audit.command("show")
@click.argument("decision_id", metavar="ID")
@server_option
@token_option
@tls_ca_option
@format_option
@language_option
@click.pass_context
def show_command(ctx: click.Context, decision_id: str, output_format: str, language: str,
                 **_options: object) -> None:
    """Show one decision: who asked what, the facts, the pack digest, and the score tree or the error."""
    with AuditClient.from_options(ctx.params) as client:
        decision = client.get(decision_id)
    if output_format == "json":
        echo_json(message_dict(decision))
    else:
        console().print(render_decision(decision, language))


@audit.command("replay")
@_filters
@click.pass_context
def replay_command(ctx: click.Context, **_options: object) -> None:
    """Evaluate the decisions again under their recorded pack digests and prove each reply
    byte-identical; each one that is not is listed with its differences, node by node.

    Exits 1 when a decision replays different, or its facts or another column were altered.
    """
    counts: dict[int, int] = {}
    shown = time.monotonic()
    with AuditClient.from_options(ctx.params) as client:
        for result in client.replay(decision_filter(ctx.params)):
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
            if result.outcome != audit_pb2.REPLAY_OUTCOME_IDENTICAL:
                click.echo("\n".join(replay_lines(result)))
            if time.monotonic() - shown >= PROGRESS_EVERY_S:
                shown = time.monotonic()
                click.echo(f"replayed {sum(counts.values())} decisions…", err=True)
    click.echo(replay_summary(counts))
    if any(counts.get(outcome) for outcome in FAILING):
        raise click.exceptions.Exit(exit_codes.FAILED)


@audit.command("export")
@_filters
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.jsonl",
              help="The file to write: one JSON object per decision, oldest first (written whole or not at all).")
@click.pass_context
def export_command(ctx: click.Context, out: Path, **_options: object) -> None:
    """Export decisions whole as JSON lines: the summary's fields, the facts, and the evaluation or the error."""
    check_folder(out)
    with AuditClient.from_options(ctx.params) as client:
        count = write_lines(out, (json.dumps(export_record(decision), ensure_ascii=False)
                                  for decision in client.export(decision_filter(ctx.params))))
    click.echo(f"exported {count} decision{'s' if count != 1 else ''} to {click.format_filename(out)}", err=True)


def write_lines(path: Path, lines: Iterable[str]) -> int:
    """Write the lines to `path` whole or not at all (a failure, the server's included, leaves
    `path` as it was); their count."""
    return write_whole(path, (line.encode("utf-8") + b"\n" for line in lines))

