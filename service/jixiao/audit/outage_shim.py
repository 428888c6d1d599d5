"""Stand-in for jixiao.database.outage until it lands: is an error an outage, and the backoff."""

from __future__ import annotations

from sqlalchemy import exc

FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 30.0


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (not that it refused what was sent)."""
    if isinstance(error, (exc.OperationalError, exc.InterfaceError)):
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)


class Outage:
    """One background loop's view of the database: one line when it goes away, one when it is back."""

    def __init__(self, what: str, log):
        self.what = what
        self._log = log
        self._pause = 0.0

    @property
    def down(self) -> bool:
        return self._pause > 0

    def failed(self, error: BaseException) -> float:
        """Note a failure; the seconds to wait before the next try."""
        if not self.down:
            self._log.warning(f"{self.what}: the database is unavailable; retrying with backoff",
                              error=type(error).__name__)
            self._pause = FIRST_PAUSE_S
        else:
            self._pause = min(self._pause * 2, LONGEST_PAUSE_S)
        return self._pause

    def recovered(self) -> None:
        if self.down:
            self._log.warning(f"{self.what}: the database is back")
            self._pause = 0.0
