"""The per-request fast paths give exactly what their plain definitions give.

Facts are checked by per-fact converters that fall back to `coerce`, placeholders are
formatted by formatters chosen once per pack, survey shares by a shortcut of `plain`:
each is compared here with the straightforward definition, on generated inputs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.core import decimals
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.facts import _MISSING, _expand, check_facts, coerce, lookup
from jixiao.core.pack.model import FactSpec, FactType, SurveyOption, Text
from jixiao.core.evaluation.rationale import format_value, value_formatter

from .packs import compiled_methods

def reference_check(specs, facts):
    """check_facts as first written: `lookup` and `coerce` for every value, all violations."""
    values, violations = {}, []
    for spec in specs:
        raw = lookup(facts, spec.name)
        if raw is _MISSING or raw is None:
            if spec.has_default:
                values.update(_expand(spec, spec.default))
            else:
                violations.append(spec.name)
            continue
        value, problems = coerce(spec, raw)
        if problems:
            violations.extend(p.fact for p in problems)
        else:
            values.update(_expand(spec, value))
    return values, violations


SPECS = (
    FactSpec("a.amount", FactType.DECIMAL, Text("金额"), minimum=Decimal(0), maximum=Decimal("1000000")),
    FactSpec("a.count", FactType.INTEGER, Text("数量"), minimum=Decimal(0)),
    FactSpec("a.rate", FactType.DECIMAL, Text("比率")),
    FactSpec("b.flag", FactType.BOOLEAN, Text("是否")),
    FactSpec("b.note", FactType.TEXT, Text("说明"), default="无", has_default=True),
    FactSpec("s.survey", FactType.SURVEY, Text("问卷"),
             options=(SurveyOption("yes", Text("是")), SurveyOption("no", Text("否")))),
)

raw_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(["", " 12.5 ", "1,234.5", "abc", "NaN", "1e400", "-0", "100.00", "1e16", "10000000000000000",
                     "0.0000001", "89.99999999999999999", "3,9,8,7,6,1", "398_761", "٣٩٨٧٦١", ".5", "5.",
                     "３９８７６１．００", "12.5%", "999999999999999", "1" * 100]),
    st.integers(-2**63, 2**63),
    st.text(max_size=5),
)
surveys = st.one_of(
    raw_values,
    st.dictionaries(st.sampled_from(["yes", "no", "maybe"]),
                    st.one_of(st.decimals(0, 120, places=2).map(str), raw_values), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(amount=raw_values, count=raw_values, rate=raw_values, flag=raw_values, note=raw_values, survey=surveys,
       flat=st.booleans())
def test_fact_checker_agrees_with_coerce(amount, count, rate, flag, note, survey, flat):
    if flat:
        facts = {"a.amount": amount, "a.count": count, "a.rate": rate, "b.flag": flag, "s.survey": survey}
    else:
        facts = {"a": {"amount": amount, "count": count, "rate": rate}, "b": {"flag": flag, "note": note},
                 "s": {"survey": survey}}
    expected, expected_violations = reference_check(SPECS, facts)
    try:
        values = check_facts(SPECS, facts)
    except FactsError as error:
        assert sorted(v.fact for v in error.violations) == sorted(expected_violations)
    else:
        assert not expected_violations
        assert values == expected
        assert [type(v) for v in values.values()] == [type(v) for v in expected.values()]


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=0, max_value=10**9))
def test_percent_value_is_plain_of_the_rounded_value(value):
    expected = "0" if value == 0 else decimals.plain(value.quantize(decimals.CENT, rounding="ROUND_HALF_UP")) + "%"
    assert decimals.percent_value(value) == expected


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("fmt", [None, "money", "percent", "percent_value", "number", "yesno", "shares"])
def test_chosen_formatters_agree_with_format_value(fmt, language):
    pack = compiled_methods("plain").pack
    survey = next(f for f in pack.facts if f.type is FactType.SURVEY)
    shares = {o.key: Decimal("12.5") for o in survey.options}
    samples = {
        None: [Decimal("3.50"), Decimal("1E+2"), "文字", True, False, 7, shares],
        "money": [Decimal("398761"), 12, Decimal("0.005")],
        "percent": [Decimal("0.79752"), Decimal(1)],
        "percent_value": [Decimal("75.93"), Decimal(0)],
        "number": [Decimal("2.500"), 3],
        "yesno": [True, False],
        "shares": [shares],
    }[fmt]
    for value in samples:
        name = survey.name if value is shares else "x"
        formatter = value_formatter(pack, name, fmt, language)
        assert formatter(value) == format_value(pack, name, value, fmt, language), (fmt, value)


def test_a_full_memo_drops_its_oldest_entry_only():
    from collections import OrderedDict

    from jixiao.core.evaluation.scoring import remember

    memo: OrderedDict = OrderedDict()
    for i in range(10):
        remember(memo, i, str(i), 4)
    assert list(memo.items()) == [(6, "6"), (7, "7"), (8, "8"), (9, "9")]


# --- numbers: one syntax, and the fast path is a part of it ----------------------------

from jixiao.core.evaluation.facts import _SLOW, _plain_decimal, parse_number  # noqa: E402

_FULL = str.maketrans("0123456789.,-+%", "０１２３４５６７８９．，－＋％")


@st.composite
def number_texts(draw):
    """A number in the accepted syntax: sign, digits (grouped by threes or not), fraction,
    maybe full-width; with the Decimal it stands for."""
    integer = draw(st.integers(0, 10**20))
    fraction = draw(st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=20)))
    sign = draw(st.sampled_from(["", "-", "+"]))
    digits = f"{integer:,}" if draw(st.booleans()) else str(integer)
    text = sign + digits + ("." + fraction if fraction is not None else "")
    value = Decimal(sign + str(integer) + ("." + fraction if fraction is not None else ""))
    return (text.translate(_FULL) if draw(st.booleans()) else text), value


@given(number_texts())
def test_every_text_in_the_number_syntax_is_read_as_its_value_or_refused_for_its_size(item):
    text, value = item
    parsed = parse_number(text)
    if isinstance(parsed, Decimal):
        assert parsed == value and parsed.as_tuple() == value.as_tuple()
    else:  # within the syntax, only the engine's limits refuse a number
        assert isinstance(parsed, str) and decimals.engine_problem(value) is not None, parsed


HOSTILE = st.one_of(
    st.text(max_size=24),
    st.text("0123456789,._-+eExXnNaIif% \t٣३１２．，", max_size=16),
    st.sampled_from(["3,9,8,7,6,1", ",,,398761,,,", "39,8761", "398_761", "٣٩٨٧٦١", "३९८७६१", ".5", "5.", "1e5",
                     "0x10", "NaN", "Infinity", "-inf", "", " 1", "1 ", "1,000.", "1,0000", "%", "5%"]),
)


@given(HOSTILE)
def test_a_text_outside_the_syntax_is_never_read_as_a_number(text):
    parsed = parse_number(text, share=True)
    ascii_text = text.translate(str.maketrans("０１２３４５６７８９．，－＋％", "0123456789.,-+%"))
    if isinstance(parsed, Decimal):
        body = ascii_text.removesuffix("%").lstrip("+-")
        whole, _, fraction = body.partition(".")
        groups = whole.split(",")
        assert set(ascii_text) <= set("0123456789.,-+%") and ascii_text.count("%") <= 1
        assert all(g.isdigit() for g in groups) and (fraction == "" and "." not in body or fraction.isdigit())
        assert len(groups) == 1 or (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]))
        assert parsed == Decimal(ascii_text.removesuffix("%").replace(",", ""))
    if not text.endswith(("%", "％")):
        assert parse_number(text) == parsed  # "%" is the only difference a share makes


@given(st.one_of(HOSTILE, number_texts().map(lambda item: item[0]), st.integers(-10**17, 10**17),
                 st.floats(), st.booleans(), st.none()))
def test_the_plain_number_fast_path_gives_what_the_syntax_gives(raw):
    fast = _plain_decimal(raw)
    if fast is not _SLOW:
        slow = parse_number(raw)
        assert isinstance(slow, Decimal) and fast == slow and fast.as_tuple() == slow.as_tuple()


@pytest.mark.parametrize("raw", ["398761.00", "0.5", "100", 7, 0, -3, "27.5", "0"])
def test_the_usual_values_take_the_fast_path(raw):
    assert _plain_decimal(raw) is not _SLOW
