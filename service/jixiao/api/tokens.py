"""Bearer tokens and their roles, known to the server only by the sha256 of each token.

A config file (YAML) lists them:

    tokens:
      - {name: ops-alice, sha256: <hex>, roles: [deploy]}
      - {name: portal, sha256: <hex>, roles: [evaluate]}
      - {name: auditor, sha256: <hex>, roles: [audit]}

and so may the environment: JIXIAO_TOKENS="ops-alice:<hex>:deploy,portal:<hex>:evaluate".
`hash_token` (or `jixiao token hash`) gives the hex for a token. Tokens themselves are never
stored, and their hashes are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from jixiao.core.identifiers import InvalidIdentifier, check_token_name, echo

ROLES = ("deploy", "evaluate", "audit")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


class TokenConfigError(ValueError):
    """The token configuration is malformed; the message names the entry."""


def hash_token(token: str) -> str:
    """The sha256 (lowercase hex) that a token config stores in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenEntry:
    name: str
    sha256: str
    roles: frozenset[str]


@dataclass(frozen=True)
class TokenTable:
    """The configured tokens; empty when none is configured."""

    entries: tuple[TokenEntry, ...] = ()

    def identify(self, token: str) -> TokenEntry | None:
        """The entry whose hash matches `token`, or None."""
        presented = hash_token(token).encode("ascii")
        found = None
        for entry in self.entries:  # compare with every entry: the time says nothing about which matched
            if hmac.compare_digest(entry.sha256.encode("ascii"), presented):
                found = entry
        return found

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]


def _entry(name: object, sha256: object, roles: object, where: str) -> TokenEntry:
    if name is None or (isinstance(name, str) and not name.strip()):
        raise TokenConfigError(f"{where}: a token needs a name")
    try:
        check_token_name(name)  # the registry records it as publisher and actor; logs name it
    except InvalidIdentifier as error:
        raise TokenConfigError(f"{where}: bad token name: {error.problem}") from None
    digest = str(sha256 or "").strip().lower()
    if not _HEX_SHA256.fullmatch(digest):
        raise TokenConfigError(f"{where} ({echo(name)}): sha256 must be the 64 hex digits of sha256(token) "
                               "(see `jixiao token hash`), never the token itself")
    if isinstance(roles, str) or not roles or any(role not in ROLES for role in roles):
        raise TokenConfigError(f"{where} ({echo(name)}): roles must be a non-empty list of {', '.join(ROLES)}")
    return TokenEntry(name, digest, frozenset(roles))


def parse_token_file(text: str, source: str = "token config") -> list[TokenEntry]:
    """The entries of a YAML token config."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TokenConfigError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("tokens"), list):
        raise TokenConfigError(f"{source} needs a 'tokens' list")
    entries = []
    for index, item in enumerate(document["tokens"]):
        if not isinstance(item, dict):
            raise TokenConfigError(f"{source}: tokens[{index}] must be a mapping")
        if "token" in item:
            raise TokenConfigError(f"{source}: tokens[{index}] holds a plain token; store only its sha256")
        entries.append(_entry(item.get("name"), item.get("sha256"), item.get("roles"), f"{source}: tokens[{index}]"))
    return entries


def parse_token_env(text: str) -> list[TokenEntry]:
    """The entries of JIXIAO_TOKENS: comma-separated `name:sha256hex:role+role`."""
    entries = []
    for index, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
        fields = item.split(":")
        if len(fields) != 3:
            raise TokenConfigError(f"JIXIAO_TOKENS entry {index + 1} must be name:sha256hex:role+role")
        name, digest, roles = fields
        entries.append(_entry(name, digest, [r for r in roles.split("+") if r], f"JIXIAO_TOKENS entry {index + 1}"))
    return entries


def load_tokens(config_file: Path | None = None, env_value: str | None = None) -> TokenTable:
    """The tokens of the config file and the environment together; names must be unique."""
    entries = []
    if config_file is not None:
        entries += parse_token_file(Path(config_file).read_text(encoding="utf-8"), str(config_file))
    if env_value:
        entries += parse_token_env(env_value)
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise TokenConfigError(f"token names must be unique: {', '.join(duplicates)}")
    return TokenTable(tuple(entries))
