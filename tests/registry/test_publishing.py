"""The publish gate: a version reaches the registry only valid, signed as required, and
proven by its own golden cases; a refusal names every failing case and node."""

from __future__ import annotations

import pytest

from jixiao.packs import read_bundle
from jixiao.registry.publishing import GateRefused, PublishRequest, publish
from jixiao.registry.signing import SignatureError, TrustPolicy, generate_key_pair, load_public_key, key_id
from jixiao.registry.store import VersionConflict

PACK = "quality-district-funding"
OPEN = TrustPolicy()


def test_a_pack_whose_golden_cases_pass_is_published_under_its_publisher(registry, make_pack_version) -> None:
    bundle = read_bundle(make_pack_version("1.0.1"))

    outcome = publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)

    assert outcome.created
    assert (outcome.record.pack_id, outcome.record.version, outcome.record.publisher) == (PACK, "1.0.1", "ops-alice")
    assert outcome.record.digest == bundle.digest


def test_a_pack_whose_golden_cases_fail_is_refused_with_every_failing_node(registry, make_pack_version) -> None:
    bundle = read_bundle(make_pack_version("1.0.2", failing_cases=True))

    with pytest.raises(GateRefused) as refused:
        publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)

    report = refused.value.report
    assert report.problems == []
    failing = {(f.case, m["node"], m["field"], m["expected"], m["actual"])
               for f in report.failures for m in f.mismatches}
    assert failing == {
        ("cases/2019.yaml", "total", "score", "76.00", "75.03"),
        ("cases/2019.yaml", "process", "score", "12", "11.89"),
        ("cases/all-pass.yaml", "total", "score", "99", "100"),
    }
    assert "expected 76.00, got 75.03" in str(refused.value)
    assert registry.is_empty()  # nothing of the refused version was stored


def test_a_pack_whose_schema_is_broken_is_refused_before_any_trial(registry, make_pack_version) -> None:
    folder = make_pack_version("1.0.3")
    pack_yaml = folder / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8").replace("total_weight: 100", "total_weight: lots"),
                         encoding="utf-8")

    with pytest.raises(GateRefused) as refused:
        publish(registry, PublishRequest(read_bundle(folder), "ops-alice"), OPEN)

    assert refused.value.report.problems and refused.value.report.failures == []
    assert "total_weight" in " ".join(refused.value.report.problems)
    assert registry.is_empty()  # nothing of the refused version was stored


def test_republishing_is_a_no_op_for_the_same_files_and_refused_for_others(registry, make_pack_version) -> None:
    folder = make_pack_version("1.0.1")
    first = publish(registry, PublishRequest(read_bundle(folder), "ops-alice"), OPEN)
    (folder / "pack.yaml").write_text((folder / "pack.yaml").read_text(encoding="utf-8") + "# note\n", encoding="utf-8")

    again = publish(registry, PublishRequest(read_bundle(make_pack_version("1.0.1")), "ops-bob"), OPEN)
    with pytest.raises(VersionConflict) as refused:
        publish(registry, PublishRequest(read_bundle(folder), "ops-bob"), OPEN)

    assert (again.created, again.record.publisher) == (False, "ops-alice")
    assert refused.value.published == first.record.digest != refused.value.offered


def test_an_unsigned_pack_is_refused_when_signatures_are_required(registry, make_pack_version) -> None:
    public = load_public_key(generate_key_pair()[1])
    strict = TrustPolicy({key_id(public): public}, require_signatures=True)

    with pytest.raises(SignatureError) as refused:
        publish(registry, PublishRequest(read_bundle(make_pack_version("1.0.1")), "ops-alice"), strict)

    assert refused.value.reason == "unsigned"
    assert registry.is_empty()  # nothing of the refused version was stored


def test_the_same_files_published_meanwhile_by_another_server_are_a_no_op_not_a_conflict(
        registry, make_pack_version, monkeypatch) -> None:
    # Two servers seeding one empty database at once both find the version missing, both run
    # its trial, and one stores it first: the other must take it as published, not as a
    # version changed since (which made seeding warn and skip it, activating an older one).
    bundle = read_bundle(make_pack_version("1.0.1"))
    monkeypatch.setattr(registry, "record_by_digest", lambda digest: None)  # checked before the other stored it
    other = registry.publish(PACK, "1.0.1", "other server's", bundle, "bootstrap")

    outcome = publish(registry, PublishRequest(bundle, "ops-alice"), OPEN)

    assert (outcome.created, outcome.record.digest, outcome.record.publisher) == (False, other.record.digest, "bootstrap")
