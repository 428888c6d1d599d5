"""`jixiao pack diff` and `jixiao rescore`: what a new pack version changes, in its rules
and in the scores of real cases, before ops activate it."""

from __future__ import annotations

from pathlib import Path

import click

from jixiao.core.pack.bundle import load_bundle
from jixiao.core.pack.diff import diff_packs
from jixiao.core.pack.model import Pack
from jixiao.packs import BUNDLED_PACKS, pack_schema

from .diff_view import diff_document, render_diff
from .exit_codes import CliError
from .facts_file import read_fact_sets
from .grades import evaluation_grade_names
from .output import console, echo_json, format_option, ignore_unknown_option, language_option
from .pack_folder import read_pack
from .registry_admin import RegistryAdmin
from .rescore_view import render_rescore, rescore_document
from .targets import (LOCAL, REGISTRY, chosen_place, evaluation_target_options, local_option,
                      open_evaluation, os_user, packs_option, registry_option)


@click.command("diff")
@click.argument("subjects", nargs=-1, required=True, metavar="ID V1 V2 | DIR1 DIR2")
@registry_option
@local_option
@packs_option
@format_option
@language_option
@click.pass_context
def diff_versions(ctx: click.Context, subjects: tuple[str, ...], output_format: str, language: str,
                  **_target: object) -> None:
    """Compare two pack versions.

    Lists indicators added, removed, renamed or moved, and weights, rules, texts and
    facts changed.

    \b
    pack diff ID V1 V2 --registry PATH   two published versions
    pack diff ID V1 V2 --local           two folders of the bundled rules/ (or --packs DIR)
    pack diff DIR1 DIR2                  two pack folders
    """
    if len(subjects) == 2:
        old, new = (read_pack(_folder(Path(subject))) for subject in subjects)
    elif len(subjects) == 3:
        old, new = _versions(ctx, *subjects)
    else:
        raise click.UsageError("give ID V1 V2, or two pack folders DIR1 DIR2")
    diff = diff_packs(old, new)
    if output_format == "json":
        echo_json(diff_document(diff))
    else:
        console().print(render_diff(diff, language))


@click.command("rescore")
@click.argument("facts_file", metavar="FACTS.json|FACTS.yaml", type=click.Path(path_type=Path))
@click.option("--pack", "pack_id", required=True, help="The pack's id, e.g. quality-district-funding.")
@click.option("--versions", required=True, metavar="V1,V2", callback=lambda _c, _p, value: _two(value),
              help="The two published versions to compare, old first.")
@evaluation_target_options
@format_option
@ignore_unknown_option
@language_option
@click.pass_context
def rescore(ctx: click.Context, facts_file: Path, pack_id: str, versions: tuple[str, str],
            output_format: str, ignore_unknown: bool, language: str, **_target: object) -> None:
    """Score facts under two pack versions, side by side.

    Shows every indicator's weight and score under both versions and the difference,
    then the totals and grades; changed rows are highlighted. FACTS may be one facts
    object, a golden case file, or a JSON/YAML array of either: each is compared in
    turn (with --format json, an array of comparisons).

    Each version is evaluated pinned, so a version that is published but not active
    can be tried on real cases before it is activated.
    """
    fact_sets = read_fact_sets(facts_file)
    comparisons = []
    with open_evaluation(ctx) as service:
        for name, facts in fact_sets:
            old, new = (service.evaluate(pack_id, facts, version=version, language=language,
                                         ignore_unknown=ignore_unknown)
                        for version in versions)
            grades = {} if output_format == "json" else {
                **evaluation_grade_names(service, old, language), **evaluation_grade_names(service, new, language)}
            comparisons.append((name, old, new, grades))
    if output_format == "json":
        documents = [rescore_document(old, new) for _name, old, new, _grades in comparisons]
        echo_json(documents[0] if len(fact_sets) == 1 and not fact_sets[0][0] else documents)
        return
    out = console()
    for name, old, new, grades in comparisons:
        if name:
            out.print(f"{facts_file}{name}", style="bold", markup=False)
        out.print(render_rescore(old, new, language, grades))


def _two(value: str) -> tuple[str, str]:
    versions = [part.strip() for part in value.split(",")]
    if len(versions) != 2 or not all(versions):
        raise click.BadParameter(f"expected two versions as V1,V2, got {value!r}")
    return versions[0], versions[1]


def _versions(ctx: click.Context, pack_id: str, *versions: str) -> list[Pack]:
    place = chosen_place(ctx)
    if place == REGISTRY:
        with RegistryAdmin(ctx.params["registry"], os_user()) as registry:
            return [load_bundle(registry.bundle(pack_id, version), pack_schema(),
                                f"{pack_id}@{version}").pack for version in versions]
    if place == LOCAL:
        root = ctx.params["packs"] or BUNDLED_PACKS
        return [read_pack(_folder(root / pack_id / version)) for version in versions]
    raise click.UsageError("pack diff ID V1 V2 needs --registry PATH or --local: the server's API "
                           "serves no pack rules to compare. Or compare folders: pack diff DIR1 DIR2")


def _folder(path: Path) -> Path:
    if not path.is_dir():
        raise CliError(f"no pack folder at {path}")
    return path
