"""Reading the decision log: filters, pages and streams of `decisions` rows.

A `DecisionFilter` from a request is checked field by field (whole strings, bounded;
an error names the field, e.g. `filter.since`) and turned into a `Criteria` of stored
values: times in the log's own format (RFC 3339 UTC to the millisecond, which sorts as
time). Pages are keyset pages on the decision id, which sorts by time: a list goes
newest first (`decision_id < last`), a replay or an export oldest first
(`decision_id > last`) in chunks, so that no call holds more than a chunk in memory
whatever the log's size.

A page token is opaque to callers: the last id given and a digest of the filter it was
given for, so a token passed with another filter is refused (INVALID_ARGUMENT) rather
than silently paging through something else.
"""

from __future__ import annotations

import base64
import binascii
import collections
import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Iterator

import grpc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jixiao.core.identifiers import InvalidIdentifier, check_pack_id, check_version, echo
from jixiao.database.schema import decisions

#: Decisions per page when a request names no page size, and the most one page holds.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: Rows read at once by a replay or an export.
CHUNK_ROWS = 500
METHODS = ("Evaluate", "EvaluateBatch", "RenderReport")
OUTCOMES = tuple(code.name for code in grpc.StatusCode)

DECISION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# RFC 3339 date-time, whole: date, T (or t or a space), time, optional fraction, zone.
# ASCII digits only: \d would take any script's digits (int() reads them all).
RFC_3339 = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})"
                      r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})")
# Printable text of a caller or a grade: no control characters.
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]+")
CALLER_MAX, GRADE_MAX, TIME_MAX = 200, 100, 40
_TOKEN_DIGEST_CHARS = 16


@dataclass(frozen=True)
class Criteria:
    """A checked filter in stored terms; None matches everything."""

    pack_id: str | None = None
    version: str | None = None
    caller: str | None = None
    since: str | None = None  # stored time format; since <= at
    until: str | None = None  # at < until
    grade: str | None = None
    outcome: str | None = None
    method: str | None = None

    def digest(self) -> str:
        """What a page token carries of the filter it was given for."""
        text = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_TOKEN_DIGEST_CHARS]

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        c = decisions.c
        found = []
        for column, value in ((c.pack_id, self.pack_id), (c.version, self.version), (c.caller, self.caller),
                              (c.grade, self.grade), (c.outcome, self.outcome), (c.method, self.method)):
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(c.at >= self.since)
        if self.until is not None:
            found.append(c.at < self.until)
        return found


def criteria(request_filter, field: str = "filter") -> Criteria:
    """The Criteria of an audit.proto DecisionFilter; InvalidIdentifier names the bad field."""
    f = request_filter

    def name(part: str) -> str:
        return f"{field}.{part}"

    pack_id = check_pack_id(f.pack_id, name("pack_id")) if f.pack_id else None
    version = check_version(f.version, name("version")) if f.version else None
    caller = _printable(f.caller, name("caller"), CALLER_MAX, "a token name or peer:<address>") if f.caller else None
    grade = _printable(f.grade, name("grade"), GRADE_MAX, "a grade such as 中") if f.grade else None
    if f.outcome and f.outcome not in OUTCOMES:
        raise InvalidIdentifier(name("outcome"), f"{echo(f.outcome)!r} is not a status code name "
                                                 "(OK, INVALID_ARGUMENT, NOT_FOUND, …)")
    if f.method and f.method not in METHODS:
        raise InvalidIdentifier(name("method"), f"{echo(f.method)!r} is not one of {', '.join(METHODS)}")
    since = stored_time(f.since, name("since")) if f.since else None
    until = stored_time(f.until, name("until")) if f.until else None
    if since is not None and until is not None and until <= since:
        raise InvalidIdentifier(name("until"), "must be later than since")
    return Criteria(pack_id, version, caller, since, until, grade, f.outcome or None, f.method or None)


def _printable(text: str, field: str, limit: int, expected: str) -> str:
    if len(text) > limit:
        raise InvalidIdentifier(field, f"{len(text)} characters, more than {limit} (expected {expected})")
    if _PRINTABLE.fullmatch(text) is None:
        raise InvalidIdentifier(field, f"{echo(text)!r} holds control characters (expected {expected})")
    return text


def stored_time(text: str, field: str) -> str:
    """An RFC 3339 time as the log stores times: UTC, to the millisecond, rounded up.

    Rounded up, because stored times have milliseconds: `at >= since` and `at < until`
    mean the same for a stored time whether compared with the exact instant or with it
    rounded up to the next millisecond.
    """
    match = RFC_3339.fullmatch(text) if len(text) <= TIME_MAX else None
    if match is None:
        raise InvalidIdentifier(field, f"{echo(text)!r} is not an RFC 3339 time such as 2026-12-03T16:47:39Z")
    day, clock, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{'+00:00' if zone in ('Z', 'z') else zone}")
    except ValueError as error:
        raise InvalidIdentifier(field, f"{echo(text)!r} is not a valid time: {error}") from None
    nanos = int((fraction or "").ljust(9, "0"))
    millis = -(-nanos // 1_000_000)  # rounded up
    try:  # a zone or a rounding that leaves years 1-9999 in UTC, e.g. 9999-12-31T23:59:59-23:59
        total_ms = int(moment.astimezone(timezone.utc).timestamp()) * 1000 + millis
        return format_ms(total_ms)
    except (OverflowError, ValueError):
        raise InvalidIdentifier(field, f"{echo(text)!r} is out of range (years 0001 to 9999 in UTC)") from None


def format_ms(epoch_ms: int) -> str:
    """Milliseconds since the epoch as the log stores times: 2026-12-03T16:47:39.123Z."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, timezone.utc).replace(microsecond=(epoch_ms % 1000) * 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_size(requested: int) -> int:
    """The page size asked for: 0 is the default, past the maximum or below 0 an error."""
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidIdentifier("page_size", f"{requested} is not between 0 and {MAX_PAGE_SIZE} "
                                             f"(0: {DEFAULT_PAGE_SIZE})")
    return requested


def page_token(last_id: str, where: Criteria) -> str:
    """The opaque token for the page after the one ending at `last_id`."""
    return base64.urlsafe_b64encode(f"{last_id}.{where.digest()}".encode("ascii")).decode("ascii").rstrip("=")


def token_position(token: str, where: Criteria, field: str = "page_token") -> str | None:
    """The last id a page token carries (None for no token); refuses a token not given out for this filter."""
    if not token:
        return None
    refusal = InvalidIdentifier(field, "not a page token this call gave out for this filter "
                                       "(pass next_page_token with the same filter, or none for the first page)")
    if len(token) > 100 or re.fullmatch(r"[A-Za-z0-9_-]+", token) is None:
        raise refusal
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refusal from None
    last_id, _, digest = text.partition(".")
    if DECISION_ID.fullmatch(last_id) is None or digest != where.digest():
        raise refusal
    return last_id


#: The text columns: SQLite keeps whatever is written into them, bytes (a BLOB) included.
_TEXT_COLUMNS = frozenset(c.name for c in decisions.c if isinstance(c.type, sa.String))


@functools.lru_cache(maxsize=8)
def _row_type(fields: tuple[str, ...]) -> type:
    return collections.namedtuple("DecisionRow", fields)


def _readable(row):
    """`row`, or a copy whose text columns holding bytes (a BLOB edited into an SQLite file by
    hand) are text, U+FFFD in place of bytes that are not UTF-8: one such row must not fail
    a whole page, export or replay."""
    if not any(isinstance(value, bytes) and name in _TEXT_COLUMNS for name, value in zip(row._fields, row)):
        return row
    return _row_type(tuple(row._fields))(*(
        value.decode("utf-8", "replace") if isinstance(value, bytes) and name in _TEXT_COLUMNS else value
        for name, value in zip(row._fields, row)))


@dataclass(frozen=True)
class Page:
    rows: list
    next_token: str


#: What a list reads of each row: not the facts nor the reply (kilobytes each), only
#: whether the facts were kept.
SUMMARY_COLUMNS = (*(c for c in decisions.c if c.name not in ("facts", "reply")),
                   decisions.c.facts.is_(None).label("facts_redacted"))


def list_page(engine: Engine, where: Criteria, size: int, after: str | None) -> Page:
    """One page of rows (their summary columns), newest first, after the decision id `after` (exclusive)."""
    query = sa.select(*SUMMARY_COLUMNS).where(*where.conditions())
    if after is not None:
        query = query.where(decisions.c.decision_id < after)
    query = query.order_by(decisions.c.decision_id.desc()).limit(size + 1)
    with engine.connect() as conn:
        rows = [_readable(row) for row in conn.execute(query)]
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, page_token(rows[-1].decision_id, where) if more else "")


def get_row(engine: Engine, decision_id: str):
    """The row of one decision, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(decisions).where(decisions.c.decision_id == decision_id)).first()
    return None if row is None else _readable(row)


def check_decision_id(text: str, field: str = "decision_id") -> str:
    """A decision id as the server hands them out (a lower-case UUID); raises InvalidIdentifier."""
    if not text:
        raise InvalidIdentifier(field, "missing (expected a decision id such as "
                                       "01936f2e-8a4c-7d3e-9b1a-2f6c0d4e5a7b)")
    if len(text) > 36 or DECISION_ID.fullmatch(text) is None:
        raise InvalidIdentifier(field, f"{echo(text)!r} is not a decision id (a lower-case UUID)")
    return text


def chunk_after(engine: Engine, where: Criteria, after: str | None, size: int = CHUNK_ROWS) -> list:
    """Up to `size` rows, oldest first, after the decision id `after` (exclusive)."""
    query = sa.select(decisions).where(*where.conditions())
    if after is not None:
        query = query.where(decisions.c.decision_id > after)
    query = query.order_by(decisions.c.decision_id).limit(size)
    with engine.connect() as conn:
        return [_readable(row) for row in conn.execute(query)]


def oldest_first(engine: Engine, where: Criteria, size: int = CHUNK_ROWS) -> Iterator[list]:
    """Every matching row, oldest first, a chunk at a time (in this thread: see api/audit.py for the server's)."""
    after = None
    while True:
        rows = chunk_after(engine, where, after, size)
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = rows[-1].decision_id
