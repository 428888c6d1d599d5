"""The one module that talks to durable-rules, through its C module only.

durable-rules decides which of a pack's rules fire; nothing else in Jixiao imports it.
It is used the way it was measured to be safe:

- never `Host` or `durable.lang` (background threads that crash under load);
- one evaluation = one session id from a fixed pool, one `assert_facts` with one fact
  carrying an explicit id and a marker attribute that a marker rule always matches (so
  at least one action runs before `delete_state`), actions drained synchronously with
  `start_action_for_state` / `complete_and_start_action`, then `delete_state`;
- every number reaches the engine in positional notation within `decimals.ENGINE_LIMITS`
  (its JSON reader stops a number at an exponent and then reads garbage); the fact
  checker refuses other values, and this adapter refuses them again (`UnsafeValue`)
  without calling the engine. Within those limits a double orders values exactly as
  Decimal does, so comparisons with constants and other facts are decided exactly;
- arithmetic is never done by the engine (it computes in doubles, and int ÷ int in
  integers): for a comparison with an arithmetic right side, the adapter computes in
  Decimal, as the reference evaluator does, the sign of left − right and asserts it as
  an attribute of its own, which the engine compares with 0;
- the engine's limits are checked when compiling (`_plan`): a fact can never make more
  alpha nodes pending at once than the engine's stack holds (`ENGINE_STACK`, counted on
  a copy of the network the engine builds), no engine rule has more `$and`/`$or` than
  `CONNECTIVES_PER_RULE`, no fact more than `MAX_ATTRIBUTES` attributes, and no fact
  starts more than `ACTIONS_PER_RULESET` actions (the engine runs a rule's action once per
  way its condition holds). A rule too big
  for one ruleset is split over several engine rules when its top level is an `any`;
  what cannot be split is refused with a PackError naming the rule;
- values are type-checked before they reach the engine (it compares strings loosely with
  numbers), and every fact carries every attribute its ruleset reads;
- a text is compared by the engine only up to its length mod 65,536 bytes (it keeps the
  length in 16 bits), so no text longer than `ENGINE_TEXT_BYTES` as JSON reaches it: the
  fact checker refuses longer texts (`facts.TEXT_MAX`), a rule's longer text constant is
  refused with the pack, and this adapter refuses either again (`UnsafeValue`);
- one lock per process: the C code holds the GIL anyway, so threads gain nothing;
- an engine error retires the rulesets (they are rebuilt on next use), and the input that
  caused it is remembered (`FAILURES_REMEMBERED`): the same input is refused without
  calling the engine again, because each failing call leaks the engine's memory (about
  90 KB, retired or not).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Callable, Iterable

import durable_rules_engine as _engine

from ..core.evaluation.conditions import ArithmeticError_, comparisons, condition_refs, operand_value
from ..core.decimals import ENGINE_BOUND, ENGINE_LIMITS, engine_problem, positional
from ..core.errors import PackError, PackProblem
from ..core.pack.model import AllOf, AnyOf, Arithmetic, Compare, Condition, FactRef, FactType, Pack
from ..core.evaluation.compiler import Matcher, Rule
from . import containment

#: Alpha nodes the engine keeps pending at once while it matches one fact (its stack).
#: Measured: an `any` of 63 true comparisons plus the marker rule passes, 64 fail with
#: error 303; so do 63 and 64 one-comparison rules.
ENGINE_STACK = 64
#: Actions one fact may start in a ruleset, the marker's included. The engine runs a
#: rule's action once per way its condition holds (an `any` of 63 true parts: 63 times,
#: an `all` of four `any`s of 8: 4,096 times, ~5 µs each), so this bounds the time a
#: fact costs; rules are spread over rulesets to stay within it.
ACTIONS_PER_RULESET = 64
#: `$and`/`$or` per engine rule: each takes two of the rule's 31 expression slots
#: (measured: 15 nested connectives are created, 16 fail with error 113).
CONNECTIVES_PER_RULE = 15
#: Attributes per fact: the engine fails at about 251.
MAX_ATTRIBUTES = 240
#: Session ids: hashed to 32 bits by the engine; these 1,024 were checked not to collide.
SID_POOL = 1024
#: Inputs that made the engine fail, refused without calling it again (per matcher).
FAILURES_REMEMBERED = 1024
#: Bytes of a text's JSON form (quotes aside) the engine compares whole. Measured: a text
#: of 65,536 bytes or more compared as its first (length mod 65,536) bytes, so "abc" and
#: "abc" followed by 65,536 "x" were equal, and a 16 MB text killed the process.
ENGINE_TEXT_BYTES = 65_535

_MARKER_RULE = "_eval"
_MARKER = -1  # the marker rule's index among the fired rules
_SIGN = object()  # with an attribute name, the key of a computed sign among the values
_OPS = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
#: A sign (of left − right, compared with 0) that makes a comparison false, for each
#: operator: asserted when the right side cannot be computed (a division by 0).
_FALSE_SIGN = {"eq": 1, "ne": 0, "lt": 0, "le": 1, "gt": 0, "ge": -1}
_ruleset_names = itertools.count()
_lock = threading.Lock()


class EngineError(RuntimeError):
    """durable-rules failed in a way it should not, or was about to be given an input it
    failed on before."""


class UnsafeValue(EngineError):
    """A value outside what the engine is proven to read; the engine was not called.

    The fact checker refuses such values as input errors first, so this means a bug."""


# --- numbers and JSON as the engine reads them ----------------------------------------


def value_text(value: object) -> str:
    """A value as the engine's JSON reader reads it correctly, or UnsafeValue: a number
    (`number_text`), a boolean or a text. Nothing else."""
    kind = type(value)
    if kind is Decimal or kind is int:
        return number_text(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is str:
        return _text(value)  # type: ignore[arg-type]
    raise UnsafeValue(f"refused to give the rule engine a {kind.__name__}")


def _text(value: str) -> str:
    """A text as JSON (ASCII, so one byte per character), or UnsafeValue when the engine
    would compare only part of it."""
    text = json.dumps(value)
    if len(text) - 2 > ENGINE_TEXT_BYTES:
        raise UnsafeValue(f"refused to give the rule engine a text of {len(text) - 2} bytes as JSON "
                          f"(it compares at most {ENGINE_TEXT_BYTES})")
    return text


def number_text(value: object) -> str:
    """A Decimal or int within the engine's limits in positional notation, or UnsafeValue.

    A short `str` of a Decimal is one already: at most 15 characters and no exponent is at
    most 15 digits, 14 places, below 10^15 (this runs for every number of every evaluation).
    """
    kind = type(value)
    if kind is Decimal:
        text = str(value)
        if len(text) <= 15 and "E" not in text and value.is_finite():  # type: ignore[union-attr]
            return text
        problem = engine_problem(value)  # type: ignore[arg-type]
        if problem is not None:
            raise UnsafeValue(f"refused to give the rule engine a number that {problem} "
                              f"(it reads exactly only {ENGINE_LIMITS})")
        return positional(value)  # type: ignore[arg-type]
    if kind is int:
        if not -ENGINE_BOUND < value < ENGINE_BOUND:  # type: ignore[operator]
            raise UnsafeValue("refused to give the rule engine an integer of 10^15 or more in magnitude")
        return int.__repr__(value)  # type: ignore[arg-type]
    raise UnsafeValue(f"refused to give the rule engine a {kind.__name__} where it compares numbers")


def boolean_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise UnsafeValue(f"refused to give the rule engine a {type(value).__name__} where it compares booleans")


def string_text(value: object) -> str:
    if type(value) is not str:
        raise UnsafeValue(f"refused to give the rule engine a {type(value).__name__} where it compares texts")
    return _text(value)


#: How a fact's value is written, by the fact's type: the engine compares a text with a
#: number loosely, so each attribute takes only its own kind of value.
WRITERS = {FactType.DECIMAL: number_text, FactType.INTEGER: number_text,
           FactType.BOOLEAN: boolean_text, FactType.TEXT: string_text, FactType.CHOICE: string_text}

Field = tuple[object, str, Callable[[object], str]]  # (key among the values, '"attribute": ', writer)


def fact_json(fields: tuple[Field, ...], values: dict[str, object], sid: str) -> str:
    """The one-fact list asserted for an evaluation."""
    return fact_body(fields, values) + f', "id": "0", "sid": "{sid}", "_eval": 1}}]'


def fact_body(fields: tuple[Field, ...], values: dict[str, object]) -> str:
    """The fact's JSON up to its id, sid and marker: what depends on the request."""
    return "[{" + ", ".join([prefix + write(values[ref]) for ref, prefix, write in fields])


class _Raw(str):
    """JSON text already written (an engine expression), placed as it is by `_dump`."""


def _dump(value: object) -> str:
    """JSON for a ruleset definition: numbers through `value_text` (never an exponent)."""
    if type(value) is _Raw:
        return str.__str__(value)  # type: ignore[arg-type]
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return value_text(value)


# --- conditions as engine expressions, and the network the engine builds of them -------
#
# An expression is ("cmp", attribute, operator, right side's JSON) or ("and"|"or", parts).


def _expression(condition: Condition, attributes: dict[str, str], signs: dict[Compare, str]) -> tuple:
    """A Not-free condition as an engine expression: nested all/any of the same kind
    flattened, repeats and one-part all/any dropped (fewer connectives, same meaning)."""
    if isinstance(condition, Compare):
        if isinstance(condition.operand, Arithmetic):
            return ("cmp", signs[condition], _OPS[condition.op], "0")
        attr = attributes[condition.fact.name]
        if isinstance(condition.operand, FactRef):
            return ("cmp", attr, _OPS[condition.op], _dump({"$m": attributes[condition.operand.name]}))
        return ("cmp", attr, _OPS[condition.op], _constant_text(condition.operand))
    if isinstance(condition, (AllOf, AnyOf)):
        kind = "and" if isinstance(condition, AllOf) else "or"
        parts: list[tuple] = []
        for part in condition.conditions:
            expression = _expression(part, attributes, signs)
            parts.extend(expression[1] if expression[0] == kind else (expression,))
        parts = list(dict.fromkeys(parts))
        if not parts:
            raise ValueError(f"an empty {'all' if kind == 'and' else 'any'} cannot be given to the rule engine")
        return parts[0] if len(parts) == 1 else (kind, tuple(parts))
    raise TypeError(f"conditions reaching the engine contain no Not, got {type(condition).__name__}")


def _constant_text(value: object) -> str:
    """A rule's constant, one text per value (90, 90.0 and 90.00 are all "90"): the engine
    shares a comparison node between rules exactly when the constants are equal, and the
    network model (`_Network`) must share the same ones."""
    if type(value) is str and len(json.dumps(value)) - 2 > ENGINE_TEXT_BYTES:
        raise ValueError(f"a text constant of {len(value)} characters is longer than the rule engine compares "
                         f"({ENGINE_TEXT_BYTES} bytes written as JSON)")
    text = value_text(value)  # UnsafeValue beyond the engine's limits
    return positional(value) if type(value) is Decimal else text  # type: ignore[arg-type]


def _expression_json(expression: tuple) -> str:
    if expression[0] == "cmp":
        _, attr, op, right = expression
        return f'{{"{op}": {{"{attr}": {right}}}}}'
    return f'{{"${expression[0]}": [' + ", ".join(_expression_json(e) for e in expression[1]) + "]}"


def _activations(expression: tuple) -> int:
    """How many times at most the engine runs the rule's action for one fact: once per way
    the expression holds (an `any` adds its parts' ways, an `all` multiplies them)."""
    if expression[0] == "cmp":
        return 1
    counts = [_activations(e) for e in expression[1]]
    if expression[0] == "or":
        return sum(counts)
    product = 1
    for count in counts:
        product *= count
    return product


def _connectives(expression: tuple) -> int:
    if expression[0] == "cmp":
        return 0
    return 1 + sum(_connectives(e) for e in expression[1])


_MARKER_EXPRESSION = ("cmp", _MARKER_RULE, "$ex", "1")


class _Network:
    """The alpha network durable-rules builds for a ruleset (rete.c `createAlpha`), kept
    only to bound how many nodes one fact can leave pending on the engine's stack.

    A comparison with a constant is a node shared with an identical one under the same
    parent (equal attribute, operator and constant), one with another attribute is not; an `and`
    chains its parts; an `or` adds a join node that each part's last node links to. While
    matching, each node pushes every child that matches; the bound assumes all match.
    """

    def __init__(self) -> None:
        self.children: list[list[int]] = [[]]  # node 0 is the root
        self.shared: list[dict[tuple, int]] = [{}]

    def copy(self) -> "_Network":
        net = _Network()
        net.children = [list(c) for c in self.children]
        net.shared = [dict(s) for s in self.shared]
        return net

    def _node(self) -> int:
        self.children.append([])
        self.shared.append({})
        return len(self.children) - 1

    def add(self, expression: tuple, parent: int = 0) -> int:
        """Add one rule's expression under `parent`; the node its rule hangs from."""
        kind = expression[0]
        if kind == "cmp":
            # A comparison with another attribute is never shared: the engine stores each
            # reference's name anew and compares the stored copies' offsets.
            node = self.shared[parent].get(expression) if not expression[3].startswith('{"$m"') else None
            if node is None:
                node = self._node()
                self.shared[parent][expression] = node
                self.children[parent].append(node)
            return node
        if kind == "and":
            for part in expression[1]:
                parent = self.add(part, parent)
            return parent
        join = self._node()
        for part in expression[1]:
            self.children[self.add(part, parent)].append(join)
        return join

    def stack(self) -> int:
        """The most nodes pending at once: a node that pushes k children leaves k - 1 of
        them pending while the first is followed, so pending(n) = k + max(0, max over the
        children of pending(child) - 1); computed bottom-up, without recursion."""
        pending: dict[int, int] = {}
        todo = [(0, False)]
        while todo:
            node, ready = todo.pop()
            if node in pending:
                continue
            children = self.children[node]
            if ready or not children:
                deepest = max((pending[c] for c in children), default=0)
                pending[node] = len(children) + max(0, deepest - 1)
                continue
            todo.append((node, True))
            todo.extend((c, False) for c in children if c not in pending)
        return pending[0]


def _fits(expression: tuple) -> bool:
    """Whether one engine rule of this expression, with the marker rule, fits a ruleset."""
    if _connectives(expression) > CONNECTIVES_PER_RULE or _activations(expression) >= ACTIONS_PER_RULESET:
        return False
    net = _Network()
    net.add(_MARKER_EXPRESSION)
    net.add(expression)
    return net.stack() <= ENGINE_STACK


def _pieces(rule: Rule, expression: tuple) -> list[tuple]:
    """The engine rules that stand for `rule`: itself, or its top-level `any` in groups."""
    if _fits(expression):
        return [expression]
    if expression[0] != "or":
        raise _too_big(rule, expression)
    groups: list[list[tuple]] = []
    for part in expression[1]:
        if not _fits(part):
            raise _too_big(rule, part)
        if groups and _fits(("or", tuple(groups[-1] + [part]))):
            groups[-1].append(part)
        else:
            groups.append([part])
    return [group[0] if len(group) == 1 else ("or", tuple(group)) for group in groups]


def _too_big(rule: Rule, expression: tuple) -> PackError:
    return PackError([PackProblem("", (
        f"rule {rule.rule_id} is too big for the rule engine: "
        f"{'a part of its condition' if expression[0] != 'or' else 'its condition'} needs "
        f"{_connectives(expression)} nested all/any (at most {CONNECTIVES_PER_RULE}), or would leave more "
        f"than {ENGINE_STACK - 1} comparisons pending at once (an all of comparisons costs one, an any "
        f"one per part), or holds in {_activations(expression)} ways at once (at most "
        f"{ACTIONS_PER_RULESET - 1}: an all of anys multiplies their sizes); split it into several checks, "
        f"or move a wide any to the top of the condition"))])


def _attribute_names(expressions: Iterable[tuple]) -> list[str]:
    names: list[str] = []
    for expression in expressions:
        if expression[0] == "cmp":
            names.append(expression[1])
            if expression[3].startswith('{"$m"'):
                names.append(json.loads(expression[3])["$m"])
        else:
            names.extend(_attribute_names(expression[1]))
    return names


def _signs(rules: tuple[Rule, ...]) -> dict[Compare, str]:
    """An attribute name for each distinct comparison with an arithmetic right side."""
    found = dict.fromkeys(compare for rule in rules for compare in comparisons(rule.condition)
                          if isinstance(compare.operand, Arithmetic))
    return {compare: f"s{i}" for i, compare in enumerate(found)}


# --- the matcher -----------------------------------------------------------------------


class _Chunk:
    """One durable-rules ruleset holding some of a pack's engine rules."""

    def __init__(self, label: str, rules: list[tuple[str, int, tuple]],
                 fields: dict[str, tuple[str, Callable[[object], str]]]):
        self.label = label
        self.rule_by_name = {name: index for name, index, _ in rules}
        self.rule_by_name[_MARKER_RULE] = _MARKER
        used = set(_attribute_names(expression for _, _, expression in rules))
        #: (value name, `"attribute": `, writer) for every attribute the chunk's rules read
        self.fields = tuple((ref, json.dumps(attr) + ": ", write)
                            for attr, (ref, write) in fields.items() if attr in used)
        self.definition = _dump({
            **{name: {"all": [{"m": _Raw(_expression_json(expression))}]} for name, _, expression in rules},
            _MARKER_RULE: {"all": [{"m": _Raw(_expression_json(_MARKER_EXPRESSION))}]},
        })
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


def _plan(rules: tuple[Rule, ...], attributes: dict[str, str],
          signs: dict[Compare, str]) -> list[list[tuple[str, int, tuple]]]:
    """The engine rules, (name, rule index, expression), grouped into rulesets that no fact
    can break: each within ENGINE_STACK, ACTIONS_PER_RULESET and MAX_ATTRIBUTES (see the
    module's docstring)."""
    chunks: list[list[tuple[str, int, tuple]]] = []
    current: list[tuple[str, int, tuple]] = []
    net = _Network()
    net.add(_MARKER_EXPRESSION)
    names: set[str] = set()
    actions = 1  # the marker's
    for rule in rules:
        try:
            expression = _expression(rule.condition, attributes, signs)
        except ValueError as exc:
            raise PackError([PackProblem("", f"rule {rule.rule_id}: {exc}")]) from None
        for k, piece in enumerate(_pieces(rule, expression)):
            name = f"r{rule.index}" if k == 0 else f"r{rule.index}/{k}"
            piece_names = set(_attribute_names([piece]))
            piece_actions = _activations(piece)
            trial = net.copy()
            trial.add(piece)
            if current and (trial.stack() > ENGINE_STACK or len(names | piece_names) > MAX_ATTRIBUTES
                            or actions + piece_actions > ACTIONS_PER_RULESET):
                chunks.append(current)
                current, names, actions = [], set(), 1
                trial = _Network()
                trial.add(_MARKER_EXPRESSION)
                trial.add(piece)
            if len(piece_names) > MAX_ATTRIBUTES:
                raise PackError([PackProblem("", f"rule {rule.rule_id} reads {len(piece_names)} facts; "
                                                 f"the rule engine allows {MAX_ATTRIBUTES} per ruleset")])
            current.append((name, rule.index, piece))
            names |= piece_names
            actions += piece_actions
            net = trial
    if current or not chunks:
        chunks.append(current)
    return chunks


class DurableMatcher:
    """Decides which rules fire with durable-rules' C engine."""

    def __init__(self, pack: Pack, rules: tuple[Rule, ...]):
        refs = list(dict.fromkeys(ref for rule in rules for ref in condition_refs(rule.condition)))
        attributes = {ref: f"a{i}" for i, ref in enumerate(refs)}
        signs = _signs(rules)
        #: (sign attribute, left fact, right operand) of each comparison the adapter computes
        # A sign's value is kept under a key no fact name can be: (_SIGN, attribute).
        self._signs = tuple(((_SIGN, attr), compare.fact.name, compare.operand, _FALSE_SIGN[compare.op])
                            for compare, attr in signs.items())
        fields = {attr: (ref, WRITERS[_fact_type(pack, ref)]) for ref, attr in attributes.items()}
        fields.update({attr: ((_SIGN, attr), number_text) for attr in signs.values()})
        self._chunks = [
            _Chunk(f"{pack.id}@{pack.version}/{i}", chunk, fields)
            for i, chunk in enumerate(_plan(rules, attributes, signs))
        ]
        self._sids = itertools.cycle(range(SID_POOL))
        self._failed: OrderedDict[bytes, str] = OrderedDict()  # digest of a failing input → its error
        with _lock:
            for chunk in self._chunks:
                chunk.open()

    def match(self, values: dict[str, object]) -> frozenset[int]:
        if self._signs:
            values = dict(values)
            for key, fact, operand, false_sign in self._signs:
                try:
                    left, right = values[fact], operand_value(operand, values)
                    values[key] = (left > right) - (left < right)  # type: ignore[index,operator]
                except ArithmeticError_:  # a division by 0: the comparison does not hold, as in conditions.holds
                    values[key] = false_sign
                except (TypeError, ArithmeticError) as exc:  # not numbers, or NaN: the checker lets neither pass
                    raise UnsafeValue(f"refused to compare {fact} with arithmetic: {exc!r}"[:300]) from None
        fired: set[int] = set()
        with _lock:
            sid = str(next(self._sids))
            for chunk in self._chunks:
                fired.update(self._match_chunk(chunk, sid, values))
        fired.discard(_MARKER)
        return frozenset(fired)

    def _match_chunk(self, chunk: _Chunk, sid: str, values: dict[str, object]) -> list[int]:
        """Indices of the chunk's rules that fire; -1, the marker rule, among them."""
        body = fact_body(chunk.fields, values)  # UnsafeValue here: the engine is not called
        facts = body + f', "id": "0", "sid": "{sid}", "_eval": 1}}]'
        if self._failed:
            digest = containment.request_digest(chunk.label, body)
            if digest in self._failed:
                raise EngineError(f"rule engine failed on {chunk.label} with this input before "
                                  f"({self._failed[digest]}); not asked again")
        containment.before_engine(chunk.label, body)  # refuses a request that crashed a server process
        by_name = chunk.rule_by_name
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
        except EngineError as exc:
            self._fail(chunk, body, exc)
            raise
        except Exception as exc:  # any engine fault poisons the ruleset
            error = EngineError(f"rule engine failed on {chunk.label}: {exc!r}")
            self._fail(chunk, body, error)
            raise error from exc
        finally:
            containment.after_engine()
        if _MARKER not in fired:
            error = EngineError(f"rule engine skipped the marker rule on {chunk.label}")
            self._fail(chunk, body, error)
            raise error
        return fired

    def _fail(self, chunk: _Chunk, body: str, error: EngineError) -> None:
        """Retire the rulesets and remember the input, so that it never reaches the engine again."""
        self._retire()
        self._failed[containment.request_digest(chunk.label, body)] = str(error)[:200]
        if len(self._failed) > FAILURES_REMEMBERED:
            self._failed.popitem(last=False)

    def _retire(self) -> None:
        for chunk in self._chunks:
            chunk.close()

    def close(self) -> None:
        with _lock:
            self._retire()


def _fact_type(pack: Pack, ref: str) -> FactType:
    """The type of a value a rule reads: a fact's own (a choice is its option's code, a
    text); a survey option's share, a derived value and a node's score are decimals."""
    kind = pack.value_type(ref)
    if kind is not None and kind is not FactType.SURVEY:
        return kind
    raise PackError([PackProblem("", f"a rule reads '{ref}', which is not a declared fact")])


def durable_matcher(pack: Pack, rules: tuple[Rule, ...]) -> Matcher:
    """MatcherFactory for `compile_pack`."""
    return DurableMatcher(pack, rules)


def _rule_name(message: str) -> str:
    """The fired rule of an action message `{"r12": {"m": {...}}}`, without parsing the fact."""
    if not message.startswith('{"'):
        raise EngineError(f"unexpected action message from the rule engine: {message[:40]!r}")
    return message[2:message.index('"', 2)]


__all__ = ["DurableMatcher", "EngineError", "UnsafeValue", "durable_matcher", "fact_json", "number_text",
           "value_text"]
