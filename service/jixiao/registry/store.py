"""The registry of published pack versions, in SQL through SQLAlchemy.

The embedded default is one SQLite file, so nothing else needs to run; the same code
runs on PostgreSQL with a `postgresql://` URL. Every change happens in one transaction,
so a process killed in the middle of a publish leaves either the whole version or
nothing. Every change also bumps a generation counter, which is how other processes
sharing the registry notice it cheaply.

A published version never changes: publishing it again with the same files is a no-op,
with other files it is refused. Ids and versions are checked whole before they are
written (`core.identifiers`), so "1.1.0\\n" can never become a version of its own.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..core.pack.bundle import Bundle
from ..core.identifiers import check_pack_id, check_version
from ..database.connection import create_engine
from ..database.migrate import upgrade
from ..database.schema import activations, active_versions, pack_versions, registry_state


class RegistryError(Exception):
    """Base of the registry's refusals."""


class VersionNotFound(RegistryError, LookupError):
    pass


class VersionConflict(RegistryError):
    """id@version is published with other content."""

    def __init__(self, pack_id: str, version: str, published: str, offered: str):
        self.published, self.offered = published, offered
        super().__init__(
            f"{pack_id}@{version} is already published with digest {published}; "
            f"these files have digest {offered}. A published version never changes: publish a new version")


class NothingToRollBack(RegistryError):
    pass


@dataclass(frozen=True)
class VersionRecord:
    pack_id: str
    version: str
    digest: str
    title: str
    publisher: str
    published_at: str
    signed_by: str | None
    active: bool = False


@dataclass(frozen=True)
class Activation:
    pack_id: str
    from_version: str | None
    to_version: str
    kind: str
    actor: str
    at: str


@dataclass(frozen=True)
class PublishOutcome:
    record: VersionRecord
    created: bool  # False: the same files were already published (a no-op)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Registry:
    """Published pack versions, which one is active per pack, and the activation history."""

    def __init__(self, url: str, clock: Callable[[], str] = utc_now):
        self.url = url
        self._clock = clock
        self._engine: Engine = create_engine(url)
        upgrade(self._engine)  # the tables, made or brought up to date under a lock

    @property
    def engine(self) -> Engine:
        """The database's engine: the decision log and the shadow runs share it."""
        return self._engine

    @classmethod
    def open_file(cls, path: Path) -> "Registry":
        """The embedded registry: a SQLite file, created with its folder when missing."""
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}")

    def close(self) -> None:
        self._engine.dispose()

    # --- reading ---------------------------------------------------------------

    def generation(self) -> int:
        """A counter that every change increases: compare it to notice changes cheaply."""
        with self._engine.connect() as conn:
            return int(conn.execute(
                sa.select(registry_state.c.value).where(registry_state.c.key == "generation")).scalar_one())

    def is_empty(self) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(pack_versions)).scalar_one() == 0

    def pack_ids(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(sa.select(pack_versions.c.pack_id).distinct().order_by(pack_versions.c.pack_id)).scalars())

    def active_versions(self) -> dict[str, str]:
        with self._engine.connect() as conn:
            return {row.pack_id: row.version for row in conn.execute(sa.select(active_versions))}

    def active_version(self, pack_id: str) -> str | None:
        return self.active_versions().get(pack_id)

    def versions(self, pack_id: str | None = None) -> list[VersionRecord]:
        """Published versions (of one pack, or all), oldest first, with the active flag.

        Raises VersionNotFound for a pack id that was never published.
        """
        # Not the files: every server reads this list after every change in the registry.
        columns = [c for c in pack_versions.c if c.name not in ("files", "signature")]
        query = sa.select(*columns).order_by(pack_versions.c.pack_id, pack_versions.c.published_at)
        if pack_id is not None:
            query = query.where(pack_versions.c.pack_id == pack_id)
        with self._engine.connect() as conn:
            if pack_id is not None:
                self._require_pack(conn, pack_id)
            active = {row.pack_id: row.version for row in conn.execute(sa.select(active_versions))}
            return [self._record(row, active.get(row.pack_id) == row.version) for row in conn.execute(query)]

    def record(self, pack_id: str, version: str) -> VersionRecord:
        with self._engine.connect() as conn:
            row = self._row(conn, pack_id, version)
            return self._record(row, self._active(conn, pack_id) == version)

    def record_by_digest(self, digest: str) -> VersionRecord | None:
        """The version published with exactly these files, if any (the digest names id, version and files)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(pack_versions).where(pack_versions.c.digest == digest).limit(1)).first()
            return None if row is None else self._record(row, self._active(conn, row.pack_id) == row.version)

    def bundle(self, pack_id: str, version: str) -> Bundle:
        with self._engine.connect() as conn:
            return Bundle(json.loads(self._row(conn, pack_id, version).files))

    def signature(self, pack_id: str, version: str) -> dict | None:
        with self._engine.connect() as conn:
            raw = self._row(conn, pack_id, version).signature
            return json.loads(raw) if raw else None

    def history(self, pack_id: str) -> list[Activation]:
        """Every activation and rollback of a pack, oldest first. VersionNotFound for an unknown pack."""
        query = sa.select(activations).where(activations.c.pack_id == pack_id).order_by(activations.c.seq)
        with self._engine.connect() as conn:
            self._require_pack(conn, pack_id)
            return [self._activation(row) for row in conn.execute(query)]

    def history_page(self, pack_id: str, after_seq: int, limit: int) -> list[tuple[int, Activation]]:
        """At most `limit` activations of a pack recorded after the one numbered `after_seq`
        (0: from the first), oldest first, each with its number: one page of `history`.
        VersionNotFound for an unknown pack."""
        query = (sa.select(activations)
                 .where(activations.c.pack_id == pack_id, activations.c.seq > after_seq)
                 .order_by(activations.c.seq).limit(limit))
        with self._engine.connect() as conn:
            self._require_pack(conn, pack_id)
            return [(row.seq, self._activation(row)) for row in conn.execute(query)]

    # --- changing --------------------------------------------------------------

    def publish(self, pack_id: str, version: str, title: str, bundle: Bundle, publisher: str,
                signature: dict | None = None, signed_by: str | None = None) -> PublishOutcome:
        """Store a validated version. Same files again: no-op. Other files: VersionConflict.

        Raises InvalidIdentifier for an id or version that is not one, whole.
        """
        check_pack_id(pack_id)
        check_version(version)
        digest = bundle.digest
        with self._writing() as conn:
            existing = conn.execute(sa.select(pack_versions).where(
                pack_versions.c.pack_id == pack_id, pack_versions.c.version == version)).first()
            if existing is not None:
                if existing.digest != digest:
                    raise VersionConflict(pack_id, version, existing.digest, digest)
                return PublishOutcome(self._record(existing, self._active(conn, pack_id) == version), created=False)
            conn.execute(sa.insert(pack_versions).values(
                pack_id=pack_id, version=version, digest=digest,
                files=json.dumps(dict(bundle.files), ensure_ascii=False, sort_keys=True),
                title=title, publisher=publisher, published_at=self._clock(),
                signature=json.dumps(signature, sort_keys=True) if signature else None,
                key_id=signed_by,
            ))
            self._bump(conn)
            row = self._row(conn, pack_id, version)
            return PublishOutcome(self._record(row, False), created=True)

    def activate(self, pack_id: str, version: str, actor: str) -> Activation | None:
        """Make `version` the one used when a request names none. None if it already is.

        Raises InvalidIdentifier for an id or version that is not one, whole.
        """
        check_pack_id(pack_id)
        check_version(version)
        with self._writing() as conn:
            self._row(conn, pack_id, version)
            current = self._active(conn, pack_id)
            if current == version:
                return None
            return self._switch(conn, pack_id, current, version, "activate", actor)

    def rollback(self, pack_id: str, actor: str) -> Activation:
        """Re-activate the version that was active before the current one was activated.

        Rollbacks walk back through the activations: rolling back twice goes two steps back.
        """
        with self._writing() as conn:
            self._require_pack(conn, pack_id)
            current = self._active(conn, pack_id)
            if current is None:
                raise NothingToRollBack(f"pack '{pack_id}' has no active version")
            previous = self._version_before(conn, pack_id, current)
            if previous is None:
                raise NothingToRollBack(f"{pack_id}@{current} is the first version activated; there is nothing to roll back to")
            return self._switch(conn, pack_id, current, previous, "rollback", actor)

    # --- internals -------------------------------------------------------------

    @contextmanager
    def _writing(self, queue: bool = True) -> Iterator[Connection]:
        """One transaction that reads and changes the registry, isolated from other writers."""
        with self._engine.connect() as conn:
            conn.execution_options(writing=True)
            with conn.begin():
                if queue and conn.dialect.name != "sqlite":
                    # Elsewhere (PostgreSQL) writers queue on the generation row's lock instead
                    # of SQLite's BEGIN IMMEDIATE; every change updates that row anyway.
                    conn.execute(sa.select(registry_state.c.value)
                                 .where(registry_state.c.key == "generation").with_for_update())
                yield conn

    def _version_before(self, conn: Connection, pack_id: str, current: str) -> str | None:
        rows = list(conn.execute(sa.select(activations).where(activations.c.pack_id == pack_id)
                                 .order_by(activations.c.seq)))
        # Replay the history as a stack: an activation pushes, a rollback pops.
        stack: list[str] = []
        for row in rows:
            if row.kind == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(row.to_version)
        if not stack or stack[-1] != current:
            return None
        return stack[-2] if len(stack) >= 2 else None

    def _switch(self, conn: Connection, pack_id: str, current: str | None, target: str, kind: str,
                actor: str) -> Activation:
        at = self._clock()
        if current is None:
            conn.execute(sa.insert(active_versions).values(pack_id=pack_id, version=target))
        else:
            conn.execute(sa.update(active_versions).where(active_versions.c.pack_id == pack_id).values(version=target))
        conn.execute(sa.insert(activations).values(
            pack_id=pack_id, from_version=current, to_version=target, kind=kind, actor=actor, at=at))
        self._bump(conn)
        return Activation(pack_id, current, target, kind, actor, at)

    @staticmethod
    def _bump(conn: Connection) -> None:
        conn.execute(sa.update(registry_state).where(registry_state.c.key == "generation")
                     .values(value=registry_state.c.value + 1))

    @staticmethod
    def _active(conn: Connection, pack_id: str) -> str | None:
        return conn.execute(sa.select(active_versions.c.version).where(active_versions.c.pack_id == pack_id)).scalar()

    @staticmethod
    def _require_pack(conn: Connection, pack_id: str) -> None:
        found = conn.execute(sa.select(pack_versions.c.pack_id).where(pack_versions.c.pack_id == pack_id).limit(1)).first()
        if found is None:
            raise VersionNotFound(f"no pack '{pack_id}' in the registry")

    @staticmethod
    def _row(conn: Connection, pack_id: str, version: str):
        row = conn.execute(sa.select(pack_versions).where(
            pack_versions.c.pack_id == pack_id, pack_versions.c.version == version)).first()
        if row is None:
            known = list(conn.execute(sa.select(pack_versions.c.version).where(pack_versions.c.pack_id == pack_id)).scalars())
            if not known:
                raise VersionNotFound(f"no pack '{pack_id}' in the registry")
            raise VersionNotFound(f"pack '{pack_id}' has no published version '{version}'; "
                                  f"published: {', '.join(known)}")
        return row

    @staticmethod
    def _record(row, active: bool) -> VersionRecord:
        return VersionRecord(row.pack_id, row.version, row.digest, row.title, row.publisher, row.published_at,
                             row.key_id, active)

    @staticmethod
    def _activation(row) -> Activation:
        return Activation(row.pack_id, row.from_version, row.to_version, row.kind, row.actor, row.at)
