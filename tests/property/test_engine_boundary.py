"""durable-rules at its boundary: whatever value reaches the adapter, it either refuses it
cleanly (the engine not called) or decides exactly as the plain reference matcher; and
whatever a caller sends, the answer is an input error or exactly the reference's result.

Every case runs in a child process (tests/engine_child.py), many per child: a crash of
the engine's C code is a failing case named by its value, not a dead test run. The pack
(`engine_child.EDGE_PACK`) compares with constants (band edges), with other facts, with
arithmetic, as integers, booleans and texts.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine_child import case, run_cases

# A failing batch already names each failing value, so no shrinking (of 60 values, slow).
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
                 phases=[Phase.explicit, Phase.reuse, Phase.generate])

#: Decimals from 1e-30 to 1e30 in magnitude, with 1 to 34 digits and any exponent.
decimals = st.one_of(
    st.builds(lambda sign, digits, exponent: Decimal(f"{sign}{digits}E{exponent}"),
              st.sampled_from(["", "-"]), st.integers(1, 10**34 - 1), st.integers(-64, 30))
    .filter(lambda d: Decimal("1E-30") <= abs(d) <= Decimal("1E+30")),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15, max_value=10**15),
    st.sampled_from([Decimal(0), Decimal("-0"), Decimal("0E-40"), Decimal("1E+16"), Decimal("1E-7"),
                     Decimal("9999999999999999"), Decimal("999999999999999"), Decimal("0.000000000000001"),
                     Decimal("89.99999999999999999"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]),
)
integers = st.one_of(st.integers(-2**63, 2**63), st.sampled_from([2**63 - 1, -2**63, 10**15 - 1, 10**15, 2**53 + 1]))
#: Every class of float: zero and -0.0, subnormal, normal, huge, infinities, NaN.
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
                   st.sampled_from([5e-324, -5e-324, 2.2250738585072014e-308, -0.0, 1e308, 1e16, 1e-7,
                                    float("inf"), float("-inf"), float("nan"), 89.99999999999999]))
texts = st.one_of(st.text(max_size=40), st.sampled_from(['质量 "quoted" \\ x', "abc", "", "\\", '"', "\u0000"]))
values = st.one_of(decimals, integers, floats, texts, st.booleans())
slots = st.sampled_from(["x", "y", "n", "m", "t", "b"])


def _failures(cases: list[dict], allowed: set[str]) -> list[tuple]:
    return [(c["slot"], c["value"], r) for c, r in zip(cases, run_cases(cases)) if r["outcome"] not in allowed]


@settings(max_examples=10, **_SETTINGS)
@given(st.lists(st.tuples(slots, values), min_size=60, max_size=60))
def test_the_adapter_refuses_a_value_or_decides_as_the_reference(items):
    cases = [case("adapter", slot, value) for slot, value in items]
    assert not _failures(cases, {"refused", "equal"})


@settings(max_examples=10, **_SETTINGS)
@given(st.lists(st.tuples(slots, st.one_of(values, values.map(str))), min_size=60, max_size=60))
def test_any_caller_value_is_an_input_error_or_the_reference_result(items):
    cases = [case("evaluate", slot, value) for slot, value in items]
    assert not _failures(cases, {"input error", "equal"})


# --- at the edges ----------------------------------------------------------------------

#: The constants the edge pack compares x with (its bands and checks).
EDGES = [Decimal(e) for e in ("99999999999999.9", "90", "89.99", "0.1", "0.000000000000001", "0", "-5.5", "-1", "0.3")]


def _near(edge: Decimal, places: int, steps: int) -> Decimal:
    """`edge` moved by `steps` units of the `places`-th decimal place, cut to 15 digits."""
    moved = edge + Decimal(steps).scaleb(-places)
    return moved if len(moved.normalize().as_tuple().digits) <= 15 else edge


@settings(max_examples=10, **_SETTINGS)
@given(st.lists(st.builds(_near, st.sampled_from(EDGES), st.integers(0, 15), st.integers(-3, 3)),
                min_size=80, max_size=80))
def test_band_and_constant_edges_are_decided_as_decimal_decides_them(xs):
    cases = [case("evaluate", "x", format(x, "f")) for x in xs]
    assert not _failures(cases, {"equal"})


def _fifteen(value: Decimal) -> Decimal:
    """`value` rounded to 15 significant digits and 15 places: a value a caller may send."""
    from decimal import Context

    rounded = Context(prec=15).plus(value)
    return rounded.quantize(Decimal("1E-15")) if rounded.adjusted() < 0 else rounded


@st.composite
def _arithmetic_edge(draw) -> tuple[str, str]:
    """(x, y) with x on or next to an arithmetic right side of y: y×0.9, y+0.1, y÷3."""
    y = draw(st.decimals(min_value=-10**12, max_value=10**12, places=draw(st.integers(0, 3)),
                         allow_nan=False, allow_infinity=False))
    target = draw(st.sampled_from([y * Decimal("0.9"), y + Decimal("0.1"), y / 3]))
    x = _fifteen(target) + draw(st.sampled_from([0, 0, 0, 1, -1])) * Decimal(1).scaleb(_fifteen(target).as_tuple().exponent)
    return format(_fifteen(x), "f"), format(y, "f")


@settings(max_examples=10, **_SETTINGS)
@given(st.lists(_arithmetic_edge(), min_size=40, max_size=40))
def test_arithmetic_edges_are_decided_in_decimal(pairs):
    """0.1 × 3 is not 0.3 in doubles: the adapter decides these comparisons in Decimal."""
    cases = [case("facts", "", {"x": x, "y": y}) for x, y in pairs]
    assert not _failures(cases, {"equal"})
