"""Golden cases with a misspelt expectation or node id: the message names it and the fix."""

from __future__ import annotations

import pytest

from jixiao.core.pack.cases import load_case, run_case
from jixiao.core.errors import PackError
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

CASE = """\
name: 拼写错误
facts: {}
expected:
  scroe: "75.03"
  grade: 中
"""


def test_a_misspelt_total_score_is_named_with_its_line_and_the_right_key():
    with pytest.raises(PackError) as info:
        load_case(CASE, "cases/typo.yaml")
    [problem] = info.value.problems
    assert problem.line == 4
    assert problem.message.startswith("'scroe' is not an expectation; did you mean score? ")
    assert "(missing: score)" in problem.message


def test_nothing_close_is_still_the_plain_missing_message():
    with pytest.raises(PackError) as info:
        load_case(CASE.replace("scroe", "total"), "cases/typo.yaml")
    [problem] = info.value.problems
    assert problem.message.startswith("a golden case must state at least the total score and grade")


def test_a_misspelt_node_id_suggests_the_pack_s_node():
    loaded = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / "1.0.0")
    try:
        case = next(c for c in loaded.cases if "2019" in c.file)
        wrong = dict(case.expected, nodes={"decision.initiaton.basis": {"score": "3"}})
        result = run_case(loaded.compiled, type(case)(case.name, case.facts, wrong, case.file, case.language))
    finally:
        loaded.compiled.close()
    [mismatch] = result.mismatches
    assert mismatch.actual == "no such node; did you mean decision.initiation.basis?"


def test_a_pack_in_a_folder_its_id_does_not_match_says_both_ways_to_fix_it(tmp_path):
    import shutil

    from jixiao.packs import PackLibrary
    shutil.copytree(BUNDLED_PACKS / "quality-district-funding" / "1.0.0", tmp_path / "my-district" / "1.0.0")
    with pytest.raises(PackError) as info:
        PackLibrary.from_directory(tmp_path)
    [problem] = info.value.problems
    assert problem.message == ("pack quality-district-funding@1.0.0 must live in quality-district-funding/1.0.0/: "
                               "move the folder there, or, if the folder is right, set id: my-district and "
                               "version: 1.0.0 in its pack.yaml")
