"""The report's fixed phrases, one YAML file per language under templates/ (phrases.zh.yaml,
phrases.en.yaml): the wording lives in repo files a reader can change, not in code."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

LANGUAGES = ("zh", "en")


class Phrases:
    """A language's phrases: `phrases["basics.name"]` for a text, `phrases.fill(key, **values)`
    to fill a phrase's {placeholders}."""

    def __init__(self, data: Mapping[str, Any]):
        self.language: str = data["language"]
        self._data = data

    def __getitem__(self, key: str) -> Any:
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        return node

    def fill(self, key: str, **values: object) -> str:
        return str(self[key]).format(**values)


def _read(language: str) -> dict:
    text = resources.files("jixiao.report").joinpath("templates", f"phrases.{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=len(LANGUAGES))
def phrases(language: str) -> Phrases:
    """The phrases of `language` (zh or en)."""
    if language not in LANGUAGES:
        raise ValueError(f"no report phrases for language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return Phrases(_read(language))
