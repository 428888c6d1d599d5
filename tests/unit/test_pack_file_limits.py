"""What a pack's files may cost before and while they are parsed: a refusal that names the
file, the line and the limit, in milliseconds, for alias bombs, deep nesting, long texts,
too many or too large files; look-alike ids and versions; golden cases that state nothing."""

from __future__ import annotations

import time

import jsonschema
import pytest

from jixiao.core.pack import bundle as bundle_module
from jixiao.core.pack import yaml12
from jixiao.core.pack.bundle import make_bundle
from jixiao.core.pack.cases import load_case
from jixiao.core.errors import PackError
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

from .packs import METHODS_PACK


def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """A few hundred bytes that stand for fan**levels strings once the aliases are expanded."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def refusal(text: str, filename: str = "bad/pack.yaml") -> str:
    with pytest.raises(PackError) as info:
        load_pack(text, filename, schema=pack_schema())
    [problem] = info.value.problems
    return str(problem)


def test_an_alias_bomb_is_refused_at_once_naming_its_line_and_the_limit() -> None:
    bomb = alias_bomb()
    assert len(bomb.encode()) < 500

    started = time.perf_counter()
    message = refusal(bomb)
    elapsed = time.perf_counter() - started

    assert message.startswith("bad/pack.yaml:") and "line" in message
    assert f"{yaml12.MAX_NODES:,}" in message and "alias" in message
    assert elapsed < 2  # expanding it would take minutes; refusing it counts each node once


def test_yaml_nested_fifty_thousand_deep_is_refused_saying_the_limit() -> None:
    for text in ("[" * 50_000 + "]" * 50_000, "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 500))):
        message = refusal(text)
        assert f"more than {yaml12.MAX_DEPTH} levels" in message, message


def test_aliases_that_nest_deeper_than_the_limit_once_expanded_are_refused() -> None:
    deep = "[" * 90 + "1" + "]" * 90
    text = f"a: &a {deep}\nb: &b {'[' * 20}*a{']' * 20}\n"
    assert "once its aliases are expanded" in refusal(text)


def test_a_value_that_contains_itself_is_refused() -> None:
    assert "contains it" in refusal("a: &x [*x]\n")


def test_aliases_within_the_limits_still_load() -> None:
    data, lines = yaml12.parse_yaml("base: &b {x: 1}\nuse: [*b, *b]\n")
    assert data["use"] == [{"x": 1}, {"x": 1}] and lines[("use",)] == 2


def test_a_text_longer_than_the_limit_is_refused_before_parsing(monkeypatch) -> None:
    monkeypatch.setattr(yaml12, "MAX_CHARS", 1_000)
    assert "more than the 1,000 a pack file may have" in refusal("# " + "x" * 2_000 + "\n")


def test_a_case_file_is_parsed_under_the_same_limits() -> None:
    with pytest.raises(PackError) as info:
        load_case(alias_bomb(), "bad/cases/bomb.yaml")
    assert str(info.value.problems[0]).startswith("bad/cases/bomb.yaml:")


@pytest.mark.parametrize("files, what", [
    ({"pack.yaml": "x", **{f"cases/{n}.yaml": "x" for n in range(bundle_module.MAX_FILES)}}, "files, more than"),
    ({"pack.yaml": "x" * (bundle_module.MAX_FILE_BYTES + 1)}, "bytes, more than the 1,000,000 a pack file"),
    ({"pack.yaml": "x", **{f"cases/{n}.yaml": b"x" * 900_000 for n in range(5)}}, "more than the 4,000,000 a pack"),
])
def test_a_bundle_over_a_size_limit_is_refused_before_it_is_decoded(files, what) -> None:
    with pytest.raises(PackError) as info:
        make_bundle(files, "pub")
    assert any(what in str(p) for p in info.value.problems), info.value.problems


def test_file_names_are_checked_whole() -> None:
    with pytest.raises(PackError) as info:
        make_bundle({"pack.yaml": "x", "cases/a.yaml\n": "x"})
    assert "not part of a pack" in str(info.value)


@pytest.mark.parametrize("field, old, new", [
    ("id", "id: methods\n", 'id: "methods\\n"\n'),
    ("version", "version: 1.0.0\n", 'version: "1.0.0\\n"\n'),
    ("version", "version: 1.0.0\n", "version: 1.0.0-\n"),
])
def test_look_alike_ids_and_versions_are_refused_by_the_loader(field, old, new) -> None:
    from jixiao.core.pack.loader import build_pack
    from jixiao.core.pack.yaml12 import parse_yaml

    document, lines = parse_yaml(METHODS_PACK.replace(old, new, 1))
    with pytest.raises(PackError) as info:
        build_pack(document, lines=lines)  # without the schema: the loader refuses it on its own
    assert any(p.path == field for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("value, valid", [
    ("quality-district-funding", True), ("quality-district-funding\n", False), ("Quality", False),
])
def test_the_schema_pattern_for_ids_does_not_take_a_trailing_newline(value, valid) -> None:
    validator = jsonschema.Draft202012Validator(pack_schema()["properties"]["id"])
    assert validator.is_valid(value) is valid


def test_the_schema_patterns_take_ascii_digits_only() -> None:
    validator = jsonschema.Draft202012Validator(pack_schema()["properties"]["version"])
    assert validator.is_valid("1.10.0") and not validator.is_valid("1.١.0") and not validator.is_valid("1.1.0\n")


@pytest.mark.parametrize("expected", ["{}", "{score: \"1\"}", "{grade: 优}", "{nodes: {a: {score: \"1\"}}}"])
def test_a_golden_case_must_state_the_total_score_and_grade(expected) -> None:
    with pytest.raises(PackError) as info:
        load_case(f"name: x\nfacts: {{}}\nexpected: {expected}\n", "p/cases/x.yaml")
    assert "must state at least the total score and grade" in str(info.value)


def test_a_golden_case_expecting_an_input_error_need_not_state_a_score() -> None:
    case = load_case("facts: {}\nexpected: {error: {violations: [{fact: a}]}}\n", "p/cases/x.yaml")
    assert case.expected["error"]["violations"] == [{"fact": "a"}]


def case_schema() -> dict:
    import json
    from importlib import resources
    return json.loads(resources.files("jixiao.schemas").joinpath("case.schema.json").read_text(encoding="utf-8"))


def test_the_case_schema_takes_every_bundled_case_and_asks_for_the_score_and_grade() -> None:
    from pathlib import Path

    from jixiao.core.pack.yaml12 import parse_yaml

    validator = jsonschema.Draft202012Validator(case_schema())
    rules = Path(__file__).resolve().parents[2] / "rules"
    cases = sorted(rules.glob("*/*/cases/*.yaml"))
    assert len(cases) >= 10
    for path in cases:
        document, _ = parse_yaml(path.read_text(encoding="utf-8"))
        assert validator.is_valid(document), (path, [e.message for e in validator.iter_errors(document)])
    assert not validator.is_valid({"name": "x", "facts": {}, "expected": {"score": "1"}})
    assert not validator.is_valid({"name": "x", "facts": {}, "expected": {}})
