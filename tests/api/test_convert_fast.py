"""The fast conversions give exactly what the plain ones gave.

`convert.evaluation_bytes` writes the reply in protobuf's wire format by hand and reuses
memoised leaves' encodings; `convert.facts_from_struct` walks the Struct its own way.
Both are held here to straightforward reference conversions (the code they replaced):
byte for byte for replies, value and type for facts.
"""

from __future__ import annotations

import math
import random
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from google.protobuf import struct_pb2

from jixiao.api import convert
from jixiao.core.decimals import fixed2, plain
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.results import Deduction, Evaluation, Finding, NodeResult, OverrideResult
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao.v1 import evaluation_pb2 as pb

# Appended, not prepended: bench/profile.py must not shadow the standard library's profile.
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

from bench_common import case_facts, variants  # noqa: E402

PACK_ID = "quality-district-funding"


# --- the reference conversions -------------------------------------------------------


def reference_evaluation(evaluation: Evaluation) -> pb.Evaluation:
    return pb.Evaluation(
        pack_id=evaluation.pack_id,
        version=evaluation.version,
        digest=evaluation.digest,
        language=convert.language_enum(evaluation.language),
        total_weight="" if evaluation.total_weight is None else plain(evaluation.total_weight),
        score="" if evaluation.score is None else plain(evaluation.score),
        score_rate=fixed2(evaluation.rate),
        grade=evaluation.grade,
        indicators=[reference_indicator(node) for node in evaluation.indicators],
        overrides=[pb.Override(rule_id=o.rule_id, action=o.action, node=o.node, before=o.before, after=o.after,
                               rationale=o.rationale) for o in evaluation.overrides],
        ignored_facts=evaluation.ignored_facts,
        not_applicable_treatment=evaluation.not_applicable_treatment,
        applicable_weight="" if evaluation.applicable_weight is None else plain(evaluation.applicable_weight),
        findings=[reference_finding(f) for f in evaluation.findings],
        recommendations=[reference_finding(f) for f in evaluation.recommendations],
    )


def reference_finding(finding: Finding) -> pb.Finding:
    return pb.Finding(id=finding.id, text=finding.text, dimension=finding.dimension, rule_ids=finding.rule_ids,
                      node_ids=finding.node_ids, observation=finding.observation)


def reference_indicator(node: NodeResult) -> pb.IndicatorScore:
    return pb.IndicatorScore(
        id=node.id,
        name=node.name,
        level=node.level,
        weight=plain(node.weight),
        score=plain(node.score),
        score_rate=fixed2(node.rate),
        grade=node.grade or "",
        method=node.method or "",
        deductions=[pb.Deduction(rule_id=d.rule_id, points=plain(d.points), reason=d.reason)
                    for d in node.deductions],
        rationale=node.rationale,
        children=[reference_indicator(child) for child in node.children],
        effective_weight="" if node.effective_weight is None else plain(node.effective_weight),
        not_applicable=node.not_applicable,
        not_applicable_reason=node.not_applicable_reason,
        overridden_by=node.overridden_by,
    )


def reference_facts(facts: struct_pb2.Struct) -> dict:
    return {key: _reference_value(value) for key, value in facts.fields.items()}


def _reference_value(value: struct_pb2.Value) -> object:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return reference_facts(value.struct_value)
    if kind == "list_value":
        return [_reference_value(item) for item in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


def assert_same_reply(evaluation: Evaluation) -> None:
    try:
        expected = reference_evaluation(evaluation).SerializeToString()
    except InvalidOperation:  # a rate with more digits than the context's precision
        with pytest.raises(InvalidOperation):
            convert.evaluation_bytes(evaluation)
        return
    assert convert.evaluation_bytes(evaluation) == expected
    assert convert.evaluation_message(evaluation).SerializeToString() == expected
    for node in evaluation.nodes():
        assert convert.indicator_score(node).SerializeToString() == reference_indicator(node).SerializeToString()


# --- replies from the bundled packs ---------------------------------------------------


@pytest.fixture(scope="module")
def compiled():
    return load_pack_dir(BUNDLED_PACKS / PACK_ID / "1.0.0").compiled


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_2019_case_gives_the_same_bytes_scored_afresh_and_from_the_leaf_memo(version, language) -> None:
    pack = load_pack_dir(BUNDLED_PACKS / PACK_ID / version).compiled
    convert._leaf_fields.clear()
    first = evaluate(pack, case_facts(), language)
    again = evaluate(pack, case_facts(), language)  # memo hits: the same leaf objects
    assert_same_reply(first)
    assert_same_reply(again)
    assert convert.evaluation_message(again) == reference_evaluation(first)


def test_random_projects_give_the_same_bytes_in_both_languages(compiled) -> None:
    pool = variants(compiled, 150, seed=7)
    for round_ in range(2):  # the second round reuses leaves the first one memoised
        for facts in pool:
            for language in ("zh", "en"):
                assert_same_reply(evaluate(compiled, facts, language))


def test_a_full_leaf_cache_is_emptied_and_refilled_without_changing_any_reply(compiled, monkeypatch) -> None:
    monkeypatch.setattr(convert, "_LEAF_CACHE_ENTRIES", 5)
    monkeypatch.setattr(convert, "_TEXT_CACHE_ENTRIES", 7)
    caches = (convert._leaf_fields, convert._evaluation_heads, convert._node_heads, convert._rule_fields,
              convert._PLAIN)
    for cache in caches:
        cache.clear()
    for facts in variants(compiled, 30, seed=11):
        assert_same_reply(evaluate(compiled, facts))
        assert len(convert._leaf_fields) <= 5 and all(len(cache) <= 7 for cache in caches[1:])


# --- replies from made-up trees: every field's edge ---------------------------------


TEXTS = ["", "a", "0", "决策", "质量强区工作项目经费预算500,000.00元。" * 3, "x" * 127, "x" * 128,
         "é" * 64, "预" * 5462, "z" * 16383, "z" * 16384, "😀 emoji", "tab\tnew\nline", "\x00nul"]
DECIMALS = ["0", "-0", "0.00", "-0.00", "3", "3.00", "2.390", "0.5", "1E+2", "1.0E+3", "-1.50", "7E-7",
            "0.000001", "123456789012345678901234567890.12", "99.995", "1E-20", "100"]


def _decimal(rng: random.Random) -> Decimal:
    if rng.random() < 0.3:
        return Decimal(rng.randint(-100000, 100000)).scaleb(-rng.randint(0, 4))
    return Decimal(rng.choice(DECIMALS))


def _rate(rng: random.Random) -> Decimal:
    choice = rng.random()
    if choice < 0.5:  # as the core gives them: quantized to 2 places
        return Decimal(rng.randint(-100, 10001)).scaleb(-2)
    return _decimal(rng)


def _node(rng: random.Random, depth: int, level: int) -> NodeResult:
    leaf = depth == 0 or rng.random() < 0.3
    return NodeResult(
        id=rng.choice(TEXTS[1:5]) + str(rng.randint(0, 3)),
        name=rng.choice(TEXTS),
        level=rng.choice([level, level, 0, -1, 2**31 - 1, 300]),
        weight=_decimal(rng),
        score=_decimal(rng),
        rate=_rate(rng),
        grade=rng.choice([None, "", "中", "优"]),
        method=rng.choice([None, "", "ratio", "判断"]) if leaf else rng.choice([None, None, "x"]),
        deductions=tuple(Deduction(rng.choice(TEXTS), _decimal(rng), rng.choice(TEXTS))
                         for _ in range(rng.choice([0, 0, 1, 3]))),
        rationale=rng.choice(TEXTS),
        children=() if leaf else tuple(_node(rng, depth - 1, level + 1) for _ in range(rng.randint(1, 4))),
        effective_weight=rng.choice([None, None, _decimal(rng)]),
        not_applicable=rng.random() < 0.2,
        not_applicable_reason=rng.choice(["", "", *TEXTS]),
        overridden_by=tuple(rng.choice(["override#a", "", "override#否决"]) for _ in range(rng.choice([0, 0, 1, 2]))),
    )


def _override(rng: random.Random) -> OverrideResult:
    return OverrideResult(rng.choice(["override#misappropriation", "", "override#x"]),
                          rng.choice(["grade", "cap", "zero", ""]), rng.choice(["total", "effect", ""]),
                          rng.choice(["优", "93.98", "", "0"]), rng.choice(["差", "59.99", "", "0"]), rng.choice(TEXTS))


def _finding(rng: random.Random) -> Finding:
    return Finding(rng.choice(["records_missing", "", "evaluation.problems[3]"]), rng.choice(TEXTS),
                   rng.choice(["", "decision", "过程"]),
                   tuple(rng.choice(["a.b#c", "", "override#x", "a.b"]) for _ in range(rng.choice([0, 1, 3]))),
                   tuple(rng.choice(["a.b", "", "total"]) for _ in range(rng.choice([0, 1, 2]))),
                   rng.random() < 0.3)


def test_made_up_trees_give_the_same_bytes_whatever_their_fields_hold() -> None:
    rng = random.Random(2019)
    shared = [_node(rng, 0, 3) for _ in range(10)]  # leaves reused across evaluations, like memo hits
    for _ in range(300):
        indicators = [_node(rng, rng.randint(0, 3), 1) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.5:
            indicators.append(NodeResult(id="p", name="父", level=1, weight=Decimal(10), score=Decimal(5),
                                         rate=Decimal("50.00"), grade="中",
                                         children=tuple(rng.sample(shared, 3))))
        evaluation = Evaluation(
            pack_id=rng.choice(["p", "", "quality-district-funding"]), version=rng.choice(["1.0.0", ""]),
            digest=rng.choice(["", "ab" * 32]), language=rng.choice(["zh", "en", "fr"]),
            total_weight=_decimal(rng), score=_decimal(rng), rate=_rate(rng), grade=rng.choice(["", "中"]),
            indicators=tuple(indicators),
            overrides=tuple(_override(rng) for _ in range(rng.choice([0, 0, 1, 3]))),
            ignored_facts=tuple(rng.choice(["budget.spnt", "", "键.x" * 50]) for _ in range(rng.choice([0, 0, 2]))),
            not_applicable_treatment=rng.choice(["", "", "rescale", "redistribute"]),
            applicable_weight=rng.choice([None, None, _decimal(rng)]),
            findings=tuple(_finding(rng) for _ in range(rng.choice([0, 0, 1, 4]))),
            recommendations=tuple(_finding(rng) for _ in range(rng.choice([0, 0, 2]))))
        assert_same_reply(evaluation)


def test_a_leaf_is_reused_by_identity_never_by_equality() -> None:
    def leaf(rationale: str) -> NodeResult:
        return NodeResult(id="a.b.c", name="叶", level=3, weight=Decimal(3), score=Decimal("2.39"),
                          rate=Decimal("79.67"), grade=None, method="ratio", rationale=rationale)

    first, twin, other = leaf("一"), leaf("一"), leaf("二")
    assert convert.indicator_score(first) == convert.indicator_score(twin) == reference_indicator(first)
    assert convert.indicator_score(other) == reference_indicator(other)
    for _ in range(3):  # fresh objects, possibly at an address a freed one had
        node = leaf(str(random.random()))
        assert convert.indicator_score(node) == reference_indicator(node)
        del node


# --- numbers as text ------------------------------------------------------------------


def test_decimal_and_rate_texts_are_those_of_plain_and_fixed2() -> None:
    rng = random.Random(5)
    values = [Decimal(text) for text in DECIMALS + ["NaN", "-Infinity", "Infinity", "1.23E+5", "-0.001",
                                                     "12.345", "1.5E-7", "0.10", "1000.00"]]
    values += [_decimal(rng) for _ in range(2000)] + [_rate(rng) for _ in range(2000)]
    for value in values:
        assert convert.decimal_text(value) == plain(value), value
        assert convert.decimal_text(value) == plain(value), value  # the second time from the cache
        assert _outcome(convert.rate_text, value) == _outcome(fixed2, value), value
    assert convert.decimal_text(Decimal("sNaN")) == plain(Decimal("sNaN"))
    with pytest.raises(InvalidOperation):  # as fixed2: more digits than the context's precision
        convert.rate_text(Decimal("123456789012345678901234567890.12"))
    assert convert.decimal_text(None) == ""


def _outcome(function, value: Decimal) -> object:
    try:
        return function(value)
    except InvalidOperation as error:  # fixed2 of an infinity, or of more digits than the precision
        return type(error)


# --- facts in -----------------------------------------------------------------------


def _struct(value: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def _same(actual: object, expected: object) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0 here), NaN equal to NaN."""
    if type(actual) is not type(expected):
        return False
    if isinstance(actual, dict):
        return list(actual) == list(expected) and all(_same(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, float) and math.isnan(actual):
        return math.isnan(expected)
    return actual == expected


def test_facts_keep_every_kind_of_value_and_its_type() -> None:
    facts = _struct({
        "budget": {"spent": "398761.00", "approved": 500000, "ratio": 2.5, "neg": -3, "negzero": -0.0},
        "odd": {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "big": 1e300, "tiny": 5e-324},
        "flags": [True, None, False, 1, 1.5, "s", {"in": [[], {}]}, [[1, [2.0]]]],
        "empty": {}, "nothing": None, "": "empty key", "中文键": "值", "t": True, "f": False,
    })
    facts.fields["unset"].CopyFrom(struct_pb2.Value())  # a Value with no kind set reads as None
    expected = reference_facts(facts)
    actual = convert.facts_from_struct(facts)
    assert _same(actual, expected)
    assert actual["unset"] is None and type(actual["budget"]["approved"]) is int
    assert actual["budget"]["negzero"] == 0 and type(actual["budget"]["negzero"]) is int


def test_random_projects_facts_read_as_the_reference_reads_them(compiled) -> None:
    rng = random.Random(3)
    for facts in variants(compiled, 100, seed=3):
        message = _struct(facts)
        assert _same(convert.facts_from_struct(message), reference_facts(message))
        parsed = struct_pb2.Struct.FromString(message.SerializeToString())  # as a server receives it
        assert _same(convert.facts_from_struct(parsed), reference_facts(parsed))
    for _ in range(200):
        message = _struct({"x": _random_json(rng, 4)})
        assert _same(convert.facts_from_struct(message), reference_facts(message))


def _random_json(rng: random.Random, depth: int) -> object:
    choice = rng.randrange(7 if depth else 4)
    if choice == 0:
        return rng.choice([0, -1, 2**53, 3.25, -0.5, float("nan"), 1e16, 123456789.0])
    if choice == 1:
        return rng.choice(["", "3.00", "中", "a" * 300])
    if choice == 2:
        return rng.random() < 0.5
    if choice == 3:
        return None
    if choice in (4, 5):
        return {rng.choice(["a", "b", "c", "", "键"]) + str(i): _random_json(rng, depth - 1)
                for i in range(rng.randint(0, 4))}
    return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))]
