"""Tokens are configured as hashes with roles, from a YAML file or the environment."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from jixiao.api.tokens import TokenConfigError, hash_token, load_tokens, parse_token_env, parse_token_file

ALICE = hash_token("alice-secret")
PORTAL = hash_token("portal-secret")


def test_hash_token_is_the_hex_sha256_of_the_token() -> None:
    assert hash_token("alice-secret") == hashlib.sha256(b"alice-secret").hexdigest()


def test_a_yaml_file_and_the_environment_together_give_every_token(tmp_path: Path) -> None:
    config = tmp_path / "tokens.yaml"
    config.write_text(f"tokens:\n  - {{name: ops-alice, sha256: {ALICE}, roles: [deploy]}}\n", encoding="utf-8")

    tokens = load_tokens(config, f"portal:{PORTAL}:evaluate+deploy")

    assert tokens.names() == ["ops-alice", "portal"]
    assert tokens.identify("alice-secret").roles == {"deploy"}
    assert tokens.identify("portal-secret").roles == {"evaluate", "deploy"}
    assert tokens.identify("nobody") is None
    assert tokens.identify(ALICE) is None  # the hash itself is not a token


def test_no_configuration_means_no_tokens() -> None:
    assert load_tokens(None, None).entries == ()


@pytest.mark.parametrize("entry, complaint", [
    ("{name: ops, token: plain, roles: [deploy]}", "store only its sha256"),
    ("{name: ops, sha256: abc, roles: [deploy]}", "64 hex digits"),
    (f"{{name: ops, sha256: {ALICE}, roles: [admin]}}", "roles must be"),
    (f"{{name: ops, sha256: {ALICE}, roles: deploy}}", "roles must be"),
    (f"{{sha256: {ALICE}, roles: [deploy]}}", "needs a name"),
])
def test_a_malformed_token_entry_is_refused_saying_why(entry: str, complaint: str) -> None:
    with pytest.raises(TokenConfigError, match=complaint):
        parse_token_file(f"tokens:\n  - {entry}\n", "tokens.yaml")


def test_a_malformed_environment_entry_is_refused() -> None:
    with pytest.raises(TokenConfigError, match="name:sha256hex:role"):
        parse_token_env(f"ops-alice:{ALICE}")


def test_token_names_must_be_unique(tmp_path: Path) -> None:
    with pytest.raises(TokenConfigError, match="unique: ops"):
        load_tokens(None, f"ops:{ALICE}:deploy,ops:{PORTAL}:evaluate")


@pytest.mark.parametrize("name, problem", [
    ("ops alice", "'ops alice' is not a name"),
    ("ops-alice\n", "is not a name"),
    ("-alice", "is not a name"),
    ("a" * 65, "65 characters, more than 64"),
    (7, "expected a name"),
])
def test_a_token_name_that_is_not_a_whole_plain_name_is_refused_naming_the_entry(tmp_path: Path, name,
                                                                                problem) -> None:
    config = tmp_path / "tokens.yaml"
    config.write_text(yaml.safe_dump({"tokens": [
        {"name": "ops-alice", "sha256": ALICE, "roles": ["deploy"]},
        {"name": name, "sha256": PORTAL, "roles": ["evaluate"]}]}), encoding="utf-8")

    with pytest.raises(TokenConfigError) as refused:
        load_tokens(config)

    assert f"{config}: tokens[1]: bad token name: " in str(refused.value) and problem in str(refused.value)
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 300


def test_a_bad_token_name_in_the_environment_is_refused_naming_the_entry() -> None:
    with pytest.raises(TokenConfigError, match=r"JIXIAO_TOKENS entry 2: bad token name: 'por tal' is not a name"):
        parse_token_env(f"ops-alice:{ALICE}:deploy,por tal:{PORTAL}:evaluate")
