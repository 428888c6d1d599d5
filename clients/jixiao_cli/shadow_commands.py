"""`jixiao pack shadow start|report|stop`: evaluate a pack's live traffic with a candidate
version too, on the servers, and see how its scores would differ.

Shadow runs live in the servers' database, so they work with --server only (a token with
the deploy role); a run started through one server is followed by every server sharing
its database. See docs/shadow.md.
"""

from __future__ import annotations

import click

from jixiao.v1 import evaluation_pb2

from .client import JixiaoError
from .grades import grade_names
from .output import console, echo_json, format_option, language_option, message_dict
from .pack_ops import needing_the_admin_role, pack_id_argument
from .shadow_view import render_report, run_line
from .targets import open_admin, server_option, tls_ca_option, token_option

#: The fraction of live evaluations `shadow start` has evaluated with the candidate, by default.
DEFAULT_SAMPLE = "0.1"
#: Said (on stderr) when the candidate is the active version: the calls it answers are not
#: sampled (docs/shadow.md), so such a run compares only calls pinned to another version.
ACTIVE_CANDIDATE_NOTE = {
    "zh": "注意：{version} 是该包的现行版本，由它作答的评价不会被抽样（只有指定其他版本的调用才会比较）；"
          "要比较新版本，请对尚未启用的版本启动影子评估",
    "en": "note: {version} is the pack's active version, and the evaluations it answers are not sampled "
          "(only calls pinned to another version are compared); shadow a version that is not active",
}


def server_options(command):
    for option in (tls_ca_option, token_option, server_option):
        command = option(command)
    return command


@click.group("shadow")
def shadow() -> None:
    """Evaluate a pack's live traffic with a candidate version too, and compare (on the servers)."""


@shadow.command("start")
@pack_id_argument
@click.argument("version", metavar="VERSION")
@click.option("--sample", default=DEFAULT_SAMPLE, show_default=True, metavar="FRACTION",
              help="The fraction of the pack's evaluations also evaluated with VERSION, in (0, 1]; "
                   "each sampled call costs its server one more evaluation, after the reply.")
@server_options
@language_option
@click.pass_context
def start(ctx: click.Context, pack_id: str, version: str, sample: str, language: str, **_target: object) -> None:
    """Start a shadow run of VERSION (a published version of pack ID).

    From now on every server sharing the registry's database (with the decision log on)
    also evaluates the sampled share of the pack's live evaluations with VERSION, after
    replying; the callers' replies do not change. One run per pack at a time.
    """
    with open_admin(ctx) as admin, needing_the_admin_role(ctx):
        run = admin.start_shadow(pack_id, version, sample)
        live = _live_pack(admin, pack_id)
    console().print(run_line(run, started=True, language=language))
    if live is not None and live.version == run.candidate_version:
        click.echo(ACTIVE_CANDIDATE_NOTE[language].format(version=run.candidate_version), err=True)


@shadow.command("report")
@pack_id_argument
@click.option("--run", "run_id", default="", metavar="RUN_ID", help="A run of the pack (default: its current or last).")
@click.option("--worst", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many of the decisions whose total moved most to list.")
@server_options
@format_option
@language_option
@click.pass_context
def report(ctx: click.Context, pack_id: str, run_id: str, worst: int, output_format: str, language: str,
           **_target: object) -> None:
    """Show what the pack's shadow run found: total and per-indicator score deltas
    (candidate − live), grade changes, and the decisions that moved most."""
    with open_admin(ctx) as admin, needing_the_admin_role(ctx):
        reply = admin.shadow_report(pack_id, run_id, worst)
        pack = None if output_format == "json" else _live_pack(admin, pack_id)
    if output_format == "json":
        echo_json(message_dict(reply))
        return
    console().print(render_report(reply, language, pack, grade_names(pack, language) if pack else {}))


@shadow.command("stop")
@pack_id_argument
@server_options
@language_option
@click.pass_context
def stop(ctx: click.Context, pack_id: str, language: str, **_target: object) -> None:
    """Stop the pack's shadow run; its report stays (`jixiao pack shadow report ID`)."""
    with open_admin(ctx) as admin, needing_the_admin_role(ctx):
        run = admin.stop_shadow(pack_id)
    console().print(run_line(run, started=False, language=language))


def _live_pack(admin, pack_id: str) -> evaluation_pb2.Pack | None:
    """The active version's tree, for the indicators' levels and English names (None if not to be had)."""
    try:
        return admin.get_pack(pack_id)
    except JixiaoError:
        return None
