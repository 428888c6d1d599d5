"""The one module that talks to durable-rules, through its C module only.

durable-rules decides which of a pack's rules fire; nothing else in Jixiao imports it.
It is used the way `docs/DURABLE_RULES.md` (shared) found safe:

- never `Host` or `durable.lang` (background threads that crash under load);
- one evaluation = one session id from a fixed pool, one `assert_facts` with one fact
  carrying an explicit id and a marker attribute that a marker rule always matches (so
  at least one action runs before `delete_state`), actions drained synchronously with
  `start_action_for_state` / `complete_and_start_action`, then `delete_state`;
- the engine's limits are checked when compiling: rules are split over several rulesets
  so that no fact can make more than `RULES_PER_RULESET` conditions true at once and no
  fact carries more than `MAX_ATTRIBUTES` attributes;
- values are type-checked before they reach the engine (it compares strings loosely with
  numbers); every fact carries every attribute its ruleset reads, and every attribute an
  arithmetic expression reads is also guarded with `$ex` (the engine can read a stale
  value for an attribute missing from an expression). Comparisons go unguarded: a guard
  costs a condition per attribute (about a fifth of the engine's time on the bundled
  pack) and can never be false on the facts we assert;
- one lock per process: the C code holds the GIL anyway, so threads gain nothing;
- any unexpected engine error retires the rulesets (they are rebuilt on next use).
"""

from __future__ import annotations

import itertools
import json
import threading
from decimal import Decimal
from typing import Iterable

import durable_rules_engine as _engine

from ..core.conditions import comparisons, condition_refs
from ..core.errors import PackError, PackProblem
from ..core.model import AllOf, AnyOf, Arithmetic, Compare, Condition, FactRef, Operand, Pack
from ..core.compiler import Matcher, Rule
from . import containment

#: Rules one fact may match at once: 63 plus the marker rule make the engine's 64
#: (measured: 64 rules and the marker, all true, fail with error 303).
RULES_PER_RULESET = 63
#: Attributes per fact: the engine fails at about 251.
MAX_ATTRIBUTES = 240
#: Session ids: hashed to 32 bits by the engine; these 1,024 were checked not to collide.
SID_POOL = 1024

_MARKER_RULE = "_eval"
_MARKER = -1  # the marker rule's index among the fired rules
_OPS = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_ARITHMETIC = {"add": "$add", "sub": "$sub", "mul": "$mul", "div": "$div"}
_ruleset_names = itertools.count()
_lock = threading.Lock()


class EngineError(RuntimeError):
    """durable-rules failed in a way it should not; the rulesets have been retired."""


class _Chunk:
    """One durable-rules ruleset holding some of a pack's rules."""

    def __init__(self, label: str, rules: list[Rule], attributes: dict[str, str]):
        self.label = label
        self.rule_by_name = {f"r{rule.index}": rule.index for rule in rules}
        self.rule_by_name[_MARKER_RULE] = _MARKER
        self.attributes = {ref: attributes[ref] for ref in _refs(rules)}
        self.fields = tuple((ref, json.dumps(attr) + ": ") for ref, attr in self.attributes.items())
        self.definition = json.dumps(
            {
                **{f"r{rule.index}": {"all": [{"m": _condition(rule.condition, attributes)}]} for rule in rules},
                _MARKER_RULE: {"all": [{"m": {"$ex": {_MARKER_RULE: 1}}}]},
            }
        )
        self.handle: int | None = None

    def open(self) -> int:
        if self.handle is None:
            self.handle = _engine.create_ruleset(f"{self.label}#{next(_ruleset_names)}", self.definition)
        return self.handle

    def close(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            try:
                _engine.delete_ruleset(handle)
            except Exception:  # noqa: BLE001 - a poisoned ruleset may refuse; it is dropped either way
                pass


class DurableMatcher:
    """Decides which rules fire with durable-rules' C engine."""

    def __init__(self, pack: Pack, rules: tuple[Rule, ...]):
        refs = list(dict.fromkeys(_refs(rules)))
        attributes = {ref: f"a{i}" for i, ref in enumerate(refs)}
        self._chunks = []
        for start in range(0, max(len(rules), 1), RULES_PER_RULESET):
            chunk_rules = list(rules[start:start + RULES_PER_RULESET])
            chunk = _Chunk(f"{pack.id}@{pack.version}/{start // RULES_PER_RULESET}", chunk_rules, attributes)
            if len(chunk.attributes) > MAX_ATTRIBUTES:
                raise PackError([PackProblem(
                    "", f"rules {start}-{start + len(chunk_rules) - 1} read {len(chunk.attributes)} facts; "
                        f"the rule engine allows {MAX_ATTRIBUTES} per ruleset")])
            self._chunks.append(chunk)
        self._sids = itertools.cycle(range(SID_POOL))
        with _lock:
            for chunk in self._chunks:
                chunk.open()

    def match(self, values: dict[str, object]) -> frozenset[int]:
        fired: set[int] = set()
        with _lock:
            sid = str(next(self._sids))
            for chunk in self._chunks:
                fired.update(self._match_chunk(chunk, sid, values))
        fired.discard(_MARKER)
        return frozenset(fired)

    def _match_chunk(self, chunk: _Chunk, sid: str, values: dict[str, object]) -> list[int]:
        """Indices of the chunk's rules that fire; -1, the marker rule, among them."""
        facts = fact_json(chunk.fields, values, sid)
        by_name = chunk.rule_by_name
        containment.before_engine(chunk.label, facts, sid)  # refuses a request that crashed a worker
        try:
            handle = chunk.open()
            code, state = _engine.assert_facts(handle, facts)
            if code not in (0, 1, 2):
                raise EngineError(f"assert_facts returned {code}")
            fired: list[int] = []
            started = _engine.start_action_for_state(handle, state)
            message = started[1] if started else None
            while message:
                fired.append(by_name[_rule_name(message)])  # an unknown name: KeyError, below
                message = _engine.complete_and_start_action(handle, state)
            _engine.delete_state(handle, sid)
        except EngineError:
            self._retire()
            raise
        except Exception as exc:  # any engine fault poisons the ruleset (DURABLE_RULES.md)
            self._retire()
            raise EngineError(f"rule engine failed on {chunk.label}: {exc!r}") from exc
        finally:
            containment.after_engine()
        if _MARKER not in fired:
            self._retire()
            raise EngineError(f"rule engine skipped the marker rule on {chunk.label}")
        return fired

    def _retire(self) -> None:
        for chunk in self._chunks:
            chunk.close()

    def close(self) -> None:
        with _lock:
            self._retire()


def durable_matcher(pack: Pack, rules: tuple[Rule, ...]) -> Matcher:
    """MatcherFactory for `compile_pack`."""
    return DurableMatcher(pack, rules)


def _rule_name(message: str) -> str:
    """The fired rule of an action message `{"r12": {"m": {...}}}`, without parsing the fact."""
    if not message.startswith('{"'):
        raise EngineError(f"unexpected action message from the rule engine: {message[:40]!r}")
    return message[2:message.index('"', 2)]


def _refs(rules: Iterable[Rule]) -> list[str]:
    return [ref for rule in rules for ref in condition_refs(rule.condition)]


def fact_json(fields: tuple[tuple[str, str], ...], values: dict[str, object], sid: str) -> str:
    """The one-fact list asserted for an evaluation: JSON that reads as `json.dumps` of
    the fact with every Decimal turned into a float (`_json_value`).

    `fields` are (value name, `"attribute": `) pairs. A decimal with a point and no
    exponent travels as its own digits: the engine reads numbers with C's `atof`, which
    rounds them to the same double as `float()`, and formatting a Decimal is far cheaper
    than converting it (this function runs on every evaluation).
    """
    parts = [prefix + _json_text(values[ref]) for ref, prefix in fields]
    return "[{" + ", ".join(parts) + f', "id": "0", "sid": "{sid}", "_eval": 1}}]'


def _json_text(value: object) -> str:
    kind = type(value)
    if kind is Decimal:
        text = str(value)
        if "." in text and "E" not in text:
            return text
        number = float(value)  # type: ignore[arg-type]
        return float.__repr__(number) if number - number == 0 else json.dumps(number)  # json: Infinity
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    return json.dumps(_json_value(value))


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _operand(operand: Operand, attributes: dict[str, str]) -> object:
    if isinstance(operand, FactRef):
        return {"$m": attributes[operand.name]}
    if isinstance(operand, Arithmetic):
        return {_ARITHMETIC[operand.op]: {"$l": _operand(operand.left, attributes),
                                          "$r": _operand(operand.right, attributes)}}
    return _json_value(operand)


def _condition(condition: Condition, attributes: dict[str, str]) -> dict:
    """Translate a Not-free condition to durable-rules JSON; `$ex` guards where arithmetic reads."""
    body = _translate(condition, attributes)
    guarded = dict.fromkeys(ref for compare in comparisons(condition) if isinstance(compare.operand, Arithmetic)
                            for ref in condition_refs(compare))
    if not guarded:
        return body
    return {"$and": [{"$ex": {attributes[ref]: 1}} for ref in guarded] + [body]}


def _translate(condition: Condition, attributes: dict[str, str]) -> dict:
    if isinstance(condition, Compare):
        attr = attributes[condition.fact.name]
        return {_OPS[condition.op]: {attr: _operand(condition.operand, attributes)}}
    if isinstance(condition, AllOf):
        return {"$and": [_translate(c, attributes) for c in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"$or": [_translate(c, attributes) for c in condition.conditions]}
    raise TypeError(f"conditions reaching the engine contain no Not, got {type(condition).__name__}")


__all__ = ["DurableMatcher", "EngineError", "durable_matcher"]
