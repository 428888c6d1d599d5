"""Ed25519 signatures over a pack's digest, and the trust policy that checks them.

A signature document (`signature.json` beside `pack.yaml`) names the key, the pack and
the digest it signed. The signed message binds all three, so a signature cannot be moved
to another pack or version, and any change to the files after signing changes the digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..core.pack.bundle import Bundle

SIGNATURE_FILE = "signature.json"
ALGORITHM = "ed25519"


class SignatureError(Exception):
    """A pack's signature is missing, unknown, stale or forged. `reason` says which."""

    def __init__(self, reason: str, message: str):
        self.reason = reason  # unsigned | unknown_key | digest_mismatch | bad_signature | malformed | no_trusted_keys
        super().__init__(message)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable name for a public key: the first 16 hex digits of its sha256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _message(pack_id: str, version: str, digest: str) -> bytes:
    return f"jixiao-pack-signature/v1\n{pack_id}\n{version}\n{digest}\n".encode("utf-8")


def generate_key_pair() -> tuple[bytes, bytes]:
    """(private key PEM, public key PEM) for a new Ed25519 key."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed", f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("malformed", "the private key is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed", f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("malformed", "the public key is not an Ed25519 key")
    return key


def sign_bundle(bundle: Bundle, pack_id: str, version: str, private_key: Ed25519PrivateKey) -> dict:
    """The signature document for a pack version's files."""
    digest = bundle.digest
    return {
        "algorithm": ALGORITHM,
        "key_id": key_id(private_key.public_key()),
        "pack_id": pack_id,
        "version": version,
        "digest": digest,
        "signature": base64.b64encode(private_key.sign(_message(pack_id, version, digest))).decode("ascii"),
    }


def parse_signature(text: str | bytes) -> dict:
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureError("malformed", f"{SIGNATURE_FILE} is not JSON: {exc}") from None
    required = ("algorithm", "key_id", "pack_id", "version", "digest", "signature")
    if not isinstance(document, dict) or any(not isinstance(document.get(k), str) for k in required):
        raise SignatureError("malformed", f"{SIGNATURE_FILE} needs the fields {', '.join(required)}")
    return document


@dataclass(frozen=True)
class TrustPolicy:
    """Which public keys the service trusts, and whether every pack must be signed."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    require_signatures: bool = False

    @classmethod
    def from_files(cls, paths: list[Path], require_signatures: bool) -> "TrustPolicy":
        keys = {}
        for path in paths:
            key = load_public_key(Path(path).read_bytes())
            keys[key_id(key)] = key
        if require_signatures and not keys:
            raise SignatureError("no_trusted_keys", "signatures are required but no trusted public key is configured")
        return cls(keys, require_signatures)

    def verify(self, bundle: Bundle, pack_id: str, version: str, signature: dict | None) -> str | None:
        """The signing key's id, or None for an unsigned pack when signatures are optional.

        Raises SignatureError: unsigned (when required), unknown_key, digest_mismatch
        (the files changed after signing), bad_signature (forged or for another pack).
        """
        if signature is None:
            if self.require_signatures:
                raise SignatureError("unsigned", f"{pack_id}@{version} is not signed, and this service requires "
                                                 f"signed packs (sign it with `jixiao pack sign`)")
            return None
        if signature.get("algorithm") != ALGORITHM:
            raise SignatureError("malformed", f"unsupported signature algorithm {signature.get('algorithm')!r}")
        public = self.keys.get(signature["key_id"])
        if public is None:
            if not self.require_signatures and not self.keys:
                return None  # nothing to check against: accepted as unsigned would be
            raise SignatureError("unknown_key", f"{pack_id}@{version} is signed by key {signature['key_id']}, "
                                                "which this service does not trust")
        if (signature["pack_id"], signature["version"]) != (pack_id, version):
            raise SignatureError("bad_signature", f"the signature was made for {signature['pack_id']}@"
                                                  f"{signature['version']}, not for {pack_id}@{version}")
        if signature["digest"] != bundle.digest:
            raise SignatureError("digest_mismatch", f"{pack_id}@{version} was changed after signing: "
                                                    f"signed digest {signature['digest']}, files now {bundle.digest}")
        try:
            raw = base64.b64decode(signature["signature"], validate=True)
            public.verify(raw, _message(pack_id, version, bundle.digest))
        except (InvalidSignature, ValueError):
            raise SignatureError("bad_signature", f"the signature on {pack_id}@{version} does not verify with key "
                                                  f"{signature['key_id']} (forged, or made for another pack)") from None
        return signature["key_id"]
