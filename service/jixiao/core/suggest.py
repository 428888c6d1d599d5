""""Did you mean …?": the closest known name to a misspelt one, for messages to people."""

from __future__ import annotations

import difflib
from typing import Iterable

from .identifiers import echo


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to `name`, or None when none is close enough to suggest."""
    candidates = list(dict.fromkeys(known))
    if not isinstance(name, str) or not candidates:
        return None
    matches = difflib.get_close_matches(name[:200], candidates, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # A short name differs a lot in ratio from one edit: also try case and separators.
    folded = {c.lower().replace("-", "_"): c for c in candidates}
    return folded.get(name.lower().replace("-", "_"))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean X?' when a known name is close, else '' (to append to a message)."""
    match = closest(name, known)
    return f"; did you mean {match}?" if match is not None and match != name else ""


__all__ = ["closest", "did_you_mean", "echo"]
