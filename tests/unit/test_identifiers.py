"""Identifiers are whole-string matches with length limits; echoed caller text is bounded."""

import pytest

from jixiao.core.identifiers import (
    InvalidIdentifier, check_key, check_pack_id, check_token_name, check_version, echo,
)


@pytest.mark.parametrize("good", ["quality-district-funding", "p", "a1-b2"])
def test_pack_ids_accepted(good):
    assert check_pack_id(good) == good


@pytest.mark.parametrize("bad", ["quality-district-funding\n", "", "Quality", "a--b", "-a", "a-", "a b",
                                 "a\x00", "x" * 65, "质量"])
def test_pack_ids_refused(bad):
    with pytest.raises(InvalidIdentifier) as caught:
        check_pack_id(bad)
    assert caught.value.field == "pack_id"


@pytest.mark.parametrize("good", ["1.1.0", "0.0.1", "2.0.0-rc.1", "1.0.0+build.5"])
def test_versions_accepted(good):
    assert check_version(good) == good


@pytest.mark.parametrize("bad", ["1.1.0\n", "1.1", "01.1.0", "1.1.0 ", " 1.1.0", "v1.1.0", "1.1.0-", "9" * 70])
def test_versions_refused(bad):
    with pytest.raises(InvalidIdentifier):
        check_version(bad)


def test_token_names():
    assert check_token_name("ops-ci@bureau.gov") == "ops-ci@bureau.gov"
    for bad in ["ops\n", "", ".ops", "o p", "x" * 65]:
        with pytest.raises(InvalidIdentifier):
            check_token_name(bad)


def test_keys_allow_printable_text_and_refuse_controls_and_length():
    assert check_key("") == ""
    assert check_key("项目 17 / row 3") == "项目 17 / row 3"
    for bad in ["a\nb", "\x1b[31m", "x" * 257]:
        with pytest.raises(InvalidIdentifier):
            check_key(bad)


def test_a_megabyte_id_is_refused_without_being_quoted():
    with pytest.raises(InvalidIdentifier) as caught:
        check_pack_id("a" * 1_000_000)
    assert len(str(caught.value)) < 200


def test_echo_cuts_and_escapes():
    assert echo("short") == "short"
    shown = echo("x" * 10_000)
    assert shown.startswith("x" * 64) and shown.endswith("(10000 characters)") and len(shown) < 100
    assert echo("a\nb\x00") == "a\\nb\\x00"
