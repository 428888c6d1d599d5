"""Derived values: computed in Decimal from the checked facts, rounded half up to their
places, read by rules, scoring methods and templates like decimal facts; what cannot be
computed is the caller's input error naming the facts; loops are refused at load."""

from __future__ import annotations

import copy
import textwrap
from decimal import Decimal

import pytest

from jixiao.core.evaluation.compiler import compile_pack
from jixiao.core.errors import FactsError, PackError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.loader import load_pack
from jixiao.packs import pack_schema

from .fact_language_pack import BASE, FACT_LANGUAGE_PACK, compiled_fact_language


@pytest.fixture(scope="module")
def compiled():
    return compiled_fact_language()


def facts(**changes) -> dict:
    """BASE with `group__name=value` changes."""
    out = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        group, name = dotted.split("__")
        out[group][name] = value
    return out


def values(compiled, request) -> dict:
    from jixiao.core.evaluation.evaluator import _checked_values
    found, violations, _ignored, _deferred = _checked_values(compiled, request, "zh", False)
    assert violations == []
    return found


def refused(compiled, request, language="zh") -> list[tuple[str, str]]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, request, language)
    return [(v.fact, v.description) for v in info.value.violations]


def test_the_values_hand_computed(compiled):
    found = values(compiled, BASE)
    # (1124 − 1000) ÷ 1000 = 0.124, kept to 4 places; max(124, 0) to 2; 20 − 17; 17 ÷ 20 to 6 places
    assert found["cost.overrun_rate"] == Decimal("0.1240") and str(found["cost.overrun_rate"]) == "0.1240"
    assert found["cost.overrun"] == Decimal("124.00")
    assert found["vouchers.noncompliant"] == Decimal("3")
    assert found["vouchers.rate"] == Decimal("0.850000")


def test_rounding_is_half_up_to_the_declared_places(compiled):
    # 0.5 ÷ 10000 = 0.00005 → 0.0001 at 4 places; 0.4 ÷ 10000 → 0.0000
    assert values(compiled, facts(cost__budget="10000", cost__actual="10000.5"))["cost.overrun_rate"] == Decimal("0.0001")
    assert values(compiled, facts(cost__budget="10000", cost__actual="10000.4"))["cost.overrun_rate"] == Decimal("0.0000")
    # 2 ÷ 3 = 0.666666… → 0.666667 at the default 6 places; a shortfall is negative: max(…, 0)
    found = values(compiled, facts(vouchers__sampled=3, vouchers__compliant=2, cost__actual="900.00"))
    assert found["vouchers.rate"] == Decimal("0.666667")
    assert found["cost.overrun"] == Decimal("0.00") and found["cost.overrun_rate"] == Decimal("-0.1000")


def test_templates_print_derived_values_in_their_declared_format(compiled):
    evaluation = evaluate(compiled, BASE)
    assert evaluation.node("all.x.cost").rationale == "成本超支率12.40%，超支124.00元。根据评分细则，扣5分，得0分。"
    assert evaluation.node("all.x.vouchers").rationale == (
        "抽查20份凭证，3份不合规，合规率85.00%。根据评分细则，扣3分，得2分。")


@pytest.mark.parametrize("actual, band_deduct", [
    ("1100.00", 5), ("1099.95", 5), ("1099.94", 2), ("1050.00", 2), ("1049.94", 0), ("800.00", 0)])
def test_bands_over_a_derived_value_take_its_edges(compiled, actual, band_deduct):
    # overrun rate 0.1 (≥ 0.1: 5); 0.09995 rounds half up to 0.1000 at 4 places (5); 0.09994 to 0.0999
    # (≥ 0.05: 2); 0.05 (2); 0.04994 to 0.0499 (the last band: 0); −0.2 (0)
    node = evaluate(compiled, facts(cost__actual=actual)).node("all.x.cost")
    assert node.deducted == band_deduct


def test_a_condition_reads_a_derived_value(compiled):
    # noncompliant = 20 − 18 = 2: not more than 2, no deduction; 20 − 17 = 3: 3 points
    assert evaluate(compiled, facts(vouchers__compliant=18)).node("all.x.vouchers").deducted == 0
    assert evaluate(compiled, facts(vouchers__compliant=17)).node("all.x.vouchers").deducted == 3


def test_a_division_by_zero_is_an_input_error_naming_the_divisor(compiled):
    found = refused(compiled, facts(cost__budget="0", vouchers__sampled=0, vouchers__compliant=0))
    assert ("cost.overrun_rate", "divides by cost.budget, which is 0") in found
    assert ("vouchers.rate", "divides by vouchers.sampled, which is 0") in found


def test_a_value_beyond_the_engines_limits_is_an_input_error_naming_the_facts(compiled):
    found = refused(compiled, facts(cost__budget="0.001", cost__actual="9999999999999"))
    assert found == [("cost.overrun_rate", (
        "comes to 9999999999998999 (computed from cost.actual and cost.budget), which is 10^15 or more in "
        "magnitude; a computed value must have at most 15 significant digits and 15 decimal places, below 10^15 "
        "in magnitude: check those facts"))]


def test_a_derived_value_whose_facts_failed_is_not_reported_again(compiled):
    assert refused(compiled, facts(cost__budget="abc")) == [
        ("cost.budget", 'expected a decimal number such as "398761.00", got \'abc\'; write ASCII digits with an '
                        'optional sign and decimal point ("-1234.5", "398761.00"), thousands separated by commas '
                        'in groups of three ("398,761.00"); full-width digits and punctuation are read as ASCII '
                        '("３９８７６１．００"); no spaces, exponents, underscores or other scripts\' digits')]


# --- derived values of derived values, and the loader ----------------------------------


CHAIN = textwrap.dedent("""
    schema: jixiao.pack/v1
    id: chain
    version: 1.0.0
    title: 链
    framework: 样例
    total_weight: 10
    grades:
      - {grade: 优, min: 90}
      - {grade: 差, min: 0}
    facts:
      - {name: output.planned, type: integer, label: 计划数, min: 0}
      - {name: output.cancelled, type: integer, label: 取消数, min: 0}
      - {name: output.done, type: integer, label: 完成数, min: 0}
    derived:
      - name: output.rate                     # reads a derived value declared below it
        label: 完成率
        value: {round: [{div: [{fact: output.done}, {fact: output.due}]}, 2]}
        format: percent
      - name: output.due
        label: 应完成数
        value: {abs: {sub: [{fact: output.planned}, {fact: output.cancelled}]}}
    indicators:
      - id: output
        name: 产出
        weight: 10
        scoring:
          method: ratio
          actual: output.done
          target: output.due
          reason: "完成{output.done}个，应完成{output.due}个，完成率{output.rate}"
""").lstrip()


def test_a_derived_value_may_read_one_declared_after_it_and_feed_a_ratio():
    compiled = compile_pack(load_pack(CHAIN, "chain/pack.yaml", schema=pack_schema()))
    evaluation = evaluate(compiled, {"output": {"planned": 10, "cancelled": 2, "done": 6}})
    # due = |10 − 2| = 8; rate = round(6 ÷ 8, 2) = 0.75, a percentage printed with 2 places;
    # ratio leaf 10 × 0.75 = 7.5
    assert evaluation.score == Decimal("7.50")
    assert evaluation.indicators[0].rationale == "完成6个，应完成8个，完成率75.00%。根据评分细则，扣2.5分，得7.5分。"


def test_a_divisor_computed_from_facts_names_them():
    compiled = compile_pack(load_pack(CHAIN, "chain/pack.yaml", schema=pack_schema()))
    with pytest.raises(FactsError) as info:
        evaluate(compiled, {"output": {"planned": 2, "cancelled": 2, "done": 0}})
    assert [(v.fact, v.description) for v in info.value.violations] == [
        ("output.rate", "divides by output.due, which is 0 (computed from output.planned and output.cancelled)"),
        ("output.due", "is 0, but it is the target of the ratio scoring output"),  # the scoring method's own check
    ]


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(text, "bad/pack.yaml", schema=pack_schema())
    return [p.message for p in info.value.problems]


def test_derived_values_reading_each_other_in_a_loop_are_refused():
    text = CHAIN.replace("value: {abs: {sub: [{fact: output.planned}, {fact: output.cancelled}]}}",
                         "value: {abs: {sub: [{fact: output.rate}, {fact: output.cancelled}]}}")
    assert any(p.endswith("derived values read each other in a loop: output.rate → output.due → output.rate; "
                          "none of them can be computed first") for p in problems(text))


@pytest.mark.parametrize("old, new, message", [
    ("{fact: output.planned}, {fact: output.cancelled}", "{fact: output.planed}, {fact: output.cancelled}",
     "fact 'output.planed' is not declared in facts; did you mean output.planned?"),
    ("- name: output.due", "- name: output.done", "'output.done' is already a fact (or a survey option's share); "
                                                   "a derived value needs a name of its own"),
    ("format: percent", "format: percnt", None),
    ("{round: [{div: [{fact: output.done}, {fact: output.due}]}, 2]}",
     "{round: [{div: [{fact: output.done}, 0]}, 2]}", "divides by 0"),
    ("{round: [{div: [{fact: output.done}, {fact: output.due}]}, 2]}",
     "{div: [{fact: output.done}, output.due]}", None),
])
def test_authoring_mistakes_in_derived_values_are_named(old, new, message):
    assert old in CHAIN
    found = problems(CHAIN.replace(old, new, 1))
    assert found
    if message is not None:
        assert any(p.endswith(message) for p in found), found


def test_the_loader_alone_explains_a_fact_name_written_without_fact():
    text = CHAIN.replace("{round: [{div: [{fact: output.done}, {fact: output.due}]}, 2]}",
                         "{div: [{fact: output.done}, output.due]}")
    with pytest.raises(PackError) as info:
        load_pack(text, "p.yaml", schema=None)
    [problem] = info.value.problems
    assert problem.path == "derived[0].value.div[1]"
    assert problem.message.endswith(
        "expected a number, {fact: NAME} or an operation; to read 'output.due' write {fact: output.due}")


def test_the_fact_language_pack_declares_its_derived_values_in_order():
    pack = load_pack(FACT_LANGUAGE_PACK, "p.yaml", schema=pack_schema())
    assert [(d.name, d.format, d.places) for d in pack.derived] == [
        ("cost.overrun_rate", "percent", 4), ("cost.overrun", "money", 2),
        ("vouchers.noncompliant", "number", 0), ("vouchers.rate", "percent", 6)]


def test_the_facts_a_leaf_reads_through_derived_values_are_its_facts():
    from jixiao.core.evaluation import derived
    from jixiao.core.pack.references import facts_read

    pack = load_pack(FACT_LANGUAGE_PACK, "p.yaml", schema=pack_schema())
    declared = {spec.name for spec in pack.facts}
    leaves = {leaf.id: leaf for leaf in pack.leaves()}
    assert derived.inputs(pack)["cost.overrun_rate"] == ("cost.actual", "cost.budget")
    assert facts_read(leaves["all.x.cost"], declared, derived.inputs(pack)) == ("cost.actual", "cost.budget")
    assert facts_read(leaves["all.x.vouchers"], declared, derived.inputs(pack)) == (
        "vouchers.sampled", "vouchers.compliant")
    assert facts_read(leaves["all.x.cost"], declared) == ()  # without them: no declared fact is named


def test_a_derived_percentage_keeps_2_places_and_a_facts_percent_keeps_todays_text(compiled):
    from jixiao.core.evaluation.rationale import format_value, value_formatter

    pack = compiled.pack
    cases = [
        # (name, value, template format, text): derived values in their declared format ...
        ("cost.overrun_rate", Decimal("0.1240"), None, "12.40%"),
        ("cost.overrun_rate", Decimal("0.1240"), "percent", "12.40%"),
        ("cost.overrun_rate", Decimal("0.5"), None, "50.00%"),
        ("cost.overrun", Decimal("1234.5"), None, "1,234.50"),
        ("vouchers.noncompliant", Decimal("4.10"), None, "4.1"),
        # ... and a fact's |percent and |money as rationales have always printed them
        ("cost.actual", Decimal("0.1240"), "percent", "12.4%"),
        ("cost.actual", Decimal("0.5"), "percent", "50%"),
        ("cost.actual", Decimal("1234.5"), "money", "1,234.50"),
    ]
    for name, value, fmt, text in cases:
        assert format_value(pack, name, value, fmt, "zh") == text, (name, fmt)
        assert value_formatter(pack, name, fmt, "en")(value) == text, (name, fmt)
