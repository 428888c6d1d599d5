"""text_list facts: a list of texts an evaluator sends (their observations), checked whole
and item by item, with each bad item named by its index."""

from __future__ import annotations

import json

import pytest

from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.facts import TEXT_MAX, FactChecker, coerce
from jixiao.core.pack.model import FactSpec, FactType, Text

from .findings_pack import CLEAN, compiled_findings_pack

SPEC = FactSpec("evaluation.observed_problems", FactType.TEXT_LIST, Text("其他问题"), max_items=3)


def violations(raw: object, spec: FactSpec = SPEC) -> list[str]:
    value, found = coerce(spec, raw)
    assert (value is None) == bool(found)
    return [f"{v.fact}: {v.description}" for v in found]


def test_a_list_of_texts_is_kept_as_a_tuple_in_order() -> None:
    assert coerce(SPEC, ["奖金过少", "宣传不足"]) == (("奖金过少", "宣传不足"), [])
    assert coerce(SPEC, []) == ((), [])


@pytest.mark.parametrize("raw, expected", [
    ("奖金过少", "evaluation.observed_problems: expected a list of texts (a JSON array of strings), got '奖金过少'"),
    ({"a": "b"}, "evaluation.observed_problems: expected a list of texts (a JSON array of strings), got an object"),
    (3, "evaluation.observed_problems: expected a list of texts (a JSON array of strings), got 3"),
    (["a", "b", "c", "d"], "evaluation.observed_problems: has 4 texts, more than the 3 it may have"),
    (["a", 7], "evaluation.observed_problems[1]: expected a text, got 7"),
    (["a", ["b"]], "evaluation.observed_problems[1]: expected a text, got list"),
    (["a", {"b": 1}], "evaluation.observed_problems[1]: expected a text, got an object"),
    (["a", None], "evaluation.observed_problems[1]: expected a text, got null"),
    (["a", "  \n"], "evaluation.observed_problems[1]: is blank: each text of the list says something "
                    "(leave an empty one out)"),
    (["x" * (TEXT_MAX + 1)], f"evaluation.observed_problems[0]: is {TEXT_MAX + 1:,} characters long, more than "
                             f"the {TEXT_MAX:,} a text may have"),
])
def test_each_wrong_shape_is_named_with_the_item_index(raw, expected) -> None:
    assert violations(raw) == [expected]


def test_bad_items_are_listed_up_to_five_then_counted() -> None:
    spec = FactSpec("obs", FactType.TEXT_LIST, Text("其他问题"), max_items=100)
    found = violations([1] * 8, spec)
    assert found[:5] == [f"obs[{i}]: expected a text, got 1" for i in range(5)]
    assert found[5:] == ["obs: and 3 more texts of the list are refused"]


def test_a_huge_list_is_refused_by_its_length_before_any_item_is_read() -> None:
    class Exploding(list):
        def __iter__(self):
            raise AssertionError("items read")
    assert violations(Exploding(["a"] * 10_000)) == [
        "evaluation.observed_problems: has 10,000 texts, more than the 3 it may have"]


def test_caller_text_in_a_message_is_truncated() -> None:
    [message] = violations("长" * 10_000)
    assert len(message) < 400 and "(10002 characters)" in message


def test_the_fast_path_gives_what_coerce_gives() -> None:
    checker = FactChecker((SPEC,))
    for raw in (["a", "b"], [], ["a"] * 3, ["a"] * 4, ["a", ""], ["a", 1], "a", ("a", "b"), ["x" * TEXT_MAX]):
        value, found = coerce(SPEC, raw)
        checked = checker.check_request({"evaluation": {"observed_problems": raw}})
        assert checked.values.get(SPEC.name) == value
        assert [str(v) for v in checked.violations] == [str(v) for v in found]


def test_the_default_when_the_fact_is_left_out_is_no_texts() -> None:
    compiled = compiled_findings_pack()
    evaluation = evaluate(compiled, CLEAN)
    assert evaluation.findings == () and evaluation.recommendations == ()


def test_an_evaluation_refuses_bad_observations_naming_the_fact_and_item() -> None:
    compiled = compiled_findings_pack()
    with pytest.raises(FactsError) as info:
        evaluate(compiled, {**CLEAN, "evaluation": {"problems": ["一", ""], "advice": ["a", "b", "c", "d"]}})
    assert [v.fact for v in info.value.violations] == ["evaluation.problems[1]", "evaluation.advice"]


def test_a_json_request_and_a_struct_request_carry_a_list_alike() -> None:
    from google.protobuf import struct_pb2

    from jixiao.api import convert

    facts = {**CLEAN, "evaluation": {"problems": ["奖金过少", "宣传不足"]}}
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(facts)))
    decoded = convert.facts_from_struct(struct_pb2.Struct.FromString(message.SerializeToString()))
    assert decoded["evaluation"]["problems"] == ["奖金过少", "宣传不足"]
    compiled = compiled_findings_pack()
    assert evaluate(compiled, decoded).findings == evaluate(compiled, facts).findings
    assert [f.text for f in evaluate(compiled, decoded).findings] == ["奖金过少", "宣传不足"]


def test_a_yaml_or_json_facts_file_keeps_a_list_of_texts(tmp_path) -> None:
    from jixiao_cli.facts_file import read_facts

    (tmp_path / "f.yaml").write_text("evaluation:\n  problems:\n    - 奖金过少\n    - \"no\"\n", encoding="utf-8")
    (tmp_path / "f.json").write_text('{"evaluation": {"problems": ["奖金过少", "no"]}}', encoding="utf-8")
    assert read_facts(tmp_path / "f.yaml") == read_facts(tmp_path / "f.json") == {
        "evaluation": {"problems": ["奖金过少", "no"]}}
    assert coerce(SPEC, read_facts(tmp_path / "f.yaml")["evaluation"]["problems"]) == (("奖金过少", "no"), [])


def test_the_publish_gates_edge_requests_try_no_texts_the_most_and_one_more() -> None:
    from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
    from jixiao.core.evaluation.edge_facts import check_edge_facts, edge_facts
    from jixiao.engine.durable import durable_matcher

    from .findings_pack import findings_pack

    pack = findings_pack()
    engine, reference = compile_pack(pack, durable_matcher), compile_pack(pack, plain_matcher)
    try:
        requests = edge_facts(pack, engine.rules)
        lists = {r.name: r.facts["evaluation.advice"] for r in requests if r.name.startswith("evaluation.advice")}
        assert {name: len(value) for name, value in lists.items()} == {
            "evaluation.advice: no texts": 0, "evaluation.advice: 3 texts (its most)": 3,
            "evaluation.advice: 4 texts (refused: too many)": 4}
        assert check_edge_facts(engine, reference, requests) == []
    finally:
        engine.close()
