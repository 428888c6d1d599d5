"""`jixiao report`: the evaluation report (评价报告) of a facts file, as .docx, .md or .html.

It works where `jixiao score` works (a server, --local or --registry) and reads the facts
the same way; the server's RenderReport and the in-process path answer the same request
with the same code, so the Markdown and HTML are the same bytes either way. The file is
written whole or not at all: into a temporary file beside it, then renamed over it, so an
error leaves no half-written report and an existing file untouched.
"""

from __future__ import annotations

from pathlib import Path

import click

from jixiao.v1 import evaluation_pb2

from .exit_codes import CliError
from .facts_file import read_facts
from .output import ignore_unknown_option, language_option
from .score_table import total_grade
from .targets import evaluation_target_options, open_evaluation
from .whole_files import write_whole

#: --out's suffix → the report's format.
FORMAT_OF_SUFFIX = {".docx": "docx", ".md": "markdown", ".html": "html"}

SUMMARY = {
    "zh": "{path}  {size:,} 字节  {ref}  总分 {score} / {weight}  等级 {grade}",
    "en": "{path}  {size:,} bytes  {ref}  total {score} / {weight}  grade {grade}",
}


def report_format(out: Path) -> str:
    """The format --out's suffix names; a usage error naming the accepted suffixes otherwise."""
    fmt = FORMAT_OF_SUFFIX.get(out.suffix.lower())
    if fmt is None:
        said = f"not {out.suffix!r}" if out.suffix else "it has none"
        raise click.UsageError(f"--out {click.format_filename(out)}: its suffix chooses the report's format, one of "
                               f"{', '.join(FORMAT_OF_SUFFIX)} ({said})")
    return fmt


def check_folder(out: Path) -> None:
    """CliError unless --out's folder exists: said before any work is done, as `batch` says it."""
    folder = out.parent
    if not folder.is_dir():
        said = "is not a folder" if folder.exists() else "does not exist"
        raise CliError(f"cannot write --out {click.format_filename(out)}: the folder "
                       f"{click.format_filename(folder)} {said}")


def summary_line(path: Path, reply: evaluation_pb2.RenderReportResponse, language: str) -> str:
    """One line: where the report went, its size, the pack version, the total and the grade."""
    evaluation = reply.evaluation
    return SUMMARY[language].format(
        path=click.format_filename(path), size=len(reply.content), ref=f"{evaluation.pack_id}@{evaluation.version}",
        score=evaluation.score, weight=evaluation.total_weight, grade=total_grade(evaluation, language, {}, short=True))


@click.command()
@click.argument("facts_file", metavar="FACTS.json|FACTS.yaml", type=click.Path(path_type=Path))
@click.option("--pack", "pack_id", required=True, help="The pack's id, e.g. quality-district-funding.")
@click.option("--version", help="The pack version (default: the active one; with --local the newest).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="REPORT.docx|REPORT.md|REPORT.html",
              help="The file to write; its suffix chooses Word, Markdown or HTML.")
@evaluation_target_options
@ignore_unknown_option
@language_option
@click.pass_context
def report(ctx: click.Context, facts_file: Path, pack_id: str, version: str | None, out: Path,
           ignore_unknown: bool, language: str, **_target: object) -> None:
    """Write the evaluation report (评价报告) of the facts in a JSON or YAML file.

    The report follows the structure of an evaluation report: 基本情况, the score table per
    dimension and the grade, the analysis indicator by indicator, 存在的问题, 有关建议 and the
    annexes; .docx and .html carry a chart of the dimensions' score rates. --lang en writes
    it in English. Prints one line: the file, its size, the pack version, the total and the grade.
    """
    fmt = report_format(out)
    check_folder(out)
    facts = read_facts(facts_file)
    with open_evaluation(ctx) as service:
        reply = service.render_report(pack_id, facts, fmt, version=version, language=language,
                                      ignore_unknown=ignore_unknown)
    write_whole(out, [reply.content], "the report ")
    click.echo(summary_line(out, reply, language))
