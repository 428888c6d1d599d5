"""Compiling a pack: every point at which a leaf can lose points becomes one rule.

A rule is a condition over facts. The matcher (durable-rules in the service, the plain
evaluator in tests) decides which rules fire; the evaluator then does the Decimal
arithmetic and writes the rationale. Keeping the decision in rules and the arithmetic
in Python is what makes a deduction traceable to one rule id.

Before compiling, `pack_limit_problems` refuses what no matcher should be handed: a
condition nested deeper than `MAX_CONDITION_DEPTH` (all/any/not and arithmetic levels
together), and a number a rule compares with that the rule engine cannot compare exactly
(`decimals.ENGINE_LIMITS`), each named by its path in pack.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Mapping, Protocol

from . import deferral
from .conditions import divisors, holds, negate, operand_refs, without_not
from ..decimals import ENGINE_LIMITS, engine_problem, plain
from ..errors import PackError, PackProblem
from .facts import FactChecker
from .findings import FindingsPlan
from .scoring import ENTRIES_PER_LEAF, NodePlan, plan_tree
from ..pack.model import (
    AllOrNothing, AnyOf, Arithmetic, Bands, Compare, Condition, Deductions, FactRef, Indicator, Judgement,
    Not, Operand, Pack, PerItem, Ratio, Survey, AllOf, node_paths,
)
from .overrides import RULE_PREFIX, OverridePlan
from ..pack.yaml12 import format_path

#: Levels a check's condition may nest: all, any, not and arithmetic (add, sub, mul, div)
#: each count one. Far beyond any real rule; it keeps every walk over a condition shallow.
MAX_CONDITION_DEPTH = 32


@dataclass(frozen=True)
class Rule:
    """One condition whose firing means a deduction on one leaf."""

    index: int
    leaf_id: str
    key: str  # the check id, band index or survey option that the rule stands for
    condition: Condition  # contains no Not

    @property
    def rule_id(self) -> str:
        return f"{self.leaf_id}#{self.key}"


class Matcher(Protocol):
    """Decides which rules fire for one request's typed fact values."""

    def match(self, values: dict[str, object]) -> frozenset[int]: ...

    def close(self) -> None: ...


MatcherFactory = Callable[[Pack, tuple[Rule, ...]], Matcher]


@dataclass(frozen=True)
class CompiledPack:
    pack: Pack
    rules: tuple[Rule, ...]
    matcher: Matcher
    checker: FactChecker  # the pack's fact schema, prepared
    checked_leaves: tuple[Indicator, ...]  # leaves whose method checks inputs (ratio, judgement, per_item)
    divisions: tuple[tuple[str, Operand], ...]  # (rule id, divisor) of every division a rule computes
    tree: tuple[NodePlan, ...]  # how each top-level indicator is scored (scoring.py)
    #: leaf id → the rule deciding that the leaf is not applicable (leaves that may be N/A)
    not_applicable: Mapping[str, Rule] = field(default_factory=dict)
    overrides: OverridePlan | None = None  # the pack's overrides, when it has any
    override_matchers: tuple[Matcher, ...] = ()  # one per layer of overrides (overrides.py)
    #: fact or derived name → the leaves reading it, for names only leaves that may be not
    #: applicable read (deferral.py); empty for a pack without such leaves
    deferrable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: the pack's findings and observations, prepared (findings.py); None when it has neither
    findings: FindingsPlan | None = None

    def close(self) -> None:
        """Free the matcher's engine resources; the pack must not be used afterwards."""
        self.matcher.close()
        for matcher in self.override_matchers:
            matcher.close()


class PlainMatcher:
    """Matches rules with the reference evaluator: no engine, Decimal comparisons."""

    def __init__(self, pack: Pack, rules: tuple[Rule, ...]):
        self._rules = rules

    def match(self, values: dict[str, object]) -> frozenset[int]:
        return frozenset(r.index for r in self._rules if holds(r.condition, values))

    def close(self) -> None:
        pass


def plain_matcher(pack: Pack, rules: tuple[Rule, ...]) -> Matcher:
    return PlainMatcher(pack, rules)


def leaf_conditions(leaf: Indicator) -> list[tuple[str, Condition]]:
    """(key, condition) for every way the leaf can lose points, in the pack's order."""
    scoring = leaf.scoring
    if isinstance(scoring, Ratio):
        rules: list[tuple[str, Condition]] = [("shortfall", Compare(scoring.actual, "lt", scoring.target))]
        if scoring.floor is not None:
            floor = Arithmetic("mul", scoring.target, scoring.floor)
            rules.append(("below_floor", Compare(scoring.actual, "lt", floor)))
        return rules
    if isinstance(scoring, PerItem):
        return [("items", Compare(scoring.count, "gt", Decimal(0)))]
    if isinstance(scoring, Deductions):
        return [(check.id, check.when) for check in scoring.checks]
    if isinstance(scoring, AllOrNothing):
        return [("not_met", negate(scoring.passes))]
    if isinstance(scoring, Survey):
        return [
            (key, Compare(FactRef(f"{scoring.fact.name}.{key}"), "gt", Decimal(0)))
            for key, weight in scoring.weights.items()
            if weight < 1
        ]
    if isinstance(scoring, Bands):
        # A band that deducts nothing needs a rule only to show its reason ("好").
        return [(f"band{i}", condition) for i, condition in band_conditions(scoring)
                if scoring.bands[i].deduct > 0 or scoring.bands[i].reason is not None]
    if isinstance(scoring, Judgement):
        return [("judgement", Compare(scoring.score, "lt", leaf.weight))]
    raise TypeError(f"unknown scoring method {type(scoring).__name__}")


def band_conditions(bands: Bands) -> list[tuple[int, Condition]]:
    """For each band, the condition that the value falls in it and in no higher band."""
    out: list[tuple[int, Condition]] = []
    upper: Decimal | None = None
    for i, band in enumerate(bands.bands):
        if band.options:  # a band over a choice: the value is one of its codes
            parts_: tuple[Condition, ...] = tuple(Compare(bands.value, "eq", code) for code in band.options)
            out.append((i, parts_[0] if len(parts_) == 1 else AnyOf(parts_)))
            continue
        parts: list[Condition] = []
        if band.minimum is not None:
            parts.append(Compare(bands.value, "ge", band.minimum))
        if upper is not None:
            parts.append(Compare(bands.value, "lt", upper))
        out.append((i, parts[0] if len(parts) == 1 else AllOf(tuple(parts))))
        upper = band.minimum
    return out


def not_applicable_condition(leaf: Indicator) -> Condition | None:
    """When the leaf is not applicable: its condition, or its evaluator's flag being true."""
    na = leaf.not_applicable
    if na is None:
        return None
    if na.flag is not None:
        return Compare(na.flag, "eq", True)
    return na.when


def _condition_problems(condition: Condition, path: tuple) -> list[PackProblem]:
    """Too-deep nesting and constants the engine cannot compare exactly, in one condition.

    Walked with a list rather than recursion, and never below MAX_CONDITION_DEPTH."""
    problems: list[PackProblem] = []
    todo: list[tuple[object, tuple, int]] = [(condition, path, 1)]
    while todo:
        node, where, depth = todo.pop()
        if depth > MAX_CONDITION_DEPTH:
            problems.append(PackProblem(format_path(where), (
                f"the condition nests more than {MAX_CONDITION_DEPTH} levels deep here (all, any, not and "
                f"add/sub/mul/div each count one); the limit is {MAX_CONDITION_DEPTH}")))
            break
        if isinstance(node, (AllOf, AnyOf)):
            key = "all" if isinstance(node, AllOf) else "any"
            todo.extend((c, where + (key, i), depth + 1) for i, c in enumerate(node.conditions))
        elif isinstance(node, Not):
            todo.append((node.condition, where + ("not",), depth + 1))
        elif isinstance(node, Compare):
            operand = node.operand
            if isinstance(operand, Decimal):
                problem = engine_problem(operand)
                if problem is not None:
                    problems.append(_number_problem(where + (node.op,), operand, problem))
            elif isinstance(operand, Arithmetic):
                todo.append((operand, where + (node.op,), depth + 1))
        elif isinstance(node, Arithmetic):
            todo.extend((side, where + (node.op, i), depth + 1) for i, side in enumerate((node.left, node.right))
                        if isinstance(side, Arithmetic))
    return problems


def _number_problem(path: tuple, value: Decimal, problem: str) -> PackProblem:
    shown = plain(value) if value.is_finite() and abs(value.adjusted()) < 40 else str(value)
    return PackProblem(format_path(path), f"{shown} {problem}; a number a rule compares with may have "
                                          f"{ENGINE_LIMITS}, so that the rule engine compares it exactly")


def pack_limit_problems(pack: Pack) -> list[PackProblem]:
    """What no matcher is handed (see the module's docstring), each with its path."""
    problems: list[PackProblem] = []
    paths = node_paths(pack.indicators, lambda node: node.is_leaf)
    for leaf in pack.leaves():
        path, scoring = paths[leaf.id], leaf.scoring
        if isinstance(scoring, Deductions):
            for k, check in enumerate(scoring.checks):
                problems += _condition_problems(check.when, path + ("scoring", "checks", k, "when"))
        elif isinstance(scoring, AllOrNothing):
            problems += _condition_problems(scoring.passes, path + ("scoring", "pass"))
        elif isinstance(scoring, Bands):
            for i, band in enumerate(scoring.bands):
                problem = engine_problem(band.minimum) if band.minimum is not None else None
                if problem is not None:
                    problems.append(_number_problem(path + ("scoring", "bands", i, "min"), band.minimum, problem))
        elif isinstance(scoring, Judgement):
            problem = engine_problem(leaf.weight)
            if problem is not None:
                problems.append(_number_problem(path + ("weight",), leaf.weight, problem))
        if leaf.not_applicable is not None and leaf.not_applicable.when is not None:
            problems += _condition_problems(leaf.not_applicable.when, path + ("not_applicable", "when"))
    for i, override in enumerate(pack.overrides):
        problems += _condition_problems(override.when, ("overrides", i, "when"))
    return problems


def compile_pack(pack: Pack, matcher_factory: MatcherFactory = plain_matcher,
                 cache_entries: int = ENTRIES_PER_LEAF) -> CompiledPack:
    """Turn a validated pack into rules and hand them to a matcher.

    Raises PackError for what `pack_limit_problems` finds (before any matcher sees it).
    `cache_entries` bounds each leaf's memo of recent results (0: no memo; see scoring.py).
    """
    problems = pack_limit_problems(pack)
    if problems:
        raise PackError(problems)
    rules: list[Rule] = []
    by_leaf: dict[str, tuple[Rule, ...]] = {}
    for leaf in pack.leaves():
        leaf_rules = []
        for key, condition in leaf_conditions(leaf):
            rule = Rule(len(rules), leaf.id, key, without_not(condition))
            rules.append(rule)
            leaf_rules.append(rule)
        by_leaf[leaf.id] = tuple(leaf_rules)
    # Not-applicable decisions come after every scoring rule, so that a pack without them
    # keeps its rules' numbering.
    not_applicable: dict[str, Rule] = {}
    for leaf in pack.leaves():
        condition = not_applicable_condition(leaf)
        if condition is not None:
            not_applicable[leaf.id] = Rule(len(rules), leaf.id, "not_applicable", without_not(condition))
            rules.append(not_applicable[leaf.id])
    frozen = tuple(rules)
    plan = OverridePlan(pack) if pack.overrides else None
    layers = tuple(
        tuple(Rule(i, RULE_PREFIX.rstrip("#"), pack.overrides[i].id, without_not(pack.overrides[i].when)) for i in layer)
        for layer in (plan.layers if plan else ())
    )
    override_divisions = tuple(
        (f"{RULE_PREFIX}{o.id}", divisor) for o in pack.overrides for divisor in divisors(o.when)
        if not any(ref.startswith(("@score:", "@rate:")) for ref in operand_refs(divisor))
    )
    leaves = list(pack.leaves())
    return CompiledPack(
        pack=pack,
        rules=frozen,
        matcher=matcher_factory(pack, frozen),
        checker=FactChecker(pack.facts),
        checked_leaves=tuple(leaf for leaf in leaves if isinstance(leaf.scoring, (Ratio, Judgement, PerItem))),
        divisions=tuple(dict.fromkeys(
            [(rule.rule_id, divisor) for rule in frozen for divisor in divisors(rule.condition)]
            + list(override_divisions))),
        tree=plan_tree(pack, by_leaf, cache_entries),
        not_applicable=not_applicable,
        overrides=plan,
        override_matchers=tuple(matcher_factory(pack, layer) for layer in layers),
        deferrable=deferral.deferrable(pack) if not_applicable else {},
        findings=FindingsPlan(pack, frozen, cache_entries) if pack.findings or pack.observations.findings
        or pack.observations.recommendations else None,
    )
