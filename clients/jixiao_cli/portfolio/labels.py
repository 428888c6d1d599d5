"""The summary's fixed words in the user's language, read from templates/labels.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=None)
def labels(language: str) -> dict[str, str]:
    """Every label in `language` (zh or en)."""
    with (TEMPLATES / "labels.yaml").open(encoding="utf-8") as stream:
        return dict(yaml.safe_load(stream)[language])
