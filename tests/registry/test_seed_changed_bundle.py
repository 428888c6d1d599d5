"""Seeding a registry that already holds a bundled version whose files have changed since
(e.g. a comment in pack.yaml was edited in a later release): the registry keeps its own
immutable copy and serves it, the start goes on, and a warning names both digests."""

from __future__ import annotations

import shutil

from structlog.testing import capture_logs

from jixiao.packs import BUNDLED_PACKS, bundled_pack_refs, read_bundle
from jixiao.registry.seed import seed_from_folder
from jixiao.registry.signing import TrustPolicy

PACK = "quality-district-funding"


def test_a_bundled_version_changed_since_it_was_published_is_left_out_with_a_warning(registry, tmp_path) -> None:
    earlier = tmp_path / "earlier-release"
    shutil.copytree(BUNDLED_PACKS, earlier)
    pack_yaml = earlier / PACK / "1.0.0" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8").replace(
        "(docs/contract-2019.md)", "(the 2019 contract, kept elsewhere)"), encoding="utf-8")
    old_digest = read_bundle(earlier / PACK / "1.0.0").digest
    new_digest = read_bundle(BUNDLED_PACKS / PACK / "1.0.0").digest
    assert old_digest != new_digest
    assert f"{PACK}@1.0.0" in bundled_pack_refs(earlier)
    assert seed_from_folder(registry, earlier, TrustPolicy()) == bundled_pack_refs(earlier)

    with capture_logs() as logged:
        published = seed_from_folder(registry, BUNDLED_PACKS, TrustPolicy())

    assert published == []
    assert registry.record(PACK, "1.0.0").digest == old_digest
    assert registry.active_versions()[PACK] == "1.1.1"  # the newest bundled
    warnings = [entry for entry in logged if entry["log_level"] == "warning"]
    assert len(warnings) == 1, logged
    assert warnings[0]["published"] == old_digest and warnings[0]["folder_digest"] == new_digest
    assert warnings[0]["folder"].endswith(f"{PACK}/1.0.0")
