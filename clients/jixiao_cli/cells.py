"""Cell texts every table writes the same way: indented indicator names, short digests."""

from __future__ import annotations

from .wrapping import Wrapped

INDENT = "  "
SHORT_DIGEST = 12


def indented_name(name: str, level: int) -> str:
    """An indicator's name indented by its level, as a 评分表 lays out its tree."""
    return INDENT * (level - 1) + name


def short_digest(digest: str) -> str:
    """The first hex digits of a sha256 digest, enough to tell pack versions apart."""
    return digest[:SHORT_DIGEST]


def tree_cell(name: str, level: int) -> Wrapped:
    """An indicator's name as a table cell: indented by its level on every line it wraps to."""
    return Wrapped(name, indent=len(INDENT) * (level - 1))
