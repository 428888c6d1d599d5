"""Publishing the packs of a folder (the bundled `rules/`) into a registry at start-up."""

from __future__ import annotations

from pathlib import Path

import structlog

from ..packs import read_bundle, semver_key
from .publishing import PublishRequest, publish
from .signing import SIGNATURE_FILE, TrustPolicy, parse_signature
from .store import Registry, VersionConflict

log = structlog.get_logger("jixiao.seed")


def seed_from_folder(registry: Registry, root: Path, trust: TrustPolicy, actor: str = "bootstrap") -> list[str]:
    """Publish every `<id>/<version>/` under `root` that the registry lacks, through the gate.

    A pack with no active version gets its newest version activated. A folder that differs
    from the version already published is left out (published versions never change) and
    reported. Returns the refs published.
    """
    published = []
    newest: dict[str, str] = {}
    for directory in sorted(p.parent for p in Path(root).glob("*/*/pack.yaml")):
        bundle = read_bundle(directory)
        signature_file = directory / SIGNATURE_FILE
        signature = parse_signature(signature_file.read_bytes()) if signature_file.exists() else None
        try:
            outcome = publish(registry, PublishRequest(bundle, actor, signature), trust)
        except VersionConflict as conflict:
            log.warning("bundled pack differs from the published version; serving the published one",
                        folder=str(directory), published=conflict.published, folder_digest=conflict.offered)
            continue
        record = outcome.record
        if outcome.created:
            published.append(f"{record.pack_id}@{record.version}")
        if record.pack_id not in newest or semver_key(record.version) > semver_key(newest[record.pack_id]):
            newest[record.pack_id] = record.version
    active = registry.active_versions()
    for pack_id, version in newest.items():
        if pack_id not in active:
            registry.activate(pack_id, version, actor)
    if published:
        log.info("published bundled packs", packs=published, folder=str(root))
    return published
