"""Telling a database outage from other errors, and living through one quietly.

A call that needs the database while it is away answers UNAVAILABLE (clients retry);
a background loop (the catalog's watcher, the decision-log writer, the shadow poller,
retention) waits longer between tries and says so once: `OutageLog.failed` logs ONE
warning when the database goes away and returns the next delay (0.5 s doubling to 30 s),
`OutageLog.recovered` logs ONE info line when it is back. Without this a stopped
PostgreSQL made every process log a ~5 KB traceback every half second.

What is logged or answered never holds a password: the driver's text is cut to its first
line and scrubbed (`describe`), since libpq and SQLAlchemy may repeat a connection string.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any, Callable, Iterator
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

#: What a caller is told; never the URL.
UNAVAILABLE_MESSAGE = "the database is unavailable; retry later"
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
#: How much of the driver's first line a log line keeps.
MESSAGE_LIMIT = 200
#: The shortest password `scrub` looks for as bare text.
MIN_BARE_PASSWORD = 4

#: SQLite's words for a file it cannot reach (or a lock held past busy_timeout); its other
#: OperationalErrors ("no such table", syntax) are faults in the program, not outages.
_SQLITE_OUTAGE = ("unable to open", "disk i/o", "database is locked", "readonly database")
#: How many causes (`raise … from`) are followed to find the driver's error.
_CAUSE_DEPTH = 5


class DatabaseUnavailable(RuntimeError):
    """Raised without trying the database, by code that knows it is away (a loop in an outage)."""


def is_unavailable(error: BaseException) -> bool:
    """True when `error` means the database cannot be reached now (retry later), not a bug."""
    for cause in _causes(error):
        if isinstance(cause, DatabaseUnavailable):
            return True
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.TimeoutError):  # no connection free in the pool in time
            return True
        if isinstance(cause, sa_exc.InterfaceError):
            return True
        if isinstance(cause, sa_exc.OperationalError):
            return _driver_outage(cause.orig) if cause.orig is not None else True
        if isinstance(cause, sqlite3.OperationalError):
            return _sqlite_outage(cause)
        if _is_psycopg_outage(cause):
            return True
    return False


def _causes(error: BaseException | None) -> Iterator[BaseException]:
    """The error, then what it was raised from, a few levels down."""
    seen = 0
    while error is not None and seen < _CAUSE_DEPTH:
        yield error
        error = error.__cause__
        seen += 1


def _driver_outage(orig: BaseException) -> bool:
    if isinstance(orig, sqlite3.Error):
        return isinstance(orig, sqlite3.OperationalError) and _sqlite_outage(orig)
    return True  # psycopg's OperationalError: connection lost or refused, server shutting down, disk full


def _sqlite_outage(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return any(words in text for words in _SQLITE_OUTAGE)


def _is_psycopg_outage(error: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # the postgres extra is not installed: no psycopg error can occur
        return False
    return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))


def describe(error: BaseException, url: str | sa.URL | None = None) -> str:
    """`ErrorClass: first line of the driver's message`, short and without any password.

    The driver's own error (SQLAlchemy's `.orig`) is described, not SQLAlchemy's wrapper,
    whose text adds the statement, its parameters and a link.
    """
    inner = getattr(error, "orig", None) or error
    kind = type(inner).__name__
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    text = scrub(lines[0] if lines else "", url)
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "…"
    return f"{kind}: {text}" if text else kind


_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?P<tail>@)")
_CONNINFO_PASSWORD = re.compile(r"(?i)(?P<head>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def scrub(text: str, url: str | sa.URL | None = None) -> str:
    """`text` with the URL's password (as given and URL-encoded, if it has at least
    MIN_BARE_PASSWORD characters: a shorter one would blot out ordinary words), any
    `scheme://user:PASSWORD@` and any libpq `password=…` replaced by ***."""
    password = _password(url)
    if password and len(password) >= MIN_BARE_PASSWORD:
        for form in {password, quote(password, safe=""), quote_plus(password)}:
            text = text.replace(form, "***")
    text = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)
    return _CONNINFO_PASSWORD.sub(r"\g<head>***", text)


def _password(url: str | sa.URL | None) -> str | None:
    if url is None:
        return None
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is no number
        return None
    return parsed.password or None


class OutageLog:
    """One loop's view of the database: up or down, how long to wait, one log line per change.

    `failed(error)` → the seconds to wait before the next try (0.5, 1, 2 … 30), logging a
    warning only on the first failure of an outage; `recovered()` logs once when a try
    succeeds after failures. Not thread-safe: one per loop.
    """

    def __init__(self, log: Any, task: str, url: str | sa.URL | None = None,
                 first_delay: float = FIRST_DELAY_S, max_delay: float = MAX_DELAY_S,
                 clock: Callable[[], float] = time.monotonic):
        self._log = log
        self._task = task
        self._url = url
        self._first = first_delay
        self._max = max_delay
        self._clock = clock
        self._delay: float | None = None  # None: the database is up
        self._since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self._delay is not None

    def failed(self, error: BaseException) -> float:
        """Note a failed try; the seconds to wait before the next one."""
        self.failures += 1
        if self._delay is None:
            self._delay = self._first
            self._since = self._clock()
            self._log.warning("database unavailable; retrying with backoff", task=self._task,
                              error=describe(error, self._url), retry_in_s=self._delay)
        else:
            self._delay = min(self._delay * 2, self._max)
        return self._delay

    def recovered(self) -> None:
        """Note a successful try; logs once if the database had been away."""
        if self._delay is None:
            return
        down_for = self._clock() - (self._since or self._clock())
        self._log.info("database back", task=self._task, down_for_s=round(down_for, 1),
                       failed_tries=self.failures)
        self._delay = None
        self._since = None
        self.failures = 0
