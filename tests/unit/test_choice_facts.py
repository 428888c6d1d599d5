"""Choice facts (a qualitative judgement such as 好/较好/一般/差) and non-empty texts: a
request sends an option's code or its label, conditions test codes, templates print the
label; a pack that tests a code it does not declare is refused naming its options."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.core.errors import FactsError, PackError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.facts import FactChecker, coerce
from jixiao.core.pack.loader import load_pack
from jixiao.engine.durable import WRITERS, string_text
from jixiao.core.pack.model import FactType
from jixiao.core.evaluation.rationale import format_value, value_formatter
from jixiao.packs import pack_schema

from .fact_language_pack import BASE, FACT_LANGUAGE_PACK, compiled_fact_language

OPTIONS = "好 (good), 较好 (fairly_good), 一般 (average), 差 (poor)"


@pytest.fixture(scope="module")
def compiled():
    return compiled_fact_language()


def ecology(value) -> dict:
    facts = copy.deepcopy(BASE)
    facts["effect"]["ecology"] = value
    return facts


def refused(compiled, facts) -> list[tuple[str, str]]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts)
    return [(v.fact, v.description) for v in info.value.violations]


def leaf(evaluation, node_id: str):
    return evaluation.node(node_id)


@pytest.mark.parametrize("sent", ["fairly_good", "较好", "fairly good"])
def test_an_option_is_sent_by_its_code_or_its_zh_or_en_label_and_read_as_its_code(compiled, sent):
    assert compiled.checker.check(ecology(sent))["effect.ecology"] == "fairly_good"
    zh, en = evaluate(compiled, ecology(sent), "zh"), evaluate(compiled, ecology(sent), "en")
    assert leaf(zh, "all.x.ecology").rationale == "生态效益较好。根据评分细则，得5分。"
    assert leaf(en, "all.x.ecology").rationale == "ecological benefit fairly good. Under the scoring rules, full marks: 5."


@pytest.mark.parametrize("code, label, deducted", [
    ("good", "好", 0), ("fairly_good", "较好", 0), ("average", "一般", 2), ("poor", "差", 2)])
def test_an_in_list_tests_option_codes(compiled, code, label, deducted):
    node = leaf(evaluate(compiled, ecology(code)), "all.x.ecology")
    assert node.deducted == deducted
    assert node.rationale.startswith(f"生态效益{label}。")
    assert [d.rule_id for d in node.deductions] == (["all.x.ecology#weak"] if deducted else [])


def test_a_number_for_a_qualitative_judgement_is_refused_naming_the_options(compiled):
    # The evaluator used to enter 1-4 instead of 好/较好/一般/差.
    assert refused(compiled, ecology(2)) == [("effect.ecology", f"expected one of {OPTIONS}, got 2")]
    assert refused(compiled, ecology("2")) == [("effect.ecology", f"expected one of {OPTIONS}, got '2'")]


def test_a_near_miss_is_answered_with_did_you_mean(compiled):
    assert refused(compiled, ecology("goood")) == [
        ("effect.ecology", f"expected one of {OPTIONS}, got 'goood'; did you mean good?")]
    assert refused(compiled, ecology("Fairly Good")) == [
        ("effect.ecology", f"expected one of {OPTIONS}, got 'Fairly Good'; did you mean fairly good?")]


def test_a_missing_choice_names_its_options(compiled):
    facts = copy.deepcopy(BASE)
    del facts["effect"]
    assert refused(compiled, facts) == [("effect.ecology", f"missing (expected one of {OPTIONS})")]


@pytest.mark.parametrize("blank", ["", "   ", "\u3000\n"])
def test_an_empty_evidence_text_is_refused_when_declared_non_empty(compiled, blank):
    facts = copy.deepcopy(BASE)
    facts["evidence"]["summary"] = blank
    assert refused(compiled, facts) == [
        ("evidence.summary", "must not be empty: write the 佐证材料摘要 (evidence summary)")]


def test_the_durable_adapter_writes_a_choice_as_a_text():
    assert WRITERS[FactType.CHOICE] is string_text


# --- the loader ------------------------------------------------------------------------


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(text, "bad/pack.yaml", schema=pack_schema())
    return [p.message for p in info.value.problems]


def changed(old: str, new: str) -> str:
    assert old in FACT_LANGUAGE_PACK, old
    return FACT_LANGUAGE_PACK.replace(old, new, 1)


def test_a_condition_on_an_unknown_code_names_the_options_and_the_closest():
    found = problems(changed("in: [average, poor]", "in: [average, pooor]"))
    assert any(p.endswith("'pooor' is not an option of effect.ecology (its options: good, fairly_good, average, "
                          "poor); did you mean poor?") for p in found), found


def test_a_condition_on_a_label_says_to_write_the_code():
    found = problems(changed("in: [average, poor]", "in: [一般, poor]"))
    assert any(p.endswith("'一般' is the label of option average of effect.ecology; conditions test option codes: "
                          "write average") for p in found), found


def test_a_label_naming_two_options_is_refused():
    found = problems(changed("{key: poor, label: {zh: 差, en: poor}}", "{key: poor, label: {zh: 一般, en: poor}}"))
    assert any("'一般' would name two options of effect.ecology (average and poor)" in p for p in found), found


def test_a_choice_default_is_read_as_its_code():
    pack = load_pack(changed("label: {zh: 生态效益, en: ecological benefit}\n",
                             "label: {zh: 生态效益, en: ecological benefit}\n    default: 较好\n"),
                     "p.yaml", schema=pack_schema())
    assert pack.fact("effect.ecology").default == "fairly_good"


def test_non_empty_is_for_text_facts_only():
    text = changed('unit: 元, min: 0, default: "0"}', 'unit: 元, min: 0, default: "0", non_empty: true}')
    assert problems(text), "the schema refuses non_empty on a decimal fact"
    with pytest.raises(PackError) as info:
        load_pack(text, "p.yaml", schema=None)  # the loader alone too
    assert [p.message for p in info.value.problems] == [
        "non_empty: true is for text facts only ('issues.amount' is decimal)"]


# --- the fast paths give what their plain definitions give ---------------------------

_SPECS = tuple(spec for spec in compiled_fact_language().pack.facts
               if spec.name in ("effect.ecology", "evidence.summary"))
_raw = st.one_of(st.sampled_from(["good", "fairly_good", "较好", "fairly good", "差", "poor ", "", " ", "\u3000",
                                  "好好", "Good"]),
                 st.text(max_size=4), st.integers(-3, 5), st.none(), st.booleans(), st.floats())


@settings(max_examples=300, deadline=None)
@given(ecology=_raw, summary=_raw)
def test_the_checkers_fast_path_agrees_with_coerce_for_choices_and_non_empty_texts(ecology, summary):
    checked = FactChecker(_SPECS).check_request({"effect": {"ecology": ecology}, "evidence": {"summary": summary}})
    expected_values, expected_violations = {}, []
    for spec, raw in zip(_SPECS, (ecology, summary)):
        if raw is None:
            expected_violations.append(spec.name)
            continue
        value, problems = coerce(spec, raw)
        if problems:
            expected_violations.extend(p.fact for p in problems)
        else:
            expected_values[spec.name] = value
    assert checked.values == expected_values
    assert [v.fact for v in checked.violations] == expected_violations


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name, samples", [
    ("effect.ecology", ["good", "average", "poor"]),
    ("cost.overrun_rate", [Decimal("0.1240"), Decimal("-0.05")]),
    ("cost.overrun", [Decimal("124.00"), Decimal("1234567.5")]),
    ("vouchers.noncompliant", [Decimal("3"), Decimal("0")]),
])
def test_chosen_formatters_agree_with_format_value_for_choices_and_derived_values(name, samples, language):
    pack = compiled_fact_language().pack
    for value in samples:
        assert value_formatter(pack, name, None, language)(value) == format_value(pack, name, value, None, language)
    shown = [format_value(pack, name, value, None, language) for value in samples]
    assert shown == {
        ("effect.ecology", "zh"): ["好", "一般", "差"], ("effect.ecology", "en"): ["good", "average", "poor"],
        ("cost.overrun_rate", "zh"): ["12.40%", "-5.00%"], ("cost.overrun_rate", "en"): ["12.40%", "-5.00%"],
        ("cost.overrun", "zh"): ["124.00", "1,234,567.50"], ("cost.overrun", "en"): ["124.00", "1,234,567.50"],
        ("vouchers.noncompliant", "zh"): ["3", "0"], ("vouchers.noncompliant", "en"): ["3", "0"],
    }[(name, language)]
