"""The phrase files: every language has the same keys and the same placeholders."""

from __future__ import annotations

import string

import pytest

from jixiao.report.phrases import LANGUAGES, phrases


def flat(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flat(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), node


def placeholders(text) -> set[str]:
    if not isinstance(text, str):
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys_and_placeholders():
    zh = dict(flat(phrases("zh")._data))
    for language in LANGUAGES:
        other = dict(flat(phrases(language)._data))
        assert other.keys() == zh.keys(), language
        for key, text in zh.items():
            if key not in ("section",):  # zh numbers sections alone, en as chapter.section
                assert placeholders(other[key]) == placeholders(text), (language, key)


def test_unknown_language():
    with pytest.raises(ValueError, match="no report phrases for language 'fr'"):
        phrases("fr")


def specs(text) -> set[str]:
    if not isinstance(text, str):
        return set()
    return {spec for _, name, spec, _ in string.Formatter().parse(text) if name and spec}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_count_a_phrase_names_is_in_its_file(language):
    p = phrases(language)
    used = {spec for _, text in flat(p._data) for spec in specs(text)}
    assert used == {"points"}
    for spec in used:
        assert set(p[f"counts.{spec}"]) == {"one", "other"}


@pytest.mark.parametrize("number, text", [("1", "1 point"), (1, "1 point"), ("1.00", "1.00 points"), ("0", "0 points"),
                                          ("0.5", "0.5 points"), ("2", "2 points"), ("11", "11 points"),
                                          ("101", "101 points"), ("-1", "-1 points"), ("x", "x points")])
def test_a_count_is_singular_only_for_exactly_one(number, text):
    assert phrases("en").count("points", number) == text


def test_chinese_counts_have_one_form():
    assert [phrases("zh").count("points", n) for n in ("1", "2.5")] == ["1分", "2.5分"]
    assert phrases("zh").fill("weight_in_heading", name="立项依据充分性", weight="3") == "立项依据充分性（3分）"


def test_an_unknown_count_is_refused_by_name():
    with pytest.raises(KeyError, match="no count 'marks' in the en phrases; counts: points"):
        phrases("en").count("marks", 1)
