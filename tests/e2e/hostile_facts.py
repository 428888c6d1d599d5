"""Hostile fact values and shapes, drawn reproducibly from a seed.

Each case starts from a valid request (the 2019 report's facts) and spoils one to three
facts: numbers in every notation a caller might send (exponents, 17+ digits, tiny,
huge, grouped wrongly, other scripts' digits, full-width), floats of every class, wrong
types, nested objects and lists, long and odd strings, and whole-shape changes (missing
facts, flat dotted keys, unknown survey options). The fuzz test sends them through a
real server and holds each reply to the plain reference evaluator.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Callable, Iterator

NUMBER_TEXTS = [
    "1e16", "10000000000000000", "9999999999999999", "0.0000001", "1e400", "1e-400", "-1e16", "1E+16",
    "89.99999999999999999", "123456789012345678901234567890", "1e5000", "0e0", "-0", "+0", "0.0", "-0.0",
    "398761", "398761.00", "398,761.00", "3,9,8,7,6,1", ",,,398761,,,", "398_761", "39,8761", "398,761,",
    ".5", "5.", "5..0", "--5", "+-5", "٣٩٨٧٦١", "३९८७६१", "３９８７６１．００", "３９８，７６１", "12%", "12.5%", "%",
    "1e5", "1E5", "0x10", "NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "", " ", " 398761 ",
    "398761\n", "\t1", "1 000", "1\u00a0000", "999999999999999", "999999999999999.9", "0.000000000000001",
    "100", "100.0000000000000001", "99.995", "90", "89.99", "60", "59.999999", "-1", "-0.01", "1" * 400,
    "0." + "0" * 300 + "1", "1" + "0" * 30, "2.5e-3", "١٫٥", "½", "Ⅻ", "𝟗𝟗", "1,000,000.5", "1,000,000,000,000,000",
]
FLOATS = [
    1e308, -1e308, 5e-324, -5e-324, 2.2250738585072014e-308, 1e16, 9999999999999998.0, 1e15, 0.1, -0.0, 0.0,
    2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 63, 2.0 ** 64, 1e-7, 1e22, 123456.789, 89.99999999999999, math.inf,
    -math.inf, math.nan, 1.7976931348623157e308, 3.0, 50.0, 100.0, 100.00000000000001,
]
INTEGERS = [0, 1, -1, 2 ** 31, 2 ** 53, 2 ** 53 + 1, 2 ** 63 - 1, -(2 ** 63), 10 ** 15, 10 ** 16, 999_999_999_999_999]
ODD_TEXTS = ["", "x" * 10_000, "质量" * 500, "\u0000", "\x1b[31m", "a\u202eb", "🙂" * 50, "true", "null", "{}", "[]"]


def _number_text(rng: random.Random) -> str:
    """A random number text: sign, up to 40 digits, a point anywhere, sometimes an exponent."""
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 40)))
    point = rng.randint(0, len(digits))
    text = digits[:point] + ("." if rng.random() < 0.6 else "") + digits[point:]
    if rng.random() < 0.2:
        text = rng.choice("-+") + text
    if rng.random() < 0.15:
        text += rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randint(0, 400))
    return text


def hostile_value(rng: random.Random, depth: int = 0) -> object:
    """One value a careless or malicious caller might send for any fact."""
    kind = rng.random()
    if kind < 0.30:
        return rng.choice(NUMBER_TEXTS)
    if kind < 0.45:
        return _number_text(rng)
    if kind < 0.58:
        return rng.choice(FLOATS)
    if kind < 0.65:
        return rng.choice(INTEGERS)
    if kind < 0.72:
        return rng.choice([True, False, None])
    if kind < 0.80:
        return rng.choice(ODD_TEXTS)
    if kind < 0.88 and depth < 25:
        return {rng.choice(["strongly", "yes", "x", "", "very_satisfied"]): hostile_value(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    if depth < 25:
        return [hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return None


def _leaf_paths(facts: dict, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in facts.items():
        if isinstance(value, dict):
            yield prefix + (key,)
            yield from _leaf_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


def _set(facts: dict, path: tuple[str, ...], value: object) -> None:
    node = facts
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(facts: dict, path: tuple[str, ...]) -> None:
    node = facts
    for part in path[:-1]:
        node = node[part]
    node.pop(path[-1], None)


def _flatten_one(facts: dict, rng: random.Random, paths: list[tuple[str, ...]]) -> None:
    """Send one fact both nested and as a flat dotted key with another value."""
    path = rng.choice([p for p in paths if len(p) > 1])
    facts[".".join(path)] = hostile_value(rng)


SHAPES: list[Callable[[dict, random.Random, list[tuple[str, ...]]], None]] = [
    lambda facts, rng, paths: _set(facts, rng.choice(paths), hostile_value(rng)),
    lambda facts, rng, paths: _delete(facts, rng.choice(paths)),
    _flatten_one,
    lambda facts, rng, paths: facts.__setitem__(rng.choice(["unknown", "budget ", "预算", "x" * 300]),
                                                hostile_value(rng)),
]


def hostile_cases(base: dict, seed: int, count: int) -> Iterator[dict]:
    """`count` spoiled copies of `base`, the same ones for the same seed."""
    rng = random.Random(seed)
    paths = list(_leaf_paths(base))
    for _ in range(count):
        facts = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            try:
                rng.choice(SHAPES)(facts, rng, list(_leaf_paths(facts)) or paths)
            except (KeyError, TypeError, IndexError):  # a path an earlier change removed or replaced
                pass
        yield facts


# --- the project-expenditure framework pack: pack language 2's inputs ------------------

#: Values for its choice benefit.ecology: codes, labels in both languages, near misses,
#: odd unicode, very long and empty texts (no lone surrogate: a Struct carries UTF-8 only;
#: tests/property/test_engine_boundary_language_two.py sends those).
CHOICE_TEXTS = ["good", "fairly_good", "average", "poor", "好", "较好", "一般", "差", "fairly good", "GOOD", "Good",
                " good", "good ", "goods", "fairly-good", "fairly_goo", "好 ", "ｇｏｏｄ", "好\u200b", "good\u0000",
                "🙂", "", " ", "x" * 5_000, "x" * 70_000, "好" * 3_000, "null", "true", "0"]
#: Numbers for the facts derived values divide by and multiply: 0, the engine's edges, tiny.
DERIVED_NUMBERS = ["0", "-0", "0.0", "1", "0.000000000000001", "999999999999999", "99999999999999.9",
                   "100000000000000", "1", "3", "7", "0.5", "12345678901234.5", "1e15", "-1", 0, 1, 999_999_999_999_999,
                   10 ** 15]
DERIVED_INPUTS = [("cost", "budget"), ("cost", "actual"), ("satisfaction", "distributed"),
                  ("satisfaction", "returned"), ("complaints", "count"), ("complaints", "served")]
#: Facts only a leaf that may be not applicable reads, and the facts that decide it.
DEFERRABLE = [("cost", "budget"), ("cost", "actual"), ("benefit", "ecology")]
DECIDING = [("cost", "target_set"), ("benefit", "ecology_not_applicable"), ("benefit", "ecology_not_applicable_reason")]
#: Pairs a constraint keeps in order (first ≤ second); spoiled by making the first larger.
ORDERED = [(("budget", "received"), ("budget", "approved")), (("budget", "spent"), ("budget", "received")),
           (("vouchers", "noncompliant"), ("vouchers", "sampled")),
           (("vouchers", "noncompliant_amount"), ("budget", "spent")),
           (("output", "accepted"), ("output", "completed")),
           (("benefit", "social_targets_met"), ("benefit", "social_targets_set")),
           (("satisfaction", "returned"), ("satisfaction", "distributed"))]
#: Names no fact has: misspellings, a derived value's name, node values, groups sent flat.
WRONG_NAMES = ["budget.spnt", "benefit.ecolgy", "cost.overrun_rate", "complaints.rate", "@score:total", "@rate:output",
               "benefit", "cost", "benefit.effect", "Cost.budget", "cost.budget ", "成本", "x" * 300, ""]


def _get(facts: dict, path: tuple[str, ...]) -> object:
    node: object = facts
    for part in path:
        node = node[part]  # type: ignore[index]
    return node


def _plus_one(value: object) -> object:
    """A value one larger (as a caller would send it), for breaking a constraint."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + 1
    try:
        from decimal import Decimal

        return str(Decimal(str(value).replace(",", "")) + 1)
    except ArithmeticError:
        return value


def _framework_change(facts: dict, rng: random.Random, paths: list[tuple[str, ...]]) -> None:
    kind = rng.random()
    if kind < 0.15:
        _set(facts, ("benefit", "ecology"), rng.choice(CHOICE_TEXTS) if rng.random() < 0.8 else hostile_value(rng))
    elif kind < 0.30:
        _set(facts, rng.choice(DERIVED_INPUTS), rng.choice(DERIVED_NUMBERS) if rng.random() < 0.8 else hostile_value(rng))
    elif kind < 0.42:
        for path in rng.sample(DEFERRABLE, rng.randint(1, len(DEFERRABLE))):
            _delete(facts, path)
    elif kind < 0.55:
        path = rng.choice(DECIDING)
        if rng.random() < 0.3:
            _delete(facts, path)
        elif path[-1] == "ecology_not_applicable_reason":
            _set(facts, path, rng.choice(["", " ", "培训类项目，无生态效益", "x" * 5_001, "\u0000", "🙂" * 5_000]
                                         + [hostile_value(rng)]))
        else:
            _set(facts, path, rng.choice([True, False, True, False, "true", 1, None]))
    elif kind < 0.68:
        small, large = rng.choice(ORDERED)
        _set(facts, small, _plus_one(_get(facts, large)))
    elif kind < 0.80:
        facts[rng.choice(WRONG_NAMES)] = hostile_value(rng) if rng.random() < 0.5 else "1"
    elif kind < 0.88:
        _flatten_one(facts, rng, paths)
    else:
        rng.choice(SHAPES)(facts, rng, paths)


def framework_cases(base: dict, seed: int, count: int) -> Iterator[dict]:
    """`count` spoiled copies of a valid request of the framework pack, the same ones for
    the same seed: its choice, its derived values' inputs, its not-applicable flags, reasons
    and deferred inputs, its constraints, wrong names and facts sent nested and flat."""
    rng = random.Random(seed)
    for _ in range(count):
        facts = copy.deepcopy(base)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):  # mostly one change: more requests are scored
            try:
                _framework_change(facts, rng, list(_leaf_paths(facts)))
            except (KeyError, TypeError, IndexError, AttributeError):  # a path an earlier change replaced
                pass
        yield facts


# --- text_list facts (the evaluators' observations) and the texts a report prints -------

#: The two text_list facts of the bundled 1.0.1 packs, and the texts the report prints in 基本情况.
TEXT_LISTS = [("evaluation", "observed_problems"), ("evaluation", "observed_recommendations")]
REPORTED_TEXTS = [("project", "name"), ("project", "unit")]
#: One text each that a report must keep as text: markup, script, event handlers, Markdown
#: table and list breakers, template and format placeholders, bidi overrides, controls,
#: line and paragraph separators, a formula, zero-width and combining characters.
REPORT_TEXTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</td></tr></table><svg onload=alert(1)>",
    "\"><iframe src=javascript:alert(1)>", "<!-- x -->]]>", "&lt;b&gt;&amp;", "| a | b |\n| --- | --- |",
    "a|b\\|c\\\\|d", "# 标题\n## x", "- 列表\n1. 一", "`code` *em* _u_ [x](javascript:alert(1)) ![i](http://x/y.png)",
    "{{ 7 * 7 }}", "{% for x in y %}{{ x }}{% endfor %}", "{{ self.__init__.__globals__ }}", "{placeholder}",
    "{0}", "%s %d", "$x$", "\u202e\u202dRTL\u202c", "a\u2066b\u2069c", "x\x00y", "\x1b[31m红\x1b[0m", "a\x7fb\x85c",
    "a\u2028b\u2029c", "line\r\nline\rline", "\ttab", "=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0",
    "@SUM(A1)", "\u200b\u200d", "e\u0301\u0301\u0301", "🙂" * 30, "质量" * 100, "\ufeff开头", "x" * 5_000,
]


def _hostile_text(rng: random.Random) -> str:
    """One or more REPORT_TEXTS run together (mostly cut to the 5,000 characters a text may
    have), sometimes with a random one of ODD_TEXTS."""
    pieces = [rng.choice(REPORT_TEXTS) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.1:
        pieces.append(rng.choice(ODD_TEXTS))
    text = "".join(pieces)
    return text[:5_000] if rng.random() < 0.95 else text


def hostile_text_list(rng: random.Random) -> object:
    """A value for a text_list fact: mostly a list of hostile texts a report must print as
    text, sometimes one a checker must refuse (too many or too long items, blanks, non-texts,
    nesting, not a list at all)."""
    kind = rng.random()
    if kind < 0.75:
        return [_hostile_text(rng) for _ in range(rng.randint(0, 6))]
    if kind < 0.80:
        return ["x" * 4_999 + rng.choice("。.|<") for _ in range(20)]  # the most a request may send
    if kind < 0.84:
        return [f"第{n}条" for n in range(rng.choice([21, 100, 10_000]))]
    if kind < 0.87:
        return ["x" * 5_001]
    if kind < 0.91:
        return [rng.choice(["", " ", "\n", "\t\r\n", "\u3000"]), "有内容"]
    if kind < 0.96:
        return [_hostile_text(rng), hostile_value(rng), rng.choice([[["nested"]], {"a": "b"}, 1, 1.5, True, None])]
    return hostile_value(rng)


def report_cases(base: dict, seed: int, count: int) -> Iterator[dict]:
    """`count` copies of `base` (facts of a bundled 1.0.1 pack) with hostile observations and
    project texts, and now and then another fact spoiled as `hostile_cases` spoils one; the
    same ones for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        facts = copy.deepcopy(base)
        for path in TEXT_LISTS:
            if rng.random() < 0.8:
                _set(facts, path, hostile_text_list(rng))
        for path in REPORTED_TEXTS:
            if rng.random() < 0.4:
                _set(facts, path, _hostile_text(rng) if rng.random() < 0.95 else hostile_value(rng))
        if rng.random() < 0.1:
            try:
                rng.choice(SHAPES)(facts, rng, list(_leaf_paths(facts)))
            except (KeyError, TypeError, IndexError):
                pass
        yield facts
