"""How many EvaluateBatch streams one server process holds open at once.

A stream costs no thread (the server runs on one event loop), but each open one holds
some memory and a place in gRPC's tables, and a caller could open them faster than it
uses them. Past the limit a new stream is refused with RESOURCE_EXHAUSTED naming the
limit; streams already open go on. The count lives on the event loop's thread only.
"""

from __future__ import annotations


class StreamLimitReached(RuntimeError):
    """A new stream would pass the process's limit; the message says the limit and its option."""

    def __init__(self, limit: int):
        super().__init__(f"this server process already has {limit} EvaluateBatch streams open, its limit "
                         "(--max-batch-streams); retry later, or send the rows over fewer streams")
        self.limit = limit


class StreamCount:
    """Open streams of one kind in this process, up to `limit`."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError(f"a stream limit must be at least 1, not {limit}")
        self.limit = limit
        self.open = 0

    def enter(self) -> None:
        """Count one more open stream; raises StreamLimitReached when the limit is reached."""
        if self.open >= self.limit:
            raise StreamLimitReached(self.limit)
        self.open += 1

    def leave(self) -> None:
        self.open -= 1
