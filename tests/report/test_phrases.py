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
