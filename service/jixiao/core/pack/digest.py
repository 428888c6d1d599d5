"""The digest that names a pack version: sha256 over the canonical form of its files.

Canonical form: every file decoded as UTF-8 without a byte-order mark and with LF line
ends; the digest is the sha256 of the JSON list of `[path, sha256(file)]` sorted by path.
So a checkout on Windows and one on Linux agree, and any other change to any file of
the pack (a rule, a case, a comment) changes the digest and breaks a signature.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping


def normalize_text(content: bytes | str) -> str:
    """A file's canonical text. Raises UnicodeDecodeError when it is not UTF-8."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def file_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bundle_digest(files: Mapping[str, str]) -> str:
    """sha256 (hex) of a pack's files, each already in canonical text form."""
    listing = [[path, file_digest(files[path])] for path in sorted(files)]
    return hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode("utf-8")).hexdigest()
