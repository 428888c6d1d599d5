"""The regression corpus (engine_crashes.json): every input that ever crashed the service
or was read as something else, run through the fact check and durable-rules in a child
process. None may crash; each must give the outcome the corpus says."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine_child import case, run_cases

CORPUS = json.loads((Path(__file__).parent / "engine_crashes.json").read_text(encoding="utf-8"))
SLOTS = {"decimal": "x", "integer": "n", "text": "t"}


def _input(raw: object) -> object:
    """An input as the corpus writes it: a float as {"float": text}, a long text as
    {"prefix": …, "repeat": …, "times": n}."""
    if isinstance(raw, dict) and "repeat" in raw:
        return raw["prefix"] + raw["repeat"] * raw["times"]
    return float(raw["float"]) if isinstance(raw, dict) else raw


def booleans_pack(count: int) -> str:
    """An all_or_nothing leaf over `count` boolean facts, all of which must be true."""
    facts = "\n".join(f"  - {{name: f.c{i}, type: boolean, label: 检查{i}}}" for i in range(count))
    passes = ", ".join(f"{{fact: f.c{i}, eq: true}}" for i in range(count))
    return _pack(facts, f"method: all_or_nothing, pass: {{all: [{passes}]}}, reason: 未全部满足")


def nested_pack(kind: str, depth: int) -> str:
    facts = "  - {name: n, type: integer, label: 数}"
    if kind == "nested_not":  # an even depth: the same meaning as the comparison itself
        condition = "{not: " * depth + "{fact: n, gt: 0}" + "}" * depth
    else:
        operand = "{add: [" * depth + "{fact: n}" + ", 1]}" * depth
        condition = f"{{fact: n, lt: {operand}}}"
    return _pack(facts, f"method: all_or_nothing, pass: {condition}, reason: 未满足")


def _pack(facts: str, scoring: str) -> str:
    return (
        "schema: jixiao.pack/v1\nid: corpus\nversion: 1.0.0\ntitle: 回归\nframework: test\ntotal_weight: 10\n"
        "grades: [{grade: 优, min: 90}, {grade: 差, min: 0}]\n"
        f"facts:\n{facts}\n"
        "indicators:\n"
        "  - {id: a, name: 甲, weight: 10, children: [{id: a.b, name: 乙, weight: 10, scoring: {"
        + scoring + "}}]}\n"
    )


def _pack_case(entry: dict) -> dict:
    if entry["pack"] == "all_or_nothing_booleans":
        facts = {"f": {f"c{i}": entry["value"] for i in range(entry["booleans"])}}
        return case("pack", "", {"pack": booleans_pack(entry["booleans"]), "facts": facts})
    return case("pack", "", {"pack": nested_pack(entry["pack"], entry["depth"]), "facts": {"n": 1}})


def test_no_input_of_the_corpus_crashes_and_each_gives_its_outcome():
    entries = CORPUS["facts"] + CORPUS["packs"]
    cases = [case("evaluate", SLOTS[e["fact"]], _input(e["input"])) for e in CORPUS["facts"]]
    cases += [_pack_case(e) for e in CORPUS["packs"]]
    results = run_cases(cases)
    wrong = [(e, r) for e, r in zip(entries, results) if r["outcome"] != e["now"]]
    assert not wrong, "\n".join(f"{e.get('input', e.get('pack'))}: expected {e['now']}, got {r}" for e, r in wrong)


def test_values_that_the_engine_misread_are_refused_by_the_adapter_before_it_is_called():
    """Given straight to the durable-rules matcher (the fact checker bypassed), each value of
    the corpus's "adapter" section is refused (UnsafeValue) or decided as the plain matcher."""
    entries = CORPUS["adapter"]
    results = run_cases([case("adapter", e["slot"], _input(e["input"])) for e in entries])
    wrong = [(str(e["input"])[:80], r) for e, r in zip(entries, results) if r["outcome"] != e["now"]]
    assert not wrong, wrong


def test_refused_packs_say_why_and_name_the_limit():
    cases = [_pack_case(e) for e in CORPUS["packs"] if e["now"] == "pack refused"]
    for result in run_cases(cases):
        assert "limit" in result["detail"] and "levels deep" in result["detail"], result


def test_the_seventy_booleans_fire_as_the_reference_says():
    all_false = next(e for e in CORPUS["packs"] if e["pack"] == "all_or_nothing_booleans" and not e["value"])
    all_true = next(e for e in CORPUS["packs"] if e["pack"] == "all_or_nothing_booleans" and e["value"])
    false_result, true_result = run_cases([_pack_case(all_false), _pack_case(all_true)])
    assert (Decimal(false_result["score"]), Decimal(true_result["score"])) == (0, 10)


@pytest.mark.parametrize("entry", CORPUS["engine_texts"], ids=lambda e: e["text"])
def test_the_texts_that_crashed_the_engine_still_crash_it_raw_and_the_adapter_never_writes_them(entry):
    """Given to durable-rules directly they kill the child (so the harness does see a
    crash); no value the fact checker accepts is written that way."""
    from jixiao.engine.durable import UnsafeValue, value_text

    (result,) = run_cases([case("raw", "", entry["text"])])
    assert result["outcome"] == "crash", result
    numbers = [e["input"] for e in CORPUS["facts"] if e["now"] == "equal" and e["fact"] != "text"]
    for raw in numbers + ["1E-7", "1E+14", "-0"]:
        value = Decimal(str(raw).replace(",", "").translate(str.maketrans("０１２３４５６７８９．", "0123456789.")))
        try:
            assert value_text(value) != entry["text"]
        except UnsafeValue:
            pass
