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
from .output import language_option
from .portfolio.figures import Summary, SummaryError, summarize
from .portfolio.outline import Outline
from .portfolio.rows import Row
from .portfolio.source import read_rows, rows_of
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
@click.argument("scores", metavar="SCORES.jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="SUMMARY.xlsx|SUMMARY.html", help="The summary to write: a workbook or an HTML page.")
@evaluation_target_options
@language_option
@click.pass_context
def summary(ctx: click.Context, scores: Path, output: Path, language: str, **_target: object) -> None:
    """Summarize the scores of a batch (the .jsonl output of `jixiao batch`).

    \b
    For the whole portfolio: the grade distribution; each dimension's mean,
    median, min, max and standard deviation of score and score rate; the
    indicators ranked by points lost across projects; the most frequent findings;
    overrides and indicators not applicable. Every figure names the rows (keys)
    it comes from: the workbook's sheet 明细来源 (Sources), the page's <details>.
    The pack versions the rows name are looked up (--server, --local, --registry)
    for their grades and names; rows of several versions are summarized together
    only when the versions share one indicator tree, and the summary says so.
    Rows written by an earlier `jixiao batch` (without details or findings) are
    summarized too: the summary names the figures they could not give.
    """
    check_summary_path(output, scores)
    with open_evaluation(ctx) as service:
        done = write_summary(read_rows(scores), service.get_pack, output, language, where=str(scores))
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
        done = write_summary(rows_of(scores.records(), str(output)), lambda _id, _version: pack, path, language,
                             where=str(output))
    except NoRows:
        click.echo(f"no summary written: {output} holds no scored row", err=True)
        return
    click.echo(f"wrote {path}: {done.projects} projects", err=True)


def write_summary(rows: Iterable[Row], lookup: PackLookup, output: Path, language: str, where: str) -> Summary:
    """Summarize `rows` (from `where`, for messages) and write the summary to `output`,
    whole or not at all."""
    try:
        figures = summarize(rows, _Outlines(lookup, where))
    except SummaryError as error:
        if not error.line:
            raise NoRows(f"{where} holds no row: there is nothing to summarize") from None
        raise CliError(f"{where}:{error.line}: {error}") from None
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

    def __init__(self, lookup: PackLookup, where: str):
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
                raise CliError(f"{self.where}:{row.line} was scored with {echo(row.pack)} {echo(row.version)}, which "
                               f"could not be looked up: {message}", code) from None
            if pack.digest != row.digest:
                raise CliError(f"{self.where}:{row.line} was scored with {echo(row.pack)} {echo(row.version)} of digest "
                               f"{row.digest[:12]}…, but the {pack.id} {pack.version} found has digest "
                               f"{pack.digest[:12]}…: name the place that holds the version the rows were "
                               f"scored with (--server, --registry, or --local --packs DIR)")
            outline = self.known[ref] = Outline.of(pack)
        return outline
