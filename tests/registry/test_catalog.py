"""The catalog serves the registry's active versions and follows changes made anywhere (in
another process, on SQLite or PostgreSQL), while a call that has its compiled pack
finishes on that version."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jixiao.catalog import NoActiveVersion, RegistryCatalog
from jixiao.core.pack.cases import load_case
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import PackNotFound, read_bundle
from jixiao.registry.store import Registry

from postgres_server import ON_BOTH_DATABASES

REPO = Path(__file__).resolve().parents[2]
PACK = "quality-district-funding"
FACTS_2019 = load_case((REPO / "rules" / PACK / "1.0.0" / "cases" / "2019.yaml").read_text(encoding="utf-8")).facts


@pytest.fixture
def published(registry_url: str, make_pack_version) -> str:
    """A registry with 1.0.0 (active) and 1.0.1 published; its URL. The gate is the
    publishing tests' concern."""
    registry = Registry(registry_url)
    for version in ("1.0.0", "1.0.1"):
        registry.publish(PACK, version, "质量强区", read_bundle(make_pack_version(version)), "ops-alice")
    registry.activate(PACK, "1.0.0", "ops-alice")
    registry.close()
    return registry_url


@pytest.fixture
def catalog(published: str) -> RegistryCatalog:
    opened = RegistryCatalog(Registry(published), poll_interval=0.05)
    yield opened
    opened.close()
    opened.registry.close()


@pytest.fixture
def other_process(published: str) -> Registry:
    """The same registry opened separately, as the CLI or a second server would."""
    opened = Registry(published)
    yield opened
    opened.close()


@ON_BOTH_DATABASES
def test_refresh_picks_up_an_activation_made_through_another_registry_object(catalog, other_process) -> None:
    assert catalog.get(PACK).pack.version == "1.0.0"
    other_process.activate(PACK, "1.0.1", "ops-cli")

    assert catalog.get(PACK).pack.version == "1.0.0"  # until the catalog looks again
    assert catalog.refresh()
    assert catalog.get(PACK).pack.version == "1.0.1"
    assert not catalog.refresh()


@ON_BOTH_DATABASES
def test_the_watcher_sees_another_process_activate_within_its_poll_interval(catalog, other_process) -> None:
    catalog.start()
    other_process.activate(PACK, "1.0.1", "ops-cli")

    deadline = time.monotonic() + 2
    while catalog.default_version(PACK) != "1.0.1":
        assert time.monotonic() < deadline, "the activation was not picked up within 2 s"
        time.sleep(0.01)


def test_a_pack_taken_before_an_activation_still_evaluates_on_the_old_version(catalog, other_process) -> None:
    in_flight = catalog.get(PACK)
    other_process.activate(PACK, "1.0.1", "ops-cli")
    catalog.refresh()

    evaluation = evaluate(in_flight, FACTS_2019)

    assert (evaluation.version, str(evaluation.score)) == ("1.0.0", "75.03")
    assert catalog.get(PACK).pack.version == "1.0.1"


class PausingRegistry:
    """A registry whose first read of the active versions waits until released."""

    def __init__(self, registry: Registry):
        self._registry = registry
        self.paused, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name: str):
        return getattr(self._registry, name)

    def active_versions(self) -> dict[str, str]:
        active = self._registry.active_versions()
        if not self.paused.is_set():
            self.paused.set()
            self.release.wait(timeout=5)
        return active


def test_concurrent_refreshes_never_leave_an_older_snapshot_in_place(catalog, other_process) -> None:
    pausing = catalog.registry = PausingRegistry(catalog.registry)
    other_process.activate(PACK, "1.0.1", "ops-cli")
    slow = threading.Thread(target=catalog.refresh)
    slow.start()
    assert pausing.paused.wait(timeout=5)
    other_process.activate(PACK, "1.0.0", "ops-cli")
    fast = threading.Thread(target=catalog.refresh)
    fast.start()
    fast.join(timeout=0.2)  # unserialised, the fast refresh would finish here, before the slow one

    pausing.release.set()
    slow.join()
    fast.join()

    assert catalog.default_version(PACK) == "1.0.0"


def test_a_pinned_version_is_served_when_it_is_not_active(catalog) -> None:
    pinned = catalog.get(PACK, "1.0.1")
    assert (pinned.pack.version, pinned.pack.digest) == ("1.0.1", catalog.registry.record(PACK, "1.0.1").digest)
    assert catalog.default_version(PACK) == "1.0.0"


@ON_BOTH_DATABASES
def test_a_version_published_elsewhere_can_be_pinned_before_the_next_refresh(catalog, other_process,
                                                                             make_pack_version) -> None:
    bundle = read_bundle(make_pack_version("1.0.5"))
    other_process.publish(PACK, "1.0.5", "质量强区", bundle, "ops-cli")

    assert catalog.get(PACK, "1.0.5").pack.digest == bundle.digest


def test_unknown_packs_and_versions_are_not_found(catalog) -> None:
    with pytest.raises(PackNotFound):
        catalog.get("no-such-pack")
    with pytest.raises(PackNotFound, match="9.9.9"):
        catalog.get(PACK, "9.9.9")


def test_a_published_pack_without_an_active_version_must_be_pinned(tmp_path: Path, make_pack_version) -> None:
    registry = Registry.open_file(tmp_path / "fresh.sqlite3")
    registry.publish(PACK, "1.0.1", "质量强区", read_bundle(make_pack_version("1.0.1")), "ops-alice")
    catalog = RegistryCatalog(registry)
    try:
        assert catalog.default_version(PACK) is None
        with pytest.raises(NoActiveVersion):
            catalog.get(PACK)
        assert catalog.get(PACK, "1.0.1").pack.version == "1.0.1"
    finally:
        catalog.close()
        registry.close()


def test_every_served_version_is_compiled_before_any_call_needs_it(catalog, other_process, make_pack_version) -> None:
    """A call pinning a version never compiles it (it would hold up the server's event loop)."""
    assert set(catalog._compiled) == {(PACK, "1.0.0"), (PACK, "1.0.1")}  # 1.0.1 is not active
    other_process.publish(PACK, "1.0.2", "质量强区", read_bundle(make_pack_version("1.0.2")), "ops-cli")
    assert catalog.refresh()
    assert (PACK, "1.0.2") in catalog._compiled
