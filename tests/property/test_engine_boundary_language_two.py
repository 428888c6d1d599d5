"""durable-rules at its boundary, for the values pack language 2 brings to it: derived values
at the edges of the engine's limits, choice codes, node values read by overrides, the
placeholders given for inputs only not-applicable leaves read, and comparisons that cannot
be computed (a division by 0 in the rules of a leaf found not applicable).

Every case runs in a child process (tests/engine_child.py, modes "request" and "matchers"):
a crash of the engine's C code is a failing case named by its input. Each answer must be an
input error that both the durable-rules evaluation and the plain reference evaluation give
with the same violations, or the same Evaluation from both, field by field; values put
straight into the matchers must be refused before the engine is called or decided as the
plain matcher decides them. JIXIAO_ENGINE_EXAMPLES multiplies the hypothesis budget (a
local campaign: JIXIAO_ENGINE_EXAMPLES=20).
"""

from __future__ import annotations

import copy
import os
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine_child import case, run_cases
from jixiao.core.pack.cases import load_case

SCALE = max(1, int(os.environ.get("JIXIAO_ENGINE_EXAMPLES", "1")))
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
                 phases=[Phase.explicit, Phase.reuse, Phase.generate])

FRAMEWORK = Path(__file__).resolve().parents[2] / "rules" / "project-expenditure-framework" / "1.0.0"
FRAMEWORK_PACK = (FRAMEWORK / "pack.yaml").read_text(encoding="utf-8")

#: Derived values of products, quotients, rounding to 0 and 15 places, min, max and abs of
#: three decimals, read by bands, by comparisons with each other and with arithmetic; a leaf
#: a condition finds not applicable when k is 0, whose rules then divide by 0; a leaf the
#: evaluator may declare not applicable, which alone reads only.na and u (deferred inputs,
#: d.na divides by u); a choice with odd labels; overrides reading node scores and rates
#: at 0, at the weight and at 100, of nodes that may be not applicable, and of the total.
BOUNDARY_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: boundary-two
    version: 1.0.0
    title: {zh: 边界二, en: Boundary two}
    framework: test
    total_weight: 100
    grades:
      - {grade: 优, en: excellent, min: 90}
      - {grade: 中, en: fair, min: 60}
      - {grade: 差, en: poor, min: 0}
    not_applicable:
      treatment: rescale
    facts:
      - {name: a, type: decimal, label: {zh: 甲, en: a}}
      - {name: b, type: decimal, label: {zh: 乙, en: b}}
      - {name: c, type: decimal, label: {zh: 丙, en: c}}
      - {name: k, type: integer, label: {zh: 丁, en: k}}
      - {name: u, type: decimal, label: {zh: 戊, en: u}, min: 0}
      - name: pick
        type: choice
        label: {zh: 选项, en: pick}
        options:
          - {key: good, label: {zh: 好, en: good}}
          - {key: odd_one, label: {zh: "“引号”\\\\反斜杠 \u202e", en: "odd \\"one\\""}}
          - {key: e, label: {zh: 🙂, en: "smile"}}
          - {key: z9, label: {zh: 〇, en: zero}}
      - {name: na.flag, type: boolean, label: {zh: 不适用, en: not applicable}, default: false}
      - {name: na.reason, type: text, label: {zh: 理由, en: reason}, default: ""}
      - {name: only.na, type: decimal, label: {zh: 仅不适用读, en: read by an n/a leaf only}}
    derived:
      - {name: d.prod, label: {zh: 积, en: product}, value: {mul: [{fact: a}, {fact: b}]}, places: 15}
      - {name: d.quot, label: {zh: 商, en: quotient}, value: {div: [{fact: a}, {fact: b}]}, places: 15}
      - {name: d.r0, label: {zh: 整, en: whole}, value: {round: [{fact: d.quot}, 0]}, places: 0}
      - {name: d.r15, label: {zh: 细, en: fine}, value: {round: [{fact: c}, 15]}, places: 15}
      - {name: d.min, label: {zh: 小, en: least}, value: {min: [{fact: a}, {fact: b}, {fact: c}, -1]}}
      - {name: d.max, label: {zh: 大, en: most}, value: {max: [{fact: a}, {fact: b}, {fact: c}]}}
      - {name: d.abs, label: {zh: 绝对, en: absolute}, value: {abs: {sub: [{fact: c}, {fact: a}]}}, places: 15}
      - {name: d.na, label: {zh: 仅不适用商, en: n/a quotient}, value: {div: [{fact: only.na}, {fact: u}]}, places: 4}
    indicators:
      - id: x
        name: {zh: 算, en: Arithmetic}
        weight: 40
        children:
          - id: x.bands
            name: {zh: 积档, en: product bands}
            weight: 10
            scoring:
              method: bands
              value: d.prod
              bands:
                - {min: 99999999999999.9, deduct: 0}
                - {min: 1, deduct: 2}
                - {min: 0.000000000000001, deduct: 4}
                - {min: 0, deduct: 6}
                - {deduct: 10}
          - id: x.checks
            name: {zh: 比较, en: comparisons}
            weight: 30
            scoring:
              method: deductions
              checks:
                - {id: q, when: {fact: d.quot, gt: 0.5}, points: 1, reason: 商大}
                - {id: r0, when: {fact: d.r0, ge: {fact: d.quot}}, points: 1, reason: 整不小}
                - {id: r15, when: {fact: d.r15, eq: {fact: c}}, points: 1, reason: 细同}
                - {id: mn, when: {fact: d.min, lt: {fact: d.max}}, points: 1, reason: 小小于大}
                - {id: ab, when: {fact: d.abs, le: {mul: [{fact: d.max}, 2]}}, points: 1, reason: 绝对不大}
                - {id: prod, when: {fact: d.prod, eq: {mul: [{fact: a}, {fact: b}]}}, points: 1, reason: 积同}
                - {id: quot3, when: {fact: d.quot, lt: {div: [{fact: d.prod}, 3]}}, points: 1, reason: 商小}
                - {id: pick, when: {fact: pick, in: [odd_one, e]}, points: 2, reason: 选}
                - {id: npick, when: {fact: pick, ne: good}, points: 1, reason: 非好}
      - id: y
        name: {zh: 不适用, en: Not applicable}
        weight: 40
        children:
          - id: y.cond
            name: {zh: 条件不适用, en: by condition}
            weight: 20
            not_applicable:
              when: {fact: k, eq: 0}
              reason: {zh: 丁为零, en: k is 0}
            scoring:
              method: deductions
              checks:
                - {id: divk, when: {fact: a, lt: {div: [{fact: b}, {fact: k}]}}, points: 5, reason: 甲小于乙除丁}
                - {id: divk2, when: {not: {fact: a, ge: {div: [{fact: c}, {fact: k}]}}}, points: 5, reason: 甲小于丙除丁}
          - id: y.flag
            name: {zh: 声明不适用, en: by flag}
            weight: 20
            not_applicable: {flag: na.flag, reason: na.reason}
            scoring:
              method: bands
              value: d.na
              bands:
                - {min: 1, deduct: 0}
                - {min: 0, deduct: 10}
                - {deduct: 20}
      - id: z
        name: {zh: 余, en: Rest}
        weight: 20
        children:
          - id: z.pick
            name: {zh: 选档, en: pick bands}
            weight: 20
            scoring:
              method: bands
              value: pick
              bands:
                - {options: [good], deduct: 0, reason: {zh: "选{value}", en: "picked {value}"}}
                - {options: [odd_one, e], deduct: 5, reason: {zh: "选{value}", en: "picked {value}"}}
                - {options: [z9], deduct: 20}
    overrides:
      - id: zero_at_zero
        when: {score: x, le: 0}
        grade: 差
        reason: {zh: 算为零, en: arithmetic at zero}
      - id: full_y
        when: {score: y, ge: 40}
        cap: {node: z, score: 19.99}
        reason: {zh: "不适用满分，余{before}到{after}", en: "capped {before} to {after}"}
      - id: rate_hundred
        when: {any: [{rate: y.flag, eq: 100}, {rate: y.cond, eq: 0}]}
        zero: z.pick
        reason: {zh: 率边界, en: rate edge}
      - id: total_rate
        when: {all: [{rate: total, ge: 0}, {rate: total, le: 100}, {score: total, ne: 50}]}
        cap: {node: total, score: 99.99}
        reason: {zh: "总分{before}到{after}", en: "total {before} to {after}"}
      - id: after_cap
        when: {rate: z, lt: 100}
        grade: 中
        reason: {zh: 余被压, en: rest capped}
    """
)

BASE = {"a": "3", "b": "7", "c": "-2.5", "k": 2, "u": "4", "pick": "good", "only.na": "5"}
DERIVED = ("d.prod", "d.quot", "d.r0", "d.r15", "d.min", "d.max", "d.abs", "d.na")
NODES = ("x", "x.bands", "x.checks", "y", "y.cond", "y.flag", "z", "z.pick", "total")

#: Decimals a caller may send (at most 15 digits and 15 places, below 10^15), at the edges.
EDGE_DECIMALS = ["100000000000000", "99999999999999.9", "999999999999999", "-999999999999999",
                 "0.000000000000001", "-0.000000000000001", "123456789012345", "0.123456789012345",
                 "31622776.6016838", "-31622776.6016838", "0", "-0", "0.0", "1", "-1", "3", "0.3", "-5.5",
                 "0.5", "-0.5", "1.5", "2.5", "99999999.9999999", "0.00000001"]


@st.composite
def caller_decimal(draw) -> str:
    """A decimal within the fact checker's limits, as the text a caller sends."""
    if draw(st.booleans()):
        return draw(st.sampled_from(EDGE_DECIMALS))
    digits = draw(st.integers(1, 15))
    places = draw(st.integers(0, min(15, digits)))
    number = draw(st.integers(0, 10 ** digits - 1))
    value = Decimal(number).scaleb(-places) * draw(st.sampled_from([1, -1]))
    return format(value, "f")


def _short(value: object) -> str:
    """A case or result for a failure message, cut short (some values are 70,000 characters)."""
    return repr(value)[:400]


def _fails(cases: list[dict], allowed: set[str]) -> list[str]:
    return [_short((c["value"], r)) for c, r in zip(cases, run_cases(cases)) if r["outcome"] not in allowed]


def _request(facts: dict, language: str = "zh", ignore_unknown: bool = False, pack: str = BOUNDARY_PACK) -> dict:
    return case("request", "", {"pack": pack, "facts": facts, "language": language, "ignore_unknown": ignore_unknown})


def _derived_refusal_problems(result: dict) -> list[str]:
    """A refusal of valid facts may only name derived values that cannot be computed, with
    the facts they are computed from."""
    problems = []
    for fact, description in result.get("violations", []):
        if fact not in DERIVED or not ("computed from" in description or "divides by" in description):
            problems.append(f"{fact}: {description}")
    return problems


# --- derived values at the edges of the engine's limits ------------------------------


def test_derived_values_at_the_limits_are_refused_naming_their_facts_or_decided_as_the_reference():
    big, tiny = "100000000000000", "0.000000000000001"
    facts = [
        {"a": big, "b": big},                         # 10^28: beyond the engine
        {"a": "99999999999999.9", "b": "10"},         # 999999999999999: at the bound
        {"a": "31622776.6016838", "b": "31622776.6016838"},  # just below 10^15
        {"a": tiny, "b": big},                        # 10^-29: rounds to 0 at 15 places
        {"a": tiny, "b": tiny},                       # quotient 1, product 10^-30 → 0
        {"a": "1", "b": "3"},                         # 0.333… cut to 15 places
        {"a": "2", "b": "3", "c": "0.123456789012345"},
        {"a": "-2.5", "b": "1", "c": "-999999999999999"},  # round half up of negatives, abs of a big gap
        {"a": "999999999999999", "b": "-999999999999999", "c": "999999999999999"},
        {"a": "0", "b": "0"},                         # 0 ÷ 0
        {"a": "5", "b": "-0"},                        # ÷ −0
        {"a": "123456789012345", "b": "0.1"},         # a quotient of 16 digits
        {"a": "0.1", "b": "123456789012345"},         # 8.1e-16: 0 at 15 places
        {"a": "-0.000000000000001", "b": "0.5"},
    ]
    cases = [_request({**BASE, "c": "0", **f}, language) for f in facts for language in ("zh", "en")]
    results = run_cases(cases)
    wrong = [_short((c["value"], r)) for c, r in zip(cases, results)
             if r["outcome"] not in ("equal", "input error") or _derived_refusal_problems(r)]
    assert not wrong, wrong
    by_row = results[::2]
    assert [v[0] for v in by_row[0]["violations"]] == ["d.prod"] and "(computed from a and b)" in by_row[0]["violations"][0][1]
    assert "d.prod" in [v[0] for v in by_row[2]["violations"]]  # 1000000000000000.42…: just past the bound
    assert [by_row[i]["outcome"] for i in (1, 3, 4, 5, 12, 13)] == ["equal"] * 6
    assert by_row[9]["violations"] == [["d.quot", "divides by b, which is 0"]]  # 0 ÷ 0
    assert by_row[10]["violations"] == [["d.quot", "divides by b, which is 0"]]  # ÷ −0


@settings(max_examples=8 * SCALE, **_SETTINGS)
@given(st.lists(st.tuples(caller_decimal(), caller_decimal(), caller_decimal(), st.sampled_from(["zh", "en"])),
                min_size=40, max_size=40))
def test_any_decimals_give_a_refusal_naming_derived_values_or_the_reference_result(rows):
    cases = [_request({**BASE, "a": a, "b": b, "c": c}, language) for a, b, c, language in rows]
    results = run_cases(cases)
    wrong = [_short((c["value"], r)) for c, r in zip(cases, results)
             if r["outcome"] not in ("equal", "input error") or _derived_refusal_problems(r)]
    assert not wrong, wrong


# --- choices, texts and names --------------------------------------------------------

CHOICES = ["good", "odd_one", "e", "z9", "好", "🙂", "smile", "〇", "zero", 'odd "one"', "“引号”\\反斜杠 \u202e",
           "", " ", "good ", " good", "GOOD", "Good", "goods", "好 ", "odd_one\u0000", "\u0000", "\ud800", "🙂🙂",
           "x" * 5000, "x" * 70_000, "good" + "\u200b", "ｇｏｏｄ", "e\n", "null", "true", "0"]
ODD_VALUES = [None, True, False, 0, 1, 1.5, float("nan"), [], {}, ["good"], {"good": 1}, -1e308]


@settings(max_examples=6 * SCALE, **_SETTINGS)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(CHOICES), st.sampled_from(ODD_VALUES), st.text(max_size=30)),
                          st.sampled_from(["zh", "en"]), st.booleans()), min_size=40, max_size=40))
def test_choice_values_are_codes_or_input_errors_and_decided_as_the_reference(rows):
    cases = [_request({**BASE, "pick": pick}, language, ignore) for pick, language, ignore in rows]
    assert not _fails(cases, {"equal", "input error"})


def test_every_choice_code_and_label_scores_as_the_reference():
    picks = ["good", "odd_one", "e", "z9", "好", "🙂", "smile", "〇", "zero", 'odd "one"', "“引号”\\反斜杠 \u202e"]
    cases = [_request({**BASE, "pick": p}, language) for p in picks for language in ("zh", "en")]
    results = run_cases(cases)
    assert [r["outcome"] for r in results] == ["equal"] * len(cases), results
    # z9 scores nothing on z.pick: the total drops by 20 × 100 ÷ 100
    assert len({r["score"] for r in results}) > 1


TEXTS = ["", " ", "理由", "x" * 5000, "x" * 5001, "质" * 5000, "🙂" * 5000, "\ud800" * 100, "\u0000", "a\u202eb",
         "abc" + "x" * 65_536, "\\" * 3000, '"' * 3000]


def test_texts_and_hostile_names_are_input_errors_or_the_reference_result():
    cases = []
    for text in TEXTS:
        for flag in (True, False):
            cases.append(_request({**BASE, "na.flag": flag, "na.reason": text}))
    for extra in ({"d.prod": "1"}, {"@score:x": "40"}, {"@rate:total": "100"}, {"d": {"quot": "2"}},
                  {"na": {"flag": True, "reason": "嵌套"}, "na.flag": False}, {"pick ": "good"}, {"pik": "good"},
                  {"only": {"na": "1"}, "only.na": "2"}, {"a.b": "1"}, {"": "x"}, {"k": 0, "kk": 1}):
        for ignore in (True, False):
            cases.append(_request({**BASE, **extra}, "en", ignore))
    results = run_cases(cases)
    assert all(r["outcome"] in ("equal", "input error") for r in results), \
        [_short((c["value"], r)) for c, r in zip(cases, results) if r["outcome"] not in ("equal", "input error")]
    # the derived value's name and the node values are no facts a caller may send
    assert all(r["outcome"] == "input error" for r in results[2 * len(TEXTS) + 1:2 * len(TEXTS) + 8:2])
    # a text longer than a text may have is refused, read by a rule or not
    long_reasons = [r for text, r in zip([t for t in TEXTS for _ in (0, 1)], results) if len(text) > 5000]
    assert long_reasons and all(r["outcome"] == "input error" and "more than the 5,000" in r["violations"][0][1]
                                for r in long_reasons)


# --- deferred inputs and comparisons that cannot be computed ------------------------


def test_inputs_only_not_applicable_leaves_read_may_be_left_out_and_their_placeholders_decide_nothing():
    without = {k: v for k, v in BASE.items() if k not in ("only.na", "u")}
    rows = [
        ({**without, "na.flag": True, "na.reason": "无此项"}, "equal"),
        ({**without, "na.flag": True, "na.reason": ""}, "input error"),   # a flag needs its reason
        ({**without, "na.flag": False}, "input error"),                   # applicable: the inputs are needed
        (without, "input error"),                                         # the flag's default: applicable
        ({**without, "na.flag": True, "na.reason": "无此项", "k": 0}, "equal"),  # and y.cond N/A: y wholly N/A
        ({**BASE, "u": "0", "na.flag": True, "na.reason": "无此项"}, "equal"),  # d.na divides by 0, unread
        ({**BASE, "u": "0"}, "input error"),                              # …read: refused naming u
        ({**without, "only.na": "999999999999999", "u": "0.000000000000001", "na.flag": True, "na.reason": "r"},
         "equal"),                                                        # d.na beyond the engine, unread
        ({**BASE, "only.na": "999999999999999", "u": "0.000000000000001"}, "input error"),
        ({**without, "na.flag": True, "na.reason": "r", "k": 0, "a": "0", "b": "0"}, "input error"),  # d.quot 0 ÷ 0
        ({**BASE, "k": 0}, "equal"),                                      # y.cond N/A: its rules divide by 0
        ({**BASE, "k": 0, "a": "-999999999999999", "b": "1", "c": "0"}, "equal"),
        ({**BASE, "k": 0, "na.flag": True, "na.reason": "r", "pick": "z9"}, "equal"),
        ({**BASE, "k": 1, "a": "-999999999999999", "b": "1", "c": "0"}, "equal"),
    ]
    missing_flag = {k: v for k, v in without.items() if k != "k"}       # the N/A deciding fact left out too
    rows.append((missing_flag, "input error"))
    rows.append(({**missing_flag, "na.flag": True, "na.reason": "r"}, "input error"))
    cases = [_request(facts, language) for facts, _ in rows for language in ("zh", "en")]
    results = run_cases(cases)
    wrong = [_short((facts, want, r)) for (facts, want), r in zip([row for row in rows for _ in (0, 1)], results)
             if r["outcome"] != want]
    assert not wrong, wrong
    by_row = results[::2]
    assert {v[0] for v in by_row[2]["violations"]} == {"only.na", "u"}
    assert [v[0] for v in by_row[6]["violations"]] == ["d.na"] and "divides by u" in by_row[6]["violations"][0][1]
    assert by_row[4]["not_applicable"] == ["y", "y.cond", "y.flag"]
    assert "y.cond" in by_row[10]["not_applicable"] and "k" in {v[0] for v in by_row[14]["violations"]}


# --- node values read by overrides ----------------------------------------------------

NODE_EDGES = [Decimal(v) for v in ("0", "0.00", "0.01", "19.99", "20", "20.00", "39.99", "40", "40.00",
                                   "50", "59.99", "60", "99.99", "100", "100.00", "-0", "-0.01")]


def _values(node_values: dict[str, Decimal], derived: dict[str, Decimal]) -> dict:
    values: dict[str, object] = {"a": Decimal(3), "b": Decimal(7), "c": Decimal("-2.5"), "k": 2, "u": Decimal(4),
                                 "pick": "good", "na.flag": False, "na.reason": "", "only.na": Decimal(5)}
    values.update({name: Decimal(0) for name in DERIVED})
    values.update(derived)
    for node in NODES:
        values[f"@score:{node}"] = node_values.get(f"@score:{node}", Decimal("10"))
        values[f"@rate:{node}"] = node_values.get(f"@rate:{node}", Decimal("50"))
    return values


@settings(max_examples=6 * SCALE, **_SETTINGS)
@given(st.lists(st.tuples(
    st.dictionaries(st.sampled_from([f"{p}{n}" for p in ("@score:", "@rate:") for n in NODES]),
                    st.sampled_from(NODE_EDGES), max_size=6),
    st.dictionaries(st.sampled_from(DERIVED), st.one_of(
        st.sampled_from([Decimal(e) for e in EDGE_DECIMALS]),
        st.sampled_from([Decimal("1E+28"), Decimal("1E-29"), Decimal("0.3333333333333333333"), Decimal("NaN"),
                         Decimal("-Infinity"), Decimal("1E+15"), Decimal("-1E+15")]),
        st.decimals(allow_nan=False, allow_infinity=False, places=15, min_value=-10 ** 14, max_value=10 ** 14)),
        max_size=4),
    st.sampled_from(["good", "odd_one", "e", "z9", "", "x" * 70_000, "good" + "x" * 65_532, "\u0000", "\ud800",
                     'odd "one"']),
), min_size=40, max_size=40))
def test_node_values_derived_values_and_codes_reaching_the_matchers_are_refused_or_decided_as_the_reference(rows):
    cases = [case("matchers", "", {"pack": BOUNDARY_PACK, "values": {**_values(nodes, derived), "pick": pick}})
             for nodes, derived, pick in rows]
    results = run_cases(cases)
    wrong = [_short((c["value"], r)) for c, r in zip(cases, results) if r["outcome"] not in ("equal", "refused")]
    assert not wrong, wrong[:3]
    # node values within the limits are never refused
    for (nodes, derived, pick), r in zip(rows, results):
        if not derived and len(pick) < 1000:
            assert r["outcome"] == "equal", _short((nodes, pick, r))


@pytest.mark.parametrize("treatment", ["rescale", "redistribute"])
def test_overrides_at_node_value_edges_with_not_applicable_nodes_decide_as_the_reference(treatment):
    """Scores at 0 and at the weight, rates at 0 and 100, with either or both N/A leaves,
    under either treatment of a not-applicable leaf's weight."""
    pack = BOUNDARY_PACK.replace("treatment: rescale", f"treatment: {treatment}")
    rows = []
    for na in ({}, {"k": 0}, {"na.flag": True, "na.reason": "r"}, {"k": 0, "na.flag": True, "na.reason": "r"}):
        for edges in ({}, {"only.na": "4"}, {"only.na": "0"}, {"only.na": "-1"}, {"a": "-1", "b": "0.5"},
                      {"a": "999999999999999", "b": "1"}, {"pick": "z9"}, {"pick": "e", "a": "0"}, {"a": "-2.5", "b": "0.4"}):
            rows.append({**BASE, "c": "0", **na, **edges})
    cases = [_request(facts, language, pack=pack) for facts in rows for language in ("zh", "en")]
    results = run_cases(cases)
    assert all(r["outcome"] == "equal" for r in results), \
        [_short((facts, r)) for facts, r in zip([f for f in rows for _ in (0, 1)], results) if r["outcome"] != "equal"]
    fired = {o for r in results for o in r["overrides"]}
    assert {"override#full_y", "override#rate_hundred", "override#total_rate", "override#after_cap"} <= fired


# --- the bundled framework pack --------------------------------------------------------


def _framework_facts() -> dict:
    path = FRAMEWORK / "cases" / "excellent.yaml"
    return load_case(path.read_text(encoding="utf-8"), str(path)).facts


def test_framework_deferred_inputs_with_and_without_the_deciding_facts():
    base = _framework_facts()
    rows = []
    for drop_cost in (False, True):
        for drop_ecology in (False, True):
            for target in (True, False, None):
                for flag in (True, False, None):
                    facts = copy.deepcopy(base)
                    if drop_cost:
                        facts["cost"].pop("budget", None)
                        facts["cost"].pop("actual", None)
                    if drop_ecology:
                        facts["benefit"].pop("ecology", None)
                    if target is None:
                        facts["cost"].pop("target_set", None)
                    else:
                        facts["cost"]["target_set"] = target
                    if flag is None:
                        facts["benefit"].pop("ecology_not_applicable", None)
                    else:
                        facts["benefit"]["ecology_not_applicable"] = flag
                        facts["benefit"]["ecology_not_applicable_reason"] = "培训类项目" if flag else ""
                    rows.append(facts)
    zero_cost = copy.deepcopy(base)
    zero_cost["cost"].update(budget="0", actual="0", target_set=False)
    rows.append(zero_cost)
    rows.append({**copy.deepcopy(zero_cost), "cost": {**zero_cost["cost"], "target_set": True}})
    cases = [_request(facts, language, ignore, FRAMEWORK_PACK) for facts in rows
             for language, ignore in (("zh", False), ("en", True))]
    results = run_cases(cases)
    assert all(r["outcome"] in ("equal", "input error") for r in results), \
        [_short(r) for r in results if r["outcome"] not in ("equal", "input error")]
    assert {r["outcome"] for r in results} == {"equal", "input error"}
    assert results[-4]["outcome"] == "equal" and results[-2]["outcome"] == "input error"


# --- texts the engine would compare only in part --------------------------------------


def test_a_rule_text_longer_than_the_engine_compares_is_refused_with_the_pack():
    def pack(constant: str) -> str:
        return textwrap.dedent(f"""
            schema: jixiao.pack/v1
            id: long-text
            version: 1.0.0
            title: 长文本
            framework: test
            total_weight: 10
            grades: [{{grade: 优, min: 90}}, {{grade: 差, min: 0}}]
            facts:
              - {{name: t, type: text, label: 文}}
            indicators:
              - {{id: a, name: 甲, weight: 10, children: [{{id: a.b, name: 乙, weight: 10, scoring: {{method: all_or_nothing, pass: {{fact: t, eq: "{constant}"}}, reason: 不同}}}}]}}
            """)
    too_long, longest = run_cases([case("pack", "", {"pack": pack("abc" + "x" * 65_536), "facts": {"t": "abc"}}),
                                   case("pack", "", {"pack": pack("x" * 4_999), "facts": {"t": "x" * 4_999}})])
    assert too_long["outcome"] == "pack refused" and "longer than the rule engine compares" in too_long["detail"]
    assert (longest["outcome"], longest.get("score")) == ("equal", "10.00")
