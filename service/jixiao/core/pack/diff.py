"""What changed between two versions of a pack, for ops reviewing a release.

`diff_packs(old, new)` compares indicators by id (a leaf id is the same indicator in
both versions: callers key on it) and facts by name, and lists every change as a flat,
ordered tuple of `Change`s: pack settings first, then the indicator tree in order, then
the facts in declaration order, then the derived values, constraints and overrides in
declaration order, then the findings in declaration order, the observations and the report's
project facts. A removed item sits right after the item that preceded
it in the old version, so a listing reads top to bottom like the pack. Values are
rendered to short strings (`render_condition`, `render_scoring`) so a CLI or an API can
print them as they are. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Hashable, Iterator, Mapping, Sequence, TypeVar

from ..decimals import plain
from .model import (
    RATE_PREFIX, SCORE_PREFIX, AllOf, AllOrNothing, AnyOf, Apply, Arithmetic, Band, Bands, Check, Compare,
    Condition, Constraint, Deductions, Derived, Expression, FactRef, FactSpec, GradeBand, Indicator, Judgement,
    FindingRule, Not, NotApplicable, Operand, Override, Pack, PerItem, Ratio, Scoring, Survey, Text, method_name,
)


class ChangeKind(str, Enum):
    """What sort of change; the value is the stable name an API or CLI shows."""

    TOTAL_WEIGHT_CHANGED = "total_weight_changed"
    GRADES_CHANGED = "grades_changed"
    INDICATOR_ADDED = "indicator_added"
    INDICATOR_REMOVED = "indicator_removed"
    INDICATOR_RENAMED = "indicator_renamed"
    INDICATOR_MOVED = "indicator_moved"
    WEIGHT_CHANGED = "weight_changed"
    METHOD_CHANGED = "method_changed"
    RULE_ADDED = "rule_added"
    RULE_REMOVED = "rule_removed"
    RULE_CHANGED = "rule_changed"
    TEXT_CHANGED = "text_changed"
    FACT_ADDED = "fact_added"
    FACT_REMOVED = "fact_removed"
    FACT_CHANGED = "fact_changed"
    NOT_APPLICABLE_CHANGED = "not_applicable_changed"
    DERIVED_ADDED = "derived_added"
    DERIVED_REMOVED = "derived_removed"
    DERIVED_CHANGED = "derived_changed"
    CONSTRAINT_ADDED = "constraint_added"
    CONSTRAINT_REMOVED = "constraint_removed"
    CONSTRAINT_CHANGED = "constraint_changed"
    OVERRIDE_ADDED = "override_added"
    OVERRIDE_REMOVED = "override_removed"
    OVERRIDE_CHANGED = "override_changed"
    FINDING_ADDED = "finding_added"
    FINDING_REMOVED = "finding_removed"
    FINDING_CHANGED = "finding_changed"
    OBSERVATIONS_CHANGED = "observations_changed"
    REPORT_CHANGED = "report_changed"


@dataclass(frozen=True)
class Change:
    """One change between two pack versions.

    `subject` is the indicator id or fact name the change is about, "" for the pack
    itself. `detail` names the part of it that changed ("weight", "check award_amount",
    "check award_amount reason", "option familiar", "min", ...), "" for the subject as a
    whole. `old` and `new` are rendered values; None where the subject did not exist.
    """

    kind: ChangeKind
    subject: str
    detail: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PackDiff:
    """Every change from `old_ref` to `new_ref` (`<pack-id>@<version>`), in pack order."""

    old_ref: str
    new_ref: str
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        """True when the two versions score and read alike."""
        return not self.changes

    def of_kind(self, *kinds: ChangeKind) -> tuple[Change, ...]:
        """The changes of the given kinds, still in pack order."""
        return tuple(c for c in self.changes if c.kind in kinds)


def diff_packs(old: Pack, new: Pack) -> PackDiff:
    """The changes that turn pack `old` into pack `new`."""
    changes = [*_pack_changes(old, new), *_tree_changes(old, new), *_fact_changes(old, new),
               *_derived_changes(old, new), *_constraint_changes(old, new), *_override_changes(old, new),
               *_finding_changes(old, new)]
    return PackDiff(old.ref, new.ref, tuple(changes))


# --- rendering ------------------------------------------------------------------------

_COMPARISON_SIGNS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITHMETIC_SIGNS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def render_condition(condition: Condition) -> str:
    """A condition as one readable line: `output.awards_granted > output.awards_cap`."""
    if isinstance(condition, Compare):
        sign = _COMPARISON_SIGNS[condition.op]
        return f"{render_operand(condition.fact)} {sign} {render_operand(condition.operand)}"
    if isinstance(condition, AllOf):
        return f"all({', '.join(render_condition(c) for c in condition.conditions)})"
    if isinstance(condition, AnyOf):
        return f"any({', '.join(render_condition(c) for c in condition.conditions)})"
    if isinstance(condition, Not):
        return f"not({render_condition(condition.condition)})"
    raise TypeError(f"not a condition: {condition!r}")


def render_operand(operand: Operand, nested: bool = False) -> str:
    """An operand: a fact name, a literal, or arithmetic (parenthesised when nested)."""
    if isinstance(operand, FactRef):
        for prefix, word in ((SCORE_PREFIX, "score"), (RATE_PREFIX, "rate")):
            if operand.name.startswith(prefix):
                return f"{word}({operand.name[len(prefix):]})"
        return operand.name
    if isinstance(operand, Arithmetic):
        return _infix(operand.op, render_operand(operand.left, True), render_operand(operand.right, True), nested)
    return _render_value(operand)


def _infix(op: str, left: str, right: str, nested: bool) -> str:
    """`left op right`, parenthesised when it is part of a larger expression."""
    text = f"{left} {_ARITHMETIC_SIGNS[op]} {right}"
    return f"({text})" if nested else text


def render_scoring(scoring: Scoring | None) -> str:
    """A leaf's rule in one line, `method: rule`; a parent (None) is the sum of its children."""
    if scoring is None:
        return "sum of children"
    return f"{method_name(scoring)}: {_rule_body(scoring)}"


def render_text(text: Text | None) -> str:
    """A reader-facing text: Chinese, then English after ` / ` when the pack gives it."""
    if text is None:
        return ""
    return f"{text.zh} / {text.en}" if text.en else text.zh


def render_expression(expression: Expression, nested: bool = False) -> str:
    """A derived value's expression in one line: `(cost.actual - cost.budget) / cost.budget`."""
    if isinstance(expression, Apply):
        if expression.op in _ARITHMETIC_SIGNS:
            left, right = expression.args
            return _infix(expression.op, render_expression(left, True), render_expression(right, True), nested)
        return f"{expression.op}({', '.join(render_expression(a) for a in expression.args)})"
    return render_operand(expression)


def _rule_body(scoring: Scoring) -> str:
    if isinstance(scoring, Ratio):
        body = f"{scoring.actual.name} / {scoring.target.name}"
        if scoring.floor is not None:
            body += f", 0 below {plain(scoring.floor)}"
        if scoring.slope is not None:
            body += f", -{plain(scoring.slope.points)} per {plain(scoring.slope.per)} below 1"
        return body
    if isinstance(scoring, PerItem):
        cap = f", at most {plain(scoring.cap)}" if scoring.cap is not None else ""
        return f"-{plain(scoring.points)} per {scoring.count.name}{cap}"
    if isinstance(scoring, Deductions):
        return "; ".join(f"{c.id}: {_render_check(c)}" for c in scoring.checks)
    if isinstance(scoring, AllOrNothing):
        return f"pass if {render_condition(scoring.passes)}"
    if isinstance(scoring, Survey):
        return f"{scoring.fact.name}: {_render_weights(scoring.weights)}"
    if isinstance(scoring, Bands):
        return f"{scoring.value.name}: {_render_bands(scoring.bands)}"
    if isinstance(scoring, Judgement):
        return f"score {scoring.score.name}, reason {scoring.reason.name}"
    raise TypeError(f"not a scoring method: {scoring!r}")


def _render_check(check: Check) -> str:
    return f"deduct {plain(check.points)} if {render_condition(check.when)}"


def _render_weights(weights: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{key} {plain(weight)}" for key, weight in weights.items())


def _render_bands(bands: Sequence[Band]) -> str:
    return ", ".join(f"{_band_test(b)}: -{plain(b.deduct)}" for b in bands)


def _band_test(band: Band) -> str:
    if band.options:
        return " | ".join(band.options)
    return ">= " + plain(band.minimum) if band.minimum is not None else "else"


def render_not_applicable(rule: NotApplicable | None) -> str:
    """How a leaf is found not applicable, in one line; "" when it cannot be."""
    if rule is None:
        return ""
    if rule.flag is not None:
        reason = f", reason {rule.reason_fact.name}" if rule.reason_fact is not None else ""
        return f"when the evaluator sets {rule.flag.name}{reason}"
    shown = f" ({render_text(rule.reason)})" if rule.reason else ""
    return f"when {render_condition(rule.when)}{shown}" if rule.when is not None else ""


def _render_derived(derived: Derived) -> str:
    return (f"{render_text(derived.label)} · {render_expression(derived.expression)} · "
            f"{derived.format}, {derived.places} places")


def _render_constraint(constraint: Constraint) -> str:
    return f"require {render_condition(constraint.require)} · {render_text(constraint.message)}"


def _render_override(override: Override) -> str:
    if override.action == "grade":
        action = f"grade {override.grade}"
    elif override.action == "cap":
        action = f"cap {override.node} at {plain(override.cap)}" if override.cap is not None else f"cap {override.node}"
    else:
        action = f"zero {override.node}"
    finding = f" · finding {override.finding}" if override.finding else ""
    return f"{action} if {render_condition(override.when)}{finding}"


def _render_grades(grades: Sequence[GradeBand]) -> str:
    return ", ".join(f"{g.grade} >= {plain(g.minimum)}" for g in grades)


def _render_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _render_node(node: Indicator, parent: str | None) -> str:
    return (f"{render_text(node.name)} · weight {plain(node.weight)} · {render_scoring(node.scoring)}"
            f" · under {parent or '(top level)'}")


def _render_fact(spec: FactSpec) -> str:
    parts = [spec.type.value]
    if spec.unit:
        parts.append(f"unit {spec.unit}")
    if spec.minimum is not None:
        parts.append(f"min {plain(spec.minimum)}")
    if spec.maximum is not None:
        parts.append(f"max {plain(spec.maximum)}")
    if spec.options:
        parts.append(f"options {_render_options(spec)}")
    if spec.non_empty:
        parts.append("non-empty")
    if spec.max_items is not None:
        parts.append(f"at most {spec.max_items} texts")
    parts.append(_render_default(spec))
    return f"{render_text(spec.label)} · {', '.join(parts)}"


def _render_options(spec: FactSpec) -> str:
    return ", ".join(o.key for o in spec.options)


def _render_default(spec: FactSpec) -> str:
    return f"default {_render_value(spec.default)}" if spec.has_default else "required"


def _or_none(value: Decimal | str | None) -> str:
    if value is None:
        return "(none)"
    return plain(value) if isinstance(value, Decimal) else value


# --- ordering -------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)


def merged_order(old_keys: Sequence[K], new_keys: Sequence[K]) -> list[K]:
    """New keys in order, each removed key right after the key that preceded it in `old_keys`."""
    kept = set(new_keys)
    removed_after: dict[object, list[K]] = {}
    anchor: object = None
    for key in old_keys:
        if key in kept:
            anchor = key
        else:
            removed_after.setdefault(anchor, []).append(key)
    order = list(removed_after.get(None, []))
    for key in new_keys:
        order.append(key)
        order.extend(removed_after.get(key, []))
    return order


# --- the pack -------------------------------------------------------------------------


def _pack_changes(old: Pack, new: Pack) -> Iterator[Change]:
    if old.title != new.title:
        yield Change(ChangeKind.TEXT_CHANGED, "", "title", render_text(old.title), render_text(new.title))
    if old.framework != new.framework:
        yield Change(ChangeKind.TEXT_CHANGED, "", "framework", old.framework, new.framework)
    if old.total_weight != new.total_weight:
        yield Change(ChangeKind.TOTAL_WEIGHT_CHANGED, "", "total_weight",
                     plain(old.total_weight), plain(new.total_weight))
    if _grade_key(old.grades) != _grade_key(new.grades):
        yield Change(ChangeKind.GRADES_CHANGED, "", "grades", _render_grades(old.grades), _render_grades(new.grades))
    if old.not_applicable_treatment != new.not_applicable_treatment:
        yield Change(ChangeKind.NOT_APPLICABLE_CHANGED, "", "treatment",
                     _or_none(old.not_applicable_treatment), _or_none(new.not_applicable_treatment))


def _grade_key(grades: Sequence[GradeBand]) -> tuple:
    return tuple((g.grade, g.minimum, g.en) for g in grades)


# --- the indicator tree ----------------------------------------------------------------


def _with_parents(pack: Pack) -> dict[str, tuple[Indicator, str | None]]:
    """Every node by id, with its parent's id (None at level 1), in tree order."""
    found: dict[str, tuple[Indicator, str | None]] = {}

    def visit(node: Indicator, parent: str | None) -> None:
        found[node.id] = (node, parent)
        for child in node.children:
            visit(child, node.id)

    for top in pack.indicators:
        visit(top, None)
    return found


def _tree_changes(old: Pack, new: Pack) -> Iterator[Change]:
    old_nodes, new_nodes = _with_parents(old), _with_parents(new)
    for node_id in merged_order(list(old_nodes), list(new_nodes)):
        if node_id not in old_nodes:
            node, parent = new_nodes[node_id]
            yield Change(ChangeKind.INDICATOR_ADDED, node_id, "", None, _render_node(node, parent))
        elif node_id not in new_nodes:
            node, parent = old_nodes[node_id]
            yield Change(ChangeKind.INDICATOR_REMOVED, node_id, "", _render_node(node, parent), None)
        else:
            yield from _node_changes(*old_nodes[node_id], *new_nodes[node_id])


def _node_changes(old: Indicator, old_parent: str | None, new: Indicator, new_parent: str | None) -> Iterator[Change]:
    node_id = new.id
    if old.name != new.name:
        yield Change(ChangeKind.INDICATOR_RENAMED, node_id, "name", render_text(old.name), render_text(new.name))
    if old_parent != new_parent:
        yield Change(ChangeKind.INDICATOR_MOVED, node_id, "parent",
                     old_parent or "(top level)", new_parent or "(top level)")
    if old.weight != new.weight:
        yield Change(ChangeKind.WEIGHT_CHANGED, node_id, "weight", plain(old.weight), plain(new.weight))
    old_method = method_name(old.scoring) if old.scoring else None
    new_method = method_name(new.scoring) if new.scoring else None
    if old_method != new_method:
        # Rules of different methods do not compare; the whole rule is the change.
        yield Change(ChangeKind.METHOD_CHANGED, node_id, "method", render_scoring(old.scoring), render_scoring(new.scoring))
    elif old.scoring is not None and new.scoring is not None:
        yield from _rule_changes(node_id, old.scoring, new.scoring)
    if old.rationale != new.rationale:
        yield _text_change(node_id, "rationale", old.rationale, new.rationale)
    if old.description != new.description:
        yield _text_change(node_id, "description", old.description, new.description)
    if old.finding != new.finding:
        yield Change(ChangeKind.RULE_CHANGED, node_id, "finding", old.finding, new.finding)
    if old.not_applicable != new.not_applicable:
        yield Change(ChangeKind.NOT_APPLICABLE_CHANGED, node_id, "not applicable",
                     render_not_applicable(old.not_applicable) or None,
                     render_not_applicable(new.not_applicable) or None)


def _text_change(subject: str, detail: str, old: Text | None, new: Text | None) -> Change:
    return Change(ChangeKind.TEXT_CHANGED, subject, detail,
                  render_text(old) if old else None, render_text(new) if new else None)


def _rule_changes(node_id: str, old: Scoring, new: Scoring) -> Iterator[Change]:
    """Changes within one scoring method (both rules are of the same type)."""
    if isinstance(old, Ratio) and isinstance(new, Ratio):
        if (old.actual, old.target, old.floor, old.slope) != (new.actual, new.target, new.floor, new.slope):
            yield Change(ChangeKind.RULE_CHANGED, node_id, "ratio", _rule_body(old), _rule_body(new))
        if old.reason != new.reason:
            yield _text_change(node_id, "reason", old.reason, new.reason)
        if old.below_floor != new.below_floor:
            yield _text_change(node_id, "below_floor", old.below_floor, new.below_floor)
    elif isinstance(old, PerItem) and isinstance(new, PerItem):
        if (old.count, old.points, old.cap) != (new.count, new.points, new.cap):
            yield Change(ChangeKind.RULE_CHANGED, node_id, "per_item", _rule_body(old), _rule_body(new))
        if old.reason != new.reason:
            yield _text_change(node_id, "reason", old.reason, new.reason)
        if old.met != new.met:
            yield _text_change(node_id, "met", old.met, new.met)
    elif isinstance(old, Deductions) and isinstance(new, Deductions):
        yield from _check_changes(node_id, old.checks, new.checks)
    elif isinstance(old, AllOrNothing) and isinstance(new, AllOrNothing):
        if old.passes != new.passes:
            yield Change(ChangeKind.RULE_CHANGED, node_id, "pass",
                         render_condition(old.passes), render_condition(new.passes))
        if old.reason != new.reason:
            yield _text_change(node_id, "reason", old.reason, new.reason)
        if old.met != new.met:
            yield _text_change(node_id, "met", old.met, new.met)
    elif isinstance(old, Survey) and isinstance(new, Survey):
        yield from _survey_changes(node_id, old, new)
    elif isinstance(old, Bands) and isinstance(new, Bands):
        yield from _bands_changes(node_id, old, new)
    elif isinstance(old, Judgement) and isinstance(new, Judgement):
        if old.score != new.score:
            yield Change(ChangeKind.RULE_CHANGED, node_id, "score", old.score.name, new.score.name)
        if old.reason != new.reason:
            yield Change(ChangeKind.RULE_CHANGED, node_id, "reason", old.reason.name, new.reason.name)


def _check_changes(node_id: str, old: Sequence[Check], new: Sequence[Check]) -> Iterator[Change]:
    old_checks = {c.id: c for c in old}
    new_checks = {c.id: c for c in new}
    for check_id in merged_order(list(old_checks), list(new_checks)):
        detail = f"check {check_id}"
        before, after = old_checks.get(check_id), new_checks.get(check_id)
        if before is None:
            yield Change(ChangeKind.RULE_ADDED, node_id, detail, None, _render_check(after))
        elif after is None:
            yield Change(ChangeKind.RULE_REMOVED, node_id, detail, _render_check(before), None)
        else:
            if (before.when, before.points) != (after.when, after.points):
                yield Change(ChangeKind.RULE_CHANGED, node_id, detail, _render_check(before), _render_check(after))
            if before.reason != after.reason:
                yield _text_change(node_id, f"{detail} reason", before.reason, after.reason)
            if before.met != after.met:
                yield _text_change(node_id, f"{detail} met", before.met, after.met)
            if before.finding != after.finding:
                yield Change(ChangeKind.RULE_CHANGED, node_id, f"{detail} finding", before.finding, after.finding)


def _survey_changes(node_id: str, old: Survey, new: Survey) -> Iterator[Change]:
    if old.fact != new.fact:
        yield Change(ChangeKind.RULE_CHANGED, node_id, "fact", old.fact.name, new.fact.name)
    for key in merged_order(list(old.weights), list(new.weights)):
        detail = f"option {key}"
        before, after = old.weights.get(key), new.weights.get(key)
        if before is None:
            yield Change(ChangeKind.RULE_ADDED, node_id, detail, None, plain(after))
        elif after is None:
            yield Change(ChangeKind.RULE_REMOVED, node_id, detail, plain(before), None)
        elif before != after:
            yield Change(ChangeKind.RULE_CHANGED, node_id, detail, plain(before), plain(after))


def _bands_changes(node_id: str, old: Bands, new: Bands) -> Iterator[Change]:
    if old.value != new.value:
        yield Change(ChangeKind.RULE_CHANGED, node_id, "value", old.value.name, new.value.name)
    if [(b.minimum, b.options, b.deduct) for b in old.bands] != [(b.minimum, b.options, b.deduct) for b in new.bands]:
        yield Change(ChangeKind.RULE_CHANGED, node_id, "bands", _render_bands(old.bands), _render_bands(new.bands))
    for i, (before, after) in enumerate(zip(old.bands, new.bands), start=1):
        if before.reason != after.reason:
            yield _text_change(node_id, f"band {i} reason", before.reason, after.reason)
        if before.finding != after.finding:
            yield Change(ChangeKind.RULE_CHANGED, node_id, f"band {i} finding", before.finding, after.finding)
    if old.inferred != new.inferred:
        yield _text_change(node_id, "inferred", old.inferred, new.inferred)


# --- facts ----------------------------------------------------------------------------


def _fact_changes(old: Pack, new: Pack) -> Iterator[Change]:
    old_facts = {f.name: f for f in old.facts}
    new_facts = {f.name: f for f in new.facts}
    for name in merged_order(list(old_facts), list(new_facts)):
        before, after = old_facts.get(name), new_facts.get(name)
        if before is None:
            yield Change(ChangeKind.FACT_ADDED, name, "", None, _render_fact(after))
        elif after is None:
            yield Change(ChangeKind.FACT_REMOVED, name, "", _render_fact(before), None)
        else:
            yield from _fact_spec_changes(name, before, after)


def _fact_spec_changes(name: str, old: FactSpec, new: FactSpec) -> Iterator[Change]:
    if old.type != new.type:
        yield Change(ChangeKind.FACT_CHANGED, name, "type", old.type.value, new.type.value)
    if old.max_items != new.max_items:
        yield Change(ChangeKind.FACT_CHANGED, name, "max_items", _or_none(_count(old.max_items)),
                     _or_none(_count(new.max_items)))
    if old.non_empty != new.non_empty:
        yield Change(ChangeKind.FACT_CHANGED, name, "non_empty", str(old.non_empty).lower(), str(new.non_empty).lower())
    if old.unit != new.unit:
        yield Change(ChangeKind.FACT_CHANGED, name, "unit", _or_none(old.unit), _or_none(new.unit))
    if old.minimum != new.minimum:
        yield Change(ChangeKind.FACT_CHANGED, name, "min", _or_none(old.minimum), _or_none(new.minimum))
    if old.maximum != new.maximum:
        yield Change(ChangeKind.FACT_CHANGED, name, "max", _or_none(old.maximum), _or_none(new.maximum))
    if (old.has_default, old.default) != (new.has_default, new.default):
        yield Change(ChangeKind.FACT_CHANGED, name, "default", _render_default(old), _render_default(new))
    if [o.key for o in old.options] != [o.key for o in new.options]:
        yield Change(ChangeKind.FACT_CHANGED, name, "options", _render_options(old), _render_options(new))
    if old.label != new.label:
        yield _text_change(name, "label", old.label, new.label)
    for option in new.options:
        previous = old.option(option.key)
        if previous is not None and previous.label != option.label:
            yield _text_change(name, f"option {option.key} label", previous.label, option.label)


# --- derived values, constraints, overrides ---------------------------------------------


def _keyed_changes(olds: Sequence, news: Sequence, key, render, kinds: tuple[ChangeKind, ChangeKind, ChangeKind],
                   label: str) -> Iterator[Change]:
    """Added, removed and changed items of one kind, by their name or id, in merged order."""
    added, removed, changed = kinds
    before_items = {key(item): item for item in olds}
    after_items = {key(item): item for item in news}
    for name in merged_order(list(before_items), list(after_items)):
        before, after = before_items.get(name), after_items.get(name)
        if before is None:
            yield Change(added, name, label, None, render(after))
        elif after is None:
            yield Change(removed, name, label, render(before), None)
        elif before != after:
            yield Change(changed, name, label, render(before), render(after))


def _derived_changes(old: Pack, new: Pack) -> Iterator[Change]:
    yield from _keyed_changes(old.derived, new.derived, lambda d: d.name, _render_derived,
                              (ChangeKind.DERIVED_ADDED, ChangeKind.DERIVED_REMOVED, ChangeKind.DERIVED_CHANGED),
                              "derived value")


def _constraint_changes(old: Pack, new: Pack) -> Iterator[Change]:
    yield from _keyed_changes(old.constraints, new.constraints, lambda c: c.id, _render_constraint,
                              (ChangeKind.CONSTRAINT_ADDED, ChangeKind.CONSTRAINT_REMOVED,
                               ChangeKind.CONSTRAINT_CHANGED), "constraint")


def _override_changes(old: Pack, new: Pack) -> Iterator[Change]:
    yield from _keyed_changes(old.overrides, new.overrides, lambda o: o.id,
                              lambda o: f"{_render_override(o)} · {render_text(o.reason)}",
                              (ChangeKind.OVERRIDE_ADDED, ChangeKind.OVERRIDE_REMOVED, ChangeKind.OVERRIDE_CHANGED),
                              "override")


# --- findings, observations, the report's project facts --------------------------------


def _render_finding(finding: FindingRule) -> str:
    parts = [render_text(finding.text)]
    if finding.recommendation:
        parts.append(f"recommend {render_text(finding.recommendation)}")
    if finding.dimension:
        parts.append(f"in {finding.dimension}")
    return " · ".join(parts)


def _finding_changes(old: Pack, new: Pack) -> Iterator[Change]:
    yield from _keyed_changes(old.findings, new.findings, lambda f: f.id, _render_finding,
                              (ChangeKind.FINDING_ADDED, ChangeKind.FINDING_REMOVED, ChangeKind.FINDING_CHANGED),
                              "finding")
    for part in ("findings", "recommendations"):
        before, after = getattr(old.observations, part), getattr(new.observations, part)
        if before != after:
            yield Change(ChangeKind.OBSERVATIONS_CHANGED, "", f"observations {part}", before, after)
    before_project, after_project = dict(old.report_project), dict(new.report_project)
    for key in merged_order(list(before_project), list(after_project)):
        if before_project.get(key) != after_project.get(key):
            yield Change(ChangeKind.REPORT_CHANGED, "", f"report project {key}", before_project.get(key),
                         after_project.get(key))


def _count(value: int | None) -> str | None:
    return None if value is None else str(value)
