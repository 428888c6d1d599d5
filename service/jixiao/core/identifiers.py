"""Identifiers that callers, publishers and pack authors send, checked as whole strings,
and caller text quoted back in a message or a log, bounded.

Every pattern is matched with `fullmatch`: `re.match(r"^…$")` would accept a trailing
newline (`$` matches before one), which is how "1.1.0\\n" once became a version of its
own. Lengths are checked before the pattern, so a megabyte of id costs nothing to refuse.
"""

from __future__ import annotations

import re

PACK_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PACK_ID_MAX = 64
#: Semantic versions, with an optional pre-release and build (as the pack schema allows).
VERSION = re.compile(
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
VERSION_MAX = 64
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
TOKEN_NAME_MAX = 64
#: A batch item's key: the caller's own row id, any printable text.
KEY_MAX = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: Caller text quoted in a message or a log line is cut to this many characters.
ECHO_MAX = 64


class InvalidIdentifier(ValueError):
    """`field` holds no valid identifier; `problem` says why without quoting more than `echo` does."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def echo(text: str, limit: int = ECHO_MAX) -> str:
    """`text` fit to quote: control characters escaped, cut to `limit` characters with the length said."""
    shown = text if len(text) <= limit else text[:limit]
    shown = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), shown)
    if len(text) > limit:
        shown += f"… ({len(text)} characters)"
    return shown


def _check(text: str, field: str, pattern: re.Pattern[str], limit: int, expected: str) -> str:
    if not isinstance(text, str):
        raise InvalidIdentifier(field, f"expected {expected}, got {type(text).__name__}")
    if not text:
        raise InvalidIdentifier(field, f"missing (expected {expected})")
    if len(text) > limit:
        raise InvalidIdentifier(field, f"{len(text)} characters, more than {limit} (expected {expected})")
    if pattern.fullmatch(text) is None:
        raise InvalidIdentifier(field, f"{echo(text)!r} is not {expected}")
    return text


def check_pack_id(text: str, field: str = "pack_id") -> str:
    """A pack id such as `quality-district-funding`; raises InvalidIdentifier."""
    return _check(text, field, PACK_ID, PACK_ID_MAX, "a pack id of lower-case letters, digits and single hyphens")


def check_version(text: str, field: str = "version") -> str:
    """A semantic version such as `1.1.0`; raises InvalidIdentifier."""
    return _check(text, field, VERSION, VERSION_MAX, "a semantic version such as 1.1.0")


def check_token_name(text: str, field: str = "name") -> str:
    """A token's name (letters, digits, `.`, `_`, `@`, `-`); raises InvalidIdentifier."""
    return _check(text, field, TOKEN_NAME, TOKEN_NAME_MAX,
                  "a name of letters, digits, '.', '_', '@' and '-' starting with a letter or digit")


def check_key(text: str, field: str = "key") -> str:
    """A batch item's key: empty, or up to KEY_MAX printable characters; raises InvalidIdentifier."""
    if len(text) > KEY_MAX:
        raise InvalidIdentifier(field, f"{len(text)} characters, more than {KEY_MAX}")
    if _CONTROL.search(text):
        raise InvalidIdentifier(field, f"{echo(text)!r} contains control characters")
    return text


__all__ = [
    "ECHO_MAX", "InvalidIdentifier", "KEY_MAX", "PACK_ID_MAX", "TOKEN_NAME_MAX", "VERSION_MAX",
    "check_key", "check_pack_id", "check_token_name", "check_version", "echo",
]
