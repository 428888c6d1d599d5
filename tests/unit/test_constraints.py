"""Cross-fact constraints, and every violation of a request refused in one reply: the
fact errors, unknown names, derived values, constraints and the evaluator's score range."""

from __future__ import annotations

import copy
import textwrap

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


def refused(compiled, facts, language="zh") -> list[tuple[str, str]]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts, language)
    return [(v.fact, v.description) for v in info.value.violations]


def vouchers(sampled, compliant) -> dict:
    facts = copy.deepcopy(BASE)
    facts["vouchers"] = {"sampled": sampled, "compliant": compliant}
    return facts


def test_more_compliant_vouchers_than_sampled_are_refused_naming_both_values(compiled):
    # 25 compliant of 20 sampled used to give 合规率125% and full marks.
    assert refused(compiled, vouchers(20, 25), "zh") == [(
        "vouchers.compliant",
        "合规凭证份数不能多于抽查份数（vouchers.compliant 为 25，vouchers.sampled 为 20；约束 vouchers_within_sample）")]
    assert refused(compiled, vouchers(20, 25), "en") == [(
        "vouchers.compliant",
        "compliant vouchers cannot outnumber the sampled ones (vouchers.compliant is 25, vouchers.sampled is 20; "
        "constraint vouchers_within_sample)")]


@pytest.mark.parametrize("sampled, compliant, deducted", [(20, 20, 0), (20, 0, 3)])
def test_a_constraint_that_holds_lets_the_request_through(compiled, sampled, compliant, deducted):
    assert evaluate(compiled, vouchers(sampled, compliant)).node("all.x.vouchers").deducted == deducted


def test_a_constraint_whose_facts_failed_is_not_reported_again(compiled):
    assert [fact for fact, _ in refused(compiled, vouchers(20, "twenty-five"))] == ["vouchers.compliant"]


def test_every_violation_of_a_request_is_in_one_reply_in_order(compiled):
    facts = vouchers(20, 25)  # a constraint
    facts["effect"]["ecology"] = 3  # a number for a qualitative judgement
    facts["evidence"]["summary"] = " "  # an empty evidence text
    facts["cost"]["budget"] = "0"  # a derived value divides by it
    facts["issues"] = {"amont": "100"}  # a misspelt name
    facts["judge"]["score"] = "7"  # the evaluator's score beyond the leaf's weight of 5
    assert refused(compiled, facts) == [
        ("effect.ecology", "expected one of 好 (good), 较好 (fairly_good), 一般 (average), 差 (poor), got 3"),
        ("evidence.summary", "must not be empty: write the 佐证材料摘要 (evidence summary)"),
        ("issues.amont", "unknown fact; did you mean issues.amount?"),
        ("cost.overrun_rate", "divides by cost.budget, which is 0"),
        ("vouchers.compliant",
         "合规凭证份数不能多于抽查份数（vouchers.compliant 为 25，vouchers.sampled 为 20；约束 vouchers_within_sample）"),
        ("judge.score", "evaluator's score 7 is out of range [0, 5] for all.x.judged"),
    ]


def test_the_evaluators_score_range_is_reported_with_the_other_fact_errors(compiled):
    facts = copy.deepcopy(BASE)
    facts["judge"]["score"] = "-1"
    facts["cost"]["actual"] = "abc"
    assert [fact for fact, _ in refused(compiled, facts)] == ["cost.actual", "judge.score"]


SHARES = textwrap.dedent("""
    schema: jixiao.pack/v1
    id: shares
    version: 1.0.0
    title: 份额
    framework: 样例
    total_weight: 10
    grades:
      - {grade: 优, min: 90}
      - {grade: 差, min: 0}
    facts:
      - {name: survey.satisfied, type: decimal, label: 满意占比, min: 0}
      - {name: survey.neutral, type: decimal, label: 一般占比, min: 0}
      - {name: survey.asked, type: integer, label: 发放份数, min: 0}
      - {name: survey.returned, type: integer, label: 回收份数, min: 0}
    constraints:
      - id: shares_of_one_survey
        require: {fact: survey.satisfied, le: {sub: [100, {fact: survey.neutral}]}}
        message: {zh: 同一问卷各项占比之和不能超过100, en: the shares of one survey cannot add up to more than 100}
      - id: return_rate_at_most_one
        require: {fact: survey.returned, le: {mul: [{fact: survey.asked}, {div: [{fact: survey.asked}, {fact: survey.asked}]}]}}
        message: 回收份数不能多于发放份数
    indicators:
      - id: satisfaction
        name: 满意度
        weight: 10
        scoring:
          method: bands
          value: survey.satisfied
          bands:
            - {min: 90, deduct: 0}
            - {deduct: 5}
""").lstrip()


def test_a_constraint_with_arithmetic_names_every_fact_it_reads():
    compiled = compile_pack(load_pack(SHARES, "shares/pack.yaml", schema=pack_schema()))
    facts = {"survey": {"satisfied": "80", "neutral": "30", "asked": 10, "returned": 10}}
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts, "en")
    assert [(v.fact, v.description) for v in info.value.violations] == [(
        "survey.satisfied", "the shares of one survey cannot add up to more than 100 (survey.satisfied is 80, "
                            "survey.neutral is 30; constraint shares_of_one_survey)")]


def test_a_constraint_that_cannot_be_computed_does_not_hold_and_shows_the_values():
    compiled = compile_pack(load_pack(SHARES, "shares/pack.yaml", schema=pack_schema()))
    facts = {"survey": {"satisfied": "80", "neutral": "20", "asked": 0, "returned": 0}}
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts)
    assert [(v.fact, v.description) for v in info.value.violations] == [(
        "survey.returned", "回收份数不能多于发放份数（survey.returned 为 0，survey.asked 为 0；约束 return_rate_at_most_one）")]


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(text, "bad/pack.yaml", schema=pack_schema())
    return [p.message for p in info.value.problems]


def test_a_constraint_on_an_undeclared_fact_is_refused_with_the_closest_name():
    text = FACT_LANGUAGE_PACK.replace("le: {fact: vouchers.sampled}", "le: {fact: vouchers.sample}", 1)
    assert any(p.endswith("fact 'vouchers.sample' is not declared in facts; did you mean vouchers.sampled?")
               for p in problems(text))


def test_constraint_ids_are_unique():
    text = SHARES.replace("id: return_rate_at_most_one", "id: shares_of_one_survey")
    assert any(p.endswith("constraint id 'shares_of_one_survey' is used twice") for p in problems(text))


def test_the_gate_tries_a_pack_around_a_base_its_constraints_accept():
    from jixiao.core.evaluation.compiler import plain_matcher
    from jixiao.core.evaluation.edge_facts import check_edge_facts, edge_facts
    from jixiao.engine.durable import durable_matcher

    pack = load_pack(SHARES, "shares/pack.yaml", schema=pack_schema())
    engine, reference = compile_pack(pack, durable_matcher), compile_pack(pack, plain_matcher)
    try:
        generated = edge_facts(pack, engine.rules)
        # every number at 100 breaks satisfied ≤ 100 − neutral: the base takes every number at 1
        assert generated[0].facts == {"survey.satisfied": "1", "survey.neutral": "1", "survey.asked": 1,
                                      "survey.returned": 1}
        assert evaluate(reference, generated[0].facts).score == 5
        # requests a constraint refuses are refused alike by both: not a reason to refuse the pack
        assert any(isinstance(_refusal(reference, r.facts), FactsError) for r in generated)
        assert check_edge_facts(engine, reference, generated) == []
    finally:
        engine.close()


def _refusal(compiled, facts):
    try:
        evaluate(compiled, facts)
    except FactsError as error:
        return error
    return None
