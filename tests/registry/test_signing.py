"""A signature holds only for the pack version and the files that were signed, by a trusted key."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from jixiao.core.pack.bundle import Bundle
from jixiao.packs import read_bundle
from jixiao.registry.signing import (
    SignatureError,
    TrustPolicy,
    generate_key_pair,
    key_id,
    load_private_key,
    load_public_key,
    parse_signature,
    sign_bundle,
)

REPO = Path(__file__).resolve().parents[2]
PACK = "quality-district-funding"
BUNDLE = read_bundle(REPO / "rules" / PACK / "1.0.0")


@pytest.fixture(scope="module")
def key_pair():
    private_pem, public_pem = generate_key_pair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def trust(key_pair) -> TrustPolicy:
    _, public = key_pair
    return TrustPolicy({key_id(public): public}, require_signatures=True)


@pytest.fixture(scope="module")
def signature(key_pair) -> dict:
    private, _ = key_pair
    return sign_bundle(BUNDLE, PACK, "1.0.0", private)


def refusal(trust: TrustPolicy, bundle: Bundle, version: str, signature: dict | None) -> str:
    with pytest.raises(SignatureError) as refused:
        trust.verify(bundle, PACK, version, signature)
    return refused.value.reason


def test_a_pack_signed_by_a_trusted_key_verifies_and_names_the_key(trust, signature, key_pair) -> None:
    assert trust.verify(BUNDLE, PACK, "1.0.0", signature) == key_id(key_pair[1])


def test_the_signature_document_survives_its_json_form(trust, signature) -> None:
    assert trust.verify(BUNDLE, PACK, "1.0.0", parse_signature(json.dumps(signature))) == signature["key_id"]


def test_an_unsigned_pack_is_refused_when_signatures_are_required(trust) -> None:
    assert refusal(trust, BUNDLE, "1.0.0", None) == "unsigned"


def test_an_unsigned_pack_passes_when_signatures_are_optional(trust) -> None:
    assert replace(trust, require_signatures=False).verify(BUNDLE, PACK, "1.0.0", None) is None


def test_a_pack_signed_by_an_unknown_key_is_refused(trust) -> None:
    stranger, _ = generate_key_pair()
    signed = sign_bundle(BUNDLE, PACK, "1.0.0", load_private_key(stranger))
    assert refusal(trust, BUNDLE, "1.0.0", signed) == "unknown_key"


def test_files_changed_after_signing_are_refused(trust, signature) -> None:
    tampered = Bundle({**BUNDLE.files, "pack.yaml": BUNDLE.files["pack.yaml"] + "\n# one more line\n"})
    assert refusal(trust, tampered, "1.0.0", signature) == "digest_mismatch"


def test_a_signature_moved_to_another_version_is_refused(trust, signature) -> None:
    other = Bundle({**BUNDLE.files, "pack.yaml": BUNDLE.files["pack.yaml"].replace("version: 1.0.0", "version: 1.0.1")})
    moved = {**signature, "version": "1.0.1", "digest": other.digest}
    assert refusal(trust, other, "1.0.1", signature) == "bad_signature"
    assert refusal(trust, other, "1.0.1", moved) == "bad_signature"


def test_a_forged_signature_is_refused(trust, signature) -> None:
    raw = bytearray(base64.b64decode(signature["signature"]))
    raw[0] ^= 0xFF
    forged = {**signature, "signature": base64.b64encode(bytes(raw)).decode("ascii")}
    assert refusal(trust, BUNDLE, "1.0.0", forged) == "bad_signature"


def test_a_signature_document_that_is_not_one_is_malformed() -> None:
    with pytest.raises(SignatureError) as refused:
        parse_signature('{"algorithm": "ed25519"}')
    assert refused.value.reason == "malformed"


def test_requiring_signatures_without_a_trusted_key_is_refused_at_start() -> None:
    with pytest.raises(SignatureError, match="no trusted public key"):
        TrustPolicy.from_files([], require_signatures=True)
