"""The report's fixed phrases, one YAML file per language under templates/ (phrases.zh.yaml,
phrases.en.yaml): the wording lives in repo files a reader can change, not in code.

A phrase fills its {placeholders} with str.format. A placeholder with a format spec names
one of the file's `counts` — "{weight:points}" — and is written in that count's `one` form
when the number is written as exactly 1 ("1 point") and in its `other` form otherwise ("16 points"),
so that no caller writes a unit word or chooses a plural itself."""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

LANGUAGES = ("zh", "en")
#: The forms a count has in the phrase files: `one` for exactly 1, `other` for any other number.
COUNT_FORMS = ("one", "other")


class Phrases:
    """A language's phrases: `phrases["basics.name"]` for a text, `phrases.fill(key, **values)`
    to fill a phrase's {placeholders}, `phrases.count(name, number)` for a number with its
    unit word ("1 point", "16 points")."""

    def __init__(self, data: Mapping[str, Any]):
        self.language: str = data["language"]
        self._data = data
        self._formatter = _CountFormatter(self)

    def __getitem__(self, key: str) -> Any:
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        return node

    def fill(self, key: str, **values: object) -> str:
        return self._formatter.format(str(self[key]), **values)

    def count(self, name: str, number: object) -> str:
        """`number` (a number or its text, as the report writes it) with the unit word of the
        count `name`, singular when it is exactly 1."""
        counts = self._data.get("counts", {})
        if name not in counts:
            raise KeyError(f"no count {name!r} in the {self.language} phrases; "
                           f"counts: {', '.join(sorted(counts)) or 'none'}")
        return str(counts[name][COUNT_FORMS[0] if is_one(number) else COUNT_FORMS[1]]).format(n=number)


def is_one(number: object) -> bool:
    """Whether `number` is written as exactly "1" (1, "1"; not "1.00", which English reads
    as plural: "1.00 points"). The report writes its numbers without trailing zeros."""
    return str(number).strip() == "1"


class _CountFormatter(string.Formatter):
    """str.format where a field's format spec names a count: "{weight:points}"."""

    def __init__(self, phrases: Phrases):
        self._phrases = phrases

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return super().format_field(value, format_spec)
        return self._phrases.count(format_spec, value)


def _read(language: str) -> dict:
    text = resources.files("jixiao.report").joinpath("templates", f"phrases.{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=len(LANGUAGES))
def phrases(language: str) -> Phrases:
    """The phrases of `language` (zh or en)."""
    if language not in LANGUAGES:
        raise ValueError(f"no report phrases for language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return Phrases(_read(language))
