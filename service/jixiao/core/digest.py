"""The digest that names a pack version's content: sha256 over a canonical form."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from .decimals import plain


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        # 3, 3.0 and "3" state the same weight: the digest must not tell them apart.
        return plain(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return plain(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    return str(value)


def canonical_json(document: object) -> str:
    """Sorted keys, no insignificant whitespace, numbers as plain decimal strings."""
    return json.dumps(_canonical(document), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def pack_digest(document: object) -> str:
    """sha256 (hex) of the canonical form of a parsed pack document.

    Comments, key order and number spelling do not change it; any change of meaning does.
    """
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
