"""The sampling rule: sha256 of the decision id against sample × 2^64, exactly."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.shadow.sampling import InvalidSample, parse_sample, position, sampled, threshold


def by_the_rule(decision_id: str, sample: str) -> bool:
    """The rule as the proto states it, in exact rational arithmetic."""
    first8 = int.from_bytes(hashlib.sha256(decision_id.encode()).digest()[:8], "big")
    return first8 < Fraction(sample) * 2 ** 64


samples = st.decimals(min_value=Decimal("0.000001"), max_value=1, places=6).map(lambda d: format(d.normalize(), "f"))


@settings(max_examples=200, deadline=None)
@given(sample=samples, ids=st.lists(st.uuids(), min_size=1, max_size=20))
def test_sampled_is_the_rule(sample: str, ids: list[uuid.UUID]) -> None:
    bound = threshold(parse_sample(sample))
    for decision_id in map(str, ids):
        assert sampled(decision_id, bound) == by_the_rule(decision_id, sample)


@pytest.mark.parametrize("sample", ["1", "0.5", "0.1", "0.3333333", ".25"])
def test_the_bound_is_the_ceiling_of_sample_times_2_64(sample: str) -> None:
    exact = Fraction(sample) * 2 ** 64
    bound = threshold(parse_sample(sample))
    assert bound - 1 < exact <= bound


def test_an_id_exactly_at_the_bound_is_not_sampled_and_one_below_is() -> None:
    decision_id = str(uuid.UUID(int=12345))
    at = position(decision_id)
    assert not sampled(decision_id, at) and sampled(decision_id, at + 1)


def test_about_the_fraction_asked_is_sampled() -> None:
    ids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(20_000)]
    bound = threshold(Decimal("0.1"))
    share = sum(sampled(i, bound) for i in ids) / len(ids)
    assert 0.09 < share < 0.11  # binomial sd 0.0021: five of them either side


def test_sample_one_takes_every_decision() -> None:
    bound = threshold(parse_sample(""))
    assert bound == 2 ** 64 and all(sampled(str(uuid.uuid4()), bound) for _ in range(200))


@pytest.mark.parametrize("text, said", [
    ("0", "not in (0, 1]"), ("1.5", "not in (0, 1]"), ("0.0", "not in (0, 1]"),
    ("-0.1", "not a decimal"), ("1e-1", "not a decimal"), ("0.1\n", "not a decimal"), (" 0.1", "not a decimal"),
    ("abc", "not a decimal"), (".", "not a decimal"), ("0x1", "not a decimal"), ("NaN", "not a decimal"),
    ("2", "2 is not in (0, 1]"), ("٠.5", "not a decimal"), ("0.1.2", "not a decimal"),
    ("0.12345678901", "more than 10"), ("0.1" + "0" * 1_000_000, "more than 10"),
])
def test_bad_samples_are_refused_saying_why(text: str, said: str) -> None:
    with pytest.raises(InvalidSample, match=r".*") as refused:
        parse_sample(text)
    assert said in str(refused.value) and len(str(refused.value)) < 200


@pytest.mark.parametrize("text, value", [("", "1"), ("1", "1"), ("1.0", "1"), ("0.1", "0.1"), (".5", "0.5"),
                                         ("0.00000001", "1E-8"), ("1.", "1"), ("00.5", "0.5")])
def test_good_samples(text: str, value: str) -> None:
    assert parse_sample(text) == Decimal(value)
