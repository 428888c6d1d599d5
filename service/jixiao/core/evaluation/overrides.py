"""Overrides: rules over facts and computed node scores that act after the tree is scored.

An override forces the total grade (一票否决), caps a node or the total at a score, or zeroes
a node's whole subtree ("产出不合格则效益不得分"). Its condition may read facts, derived values
and node values: "@score:<id>" (the node's score) and "@rate:<id>" (its score rate in percent,
2 places), with "total" for the total.

An override that reads a node found not applicable does not fire: there is nothing to
judge. Order: an override that reads a node another one changes acts after it. Changing a node
changes the node, its ancestors and the total (and, for zero, its descendants); a grade
changes no node. `layers` groups the overrides so that each reads only what earlier
layers changed (pack order within a layer); a cycle is refused by the loader through
`find_cycle`. Each layer is decided by one matcher call (durable-rules in the service,
the plain matcher in tests), over the values plus the node values as they stand after
the earlier layers.

`apply` is the arithmetic: it takes the scored tree (after any not-applicable treatment)
and returns the tree, total and grade with every fired override applied, and an
`OverrideResult` per override that fired, in the order applied. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

from .. import decimals
from .conditions import condition_refs
from ..decimals import ZERO
from ..pack.model import NODE_TOTAL, RATE_PREFIX, SCORE_PREFIX, GradeBand, Indicator, Override, Pack, Text, grade_for
from .rationale import parse_template, value_formatter, verdict
from .results import NodeResult, OverrideResult

RULE_PREFIX = "override#"
_NOTHING = ZERO.quantize(Decimal("0.01"))  # a zeroed node's score, written like any score


def rule_id(override: Override) -> str:
    return f"{RULE_PREFIX}{override.id}"


def node_reads(override: Override) -> set[str]:
    """The node ids (or "total") whose score or rate the override's condition reads."""
    nodes = set()
    for name in condition_refs(override.when):
        for prefix in (SCORE_PREFIX, RATE_PREFIX):
            if name.startswith(prefix):
                nodes.add(name[len(prefix):])
    return nodes


def node_changes(override: Override, parents: Mapping[str, str | None],
                 children: Mapping[str, Sequence[str]]) -> set[str]:
    """The node ids (and "total") whose score the override changes when it fires."""
    if override.action == "grade":
        return set()
    changed = {NODE_TOTAL}
    if override.node == NODE_TOTAL:
        return changed
    node: str | None = override.node
    while node is not None:
        changed.add(node)
        node = parents.get(node)
    if override.action == "zero":
        todo = list(children.get(override.node, ()))
        while todo:
            node = todo.pop()
            changed.add(node)
            todo.extend(children.get(node, ()))
    return changed


def tree_links(indicators: Iterable[Indicator]) -> tuple[dict[str, str | None], dict[str, tuple[str, ...]]]:
    """(parent of each node id, children ids of each node id)."""
    parents: dict[str, str | None] = {}
    children: dict[str, tuple[str, ...]] = {}
    todo: list[tuple[Indicator, str | None]] = [(node, None) for node in indicators]
    while todo:
        node, parent = todo.pop()
        parents[node.id] = parent
        children[node.id] = tuple(c.id for c in node.children)
        todo.extend((c, node.id) for c in node.children)
    return parents, children


def _depends(overrides: Sequence[Override], indicators: Iterable[Indicator]) -> list[list[int]]:
    """For each override, the indices of the other overrides it must act after."""
    parents, children = tree_links(indicators)
    changes = [node_changes(o, parents, children) for o in overrides]
    reads = [node_reads(o) for o in overrides]
    return [[j for j in range(len(overrides)) if j != i and reads[i] & changes[j]] for i in range(len(overrides))]


def find_cycle(overrides: Sequence[Override], indicators: Iterable[Indicator]) -> list[str] | None:
    """The ids of overrides that wait on each other in a loop (the first found), or None."""
    after = _depends(overrides, indicators)
    state = [0] * len(overrides)  # 0 unvisited, 1 on the path, 2 done
    for start in range(len(overrides)):
        if state[start]:
            continue
        path: list[int] = []
        stack: list[tuple[int, int]] = [(start, 0)]
        while stack:
            node, k = stack.pop()
            if k == 0:
                state[node] = 1
                path.append(node)
            if k < len(after[node]):
                stack.append((node, k + 1))
                nxt = after[node][k]
                if state[nxt] == 1:
                    loop = path[path.index(nxt):]
                    return [overrides[i].id for i in loop] + [overrides[nxt].id]
                if state[nxt] == 0:
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return None


def layers(overrides: Sequence[Override], indicators: Iterable[Indicator]) -> tuple[tuple[int, ...], ...]:
    """Override indices grouped in layers: each acts after every override it depends on;
    pack order within a layer. Assumes no cycle (the loader refuses them)."""
    after = _depends(overrides, indicators)
    depth: dict[int, int] = {}

    def level(i: int, seen: frozenset = frozenset()) -> int:
        if i not in depth:
            if i in seen:
                raise ValueError(f"overrides wait on each other: {overrides[i].id}")
            depth[i] = 1 + max((level(j, seen | {i}) for j in after[i]), default=-1)
        return depth[i]

    for i in range(len(overrides)):
        level(i)
    count = 1 + max(depth.values(), default=-1)
    return tuple(tuple(i for i in range(len(overrides)) if depth[i] == k) for k in range(count))


# --- applying ----------------------------------------------------------------------


@dataclass
class _State:
    """What the fired overrides decided so far: zeroed subtrees, caps, forced grades."""

    zeroed: dict[str, list[str]]  # node id → rule ids of the zero overrides covering it
    caps: dict[str, tuple[Decimal, list[str]]]  # node id (or total) → (lowest cap, rule ids)
    #: leaf id → ("zero", the override's reason) or ("cap", the sentence appended), in order
    notes: dict[str, list[tuple[str, str]]]


class OverridePlan:
    """A pack's overrides prepared once: layers, texts per language, the node values read."""

    def __init__(self, pack: Pack):
        self.pack = pack
        self.overrides = pack.overrides
        self.layers = layers(pack.overrides, pack.indicators)
        self.rule_ids = tuple(rule_id(o) for o in pack.overrides)
        self.reads_by_override = tuple(node_reads(o) for o in pack.overrides)
        self.reads = sorted(set().union(*self.reads_by_override) if pack.overrides else ())
        self.reasons = tuple({language: _Template(o.reason, pack, language) for language in ("zh", "en")}
                             for o in pack.overrides)
        self.grade_order = {band.grade: i for i, band in enumerate(pack.grades)}

    def node_values(self, indicators: Sequence[NodeResult], total: Decimal, total_weight: Decimal) -> dict[str, object]:
        """"@score:<id>" and "@rate:<id>" of every node (and the total) a condition reads."""
        if not self.reads:
            return {}
        out: dict[str, object] = {}
        wanted = set(self.reads)
        for top in indicators:
            for node in top.walk():
                if node.id in wanted:
                    out[SCORE_PREFIX + node.id] = node.score
                    out[RATE_PREFIX + node.id] = node.rate
        if NODE_TOTAL in wanted:
            out[SCORE_PREFIX + NODE_TOTAL] = total
            out[RATE_PREFIX + NODE_TOTAL] = decimals.rate_percent(total, total_weight)
        return out


class _Template:
    """An override's reason in one language: facts, derived values, {before} and {after}."""

    def __init__(self, text: Text, pack: Pack, language: str):
        self.parts = tuple((literal, name, value_formatter(pack, name, fmt, language) if name else None)
                           for literal, name, fmt in parse_template(text.get(language)))

    def render(self, values: Mapping[str, object]) -> str:
        out = []
        for literal, name, fmt in self.parts:
            out.append(literal)
            if name is not None:
                out.append(fmt(values[name]))  # type: ignore[misc]
        return "".join(out)


Decide = Callable[[int, dict[str, object]], frozenset[int]]


def apply(plan: OverridePlan, indicators: tuple[NodeResult, ...], total: Decimal, grade: GradeBand,
          values: Mapping[str, object], decide: Decide, total_of: Callable[[tuple[NodeResult, ...]], Decimal],
          language: str) -> tuple[tuple[NodeResult, ...], Decimal, GradeBand, tuple[OverrideResult, ...]]:
    """The tree, total and grade after every override that fires, and what each did.

    `decide(layer, values)` is the matcher's answer for a layer: the indices (into
    `plan.overrides`) that fire. `total_of(indicators)` is the total of a tree (the sum of
    level 1, or its rescaled value under the rescale treatment). A forced grade never
    raises the grade the total earns: the worst of the two stands.
    """
    pack = plan.pack
    state = _State({}, {}, {})
    results: list[OverrideResult] = []
    base = indicators
    forced: GradeBand | None = None
    # A node that is not applicable has nothing to judge: an override reading it does not fire.
    not_applicable = {node.id for top in indicators for node in top.walk() if node.not_applicable} \
        if plan.reads else set()
    for k, layer in enumerate(plan.layers):
        fired = decide(k, {**values, **plan.node_values(indicators, total, pack.total_weight)})
        for index in layer:
            if index not in fired or (not_applicable and plan.reads_by_override[index] & not_applicable):
                continue
            override, rid = plan.overrides[index], plan.rule_ids[index]
            node = override.node
            if override.action == "grade":
                node = NODE_TOTAL
                earned = grade_for(pack.grades, decimals.rate_percent(total, pack.total_weight))
                current = _worse(plan, earned, forced)
                forced = _worse(plan, next(b for b in pack.grades if b.grade == override.grade), forced)
                before, after = _grade_name(current, language), _grade_name(_worse(plan, earned, forced), language)
            else:
                before = decimals.plain(total if node == NODE_TOTAL else _find(indicators, node).score)
                if override.action == "zero":
                    _zero(state, pack, node, rid)
                else:
                    lowest, ids = state.caps.get(node, (override.cap, []))
                    state.caps[node] = (min(lowest, override.cap), ids + [rid])  # type: ignore[type-var]
                indicators = _rebuild(base, state, pack.grades, language)
                total = total_of(indicators)
                if NODE_TOTAL in state.caps:
                    total = min(total, state.caps[NODE_TOTAL][0])
                after = decimals.plain(total if node == NODE_TOTAL else _find(indicators, node).score)
            rationale = plan.reasons[index][language].render({**values, "before": before, "after": after})
            if override.action != "grade":
                _note(state, pack, override, rationale, language)
            results.append(OverrideResult(rid, override.action, node, before, after, rationale))
    if state.notes:
        indicators = _rebuild(base, state, pack.grades, language)
    earned = grade_for(pack.grades, decimals.rate_percent(total, pack.total_weight))
    return indicators, total, _worse(plan, earned, forced), tuple(results)


def _worse(plan: OverridePlan, band: GradeBand, other: GradeBand | None) -> GradeBand:
    """The lower of two grades (grades are listed highest first)."""
    if other is None or plan.grade_order[band.grade] >= plan.grade_order[other.grade]:
        return band
    return other


def _grade_name(band: GradeBand, language: str) -> str:
    return band.en if language == "en" and band.en else band.grade


def _find(indicators: Iterable[NodeResult], node_id: str) -> NodeResult:
    for top in indicators:
        for node in top.walk():
            if node.id == node_id:
                return node
    raise KeyError(node_id)


def _zero(state: _State, pack: Pack, node_id: str, rid: str) -> None:
    for top in pack.indicators:
        for node in top.walk():
            if node.id == node_id:
                for inner in node.walk():
                    state.zeroed.setdefault(inner.id, []).append(rid)
                return


def _note(state: _State, pack: Pack, override: Override, rationale: str, language: str) -> None:
    """The sentence each leaf the override acts on gets in its rationale."""
    if override.node == NODE_TOTAL:
        return
    reason = rationale.strip().rstrip("。；;，,. ")
    for top in pack.indicators:
        for node in top.walk():
            if node.id != override.node:
                continue
            targets = [n for n in node.walk() if n.is_leaf] if override.action == "zero" else \
                ([node] if node.is_leaf else [])
            for leaf in targets:
                if override.action == "zero":
                    note = ("zero", reason)
                else:
                    cap = decimals.plain(override.cap)  # type: ignore[arg-type]
                    note = ("cap", f"Because {reason}, the score is capped at {cap}." if language == "en"
                            else f"因{reason}，得分不超过{cap}分。")
                state.notes.setdefault(leaf.id, []).append(note)
            return


def _with_notes(node: NodeResult, notes: Sequence[tuple[str, str]], language: str) -> str:
    """A leaf's rationale with what the overrides did to it. The first zeroing replaces the
    leaf's own verdict ("根据评分细则，扣3.5分，得1.5分。" → "按评分细则应得1.5分；因…，该指标不得分
    （得0分）。"): a zeroed leaf does not keep a score it was not given; a leaf that scored 0
    anyway keeps its verdict and says the override too ("…，得0分；因…，该指标亦不得分。").
    Caps are appended."""
    rationale = node.rationale
    zeroed = False
    for kind, text in notes:
        if kind == "zero" and not zeroed:
            zeroed = True
            score = decimals.plain(node.score)
            own = verdict(node.scored_weight - node.score, node.score, language)
            if node.score == 0:  # nothing to take away: the verdict stands, the override is said
                sentence = (f"{own.rstrip('.')}; because {text}, it would score 0 in any case." if language == "en"
                            else f"{own.rstrip('。')}；因{text}，该指标亦不得分。")
            else:
                sentence = (f"Under the scoring rules it would score {score}; because {text}, it scores 0."
                            if language == "en" else f"按评分细则应得{score}分；因{text}，该指标不得分（得0分）。")
            at = rationale.rfind(own)
            if at >= 0:
                rationale = rationale[:at] + sentence + rationale[at + len(own):]
                continue
            text = sentence
        elif kind == "zero":
            text = (f"Because {text}, the indicator scores 0." if language == "en" else f"因{text}，该指标不得分。")
        rationale = f"{rationale} {text}" if language == "en" and rationale else rationale + text
    return rationale


def _rebuild(nodes: Sequence[NodeResult], state: _State, grades: tuple[GradeBand, ...],
             language: str) -> tuple[NodeResult, ...]:
    """The tree with the zeroed subtrees at 0 and the caps applied, parents re-summed."""
    return tuple(_rebuilt(node, state, grades, language) for node in nodes)


def _rebuilt(node: NodeResult, state: _State, grades: tuple[GradeBand, ...], language: str) -> NodeResult:
    acted: list[str] = list(state.zeroed.get(node.id, ()))
    children = node.children
    if children:
        children = _rebuild(children, state, grades, language)
        score = sum([c.score for c in children], ZERO)
    else:
        score = node.score
    if node.id in state.zeroed:
        score = _NOTHING
    if node.id in state.caps:
        cap, ids = state.caps[node.id]
        acted += ids
        score = min(score, cap)
    if not acted and children == node.children and score == node.score:
        return node
    notes = () if node.not_applicable else state.notes.get(node.id, ())
    rationale = _with_notes(node, notes, language) if notes else node.rationale
    rate = decimals.rate_percent(score, node.scored_weight) if node.scored_weight else ZERO
    grade = node.grade
    if node.level == 1 and node.grade is not None:
        band = grade_for(grades, rate)
        grade = band.en if language == "en" and band.en else band.grade
    return node._replace(score=score, rate=rate, grade=grade, rationale=rationale, children=children,
                         overridden_by=tuple(dict.fromkeys(node.overridden_by + tuple(acted))))
