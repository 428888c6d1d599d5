"""What the service evaluates with: the registry's versions, compiled, and the active ones.

A published version is immutable, so each is compiled once, when the catalog first sees
it, and kept.
Which version is active is a snapshot swapped in one assignment: a call takes the
compiled pack it will use at its start and finishes on it, whatever is activated
meanwhile. A background thread watches the registry's generation counter, so a change
made by another process (a second server, the CLI) is picked up within the poll interval.

A server that requires signatures checks them again here, on every version it would
serve, whoever wrote it to the registry and whenever: a version written unsigned (by
`jixiao pack publish --registry FILE` without signatures, or before they were required),
signed by a key no longer trusted, or whose stored files no longer match their signature
is left out with a warning naming it, and a request for it is told why (NOT_FOUND).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import structlog

from .core.evaluation.compiler import CompiledPack
from .core.identifiers import echo
from .observability import metrics
from .database.outage import (FIRST_DELAY_S, MAX_DELAY_S, DatabaseUnavailable, OutageLog, describe,
                              is_unavailable)
from .packs import PackNotFound, compile_bundle, semver_key
from .registry.signing import SignatureError, TrustPolicy
from .registry.store import Registry, VersionNotFound

log = structlog.get_logger("jixiao.catalog")


class NoActiveVersion(LookupError):
    """The pack is published but none of its versions is active yet."""

    def __init__(self, pack_id: str):
        super().__init__(f"pack '{echo(pack_id)}' has no active version; activate one with: "
                         f"jixiao pack activate {echo(pack_id)} <version> "
                         "(or name a version: --version, or the request's version field)")
        self.pack_id = pack_id


class VersionNotServed(PackNotFound):
    """The version is published, but this server will not serve it (its signature fails the trust policy)."""

    def __init__(self, pack_id: str, version: str, reason: str):
        super().__init__(f"{pack_id}@{version} is published but this server does not serve it: {reason}",
                         pack_id, version)


@dataclass(frozen=True)
class _Snapshot:
    generation: int = -1
    active: dict[str, str] = field(default_factory=dict)
    versions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # semver order, served ones only
    refused: dict[tuple[str, str], str] = field(default_factory=dict)  # (pack, version) -> why not served


class RegistryCatalog:
    """Compiled packs from a registry, refreshed when the registry changes."""

    def __init__(self, registry: Registry, poll_interval: float = 0.5, trust: TrustPolicy | None = None):
        self.registry = registry
        self._trust = trust or TrustPolicy()
        self._verdicts: dict[tuple[str, str], str | None] = {}  # versions never change: checked once
        self._poll_interval = poll_interval
        self._snapshot = _Snapshot()
        self._compiled: dict[tuple[str, str], CompiledPack] = {}
        self._compile_lock = threading.Lock()
        # The watcher and an admin call may refresh at once: without this lock the one that
        # read the registry first could swap its older snapshot in last.
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Set by the watcher while the database is away: a call on the event loop must not
        # then wait up to a connect timeout to look up a version the snapshot lacks.
        self._database_away = False
        self.refresh()

    # --- what the servicers call -------------------------------------------------

    def get(self, pack_id: str, version: str | None = None) -> CompiledPack:
        """The compiled version; the active one when `version` is None or empty."""
        snapshot = self._snapshot
        if pack_id not in snapshot.versions:
            known = ", ".join(sorted(snapshot.versions)) or "none"
            raise PackNotFound(f"no pack '{echo(pack_id)}'; known packs: {known}", pack_id)
        chosen = version or snapshot.active.get(pack_id)
        if chosen is None:
            raise NoActiveVersion(pack_id)
        if (pack_id, chosen) in snapshot.refused:
            raise VersionNotServed(pack_id, chosen, snapshot.refused[(pack_id, chosen)])
        if chosen not in snapshot.versions[pack_id] and not self._published_since(pack_id, chosen):
            known = ", ".join(snapshot.versions[pack_id])
            raise PackNotFound(f"pack '{echo(pack_id)}' has no version '{echo(chosen)}'; published: {known}",
                               pack_id, chosen)
        return self._compile(pack_id, chosen)

    def default_version(self, pack_id: str) -> str | None:
        """The active version; None while a published pack has none active yet."""
        snapshot = self._snapshot
        if pack_id not in snapshot.versions:
            raise PackNotFound(f"no pack '{echo(pack_id)}'", pack_id)
        return snapshot.active.get(pack_id)

    def list(self) -> list[CompiledPack]:
        snapshot = self._snapshot
        return [self._compile(pack_id, version)
                for pack_id in sorted(snapshot.versions) for version in snapshot.versions[pack_id]]

    def active(self) -> dict[str, str]:
        return dict(self._snapshot.active)

    # --- keeping up with the registry -------------------------------------------

    def refresh(self) -> bool:
        """Reload the active versions if the registry changed. True when it had."""
        with self._refresh_lock:
            return self._refresh()

    def _refresh(self) -> bool:
        generation = self.registry.generation()
        if generation == self._snapshot.generation:
            return False
        versions: dict[str, list[str]] = {}
        refused: dict[tuple[str, str], str] = {}
        for record in self.registry.versions():
            versions.setdefault(record.pack_id, [])
            reason = self._refusal(record.pack_id, record.version)
            if reason is None:
                versions[record.pack_id].append(record.version)
            else:
                refused[(record.pack_id, record.version)] = reason
        active = self.registry.active_versions()
        # Every served version compiled before the swap, here (start-up, the watcher thread or
        # an admin call's thread), not by the first call that pins it: the server evaluates on
        # its event loop, which a compilation would hold up for every other call.
        for pack_id, served in versions.items():
            for version in served:
                self._compile(pack_id, version)
        previous = self._snapshot.active
        metrics.catalog_loaded(active, first=self._snapshot.generation < 0)  # reloads, active versions
        self._snapshot = _Snapshot(
            generation, active, {p: tuple(sorted(v, key=semver_key)) for p, v in versions.items()}, refused)
        changed = {p: (previous.get(p), v) for p, v in active.items() if previous.get(p) != v}
        if changed:
            log.info("active versions changed", generation=generation,
                     changes={p: f"{old or '-'} -> {new}" for p, (old, new) in changed.items()})
        return True

    def start(self) -> None:
        """Watch the registry in a daemon thread until `stop`."""
        self._thread = threading.Thread(target=self._watch, name="registry-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        with self._compile_lock:
            for compiled in self._compiled.values():
                compiled.close()
            self._compiled.clear()

    def _watch(self) -> None:
        """Refresh every poll interval; while the database is away, serve the last snapshot and
        wait longer between tries (0.5 s doubling to 30 s), logging one line when it goes
        and one when it is back. Any other failure is logged with its traceback once, until
        a refresh succeeds again, and backs off the same way."""
        outage = OutageLog(log, "catalog watcher", url=self.registry.url,
                           first_delay=max(self._poll_interval, FIRST_DELAY_S))
        failing: str | None = None  # the last unexpected failure logged, so that it is logged once
        delay = self._poll_interval
        while not self._stop.wait(delay):
            try:
                self.refresh()
            except Exception as error:  # noqa: BLE001 - the server goes on with its last snapshot
                if is_unavailable(error):
                    delay = outage.failed(error)
                    self._database_away = True
                    continue
                if failing != describe(error):
                    failing = describe(error)
                    log.exception("registry refresh failed; serving the last snapshot")
                delay = min(max(delay * 2, FIRST_DELAY_S), MAX_DELAY_S)
            else:
                outage.recovered()
                self._database_away = False
                failing, delay = None, self._poll_interval

    def _published_since(self, pack_id: str, version: str) -> bool:
        if self._database_away:  # answered UNAVAILABLE at once (a retry may find it published)
            raise DatabaseUnavailable(
                f"{echo(pack_id)}@{echo(version)} is not loaded and the database is unavailable")
        try:
            self.registry.record(pack_id, version)
        except VersionNotFound:
            return False
        return True

    def _refusal(self, pack_id: str, version: str) -> str | None:
        """Why this server will not serve the version (its signature fails the trust policy), or None.

        Checked once per version (published versions never change), and logged then.
        """
        key = (pack_id, version)
        if key in self._verdicts:
            return self._verdicts[key]
        reason = None
        if self._trust.require_signatures:
            try:
                self._trust.verify(self.registry.bundle(pack_id, version), pack_id, version,
                                   self.registry.signature(pack_id, version))
            except SignatureError as error:
                reason = str(error)
                log.warning("published version not served: its signature fails the trust policy",
                            pack=pack_id, version=version, reason=error.reason, detail=str(error))
        self._verdicts[key] = reason
        return reason

    def _compile(self, pack_id: str, version: str) -> CompiledPack:
        key = (pack_id, version)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        reason = self._refusal(pack_id, version)
        if reason is not None:
            raise VersionNotServed(pack_id, version, reason)
        with self._compile_lock:
            compiled = self._compiled.get(key)
            if compiled is None:
                bundle = self.registry.bundle(pack_id, version)
                compiled = compile_bundle(bundle, f"registry:{pack_id}@{version}").compiled
                self._compiled[key] = compiled
        return compiled
