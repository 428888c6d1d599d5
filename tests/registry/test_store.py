"""The registry keeps published versions immutable and activations as a walkable history,
on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import threading
from itertools import count

import pytest

from jixiao.core.pack.bundle import Bundle
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.registry.store import NothingToRollBack, Registry, VersionConflict, VersionNotFound

from postgres_server import ON_BOTH_DATABASES

PACK = "quality-district-funding"


def bundle(text: str) -> Bundle:
    return Bundle({"pack.yaml": text, "cases/a.yaml": "facts: {}\nexpected: {}\n"})


@pytest.fixture
def registry(registry_url: str) -> Registry:
    ticks = count()
    opened = Registry(registry_url, clock=lambda: f"2025-01-01T00:00:{next(ticks):02d}.000Z")
    yield opened
    opened.close()


def publish(registry: Registry, version: str, text: str | None = None):
    return registry.publish(PACK, version, "质量强区", bundle(text or f"version: {version}"), "ops-alice")


@ON_BOTH_DATABASES
def test_publishing_stores_the_files_under_their_digest(registry) -> None:
    outcome = publish(registry, "1.0.0")

    assert outcome.created
    assert (outcome.record.version, outcome.record.publisher, outcome.record.active) == ("1.0.0", "ops-alice", False)
    stored = registry.bundle(PACK, "1.0.0")
    assert stored.files == bundle("version: 1.0.0").files
    assert stored.digest == outcome.record.digest


@ON_BOTH_DATABASES
def test_publishing_the_same_files_again_is_a_no_op(registry) -> None:
    first = publish(registry, "1.0.0")
    generation = registry.generation()

    again = publish(registry, "1.0.0")

    assert not again.created
    assert again.record.digest == first.record.digest
    assert registry.generation() == generation
    assert [r.version for r in registry.versions(PACK)] == ["1.0.0"]


@ON_BOTH_DATABASES
def test_publishing_other_files_as_a_published_version_is_refused_naming_both_digests(registry) -> None:
    first = publish(registry, "1.0.0")
    other = bundle("version: 1.0.0\n# changed")

    with pytest.raises(VersionConflict) as refused:
        registry.publish(PACK, "1.0.0", "质量强区", other, "ops-bob")

    assert (refused.value.published, refused.value.offered) == (first.record.digest, other.digest)
    assert first.record.digest in str(refused.value) and other.digest in str(refused.value)
    assert registry.bundle(PACK, "1.0.0").digest == first.record.digest


@ON_BOTH_DATABASES
def test_activate_twice_then_roll_back_walks_back_one_activation_at_a_time(registry) -> None:
    publish(registry, "1.0.0")
    publish(registry, "1.1.0")
    registry.activate(PACK, "1.0.0", "ops-alice")
    registry.activate(PACK, "1.1.0", "ops-alice")

    rolled_back = registry.rollback(PACK, "ops-bob")

    assert (rolled_back.from_version, rolled_back.to_version, rolled_back.kind) == ("1.1.0", "1.0.0", "rollback")
    assert registry.active_version(PACK) == "1.0.0"
    with pytest.raises(NothingToRollBack):
        registry.rollback(PACK, "ops-bob")
    assert [(a.kind, a.from_version, a.to_version, a.actor) for a in registry.history(PACK)] == [
        ("activate", None, "1.0.0", "ops-alice"),
        ("activate", "1.0.0", "1.1.0", "ops-alice"),
        ("rollback", "1.1.0", "1.0.0", "ops-bob"),
    ]


@ON_BOTH_DATABASES
def test_rollbacks_go_back_through_every_earlier_activation(registry) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(registry, version)
        registry.activate(PACK, version, "ops-alice")

    assert registry.rollback(PACK, "ops-alice").to_version == "1.1.0"
    assert registry.rollback(PACK, "ops-alice").to_version == "1.0.0"


@ON_BOTH_DATABASES
def test_activating_the_active_version_records_nothing(registry) -> None:
    publish(registry, "1.0.0")
    registry.activate(PACK, "1.0.0", "ops-alice")
    generation = registry.generation()

    assert registry.activate(PACK, "1.0.0", "ops-alice") is None
    assert registry.generation() == generation
    assert len(registry.history(PACK)) == 1


@ON_BOTH_DATABASES
def test_every_change_bumps_the_generation(registry) -> None:
    generations = [registry.generation()]
    publish(registry, "1.0.0")
    generations.append(registry.generation())
    publish(registry, "1.1.0")
    generations.append(registry.generation())
    registry.activate(PACK, "1.0.0", "ops-alice")
    generations.append(registry.generation())
    registry.activate(PACK, "1.1.0", "ops-alice")
    generations.append(registry.generation())
    registry.rollback(PACK, "ops-alice")
    generations.append(registry.generation())

    assert generations == sorted(set(generations)) and len(generations) == 6


@ON_BOTH_DATABASES
def test_versions_list_oldest_first_with_the_active_flag(registry) -> None:
    publish(registry, "1.0.0")
    publish(registry, "1.1.0")
    registry.activate(PACK, "1.1.0", "ops-alice")

    assert [(r.version, r.active) for r in registry.versions(PACK)] == [("1.0.0", False), ("1.1.0", True)]
    assert registry.record(PACK, "1.1.0").active


@ON_BOTH_DATABASES
def test_an_unknown_version_is_not_found_naming_the_published_ones(registry) -> None:
    publish(registry, "1.0.0")

    with pytest.raises(VersionNotFound, match="1.0.0") as missing:
        registry.activate(PACK, "9.9.9", "ops-alice")
    assert "9.9.9" in str(missing.value)
    with pytest.raises(VersionNotFound, match="no pack 'other'"):
        registry.bundle("other", "1.0.0")


@ON_BOTH_DATABASES
def test_registries_on_one_database_changing_it_at_once_lose_no_change(registry_url: str) -> None:
    setup = Registry(registry_url)
    for version in ("1.0.0", "1.1.0"):
        setup.publish(PACK, version, "质量强区", bundle(version), "ops")
    errors: list[Exception] = []

    def switch(worker: int) -> None:
        registry = Registry(registry_url)  # one per thread, as separate processes would have
        try:
            for step in range(15):
                registry.activate(PACK, ("1.0.0", "1.1.0")[(worker + step) % 2], f"ops-{worker}")
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)
        finally:
            registry.close()

    workers = [threading.Thread(target=switch, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    history = setup.history(PACK)
    assert all(later.from_version == earlier.to_version for earlier, later in zip(history, history[1:]))
    assert setup.active_version(PACK) == history[-1].to_version
    setup.close()


@pytest.mark.parametrize("pack_id, version", [
    (PACK + "\n", "1.1.0"), (PACK, "1.1.0\n"), (PACK, "1.1"), ("Quality", "1.1.0"), ("x" * 65, "1.1.0"),
])
def test_look_alike_ids_and_versions_are_never_written(registry, pack_id, version) -> None:
    with pytest.raises(InvalidIdentifier):
        registry.publish(pack_id, version, "质量强区", bundle("version: 1.1.0"), "ops-alice")
    with pytest.raises(InvalidIdentifier):
        registry.activate(pack_id, version, "ops-alice")
    assert registry.is_empty() and registry.generation() == 0


@ON_BOTH_DATABASES
def test_a_version_is_found_by_the_digest_of_its_files(registry) -> None:
    outcome = publish(registry, "1.0.0")
    assert registry.record_by_digest(outcome.record.digest) == outcome.record
    assert registry.record_by_digest(bundle("other").digest) is None
