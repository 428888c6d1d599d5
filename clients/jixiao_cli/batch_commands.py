"""`jixiao batch` and `jixiao template`: score a whole file of projects, and the workbook
evaluators fill in for it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import click

from jixiao.core.identifiers import echo
from jixiao.v1 import evaluation_pb2

from . import exit_codes
from .batch_input import EXAMPLE_KEYS, INPUT_SUFFIXES, BatchInput, example_note
from .batch_outcomes import Outcome, RowScore
from .batch_output import OUTPUT_SUFFIXES, ErrorFile, ScoreFile, default_errors_path, journal_path, open_score_file
from .batch_progress import batch_progress
from .batch_scoring import InProcessPacks, ScoreRequest, score_here, score_in_workers
from .batch_streams import score_on_server
from .client import JixiaoClient, JixiaoError
from .exit_codes import CliError
from .failures import describe_error
from .local import LocalJixiao
from .summary_command import check_summary_path, summary_option, write_batch_summary
from .output import ignore_unknown_option, language_option
from .targets import LOCAL, REGISTRY, SERVER, chosen_place, evaluation_target_options, open_evaluation

_output_path = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--pack", "pack_id", required=True, help="The pack's id, e.g. quality-district-funding.")
@click.option("--version", help="The pack version (default: the active one; with --local the newest). "
                                "Every row is scored with the same version.")
@click.option("--out", "output", required=True, type=_output_path, metavar="OUTPUT",
              help="The scores: a .jsonl, .csv or .xlsx file. If it exists, the batch resumes.")
@evaluation_target_options
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Streams to the server, or with --local/--registry worker processes.")
@click.option("--key-column", metavar="NAME",
              help="The column (.jsonl: the field) holding each row's key (default: key or 编号; "
                   "without one, the row number).")
@click.option("--errors", "errors_path", type=_output_path, metavar="FILE",
              help="Where failed rows go (default: OUTPUT's name followed by .errors.jsonl, "
                   "e.g. results.xlsx.errors.jsonl).")
@summary_option
@ignore_unknown_option
@language_option
@click.pass_context
def batch(ctx: click.Context, input_path: Path, pack_id: str, version: str | None, output: Path,
          jobs: int, key_column: str | None, errors_path: Path | None, ignore_unknown: bool, language: str,
          summary_path: Path | None, **_target: object) -> None:
    """Score every row of INPUT (.csv, .xlsx or .jsonl) and write the scores to OUTPUT.

    \b
    INPUT
      .csv/.xlsx  a header row of fact names (budget.spent; a survey share
                  survey.awareness.familiar) or labels (预算批复金额, 预算批复金额（元）;
                  问卷：首义质量奖政策知晓率.非常了解), and a key column (key or 编号).
                  When row 2 holds fact names, as in `jixiao template`'s workbook,
                  it is the header and data starts in row 3. CSV: UTF-8 or GB18030.
                  A row keyed 示例 or example is the template's example: not scored.
      .jsonl      one object a line: {"key": ..., "facts": {...}}, or the facts.
    Booleans: TRUE/FALSE, true/false, 是/否, 1/0. Shares: percent, 27.5 or 27.5%.
    A choice fact takes an option's code or its label (好, 较好 ...). A list of
    texts (an evaluator's observations): one item a line in the cell.
    An empty cell is a missing fact. Keys must be unique, at most 256 characters
    without control characters. A column or a .jsonl field naming no fact of the
    pack is an error, unless --ignore-unknown-facts (then it is left out, and the
    columns left out are listed on stderr).

    \b
    OUTPUT, a row per scored project, written as it is scored:
      .jsonl  {"key", "pack", "version", "digest", "score", "grade",
               "level1": {id: score}, "leaves": {id: score}}, when there are
               some "overrides" (rule ids that fired), "not_applicable" (leaf
               ids) and "ignored_facts"; then "language", "total_weight", "rate",
               "dimensions", "details" (each leaf: weight, score, deducted,
               "deductions", "rationale", not applicable and why), "findings"
               (存在的问题) and "recommendations" (有关建议)
      .csv    key, version, digest, total, grade, then each level-1 and each
              leaf indicator by id (UTF-8 with a byte-order mark, for Excel)
      .xlsx   sheet 评分 (Scores): the .csv's columns, row 1 their names, row 2
              their ids; 说明 (Details): a row per project and leaf with its
              deductions and rationale; 问题与建议 (Findings): a row per project
              and finding or recommendation; 错误 (Errors): the rows that failed.
              Rows wait in NAME.journal.jsonl until the run completes.
    Failed rows go to the errors file (key, row, message), OUTPUT's name followed
    by .errors.jsonl, rewritten by every run.

    \b
    Run it again with the same OUTPUT to resume: rows whose key OUTPUT holds are
    skipped, failed rows are tried again. An interruption loses at most the rows
    in flight. With --jobs > 1 rows may be written out of input order.

    \b
    Exit status: 0 every row scored; 1 some rows failed ("N scored, M failed");
    2 bad usage or input file; 3 server unavailable; 130 interrupted.
    """
    errors_path = errors_path or default_errors_path(output)
    _check_files(input_path, output, errors_path)
    if summary_path:
        check_summary_path(summary_path, input_path, output, errors_path)
    place = chosen_place(ctx)
    with open_evaluation(ctx) as service:
        pack = service.get_pack(pack_id, version)
        request = ScoreRequest(pack.id, pack.version, language, ignore_unknown)
        scores = open_score_file(output, pack, language)
        try:
            with BatchInput(input_path, pack, key_column, scores.done, ignore_unknown) as rows:
                if rows.ignored_columns:
                    click.echo(f"ignoring columns not in the pack: {rows.ignored_columns}", err=True)
                if scores.done:
                    click.echo(f"resuming {output} ({len(scores.done)} done)", err=True)
                outcomes = _score(ctx, place, service, request, rows, jobs)
                scored, failed = _write_outcomes(outcomes, scores, errors_path, rows, pack)
            scores.finish()
            if summary_path:
                write_batch_summary(scores, pack, summary_path, language, output)
        finally:
            scores.close()
    summary = f"{scored} scored, {failed} failed" + (f" (see {errors_path})" if failed else "")
    if rows.skipped:
        summary += f"; {rows.skipped} skipped (already in {output})"
    if rows.examples:
        summary += f"; {example_note(rows.examples)}"
    click.echo(summary, err=True)
    if failed:
        raise click.exceptions.Exit(exit_codes.FAILED)


def _check_files(input_path: Path, output: Path, errors_path: Path) -> None:
    if input_path.suffix.lower() not in INPUT_SUFFIXES:
        raise click.UsageError(f"INPUT must be a .csv, .xlsx or .jsonl file, not {input_path.name}")
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.UsageError(f"--out must be a .jsonl, .csv or .xlsx file, not {output.name}")
    if len({path.resolve() for path in (input_path, output, errors_path)}) < 3:
        raise click.UsageError("INPUT, --out and the errors file must be three different files")
    for path, what in ((output, "--out"), (errors_path, "--errors")):
        folder = path.parent
        if not folder.is_dir():
            said = "is not a folder" if folder.exists() else "does not exist"
            raise CliError(f"cannot write {what} {path}: the folder {folder} {said}")
    beside = [(output, "--out"), (errors_path, "the errors file")]
    if output.suffix.lower() == ".xlsx":
        beside.append((journal_path(output), "the journal the workbook is built from"))
    for path, what in beside:
        most = _longest_name(path.parent)
        if len(os.fsencode(path.name)) > most:
            raise CliError(f"cannot write {what} {echo(path.name)}: its name is {len(os.fsencode(path.name))} bytes, "
                           f"more than the {most} its folder's file system takes; choose a shorter --out")


def _longest_name(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _score(ctx: click.Context, place: str, service: LocalJixiao | JixiaoClient, request: ScoreRequest,
           rows: BatchInput, jobs: int) -> Iterator[Outcome]:
    """The rows' outcomes: from the server's streams, from worker processes, or from here."""
    if place == SERVER:
        return score_on_server(lambda: open_evaluation(ctx), request, rows, jobs)
    if jobs > 1:
        packs = InProcessPacks(ctx.params.get("packs") if place == LOCAL else None,
                               ctx.params.get("registry") if place == REGISTRY else None)
        return score_in_workers(packs, request, rows, jobs)
    return score_here(service, request, rows)


def _write_outcomes(outcomes: Iterator[Outcome], scores: ScoreFile, errors_path: Path, rows: BatchInput,
                    pack: evaluation_pb2.Pack) -> tuple[int, int]:
    """Write each outcome as it comes; the counts of rows scored and failed."""
    scored = failed = 0
    errors = ErrorFile(errors_path)
    progress = batch_progress(rows.estimate, f"{pack.id} {pack.version}")
    try:
        for outcome in outcomes:
            if isinstance(outcome, RowScore):
                scores.write(outcome)
                scored += 1
            else:
                errors.write(outcome)
                scores.fail(outcome)
                failed += 1
            progress.update(scored + failed + rows.skipped + len(rows.examples), failed)
    except KeyboardInterrupt:
        raise CliError(f"interrupted after {scored} scored, {failed} failed: run the same command "
                       f"again to go on", exit_codes.INTERRUPTED) from None
    except (JixiaoError, CliError) as error:
        message, code = describe_error(error)
        raise CliError(f"{message} (stopped after {scored} scored, {failed} failed: run the same "
                       f"command again to go on)", code) from None
    finally:
        getattr(outcomes, "close", lambda: None)()
        progress.close()
        errors.close()
    return scored, failed


@click.command()
@click.option("--pack", "pack_id", required=True, help="The pack's id, e.g. quality-district-funding.")
@click.option("--version", help="The pack version (default: the active one; with --local the newest).")
@click.option("--out", "output", required=True, type=_output_path, metavar="FILE.xlsx",
              help="The workbook to write.")
@evaluation_target_options
@language_option
@click.pass_context
def template(ctx: click.Context, pack_id: str, version: str | None, output: Path, language: str,
             **_target: object) -> None:
    """Write the .xlsx workbook evaluators fill in for `jixiao batch`.

    \b
    Sheet 1: row 1 the labels with units, row 2 the fact names (the header
    `jixiao batch` reads), row 3 an example (the pack's first golden case with
    --local or --registry; else defaults) keyed 示例 (--lang en: example), which
    `jixiao batch` does not score: leave it or delete it, or give it a project's
    key to score it. Key column first. Cells check what they can: TRUE/FALSE
    lists, a choice's options as a list of their labels, number ranges, shares
    0–100; a list of texts takes one item a line.
    Sheet 2: each column's fact, label, type, unit, range and default.
    """
    from .template_workbook import template_workbook  # openpyxl: only this command needs it here

    if output.suffix.lower() != ".xlsx":
        raise click.UsageError(f"--out must be an .xlsx file, not {output.name}")
    with open_evaluation(ctx) as service:
        pack = service.get_pack(pack_id, version)
        cases = service.golden_cases(pack.id, pack.version) if isinstance(service, LocalJixiao) else ()
    example = (cases[0].name, cases[0].facts) if cases else None
    book = template_workbook(pack, example, language)
    try:
        book.save(output)
    except OSError as error:
        raise CliError(f"cannot write {output}: {error.strerror}") from None
    click.echo(f"wrote {output}: {pack.id} {pack.version}, a project a row from row 3 (the example row, keyed "
               f"\"{EXAMPLE_KEYS[language]}\", is not scored); "
               f"then: jixiao batch {output.name} --pack {pack.id} --version {pack.version} --out RESULTS")
