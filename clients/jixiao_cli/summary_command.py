"""`jixiao summary`: the portfolio summary (绩效评价汇总) of a batch's scores, as a workbook
or an HTML page; and `write_summary`, which `jixiao batch --summary` calls too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

import click

from jixiao.core.identifiers import echo
from jixiao.v1 import evaluation_pb2

from .client import JixiaoError
from .exit_codes import CliError
from .failures import describe_error
from .portfolio.figures import Summary, SummaryError, summarize
from .portfolio.outline import Outline
from .portfolio.rows import Row
from .portfolio.batch_rows import SUFFIXES as SCORES_SUFFIXES
from .portfolio.batch_rows import BatchOutput, rows_of
from .targets import evaluation_target_options, open_evaluation

SUMMARY_SUFFIXES = (".xlsx", ".html")

#: The pack version a row was scored with, from wherever the command finds packs.
PackLookup = Callable[[str, str], evaluation_pb2.Pack]

#: `jixiao batch --summary`.
summary_option = click.option(
    "--summary", "summary_path", type=click.Path(dir_okay=False, path_type=Path), metavar="SUMMARY.xlsx|.html",
    help="When the batch completes, write the portfolio summary of the whole OUTPUT (rows of earlier "
         "runs included), as `jixiao summary` does.")


@click.command()
@click.argument("scores", metavar="SCORES.jsonl|.xlsx|.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="SUMMARY.xlsx|SUMMARY.html", help="The summary to write: a workbook or an HTML page.")
@click.option("--pack", "pack_id", metavar="ID",
              help="For an .xlsx or .csv output, which does not name its pack: the pack the batch was "
                   "run with (a .jsonl row names its own).")
@click.option("--version", metavar="V",
              help="With --pack: the version the batch was run with (default: the active one; with "
                   "--local the newest).")
@evaluation_target_options
@click.option("--lang", "language", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The language of the summary's headings, and of the pack's indicator and grade names "
                   "(the findings keep the wording of the rows).")
@click.pass_context
def summary(ctx: click.Context, scores: Path, output: Path, pack_id: str | None, version: str | None,
            language: str, **_target: object) -> None:
    """Summarize the scores of a batch (the .jsonl, .xlsx or .csv output of `jixiao batch`).

    \b
    For the whole portfolio: the grade distribution; each dimension's mean,
    median, min, max and standard deviation of score and score rate; the
    indicators ranked by points lost across projects; the most frequent findings;
    overrides and indicators not applicable. Every figure names the rows (keys)
    it comes from: the workbook's sheet 明细来源 (Sources), the page's <details>.
    The pack versions the rows name are looked up (--server, --local, --registry)
    for their grades and names; rows of several versions are summarized together
    only when the versions share one indicator tree, and the summary says so.

    An .xlsx or .csv output does not name its pack: give it with --pack (and
    --version). A .csv holds the scores alone, and rows written by an earlier
    `jixiao batch` lack details and findings: they are summarized too, and the
    summary names the figures they could not give.
    """
    source = BatchOutput(scores)
    if source.kind not in SCORES_SUFFIXES:
        raise click.UsageError(f"SCORES must be the .jsonl, .xlsx or .csv output of `jixiao batch`, "
                               f"not {echo(scores.name)}")
    if source.names_its_pack and (pack_id or version):
        raise click.UsageError(f"--pack and --version are for an .xlsx or .csv output: the rows of "
                               f"{echo(scores.name)} name their pack and version")
    if not source.names_its_pack and not pack_id:
        raise click.UsageError(f"{echo(scores.name)} does not name its pack: give the pack the batch was run "
                               f"with (--pack ID, and --version V unless it is the active one)")
    if version and not pack_id:
        raise click.UsageError("--version goes with --pack")
    check_summary_path(output, scores)
    with open_evaluation(ctx) as service:
        if source.names_its_pack:
            rows, lookup = source.rows(), service.get_pack
        else:
            try:
                pack = service.get_pack(pack_id, version)
            except JixiaoError as error:
                message, code = describe_error(error)
                named = f"{echo(pack_id)} {echo(version)}" if version else echo(pack_id)
                raise CliError(f"the pack {named} could not be looked up: "
                               f"{message}", code) from None
            rows, lookup = source.rows(pack, language), (lambda _id, _version: pack)
        done = write_summary(rows, lookup, output, language, where=source)
    click.echo(f"wrote {output}: {done.projects} projects, {done.outline.pack} "
               f"{', '.join(v.version for v in done.versions)}", err=True)


def check_summary_path(output: Path, *others: Path) -> None:
    """A usage error unless `output` is an .xlsx or .html file, in a folder that exists,
    other than the command's other files."""
    if output.suffix.lower() not in SUMMARY_SUFFIXES:
        raise click.UsageError(f"the summary must be an .xlsx or .html file, not {output.name}")
    if output.resolve() in {path.resolve() for path in others}:
        raise click.UsageError(f"the summary {output} must be a file of its own, not one the command reads "
                               f"or writes")
    folder = output.parent
    if not folder.is_dir():
        raise CliError(f"cannot write {output}: the folder {folder} "
                       f"{'is not a folder' if folder.exists() else 'does not exist'}")


def write_batch_summary(scores, pack: evaluation_pb2.Pack, path: Path, language: str, output: Path) -> None:
    """`jixiao batch --summary`: the summary of every row of the batch's output `scores`
    (a ScoreFile), those of earlier runs included, all scored with `pack`."""
    try:
        done = write_summary(rows_of(scores.records(), BatchOutput(output)), lambda _id, _version: pack, path,
                             language, where=BatchOutput(output))
    except NoRows:
        click.echo(f"no summary written: {output} holds no scored row", err=True)
        return
    click.echo(f"wrote {path}: {done.projects} projects", err=True)


def write_summary(rows: Iterable[Row], lookup: PackLookup, output: Path, language: str,
                  where: BatchOutput) -> Summary:
    """Summarize `rows` (from `where`, for messages) and write the summary to `output`,
    whole or not at all."""
    try:
        figures = summarize(rows, _Outlines(lookup, where))
    except SummaryError as error:
        if not error.line:
            raise NoRows(f"{where.path} holds no row: there is nothing to summarize") from None
        raise CliError(f"{where.at(error.line)}: {error}") from None
    partial = output.with_name(f"{output.name}.partial")
    try:
        if output.suffix.lower() == ".xlsx":
            from .portfolio.workbook import write_workbook

            write_workbook(figures, language, partial)
        else:
            from .portfolio.page import render_page

            partial.write_bytes(render_page(figures, language))
        os.replace(partial, output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CliError(f"cannot write {output}: {error.strerror}") from None
    return figures


class NoRows(CliError):
    """The scores hold no row."""


class _Outlines:
    """Each row's pack version, looked up once, its digest checked against the row's."""

    def __init__(self, lookup: PackLookup, where: BatchOutput):
        self.lookup = lookup
        self.where = where
        self.known: dict[tuple[str, str, str], Outline] = {}

    def __call__(self, row: Row) -> Outline:
        ref = (row.pack, row.version, row.digest)
        outline = self.known.get(ref)
        if outline is None:
            try:
                pack = self.lookup(row.pack, row.version)
            except JixiaoError as error:
                message, code = describe_error(error)
                raise CliError(f"{self.where.at(row.line)} was scored with {echo(row.pack)} {echo(row.version)}, "
                               f"which could not be looked up: {message}", code) from None
            if pack.digest != row.digest:
                raise CliError(f"{self.where.at(row.line)} was scored with {echo(row.pack)} {echo(row.version)} "
                               f"of digest {row.digest[:12]}…, but the {pack.id} {pack.version} found has digest "
                               f"{pack.digest[:12]}…: name the place that holds the version the rows were "
                               f"scored with (--server, --registry, or --local --packs DIR)")
            outline = self.known[ref] = Outline.of(pack)
        return outline
