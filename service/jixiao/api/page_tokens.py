"""Page sizes and page tokens of ListActivations.

A token is opaque to callers: base64url of "<position>:<scope>", where the position is the
number of the last activation on the previous page and the scope a short hash of the pack
id, so a token given out for one pack is refused for another. It carries nothing secret:
an edited token can only point elsewhere in the same list, and every field is checked as
a whole string before use. A bad token or page size is an InvalidIdentifier of its field,
so the caller gets INVALID_ARGUMENT with a BadRequest violation naming it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from jixiao.core.identifiers import InvalidIdentifier

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TOKEN_LENGTH = 64
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}={0,2}")
_PAYLOAD = re.compile(r"([1-9][0-9]{0,17}):([0-9a-f]{16})")


class BadPageToken(InvalidIdentifier):
    """A page token this server did not give out for this list."""

    def __init__(self, problem: str):
        super().__init__("page_token", problem)


class BadPageSize(InvalidIdentifier):
    """A negative page size."""

    def __init__(self, problem: str):
        super().__init__("page_size", problem)


def page_size(requested: int) -> int:
    """The page size to use: 0 means DEFAULT_PAGE_SIZE; more than MAX_PAGE_SIZE is capped."""
    if requested < 0:
        raise BadPageSize(f"must be 0 (the default, {DEFAULT_PAGE_SIZE}) or more, not {requested}")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _scope(list_id: str) -> str:
    return hashlib.blake2b(list_id.encode("utf-8"), digest_size=8).hexdigest()


def make_token(list_id: str, position: int) -> str:
    """The token of the page after `position` in the list `list_id` (e.g. a pack id)."""
    return base64.urlsafe_b64encode(f"{position}:{_scope(list_id)}".encode("ascii")).decode("ascii")


def read_token(list_id: str, token: str) -> int:
    """The position a token points after; 0 for the empty token (the first page)."""
    if not token:
        return 0
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        raise BadPageToken("not one this call gave out (pass next_page_token unchanged)")
    try:
        payload = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise BadPageToken("not one this call gave out (pass next_page_token unchanged)") from None
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        raise BadPageToken("not one this call gave out (pass next_page_token unchanged)")
    if match[2] != _scope(list_id):
        raise BadPageToken("given out for another pack (start again with an empty page_token)")
    return int(match[1])
