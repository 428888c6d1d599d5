"""Random valid facts for a pack, drawn reproducibly from a seed: a random project to report on.

Each fact is drawn from its declaration (type, range, options); texts mix Chinese, Latin
and the characters Markdown and HTML treat specially, so that a report's escaping is
exercised. "A ≤ B" constraints between number facts are then met by lowering A, and a
draw that still breaks a constraint is drawn again (`valid` decides).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, Callable

from jixiao.core.pack.model import Compare, FactRef, FactSpec, FactType, Pack

ATTEMPTS = 200
TEXT_PIECES = ["质量", "强区", "经费", "项目", "评审", "Quality", "fund", " ", "<b>", "&amp;", "|", "*", "_", "#",
               "`", "[x](y)", "\\", "'", '"', "1.", "-", "＞", "。", "，"]
NUMBERS = (FactType.DECIMAL, FactType.INTEGER)


def random_facts(pack: Pack, seed: int, valid: Callable[[dict], bool]) -> dict[str, Any]:
    """Facts for every fact `pack` declares that `valid` accepts, the same for the same seed."""
    draw = random.Random(seed)
    for _attempt in range(ATTEMPTS):
        facts: dict[str, Any] = {}
        for spec in pack.facts:
            _set(facts, spec.name, _value(spec, draw))
        _within_constraints(pack, facts)
        if valid(facts):
            return facts
    raise AssertionError(f"no valid facts for {pack.id}@{pack.version} in {ATTEMPTS} draws (seed {seed})")


def _text(draw: random.Random) -> str:
    text = "".join(draw.choice(TEXT_PIECES) for _ in range(draw.randint(1, 8))).strip()
    return text or "项目"


def _number(spec: FactSpec, draw: random.Random, places: int) -> Decimal:
    low = spec.minimum if spec.minimum is not None else Decimal(0)
    high = spec.maximum if spec.maximum is not None else low + 1_000_000
    high = min(high, low + draw.choice([Decimal(1), Decimal(100), Decimal(1_000_000)]))
    unit = Decimal(1).scaleb(-places)
    steps = int((high - low) / unit)
    return low + unit * draw.randint(0, steps)


def _value(spec: FactSpec, draw: random.Random) -> Any:
    kind = spec.type
    if kind is FactType.BOOLEAN:
        return draw.random() < 0.5
    if kind is FactType.TEXT:
        return _text(draw)
    if kind is FactType.INTEGER:
        return int(_number(spec, draw, 0))
    if kind is FactType.DECIMAL:
        return str(_number(spec, draw, 2))
    if kind is FactType.CHOICE:
        return draw.choice(spec.options).key
    if kind is FactType.SURVEY:
        remaining = Decimal(100)
        shares = {}
        for option in draw.sample(list(spec.options), len(spec.options)):
            share = Decimal(draw.randint(0, int(remaining * 100))) / 100
            shares[option.key] = str(share)
            remaining -= share
        return shares
    if kind is FactType.TEXT_LIST:
        return [_text(draw) for _ in range(draw.randint(0, 3))]
    raise AssertionError(f"no random values for {spec.name}'s type {kind}")


def _set(facts: dict, name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        facts = facts.setdefault(part, {})
    facts[last] = value


def _get(facts: dict, name: str) -> Any:
    for part in name.split("."):
        facts = facts[part]
    return facts


def _within_constraints(pack: Pack, facts: dict) -> None:
    """Lower A to B for each "A ≤ B" constraint between two number facts, in the pack's order."""
    for constraint in pack.constraints:
        rule = constraint.require
        if not (isinstance(rule, Compare) and rule.op == "le" and isinstance(rule.operand, FactRef)):
            continue
        left, right = pack.fact(rule.fact.name), pack.fact(rule.operand.name)
        if left is None or right is None or left.type is not right.type or left.type not in NUMBERS:
            continue
        if Decimal(str(_get(facts, left.name))) > Decimal(str(_get(facts, right.name))):
            _set(facts, left.name, _get(facts, right.name))
