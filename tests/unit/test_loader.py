"""Loading packs: a bad pack fails with every problem named by file, line and field path."""

from __future__ import annotations

import json

import pytest

from jixiao.core.errors import PackError
from jixiao.core.pack.bundle import load_bundle, make_bundle
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

from .packs import BASE_FACTS, METHODS_PACK


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(text, "bad/pack.yaml", schema=pack_schema())
    return [str(p) for p in info.value.problems]


def replace(old: str, new: str) -> str:
    assert old in METHODS_PACK, old
    return METHODS_PACK.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_digest_covers_every_byte_of_every_file_but_not_line_ends():
    case = "name: a\nfacts: " + json.dumps(BASE_FACTS, ensure_ascii=False) + "\nexpected: {score: 1, grade: x}\n"
    files = {"pack.yaml": METHODS_PACK, "cases/a.yaml": case}
    first = load_bundle(make_bundle(files), pack_schema())
    assert first.pack.digest == first.bundle.digest and len(first.pack.digest) == 64
    crlf = {path: text.replace("\n", "\r\n").encode() for path, text in files.items()}
    assert load_bundle(make_bundle(crlf), pack_schema()).pack.digest == first.pack.digest
    for path in files:
        changed = dict(files, **{path: files[path] + "# a comment\n"})
        assert make_bundle(changed).digest != first.pack.digest, path


def test_a_bundle_holds_only_pack_files():
    with pytest.raises(PackError) as info:
        make_bundle({"pack.yaml": METHODS_PACK, "notes.txt": "x", "cases/b.yaml": b"\xff"})
    found = [str(p) for p in info.value.problems]
    assert any("notes.txt" in p and "not part of a pack" in p for p in found)
    assert any("cases/b.yaml" in p and "not UTF-8" in p for p in found)


def test_yaml_syntax_error_names_file_and_line():
    [message] = problems("id: x\nversion: [1.0.0\n")
    assert message.startswith("bad/pack.yaml:") and "not valid YAML" in message


def test_children_weights_must_add_up_to_the_parent():
    text = replace("weight: 5\n", "weight: 6\n")  # all.x.done, the first leaf weighing 5
    found = problems(text)
    assert any("'all.x' weighs 30 but its children add up to 31" in p for p in found)
    assert all(p.startswith("bad/pack.yaml:") for p in found)


def test_level_1_must_add_up_to_the_total():
    found = problems(replace("total_weight: 30", "total_weight: 100"))
    assert any("total_weight is 100 but the level-1 weights add up to 30" in p for p in found)


def test_duplicate_ids_are_refused():
    found = problems(replace("id: all.x.done", "id: all.x.ratio"))
    assert any("indicator id 'all.x.ratio' is used more than once" in p for p in found)


def test_undeclared_facts_are_named_with_their_path_and_line():
    text = replace("when: {fact: records.a, eq: false}", "when: {fact: records.zzz, eq: false}")
    [message] = problems(text)
    line = line_of(text, "records.zzz")
    assert message.startswith(f"bad/pack.yaml:{line} at indicators[0].children[0].children[1].scoring.checks[0].when.fact")
    assert message.endswith("fact 'records.zzz' is not declared in facts; did you mean records.c?")


def test_bands_must_be_ordered_and_end_with_a_catch_all():
    found = problems(replace("- {min: 70, deduct: 1,", "- {min: 85, deduct: 1,"))
    assert any("bands must be ordered highest first" in p for p in found)
    found = problems(replace("- {deduct: 4}", "- {min: 0, deduct: 4}"))
    assert any("the last band must omit 'min'" in p for p in found)


def test_schema_errors_name_the_field():
    found = problems(replace("method: ratio", "method: ratios"))
    assert any("scoring" in p for p in found)
    found = problems(replace("version: 1.0.0", "version: one"))
    assert any("version" in p for p in found)


def test_type_mismatches_in_conditions_are_refused():
    found = problems(replace("when: {fact: records.a, eq: false}", "when: {fact: records.a, gt: 3}"))
    assert any("'gt' compares numbers" in p for p in found)


def test_survey_weights_must_cover_every_option_within_0_and_1():
    found = problems(replace('weights: {strongly: 1, "yes": 0.8, somewhat: 0.4, "no": 0}',
                             'weights: {strongly: 1, "yes": 0.8, somewhat: 0.4}'))
    assert any("no weight for option 'no'" in p for p in found)
    found = problems(replace('weights: {strongly: 1,', 'weights: {strongly: 1.2,'))
    assert any("weights.strongly" in p and "1.2" in p for p in found)


def test_templates_may_only_use_known_names_and_formats():
    found = problems(replace("reason: 未按期完成", "reason: '未完成{ratio|percent}，{nope}'"))
    assert any("{ratio} is only known to ratio leaves" in p for p in found)
    assert any("'nope', which is neither a declared fact" in p for p in found)


def test_grade_bands_must_descend_to_zero():
    found = problems(replace("- {grade: 差, en: poor, min: 0}", "- {grade: 差, en: poor, min: 10}"))
    assert any("the last grade band must start at 0" in p for p in found)


def test_yes_and_no_stay_strings_in_yaml():
    # YAML 1.1 would read `no` as false and silently lose a survey option.
    text = replace('- {key: "no", label: {zh: 不能促进, en: "no"}}', "- {key: no, label: {zh: 不能促进, en: no}}")
    pack = load_pack(text.replace('"no": 0}', "no: 0}"), schema=pack_schema())
    assert pack.fact("survey.s").option("no") is not None


def test_all_problems_are_reported_together():
    text = replace("total_weight: 30", "total_weight: 31").replace("records.b, eq: true", "records.q, eq: true")
    assert len(problems(text)) >= 2



@pytest.mark.parametrize("text", ["1_000", " 30", "٣٠", "3e1", "NaN", ".5", "30\n"])
def test_a_number_text_outside_ascii_digits_is_refused(text):
    """Decimal() alone reads all of these; a pack's numbers are plain ASCII digits."""
    with pytest.raises(PackError) as info:
        load_pack(replace("total_weight: 30", f"total_weight: {text!r}".replace("'", '"')), "bad/pack.yaml")
    assert any("total_weight" in str(p) and "expected a number" in str(p) for p in info.value.problems)
