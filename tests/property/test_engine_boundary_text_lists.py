"""text_list facts at the engine boundary: an evaluator's observations never reach
durable-rules. Whatever list a caller sends (huge, nested, not texts, 10,000 items), the
request is refused as an input error naming the fact, or evaluated exactly as the plain
reference evaluates it, findings included; and a list put straight into the matchers'
values (the checker bypassed) is not read by them at all.

Cases run in a child process (tests/engine_child.py), all in one batch: a crash of the
engine's C code is a failing case named by its value, not a dead test run.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine_child import case, run_cases
from unit.findings_pack import CLEAN, FINDINGS_PACK

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
                 phases=[Phase.explicit, Phase.reuse, Phase.generate])

#: What a hostile caller may put in a list: texts of every kind, numbers, nothing, nesting.
HOSTILE_ITEMS = ["", " ", "奖金过少", "x" * 5000, "x" * 5001, "🙂" * 5000, "\ud800", "\u0000", "a\u202eb",
                 '"' * 3000, "\\" * 3000, "abc" + "x" * 65_536, 0, -1, 2**70, 1.5, float("nan"), True, None,
                 [], ["nested"], [["deeper", [1]]], {}, {"text": "奖金过少"}]
HOSTILE_LISTS = [
    ["奖金过少"] * 10_000,                       # 10,000 items: refused by its length
    ["奖金过少"] * 20, ["奖金过少"] * 21,          # at and past the default max_items
    ["建议"] * 3, ["建议"] * 4,                    # at and past the pack's max_items: 3
    [HOSTILE_ITEMS],                            # a list inside the list
    [[[[[[[[[[["deep"]]]]]]]]]]],
    *[[item] for item in HOSTILE_ITEMS],
    "奖金过少", 17, None, True, {"0": "奖金过少"},  # not lists at all
]


def _request(problems: object, advice: object = None, language: str = "zh") -> dict:
    facts = copy.deepcopy(CLEAN)
    facts["records"]["a"] = False  # a rule-derived finding too
    facts["evaluation"] = {"problems": problems} if advice is None else {"problems": problems, "advice": advice}
    return case("request", "", {"pack": FINDINGS_PACK, "facts": facts, "language": language})


def _bad(cases: list[dict], results: list[dict]) -> list:
    return [(str(c["value"])[:200], r) for c, r in zip(cases, results) if r["outcome"] not in ("equal", "input error")]


def test_hostile_lists_are_refused_cleanly_or_evaluated_as_the_reference() -> None:
    cases = [_request(value) for value in HOSTILE_LISTS]
    cases += [_request(["奖金过少"], value, "en") for value in HOSTILE_LISTS[3:8]]
    results = run_cases(cases)
    assert not _bad(cases, results)
    by_value = dict(zip(range(len(HOSTILE_LISTS)), results))
    assert by_value[0]["outcome"] == "input error"
    assert by_value[0]["violations"] == [["evaluation.problems", "has 10,000 texts, more than the 20 it may have"]]
    assert by_value[1]["outcome"] == "equal" and by_value[2]["outcome"] == "input error"
    advice = results[len(HOSTILE_LISTS):]
    assert [r["outcome"] for r in advice[:2]] == ["equal", "input error"]  # 3 texts, then 4 of at most 3
    # a nested list, a non-text or a blank item is named by its index
    nested = by_value[5]
    assert nested["outcome"] == "input error" and nested["violations"][0][0] == "evaluation.problems[0]"
    for value, result in zip(HOSTILE_LISTS, results):
        if result["outcome"] == "input error":
            assert all(fact.startswith("evaluation.problems") for fact, _ in result["violations"]), (value, result)


@settings(max_examples=4, **_SETTINGS)
@given(st.lists(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE_ITEMS),
                                   st.integers(), st.floats(), st.none(), st.lists(st.text(max_size=3), max_size=2)),
                         max_size=25), min_size=15, max_size=15))
def test_any_list_is_an_input_error_or_the_reference_result(lists) -> None:
    cases = [_request(value) for value in lists]
    assert not _bad(cases, run_cases(cases))


def test_lists_put_straight_into_the_matchers_are_never_read() -> None:
    from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
    from jixiao.core.pack.loader import load_pack

    pack = load_pack(FINDINGS_PACK)
    values = dict(compile_pack(pack, plain_matcher).checker.check(copy.deepcopy(CLEAN)))
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
    cases = [case("matchers", "", {"pack": FINDINGS_PACK, "values": {**values, "evaluation.problems": value,
                                                                    "evaluation.advice": value}})
             for value in HOSTILE_LISTS[:1] + HOSTILE_LISTS[5:8] + [{"a": [1]}, "text", 2**80]]
    results = run_cases(cases)
    assert [r["outcome"] for r in results] == ["equal"] * len(cases), results


def test_the_engine_adapter_writes_no_text_list_fact() -> None:
    from jixiao.core.evaluation.compiler import compile_pack
    from jixiao.core.pack.loader import load_pack
    from jixiao.engine.durable import durable_matcher

    compiled = compile_pack(load_pack(FINDINGS_PACK), durable_matcher)
    try:
        written = {ref for matcher in (compiled.matcher, *compiled.override_matchers)
                   for chunk in matcher._chunks for ref, _prefix, _write in chunk.fields}
        assert written and not written & {"evaluation.problems", "evaluation.advice"}
    finally:
        compiled.close()
