"""The summary's fixed words in the user's language, read from templates/labels.yaml, and
the sentences the workbook and the page both build from them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from .figures import FindingCount, Summary

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=None)
def labels(language: str) -> dict[str, str]:
    """Every label in `language` (zh or en)."""
    with (TEMPLATES / "labels.yaml").open(encoding="utf-8") as stream:
        return dict(yaml.safe_load(stream)[language])


def missing_line(summary: Summary, figure: str, words: dict) -> str:
    """Why a figure is missing: how many rows lack the field it needs."""
    missing = next(m for m in summary.missing if m.figure == figure)
    return words["missing_line"].format(figure=words[f"figure_{figure}"], rows=missing.rows, field=missing.field,
                                        key=missing.first_key)


def finding_wording(finding: FindingCount, words: dict) -> str:
    """A finding's text as the summary shows it: the rows' one wording, or, when the rows
    word it differently (a text with each project's figures), the first row's wording
    marked as that project's example, never as every project's."""
    if finding.texts == 1:
        return finding.text
    return words["finding_example"].format(key=finding.keys[0], text=finding.text, count=finding.texts)
