"""A pack folder's files must lie in it: a symbolic link out of the folder is refused,
naming the file, before anything is read, so publishing a folder never sends a file from
elsewhere on the machine (it once sent /etc/passwd as a golden case)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jixiao.core.errors import PackError
from jixiao.packs import read_bundle


def refusal(folder: Path) -> list[str]:
    with pytest.raises(PackError) as info:
        read_bundle(folder)
    return [str(p) for p in info.value.problems]


def test_a_case_linked_to_a_file_outside_the_folder_is_refused_naming_it(make_pack_version, tmp_path) -> None:
    folder = make_pack_version("1.0.1")
    outside = tmp_path / "secret.yaml"
    outside.write_text("password: hunter2\n", encoding="utf-8")
    (folder / "cases" / "leak.yaml").symlink_to(outside)

    [problem] = refusal(folder)

    assert problem.startswith(f"{folder / 'cases' / 'leak.yaml'}:")
    assert "symbolic link" in problem and "outside the pack folder" in problem and str(outside) in problem


def test_a_link_to_etc_passwd_is_refused(make_pack_version) -> None:
    folder = make_pack_version("1.0.2")
    (folder / "cases" / "passwd.yaml").symlink_to("/etc/passwd")
    assert any("passwd.yaml" in p and "outside the pack folder" in p for p in refusal(folder))


def test_a_cases_folder_linked_elsewhere_is_refused(make_pack_version, tmp_path) -> None:
    folder = make_pack_version("1.0.3")
    elsewhere = tmp_path / "elsewhere"
    (folder / "cases").rename(elsewhere)
    (folder / "cases").symlink_to(elsewhere, target_is_directory=True)

    problems = refusal(folder)

    assert problems and all("outside the pack folder" in p for p in problems)


def test_a_pack_yaml_linked_out_of_the_folder_is_refused(make_pack_version, tmp_path) -> None:
    folder = make_pack_version("1.0.4")
    moved = tmp_path / "pack.yaml"
    (folder / "pack.yaml").rename(moved)
    (folder / "pack.yaml").symlink_to(moved)
    assert any("pack.yaml" in p and "outside the pack folder" in p for p in refusal(folder))


def test_a_link_within_the_folder_is_followed(make_pack_version) -> None:
    folder = make_pack_version("1.0.5")
    (folder / "cases" / "again.yaml").symlink_to(folder / "cases" / "2019.yaml")
    bundle = read_bundle(folder)
    assert bundle.files["cases/again.yaml"] == bundle.files["cases/2019.yaml"]


def test_a_fifo_is_not_read(make_pack_version) -> None:
    folder = make_pack_version("1.0.6")
    os.mkfifo(folder / "cases" / "pipe.yaml")  # reading it would block forever
    assert any("pipe.yaml" in p and "not a regular file" in p for p in refusal(folder))
