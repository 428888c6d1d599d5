"""The pack's rules as a zen-engine decision (JDM), generated from the compiled pack.

Nothing here is written by hand per pack: `to_jdm` walks `CompiledPack.rules` (each a
Not-free tree of Compare / AllOf / AnyOf over fact references and literals) and emits
one decision graph, input → decision table → output. The table has hit policy
"collect" and one row per rule; the row's single input cell is the rule's condition as
a zen expression (a column without a field evaluates its cells as whole expressions),
its output cell the rule's id. Evaluating it returns the list of fired rule ids: the
same question `CompiledPack.matcher.match` answers, asked of another engine.

Facts are passed as a flat context `{"f0": …, "f1": …}` (one key per fact a rule reads,
like the durable-rules adapter's `a0`, `a1`, …), so dotted names, survey options and
words such as `no` never meet zen's expression parser. Text literals travel in the
context too (`s0`, `s1`, …): zen's string literals have no escapes, so a quote inside one
could not be written. Decimals travel in JSON text, so zen (which computes in decimal)
reads the same digits the caller sent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Mapping

from jixiao.core.evaluation.compiler import CompiledPack, Rule
from jixiao.core.evaluation.conditions import comparisons, condition_refs
from jixiao.core.pack.model import AllOf, AnyOf, Arithmetic, Compare, Condition, FactRef, Operand

_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def attribute_names(rules: tuple[Rule, ...]) -> dict[str, str]:
    """Fact name → context key, in the order rules first read them."""
    refs = dict.fromkeys(ref for rule in rules for ref in condition_refs(rule.condition))
    return {ref: f"f{i}" for i, ref in enumerate(refs)}


def _texts(condition: Condition):
    for compare in comparisons(condition):
        yield from _operand_texts(compare.operand)


def _operand_texts(operand: Operand):
    if isinstance(operand, str):
        yield operand
    elif isinstance(operand, Arithmetic):
        yield from _operand_texts(operand.left)
        yield from _operand_texts(operand.right)


def text_constants(rules: tuple[Rule, ...]) -> dict[str, str]:
    """Text literal → context key."""
    texts = dict.fromkeys(text for rule in rules for text in _texts(rule.condition))
    return {text: f"s{i}" for i, text in enumerate(texts)}


class _Names(dict):
    """Fact names and text literals → context keys, both in one lookup."""

    def __init__(self, rules: tuple[Rule, ...]):
        super().__init__(attribute_names(rules))
        self.texts = text_constants(rules)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return f"({text})" if text.startswith("-") else text
    if isinstance(value, int):
        return f"({value})" if value < 0 else str(value)
    raise TypeError(f"no zen literal for {type(value).__name__}")


def _operand(operand: Operand, names: _Names) -> str:
    if isinstance(operand, str):
        return names.texts[operand]
    if isinstance(operand, FactRef):
        return names[operand.name]
    if isinstance(operand, Arithmetic):
        return f"({_operand(operand.left, names)} {_ARITHMETIC[operand.op]} {_operand(operand.right, names)})"
    return _literal(operand)


def expression(condition: Condition, names: _Names) -> str:
    """A Not-free condition as one zen boolean expression."""
    if isinstance(condition, Compare):
        return f"{names[condition.fact.name]} {_OPS[condition.op]} {_operand(condition.operand, names)}"
    if isinstance(condition, (AllOf, AnyOf)):
        joiner = " and " if isinstance(condition, AllOf) else " or "
        return "(" + joiner.join(expression(c, names) for c in condition.conditions) + ")"
    raise TypeError(f"conditions reaching an engine contain no Not, got {type(condition).__name__}")


def to_jdm(compiled: CompiledPack) -> dict:
    """The decision graph: input → decision table (collect, a row per rule) → output."""
    names = _Names(compiled.rules)
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": "condition", "name": "condition"}],
        "outputs": [{"id": "rule", "name": "rule", "field": "rule"}],
        "rules": [
            {"_id": f"r{rule.index}", "_description": rule.rule_id,
             "condition": expression(rule.condition, names), "rule": json.dumps(rule.rule_id)}
            for rule in compiled.rules
        ],
    }
    return {
        "nodes": [
            {"id": "facts", "type": "inputNode", "name": "facts", "position": {"x": 0, "y": 0}},
            {"id": "rules", "type": "decisionTableNode", "name": f"{compiled.pack.ref} rules",
             "position": {"x": 300, "y": 0}, "content": table},
            {"id": "fired", "type": "outputNode", "name": "fired", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "facts-rules", "sourceId": "facts", "targetId": "rules", "type": "edge"},
            {"id": "rules-fired", "sourceId": "rules", "targetId": "fired", "type": "edge"},
        ],
    }


_JSON = {bool: lambda v: "true" if v else "false", Decimal: lambda v: format(v, "f"), int: str}


def _json(value: object) -> str:
    """One checked value as JSON text; decimals digit for digit."""
    write = _JSON.get(type(value))
    return write(value) if write else json.dumps(value, ensure_ascii=False)


class ZenMatcher:
    """`CompiledPack.matcher`'s question, answered by zen-engine from the generated JDM."""

    def __init__(self, compiled: CompiledPack):
        import zen  # the bench extra; imported here so that the rest of bench/ works without it

        self.jdm = to_jdm(compiled)
        self._pairs = tuple(attribute_names(compiled.rules).items())
        constants = text_constants(compiled.rules)
        self._constants = "".join(f',"{key}":{_json(text)}' for text, key in constants.items())
        self._index = {rule.rule_id: rule.index for rule in compiled.rules}
        self._decision = zen.ZenEngine().create_decision(json.dumps(self.jdm, ensure_ascii=False))

    def context(self, values: Mapping[str, object]) -> str:
        """The checked values the rules read, as zen's JSON context (decimals digit for digit)."""
        return "{" + ",".join([f'"{key}":{_json(values[ref])}' for ref, key in self._pairs]) + self._constants + "}"

    def fired(self, values: Mapping[str, object]) -> list[str]:
        """The ids of the rules that fire, in table order."""
        return [row["rule"] for row in self._decision.evaluate(self.context(values))["result"]]

    def match(self, values: Mapping[str, object]) -> frozenset[int]:
        """Like `Matcher.match`: the indexes of the rules that fire."""
        return frozenset(self._index[rule_id] for rule_id in self.fired(values))


def check_equivalence(compiled: CompiledPack, fact_sets: list[Mapping], zen: ZenMatcher | None = None) -> int:
    """Assert zen fires exactly the pack matcher's rules on each fact set; return how many fired in all."""
    from jixiao.core.evaluation.facts import check_facts

    zen = zen or ZenMatcher(compiled)
    fired_total = 0
    for number, facts in enumerate(fact_sets):
        values = check_facts(compiled.pack.facts, facts)
        expected = compiled.matcher.match(values)
        got = zen.match(values)
        if got != expected:
            ids = {rule.index: rule.rule_id for rule in compiled.rules}
            raise AssertionError(
                f"fact set {number}: zen-engine fired {sorted(ids[i] for i in got - expected)} too many and "
                f"{sorted(ids[i] for i in expected - got)} too few")
        fired_total += len(expected)
    return fired_total
