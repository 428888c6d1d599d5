"""Checking a request's facts against a pack's fact schema.

`check_facts` turns the caller's nested object into typed values keyed by fact name
(and by `<survey>.<option>` for each survey share), or raises `FactsError` naming
every violation at once: a caller fixes all of them in one round trip.

`FactChecker` does the same for one pack's schema, prepared once: every request is
checked, so each fact gets a converter for the values callers usually send (a decimal
string, an int, a boolean, a survey object). Anything else, and any value that fails,
goes through `coerce`, which either accepts it (a float, "1,234.5") or names what is
wrong: the fast path never decides that a value is bad.

Numbers have one syntax (`NUMBER_FORMS`, matched whole by `_NUMBER`; Python's Decimal()
is never given the caller's raw text, since it also reads "1_000", " 1", "1e5", "NaN"
and other scripts' digits) and must stay within what the rule engine compares exactly
(`decimals.ENGINE_LIMITS`): anything else is an input error naming the fact.

Facts are strict: `FactChecker.check_request` also names every key of the request that is
no declared fact (with the closest declared name), and a fact sent both nested and flat.
It never raises, so that the evaluator can add the violations only the pack's derived
values, constraints and scoring methods find, and refuse the request once, naming all.
"""

from __future__ import annotations

import difflib
import math
import re
from decimal import Decimal
from typing import Callable, Mapping, NamedTuple

from ..decimals import ENGINE_BOUND, ENGINE_LIMITS, HUNDRED, TOO_LARGE, ZERO, engine_problem, plain
from ..errors import FactsError, FactViolation
from ..identifiers import echo
from ..pack.model import FactSpec, FactType
from ..suggest import did_you_mean

Value = Decimal | int | bool | str | Mapping[str, Decimal] | tuple[str, ...]

_MISSING = object()

TYPE_NAMES = {
    FactType.DECIMAL: "a decimal number such as \"398761.00\"",
    FactType.INTEGER: "an integer",
    FactType.BOOLEAN: "a boolean (true or false)",
    FactType.TEXT: "a text",
    FactType.SURVEY: "an object of option shares in percent",
    FactType.CHOICE: "one of the options",
    FactType.TEXT_LIST: "a list of texts",
}


def expected(spec: FactSpec) -> str:
    """What a value of the fact must be, for messages: its type, or a choice's options."""
    if spec.type is FactType.CHOICE:
        return "one of " + ", ".join(f"{o.label.zh} ({o.key})" for o in spec.options)
    return TYPE_NAMES[spec.type]


def choice_index(spec: FactSpec) -> dict[str, str]:
    """A choice fact's accepted texts → option code: every code, every zh and en label.

    A code wins over another option's label (the loader refuses packs where they clash)."""
    index = spec.__dict__.get("_choice_index")
    if index is None:
        index = {}
        for option in spec.options:
            for label in (option.label.zh, option.label.en):
                if label:
                    index.setdefault(label, option.key)
        index.update({o.key: o.key for o in spec.options})
        object.__setattr__(spec, "_choice_index", index)
    return index


#: The accepted number texts, as the messages show them.
NUMBER_FORMS = ('ASCII digits with an optional sign and decimal point ("-1234.5", "398761.00"), '
                'thousands separated by commas in groups of three ("398,761.00"); '
                'full-width digits and punctuation are read as ASCII ("３９８７６１．００"); '
                'no spaces, exponents, underscores or other scripts\' digits')
SHARE_FORMS = NUMBER_FORMS + '; a share may end in "%" ("27.5%")'
#: The one number syntax (after full-width characters are read as ASCII), matched whole.
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
#: The fast path's subset of it: a plain decimal of at most 15 characters (so always
#: within the engine's limits), recognised without a regular expression (`_plain_decimal`).
_PLAIN_MAX = 15
_DIGITS = "0123456789"
#: Number texts longer than this are refused before they are read.
NUMBER_TEXT_MAX = 64
#: Characters a text fact may have. The rule engine compares a text by the first (length
#: mod 65,536) bytes of its JSON form (it keeps a string's length in 16 bits: "abc" followed
#: by 65,536 "x" compared equal to "abc"); a character takes at most 12 bytes there
#: ("\\ud83d\\ude42"), so 5,000 characters always compare whole.
TEXT_MAX = 5_000
#: Texts a text_list fact holds when its pack says nothing, and the most a pack may allow.
TEXT_LIST_ITEMS = 20
TEXT_LIST_ITEMS_MAX = 100
#: Bad items of one text_list named one by one in a refusal; the rest are counted.
TEXT_LIST_LISTED = 5
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋％", "0123456789.,-+%")
_SYNTAX = object()  # `parse_number`'s answer for a text that is not in the number syntax
_ENGINE_LIMITS_TEXT = f"numbers may have {ENGINE_LIMITS}, so that the rules compare them exactly"


def lookup(facts: Mapping, name: str) -> object:
    """The value at a dotted path, or `_MISSING`. A literal dotted key also matches."""
    if name in facts:
        return facts[name]
    node: object = facts
    for part in name.split("."):
        if not (type(node) is dict or isinstance(node, Mapping)) or part not in node:  # type: ignore[operator]
            return _MISSING
        node = node[part]  # type: ignore[index]
    return node


def _describe(raw: object) -> str:
    if isinstance(raw, str):
        return f"got {echo(repr(raw))}"
    if raw is None:
        return "got null"
    if isinstance(raw, bool):
        return f"got {'true' if raw else 'false'}"
    if isinstance(raw, int) and raw.bit_length() > 64:
        return f"got an integer of {len(str(abs(raw))) if raw.bit_length() < 10_000 else 'thousands of'} digits"
    if isinstance(raw, (int, float, Decimal)):
        return f"got {echo(str(raw))}"
    return f"got {type(raw).__name__ if not isinstance(raw, Mapping) else 'an object'}"


def parse_number(raw: object, share: bool = False) -> object:
    """A number from a caller's value: the Decimal; or why it is refused, a str (beyond the
    engine's limits); or `_SYNTAX` (a text not in the number syntax); or None when the
    value is not a number at all (a boolean, an object).

    Texts follow `NUMBER_FORMS` (with a trailing "%" when `share`); ints and floats are
    taken as they are (a float through its shortest repr). Every number must be within
    the engine's limits (`decimals.engine_problem`).
    """
    kind = type(raw)
    if kind is str:
        text: str = raw  # type: ignore[assignment]
        if len(text) > NUMBER_TEXT_MAX:
            return f"is {len(text)} characters long, more than {NUMBER_TEXT_MAX}"
        if not text.isascii():
            text = text.translate(_FULL_WIDTH)
        if share and text.endswith("%"):
            text = text[:-1]
        if _NUMBER.fullmatch(text) is None:
            return _SYNTAX
        value = Decimal(text.replace(",", ""))
    elif kind is bool:
        return None
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        if not -ENGINE_BOUND < raw < ENGINE_BOUND:
            return TOO_LARGE
        value = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            return "is not a finite number"
        value = Decimal(repr(raw))
    else:
        return None
    problem = engine_problem(value)
    return problem if problem is not None else value


def _number_violation(name: str, expected: str, raw: object, parsed: object, forms: str) -> FactViolation:
    """The violation for a value `parse_number` did not turn into a Decimal."""
    if parsed is None:
        return FactViolation(name, f"expected {expected}, {_describe(raw)}")
    if parsed is _SYNTAX:
        return FactViolation(name, f"expected {expected}, {_describe(raw)}; write {forms}")
    return FactViolation(name, f"{_describe(raw)}, which {parsed}; {_ENGINE_LIMITS_TEXT}")


def coerce(spec: FactSpec, raw: object) -> tuple[Value | None, list[FactViolation]]:
    """Convert one raw value to the fact's type; return the value or the violations."""
    name = spec.name
    wanted = TYPE_NAMES[spec.type]
    if spec.type is FactType.BOOLEAN:
        if raw is True or raw is False:
            return raw, []
        return None, [FactViolation(name, f"expected {wanted}, {_describe(raw)}")]
    if spec.type is FactType.TEXT:
        if isinstance(raw, str):
            if len(raw) > TEXT_MAX:
                return None, [FactViolation(name, f"is {len(raw)} characters long, more than the {TEXT_MAX:,} a text may have")]
            if spec.non_empty and not raw.strip():
                return None, [FactViolation(name, f"must not be empty: write the {spec.label.zh} ({spec.label.en or name})")]
            return raw, []
        return None, [FactViolation(name, f"expected {wanted}, {_describe(raw)}")]
    if spec.type is FactType.CHOICE:
        return _coerce_choice(spec, raw)
    if spec.type is FactType.TEXT_LIST:
        return _coerce_text_list(spec, raw)
    if spec.type is FactType.SURVEY:
        return _coerce_survey(spec, raw)
    number = parse_number(raw)
    if not isinstance(number, Decimal):
        return None, [_number_violation(name, wanted, raw, number, NUMBER_FORMS)]
    if spec.type is FactType.INTEGER:
        if number != number.to_integral_value():
            return None, [FactViolation(name, f"expected {wanted}, {_describe(raw)}")]
        value: Value = int(number)  # type: ignore[arg-type]
    else:
        value = number
    problem = _range_problem(spec, number)  # type: ignore[arg-type]
    if problem:
        return None, [FactViolation(name, problem)]
    return value, []


def _range_problem(spec: FactSpec, number: Decimal) -> str | None:
    lo, hi = spec.minimum, spec.maximum
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        # An unbounded side is open: [0.01, ∞), (-∞, 5].
        low = f"[{plain(lo)}" if lo is not None else "(-∞"
        high = f"{plain(hi)}]" if hi is not None else "∞)"
        bounds = f"{low}, {high}"
        return f"{plain(number)} is out of range {bounds}"
    return None


def _coerce_choice(spec: FactSpec, raw: object) -> tuple[Value | None, list[FactViolation]]:
    """A choice's option code, from its code or exactly one option's zh or en label."""
    index = choice_index(spec)
    if type(raw) is str and raw in index:
        return index[raw], []
    hint = did_you_mean(raw, index) if isinstance(raw, str) else ""
    return None, [FactViolation(spec.name, f"expected {expected(spec)}, {_describe(raw)}{hint}")]


def _coerce_text_list(spec: FactSpec, raw: object) -> tuple[Value | None, list[FactViolation]]:
    """A list of texts (a JSON array of strings): at most the fact's max_items, each a
    non-blank text of at most TEXT_MAX characters; each bad item named by its index."""
    name = spec.name
    if not isinstance(raw, (list, tuple)):
        return None, [FactViolation(name, f"expected {TYPE_NAMES[FactType.TEXT_LIST]} (a JSON array of strings), "
                                          f"{_describe(raw)}")]
    most = spec.max_items or TEXT_LIST_ITEMS
    if len(raw) > most:
        return None, [FactViolation(name, f"has {len(raw):,} texts, more than the {most} it may have")]
    violations: list[FactViolation] = []
    bad = 0
    for index, item in enumerate(raw):
        if type(item) is not str:
            problem = f"expected a text, {_describe(item)}"
        elif len(item) > TEXT_MAX:
            problem = f"is {len(item):,} characters long, more than the {TEXT_MAX:,} a text may have"
        elif not item.strip():
            problem = "is blank: each text of the list says something (leave an empty one out)"
        else:
            continue
        bad += 1
        if bad <= TEXT_LIST_LISTED:
            violations.append(FactViolation(f"{name}[{index}]", problem))
    if bad > TEXT_LIST_LISTED:
        violations.append(FactViolation(name, f"and {bad - TEXT_LIST_LISTED} more texts of the list are refused"))
    if violations:
        return None, violations
    return tuple(raw), []


def _coerce_survey(spec: FactSpec, raw: object) -> tuple[Value | None, list[FactViolation]]:
    if not isinstance(raw, Mapping):
        return None, [FactViolation(spec.name, f"expected {TYPE_NAMES[FactType.SURVEY]}, {_describe(raw)}")]
    violations: list[FactViolation] = []
    known = {o.key for o in spec.options}
    for key in raw:
        if key not in known:
            violations.append(FactViolation(
                f"{spec.name}.{echo(str(key))}", f"unknown option; expected one of {', '.join(sorted(known))}"))
    shares: dict[str, Decimal] = {}
    for option in spec.options:
        name = f"{spec.name}.{option.key}"
        if option.key not in raw:
            violations.append(FactViolation(name, "missing survey share"))
            continue
        share = parse_number(raw[option.key], share=True)
        if not isinstance(share, Decimal):
            violations.append(_number_violation(
                name, 'a share in percent (e.g. "27.5")', raw[option.key], share, SHARE_FORMS))
        elif share < ZERO or share > HUNDRED:
            violations.append(FactViolation(name, f"share {plain(share)}% is out of range [0, 100]"))
        else:
            shares[option.key] = share
    if not violations:
        total = sum(shares.values(), ZERO)
        if total > HUNDRED:
            violations.append(FactViolation(spec.name, f"shares add up to {plain(total)}%, more than 100%"))
    if violations:
        return None, violations
    return shares, []


def check_facts(specs: tuple[FactSpec, ...], facts: Mapping) -> dict[str, Value]:
    """Typed values for every declared fact (defaults filled in), or FactsError with all violations."""
    return FactChecker(specs).check(facts)


_SLOW = object()  # a fast converter's answer for "let `coerce` decide"

#: Unknown names listed one by one in a refusal; the rest are counted in one more violation.
UNKNOWN_LISTED = 20
#: Names sent (and names inside unknown objects) looked at when guessing what a missing fact
#: was sent as: each is compared with every missing fact.
_HINT_NAMES = 200
_HINT_DEPTH = 8


class CheckedFacts(NamedTuple):
    """A request's facts checked: the typed values of every fact that passed, every
    violation found (none when the request is fine), the unknown names ignored, and the
    declared facts missing (each also has its violation)."""

    values: dict[str, Value]
    violations: tuple[FactViolation, ...]
    ignored: tuple[str, ...] = ()
    missing: frozenset[str] = frozenset()


class _Level:
    """One level of the declared names' trie: the keys allowed in an object at this level
    (at the root also every declared name in its flat, dotted form) and the keys that
    lead to a deeper level."""

    __slots__ = ("allowed", "inner", "prefix")

    def __init__(self, prefix: str = "") -> None:
        self.allowed: set[str] | frozenset[str] = set()
        self.inner: dict[str, _Level] | tuple[tuple[str, _Level], ...] = {}
        self.prefix = prefix  # the dotted path to this level, with a final dot

    def freeze(self) -> None:
        self.allowed = frozenset(self.allowed)
        inner = tuple(self.inner.items())  # type: ignore[union-attr]
        self.inner = inner
        for _key, level in inner:
            level.freeze()


def _trie(names: list[str]) -> _Level:
    root = _Level()
    for name in names:
        parts = name.split(".")
        if len(parts) > 1:
            root.allowed.add(name)  # type: ignore[union-attr]
        level = root
        for i, part in enumerate(parts):
            level.allowed.add(part)  # type: ignore[union-attr]
            if i < len(parts) - 1:
                level = level.inner.setdefault(part, _Level(".".join(parts[:i + 1]) + "."))  # type: ignore[union-attr]
    root.freeze()
    return root


class FactChecker:
    """`check_facts` for one fact schema, with per-fact converters prepared once; and
    `check_request`, which also refuses names the schema does not declare."""

    def __init__(self, specs: tuple[FactSpec, ...]):
        self._plan = tuple(
            (spec, spec.name, _getter(spec.name), _fast_converter(spec), _expansion(spec))
            for spec in specs
        )
        names = [spec.name for spec in specs]
        self._root = _trie(names)
        #: declared names a request may send flat at the top level (those with a dot)
        self._dotted = frozenset(name for name in names if "." in name)
        #: what an unknown name is compared with for "did you mean": names and their groups
        groups = [name.rsplit(".", i)[0] for name in names for i in range(1, name.count(".") + 1)]
        self._known = tuple(dict.fromkeys(names + groups))
        self._known_set = frozenset(self._known)

    def check(self, facts: Mapping) -> dict[str, Value]:
        """Typed values of every declared fact, or FactsError naming every bad or missing
        one. Names the schema does not declare are not looked at (see `check_request`)."""
        if not isinstance(facts, Mapping):
            raise FactsError([FactViolation("facts", "expected an object of facts")])
        values, violations, _missing = self._values(facts)
        if violations:
            raise FactsError(violations)
        return values

    def check_request(self, facts: object, ignore_unknown: bool = False) -> CheckedFacts:
        """Every violation of a request's facts, without raising: bad and missing facts,
        then names the pack does not declare (unless `ignore_unknown`: then they are only
        listed in `ignored`), then facts sent twice, nested and flat."""
        if not isinstance(facts, Mapping):
            return CheckedFacts({}, (FactViolation("facts", "expected an object of facts"),))
        values, violations, missing = self._values(facts)
        unknown = self._unknown(facts)
        ignored: tuple[str, ...] = ()
        if unknown:
            misspelt = [name for name in unknown if name not in self._known_set]  # not groups sent flat
            if missing and misspelt:
                _hint_misspellings(violations, missing, facts, misspelt)
            if ignore_unknown:
                ignored = tuple(echo(name) for name in unknown)
            else:
                violations.extend(self._unknown_violations(unknown))
        if not self._dotted.isdisjoint(facts.keys()):
            violations.extend(_sent_twice(facts, sorted(self._dotted.intersection(facts.keys()))))
        absent = frozenset(violations[index].fact for index in missing) if missing else frozenset()
        return CheckedFacts(values, tuple(violations), ignored, absent)

    def _values(self, facts: Mapping) -> tuple[dict[str, Value], list[FactViolation], list[int]]:
        """(values, violations, the violations' indices that say a fact is missing)."""
        values: dict[str, Value] = {}
        violations: list[FactViolation] = []
        missing: list[int] = []
        for spec, name, get, fast, expansion in self._plan:
            raw = get(facts)
            if raw is _MISSING or raw is None:
                if spec.has_default:
                    values.update(_expand(spec, spec.default))
                    continue
                missing.append(len(violations))
                violations.append(FactViolation(name, f"missing (expected {expected(spec)})"))
                continue
            value = fast(raw)
            if value is _SLOW:
                value, problems = coerce(spec, raw)
                if problems:
                    violations.extend(problems)
                    continue
            values[name] = value  # type: ignore[assignment]
            for key, option_name in expansion:
                values[option_name] = value[key]  # type: ignore[index]
        return values, violations, missing

    def _unknown(self, facts: Mapping) -> list[str]:
        """Every name in the request that is no declared fact, nor a group on the way to
        one, as a dotted path from the top, sorted. Cheap when there is none: one subset
        test per object, and only objects on the way to declared facts are looked into."""
        unknown: list[str] = []
        todo: list[tuple[Mapping, _Level]] = [(facts, self._root)]
        while todo:
            node, level = todo.pop()
            if not node.keys() <= level.allowed:
                unknown.extend(level.prefix + (key if type(key) is str else f"<a {type(key).__name__} key>")
                               for key in node if key not in level.allowed)
            for key, inner in level.inner:  # type: ignore[misc]
                sub = node.get(key)
                if sub and (type(sub) is dict or isinstance(sub, Mapping)):
                    todo.append((sub, inner))
        if unknown:
            unknown.sort()
        return unknown

    def _unknown_violations(self, unknown: list[str]) -> list[FactViolation]:
        violations = []
        for name in unknown[:UNKNOWN_LISTED]:
            if name in self._known_set:  # a group of facts sent under its dotted name
                members = [n for n in self._known if n.startswith(name + ".")][:2]
                head = name.split(".", 1)[0]
                violations.append(FactViolation(echo(name), (
                    f"is a group of facts, not a fact: send each of its facts by its full name "
                    f"({', '.join(members)}) or nest them under {head}")))
                continue
            hint = did_you_mean(name, self._known) or "; the pack declares no fact of that name"
            violations.append(FactViolation(echo(name), f"unknown fact{hint}"))
        if len(unknown) > UNKNOWN_LISTED:
            violations.append(FactViolation("facts", (
                f"and {len(unknown) - UNKNOWN_LISTED} more unknown facts (names the pack does not declare)")))
        return violations


#: How alike (difflib's ratio) a name sent and a missing fact must be to be called a misspelling.
MISSPELLING_SIMILARITY = 0.8


def _hint_misspellings(violations: list[FactViolation], missing: list[int], facts: Mapping,
                       unknown: list[str]) -> None:
    """Say of a missing fact which unknown name sent looks like it: a misspelling. Each
    name sent is offered to the one missing fact it is most like, if alike enough."""
    sent = unknown[:_HINT_NAMES]  # bounded: each is compared with every missing fact
    for name in unknown[:_HINT_NAMES]:  # an unknown object: also the names inside it ("budgt.spent")
        value = lookup(facts, name)
        if isinstance(value, Mapping):
            _inner_names(value, name, sent, 0)
    names = {violations[index].fact: index for index in missing}
    best: dict[str, tuple[float, str]] = {}  # missing fact → (likeness, name sent)
    matcher = difflib.SequenceMatcher()
    for candidate in sent:
        matcher.set_seq2(candidate[:200])
        scored = []
        for fact in names:
            matcher.set_seq1(fact)
            if matcher.real_quick_ratio() >= MISSPELLING_SIMILARITY and matcher.quick_ratio() >= MISSPELLING_SIMILARITY:
                scored.append((matcher.ratio(), fact))
        if scored:
            likeness, fact = max(scored)
            if likeness >= MISSPELLING_SIMILARITY and likeness > best.get(fact, (0.0, ""))[0]:
                best[fact] = (likeness, candidate)
    for fact, (_likeness, candidate) in best.items():
        violation = violations[names[fact]]
        violations[names[fact]] = FactViolation(
            fact, f"{violation.description}; the request has {echo(candidate)} — a misspelling?")


def _inner_names(node: Mapping, prefix: str, out: list[str], depth: int) -> None:
    if depth >= _HINT_DEPTH:
        return
    for key, value in node.items():
        if len(out) >= _HINT_NAMES:
            return
        name = f"{prefix}.{key}"
        out.append(name)
        if isinstance(value, Mapping):
            _inner_names(value, name, out, depth + 1)


def _sent_twice(facts: Mapping, flat_names: list[str]) -> list[FactViolation]:
    """A violation for each declared fact sent both flat ("budget.spent") and nested."""
    violations = []
    for name in flat_names:
        node: object = facts
        for part in name.split("."):
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            parent = name.rpartition(".")[0]
            violations.append(FactViolation(name, f"sent twice: as {name} and nested under {parent}"))
    return violations


def _getter(name: str) -> Callable[[Mapping], object]:
    """`lookup(facts, name)` for one name, walking plain dicts without splitting the name."""
    parts = tuple(name.split("."))

    def get(facts: Mapping) -> object:
        if name in facts:
            return facts[name]
        node: object = facts
        for part in parts:
            if type(node) is not dict:
                return lookup(facts, name)  # another kind of Mapping, or not a mapping
            node = node.get(part, _MISSING)  # type: ignore[attr-defined]
            if node is _MISSING:
                return _MISSING
        return node
    return get


def _expansion(spec: FactSpec) -> tuple[tuple[str, str], ...]:
    """(option key, `<survey>.<option>`) for a survey's shares; () for other facts."""
    return tuple((o.key, f"{spec.name}.{o.key}") for o in spec.options) if spec.type is FactType.SURVEY else ()


def _fast_converter(spec: FactSpec) -> Callable[[object], object]:
    """The fact's value from the usual kinds of raw value, or `_SLOW` to let `coerce` decide."""
    lo, hi = spec.minimum, spec.maximum
    if spec.type is FactType.BOOLEAN:
        return lambda raw: raw if raw is True or raw is False else _SLOW
    if spec.type is FactType.TEXT:
        if spec.non_empty:
            return lambda raw: raw if type(raw) is str and len(raw) <= TEXT_MAX and raw.strip() else _SLOW
        return lambda raw: raw if type(raw) is str and len(raw) <= TEXT_MAX else _SLOW
    if spec.type is FactType.CHOICE:
        index = choice_index(spec)
        return lambda raw: index.get(raw, _SLOW) if type(raw) is str else _SLOW  # type: ignore[arg-type]
    if spec.type is FactType.TEXT_LIST:
        most = spec.max_items or TEXT_LIST_ITEMS

        def texts(raw: object) -> object:
            if type(raw) is not list or len(raw) > most:  # type: ignore[arg-type]
                return _SLOW
            for item in raw:  # type: ignore[attr-defined]
                if type(item) is not str or len(item) > TEXT_MAX or not item.strip():
                    return _SLOW
            return tuple(raw)  # type: ignore[arg-type]
        return texts
    if spec.type is FactType.INTEGER:
        def integer(raw: object) -> object:
            if (type(raw) is not int or not -ENGINE_BOUND < raw < ENGINE_BOUND  # type: ignore[operator]
                    or (lo is not None and raw < lo) or (hi is not None and raw > hi)):
                return _SLOW
            return raw
        return integer
    if spec.type is FactType.DECIMAL:
        def decimal(raw: object) -> object:
            value = _plain_decimal(raw)
            if value is _SLOW or (lo is not None and value < lo) or (hi is not None and value > hi):  # type: ignore[operator]
                return _SLOW
            return value
        return decimal
    keys = frozenset(o.key for o in spec.options)
    order = tuple(o.key for o in spec.options)

    def survey(raw: object) -> object:
        if type(raw) is not dict or raw.keys() != keys:
            return _SLOW
        shares = {}
        total = ZERO
        for key in order:
            share = _plain_decimal(raw[key])  # type: ignore[index]
            if share is _SLOW or share < ZERO or share > HUNDRED:  # type: ignore[operator]
                return _SLOW
            shares[key] = share
            total += share  # type: ignore[operator]
        return shares if total <= HUNDRED else _SLOW
    return survey


def _plain_decimal(raw: object) -> object:
    """A Decimal from a plain non-negative decimal string of at most 15 characters (digits,
    maybe one point between digits) or an int below 10^15; `_SLOW` for anything else.

    Such a value is always in the number syntax and within the engine's limits. The text
    is checked by stripping ASCII digits from both ends: what remains must be nothing or
    the point (cheaper than a regular expression; this runs for every number of every
    request, and a negative number simply takes the slow path).
    """
    kind = type(raw)
    if kind is str:
        if not 0 < len(raw) <= _PLAIN_MAX:  # type: ignore[arg-type]
            return _SLOW
        rest = raw.strip(_DIGITS)  # type: ignore[union-attr]
        if rest and (rest != "." or raw[0] == "." or raw[-1] == "."):  # type: ignore[index]
            return _SLOW
        return Decimal(raw)  # type: ignore[arg-type]
    if kind is int and -ENGINE_BOUND < raw < ENGINE_BOUND:  # type: ignore[operator]
        return Decimal(raw)  # type: ignore[arg-type]
    return _SLOW


def _expand(spec: FactSpec, value: Value) -> dict[str, Value]:
    """A survey's shares are also addressable one by one as `<survey>.<option>`."""
    out: dict[str, Value] = {spec.name: value}
    if spec.type is FactType.SURVEY:
        for key, share in value.items():  # type: ignore[union-attr]
            out[f"{spec.name}.{key}"] = share
    return out
