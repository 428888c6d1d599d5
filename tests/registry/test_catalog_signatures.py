"""A server that requires signatures serves no version whose signature fails its trust
policy, however that version reached the registry: it is left out with a warning naming
it, and a request for it is told why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import structlog

from jixiao.catalog import RegistryCatalog, VersionNotServed
from jixiao.packs import PackNotFound, read_bundle
from jixiao.registry.signing import TrustPolicy, generate_key_pair, key_id, load_private_key, load_public_key, sign_bundle
from jixiao.registry.store import Registry

PACK = "quality-district-funding"


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def strict(key_pair) -> TrustPolicy:
    public = load_public_key(key_pair[1])
    return TrustPolicy({key_id(public): public}, require_signatures=True)


@pytest.fixture
def registry_file(tmp_path: Path, make_pack_version, key_pair) -> Path:
    """1.0.0 signed by the trusted key (active), 1.0.1 written unsigned straight into the registry."""
    path = tmp_path / "registry.sqlite3"
    registry = Registry.open_file(path)
    signed = read_bundle(make_pack_version("1.0.0"))
    signature = sign_bundle(signed, PACK, "1.0.0", load_private_key(key_pair[0]))
    registry.publish(PACK, "1.0.0", "质量强区", signed, "ops-alice", signature, signature["key_id"])
    registry.publish(PACK, "1.0.1", "质量强区", read_bundle(make_pack_version("1.0.1")), "ops-cli")
    registry.activate(PACK, "1.0.0", "ops-alice")
    registry.close()
    return path


def open_catalog(path: Path, trust: TrustPolicy) -> RegistryCatalog:
    return RegistryCatalog(Registry.open_file(path), poll_interval=0.05, trust=trust)


def test_an_unsigned_version_is_not_served_by_a_server_that_requires_signatures(registry_file, strict) -> None:
    with structlog.testing.capture_logs() as logs:
        catalog = open_catalog(registry_file, strict)
    try:
        with pytest.raises(VersionNotServed) as refused:
            catalog.get(PACK, "1.0.1")
        assert isinstance(refused.value, PackNotFound)  # NOT_FOUND for the caller
        assert "1.0.1 is published but this server does not serve it" in str(refused.value)
        assert "not signed" in str(refused.value)
        assert [p.pack.version for p in catalog.list()] == ["1.0.0"]
        assert catalog.get(PACK).pack.version == "1.0.0"
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert [(w["pack"], w["version"], w["reason"]) for w in warnings] == [(PACK, "1.0.1", "unsigned")]
    finally:
        catalog.close()
        catalog.registry.close()


def test_an_unsigned_version_activated_elsewhere_is_refused_for_default_requests_too(registry_file, strict) -> None:
    catalog = open_catalog(registry_file, strict)
    other = Registry.open_file(registry_file)
    try:
        other.activate(PACK, "1.0.1", "ops-cli")
        catalog.refresh()
        with pytest.raises(VersionNotServed, match="not signed"):
            catalog.get(PACK)
    finally:
        other.close()
        catalog.close()
        catalog.registry.close()


def test_files_changed_in_the_registry_after_signing_are_not_served(registry_file, strict) -> None:
    with sqlite3.connect(registry_file) as conn:
        files = json.loads(conn.execute("SELECT files FROM pack_versions WHERE version = '1.0.0'").fetchone()[0])
        files["pack.yaml"] += "# changed in the database\n"
        conn.execute("UPDATE pack_versions SET files = ? WHERE version = '1.0.0'", (json.dumps(files),))
    catalog = open_catalog(registry_file, strict)
    try:
        with pytest.raises(VersionNotServed, match="changed after signing"):
            catalog.get(PACK)
    finally:
        catalog.close()
        catalog.registry.close()


def test_a_server_without_required_signatures_serves_both(registry_file) -> None:
    catalog = open_catalog(registry_file, TrustPolicy())
    try:
        assert [p.pack.version for p in catalog.list()] == ["1.0.0", "1.0.1"]
    finally:
        catalog.close()
        catalog.registry.close()
