"""The decision log: the DecisionHub's sink that records every decision in the database.

`decided` (on the event loop, before the reply goes) only queues the `Decision` object;
the BatchWriter's thread builds its row (records.py: canonical facts, digests, the
reply or the failure's status) and inserts it with the others of its batch. `close`
(at the server's stop, after its last reply) writes everything still queued.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from jixiao.settings import AuditSettings

from .records import RowMaker
from .writer import BatchWriter, OnFlush


class DecisionLog:
    """Records decisions in `engine`'s `decisions` table, in batches, off the event loop."""

    def __init__(self, engine: Engine, settings: AuditSettings, *, on_flush: OnFlush | None = None):
        self.settings = settings
        self.rows = RowMaker(redact_facts=settings.redact_facts)
        self.writer = BatchWriter(engine, name="decision log", flush_interval_s=settings.flush_interval_s,
                                  prepare=self.rows.table_row, on_flush=on_flush)
        self.decided = self.writer.put  # the sink's one call: a deque append

    def start(self) -> "DecisionLog":
        self.writer.start()
        return self

    def close(self) -> None:
        """Write every decision queued (the server calls it after its last reply)."""
        self.writer.close()

    def queue_depth(self) -> int:
        return self.writer.queue_depth()
