"""Every bundled pack's golden cases, through the same loader and engine the service uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.core.pack.cases import run_case
from jixiao.packs import BUNDLED_PACKS, PackLibrary, load_pack_dir

PACK_DIRS = sorted(p.parent for p in BUNDLED_PACKS.glob("*/*/pack.yaml"))


def _cases():
    for directory in PACK_DIRS:
        for case in sorted((directory / "cases").glob("*.yaml")):
            yield pytest.param(directory, case, id=f"{directory.parent.name}@{directory.name}/{case.stem}")


@pytest.fixture(scope="module")
def loaded():
    packs = {directory: load_pack_dir(directory) for directory in PACK_DIRS}
    yield packs
    for pack in packs.values():
        pack.compiled.close()


def test_there_are_bundled_packs_with_cases():
    assert PACK_DIRS, "no packs under rules/"
    assert all(list((d / "cases").glob("*.yaml")) for d in PACK_DIRS), "every pack needs golden cases"


@pytest.mark.parametrize("directory, case_file", list(_cases()))
def test_golden_case(loaded, directory: Path, case_file: Path):
    pack = loaded[directory]
    [case] = [c for c in pack.cases if c.file == str(case_file)]
    result = run_case(pack.compiled, case)
    assert result.passed, "\n".join(f"{m.node} {m.field}: expected {m.expected!r}, got {m.actual!r}" for m in result.mismatches)


def test_the_library_loads_every_bundled_pack_in_its_folder():
    library = PackLibrary.from_directory(BUNDLED_PACKS)
    try:
        assert {(c.pack.id, c.pack.version) for c in library.list()} == {
            (d.parent.name, d.name) for d in PACK_DIRS}
    finally:
        library.close()
