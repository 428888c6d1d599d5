"""不适用: which leaves a request finds not applicable, and the tree scored without them.

A leaf may be declared not applicable by a condition over facts or by the evaluator (a
boolean fact, with a text fact as the reason); both are rules the matcher decides with the
pack's other rules. When some leaf is not applicable, the pack's treatment decides what
becomes of its weight:

- rescale: the leaf scores 0 on an effective weight of 0; a parent's effective weight is
  the sum of its children's, its score their sum; the total is converted back to the
  pack's total weight: round_half_up(Σ level-1 scores × total_weight ÷ Σ level-1
  effective weights, 2). Level-1 nodes keep their raw sums.
- redistribute: within each parent the N/A children's weight goes to the applicable
  siblings in proportion to their weights, e_i = w_i × E ÷ Σ applicable w_j (E the
  parent's effective weight, the total weight at level 1), rounded to cents so that the
  siblings add up to E exactly (the largest remainders take the last cents). A leaf is
  scored on its own weight as usual, then converted: round_half_up(score × e ÷ w, 2).
  Parents sum their children.

When some leaf of a request is N/A, every node's `effective_weight` is set (the weight
it is scored on); otherwise it stays None and the tree is scored exactly as without N/A.
A parent whose children are all N/A is N/A; every leaf N/A is an input error. Leaves are
scored through their memoised plans (scoring.py) exactly as without N/A: only the
conversion, the parents and the total are computed here, per request. Pure: no I/O.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Mapping

from .. import decimals
from .compiler import CompiledPack
from .conditions import condition_refs
from ..decimals import CENT, CONTEXT, ZERO
from ..errors import FactViolation
from ..pack.model import grade_for
from .results import NodeResult
from .scoring import LeafPlan, NodePlan, Texts, grade_name

Values = Mapping[str, object]
_NOTHING = ZERO.quantize(CENT)  # an N/A leaf's score and rate, written like any leaf's

_NOTES = {
    ("rescale", "zh"): "该指标不适用（{reason}），权重按得分率折算。",
    ("redistribute", "zh"): "该指标不适用（{reason}），权重按比例分配至同级指标。",
    ("rescale", "en"): "Not applicable ({reason}); the total is converted from the score rate on the "
                       "applicable weight.",
    ("redistribute", "en"): "Not applicable ({reason}); its weight is shared among the sibling indicators "
                            "in proportion.",
}
_ADJUSTED = {
    ("sibling", "zh"): "（因同级指标不适用，权重由{old}调整为{new}）",
    ("sibling", "en"): " (weight adjusted from {old} to {new} because a sibling indicator is not applicable)",
    ("parent", "zh"): "（因上级指标权重调整，权重由{old}调整为{new}）",
    ("parent", "en"): " (weight adjusted from {old} to {new} with its parent indicator's)",
}


def known_not_applicable(compiled: CompiledPack, values: Values) -> set[str]:
    """Leaves the request already declares not applicable by their flag (before matching)."""
    return {leaf_id for leaf_id, flag in _kinds(compiled)[0] if values.get(flag) is True}


def decided_later(compiled: CompiledPack) -> frozenset[str]:
    """Leaves whose N/A is decided by a condition, known only after matching."""
    return _kinds(compiled)[1]


def _kinds(compiled: CompiledPack) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """(leaf id, flag) of each leaf its evaluator may declare N/A, and the ids of the leaves a
    condition may find N/A: found once per compiled pack, read for every request."""
    kinds = compiled.__dict__.get("_not_applicable_kinds")
    if kinds is None:
        leaves = [leaf for leaf in compiled.pack.leaves() if leaf.not_applicable is not None]
        kinds = (tuple((leaf.id, leaf.not_applicable.flag.name) for leaf in leaves  # type: ignore[union-attr]
                       if leaf.not_applicable.flag is not None),  # type: ignore[union-attr]
                 frozenset(leaf.id for leaf in leaves if leaf.not_applicable.when is not None))  # type: ignore[union-attr]
        object.__setattr__(compiled, "_not_applicable_kinds", kinds)
    return kinds


def not_applicable_leaves(compiled: CompiledPack, values: Values, fired: frozenset[int],
                          language: str) -> dict[str, str]:
    """leaf id → the reason it is not applicable, for each leaf the request finds N/A."""
    out: dict[str, str] = {}
    pack = compiled.pack
    for leaf_id, rule in compiled.not_applicable.items():
        if rule.index not in fired:
            continue
        leaf = _leaf(compiled, leaf_id)
        na = leaf.not_applicable
        assert na is not None
        if na.reason_fact is not None:
            out[leaf_id] = str(values.get(na.reason_fact.name, "")).strip()
        else:
            out[leaf_id] = Texts(na.reason, pack).render(language, {}, values)  # type: ignore[arg-type]
    return out


def missing_reasons(compiled: CompiledPack, values: Values) -> list[FactViolation]:
    """A flag set without a reason: the evaluator must say why a leaf is not applicable."""
    violations = []
    for leaf in compiled.pack.leaves():
        na = leaf.not_applicable
        if na is None or na.flag is None or values.get(na.flag.name) is not True:
            continue
        reason = na.reason_fact.name  # type: ignore[union-attr]
        if reason in values and not str(values[reason]).strip():
            violations.append(FactViolation(reason, f"the evaluator must say why {leaf.id} is not applicable "
                                                    f"({na.flag.name} is true)"))
    return violations


def every_leaf_violation(compiled: CompiledPack, not_applicable: Mapping[str, str]) -> FactViolation | None:
    """The input error when no leaf is left to score."""
    leaves = list(compiled.pack.leaves())
    if len(not_applicable) < len(leaves):
        return None
    first = leaves[0].not_applicable
    assert first is not None
    name = first.flag.name if first.flag is not None else next(iter(condition_refs(first.when)), "facts")  # type: ignore[arg-type]
    return FactViolation(name, "every indicator is not applicable: there is nothing left to score")


def _leaf(compiled: CompiledPack, leaf_id: str):
    index = compiled.__dict__.get("_leaf_index")
    if index is None:
        index = {leaf.id: leaf for leaf in compiled.pack.leaves()}
        object.__setattr__(compiled, "_leaf_index", index)
    return index[leaf_id]


# --- the tree without the N/A leaves -----------------------------------------------


def score_tree(compiled: CompiledPack, values: Values, fired: frozenset[int], language: str,
               not_applicable: Mapping[str, str]) -> tuple[tuple[NodeResult, ...], Decimal, Decimal]:
    """(level-1 results, total, applicable weight) under the pack's treatment."""
    pack = compiled.pack
    treatment = pack.not_applicable_treatment or "rescale"
    scorer = _Scorer(compiled, values, fired, language, not_applicable, treatment)
    applicable = sum([leaf.weight for leaf in pack.leaves() if leaf.id not in not_applicable], ZERO)
    if treatment == "rescale":
        tops = tuple(scorer.rescaled(plan) for plan in compiled.tree)
        raw = sum([n.score for n in tops], ZERO)
        weight = sum([n.scored_weight for n in tops], ZERO)
        total = decimals.round_score(CONTEXT.divide(CONTEXT.multiply(raw, pack.total_weight), weight))
        return tops, total, applicable
    tops = scorer.redistributed(compiled.tree, pack.total_weight)
    return tops, sum([n.score for n in tops], ZERO), applicable


def rescaled_total(compiled: CompiledPack, indicators: tuple[NodeResult, ...]) -> Decimal:
    """The total of a tree under the pack's treatment (overrides re-total with this)."""
    raw = sum([n.score for n in indicators], ZERO)
    if compiled.pack.not_applicable_treatment != "rescale":
        return raw
    weight = sum([n.scored_weight for n in indicators], ZERO)
    if weight == compiled.pack.total_weight or weight == 0:
        return raw
    return decimals.round_score(CONTEXT.divide(CONTEXT.multiply(raw, compiled.pack.total_weight), weight))


class _Scorer:
    def __init__(self, compiled: CompiledPack, values: Values, fired: frozenset[int], language: str,
                 not_applicable: Mapping[str, str], treatment: str):
        self.grades = compiled.pack.grades
        self.values, self.fired, self.language = values, fired, language
        self.not_applicable = not_applicable
        self.treatment = treatment

    def _na_leaf(self, plan: LeafPlan) -> NodeResult:
        reason = self.not_applicable[plan.leaf.id].strip().rstrip("。；;，,. ")
        note = _NOTES[self.treatment, self.language].format(reason=reason)
        return NodeResult(plan.leaf.id, plan.names[self.language], plan.level, plan.weight, _NOTHING, _NOTHING,
                          None, plan.method, (), note, (), ZERO, True, reason)

    def _parent(self, plan, children: tuple[NodeResult, ...], effective: Decimal) -> NodeResult:
        node = plan.node
        score = sum([c.score for c in children], ZERO)
        all_na = all(c.not_applicable for c in children)
        rate = decimals.rate_percent(score, effective)
        grade = grade_name(grade_for(self.grades, rate), self.language) if plan.level == 1 and not all_na else None
        return NodeResult(node.id, plan.names[self.language], plan.level, node.weight, score, rate, grade,
                          None, (), "", children, effective, all_na, "")

    def rescaled(self, plan: NodePlan) -> NodeResult:
        if isinstance(plan, LeafPlan):
            if plan.leaf.id in self.not_applicable:
                return self._na_leaf(plan)
            result = plan.score(self.values, self.fired, self.language)
            return result._replace(effective_weight=plan.weight)
        children = tuple(self.rescaled(child) for child in plan.children)
        return self._parent(plan, children, sum([c.scored_weight for c in children], ZERO))

    def _applicable(self, plan: NodePlan) -> bool:
        if isinstance(plan, LeafPlan):
            return plan.leaf.id not in self.not_applicable
        return any(self._applicable(child) for child in plan.children)

    def redistributed(self, plans: tuple[NodePlan, ...], effective: Decimal,
                      parent_changed: bool = False) -> tuple[NodeResult, ...]:
        """Sibling nodes sharing the effective weight `effective` of their parent."""
        weights = [_weight(plan) for plan in plans]
        applicable = [self._applicable(plan) for plan in plans]
        shares = _shares(weights, applicable, effective)
        sibling_na = not all(applicable)
        out = []
        for plan, weight, share, ok in zip(plans, weights, shares, applicable):
            if isinstance(plan, LeafPlan):
                if not ok:
                    out.append(self._na_leaf(plan))
                    continue
                result = plan.score(self.values, self.fired, self.language)
                if share == weight:
                    out.append(result._replace(effective_weight=share))
                    continue
                kind = "sibling" if sibling_na else "parent"
                note = _ADJUSTED[kind, self.language].format(old=decimals.plain(weight), new=decimals.plain(share))
                out.append(plan.converted(result, share, self.values, self.fired, self.language, note))
                continue
            if not ok:
                children = tuple(self._na_leaf(leaf) if isinstance(leaf, LeafPlan) else self._all_na(leaf)
                                 for leaf in plan.children)
                out.append(self._parent(plan, children, ZERO))
                continue
            children = self.redistributed(plan.children, share, parent_changed or share != weight)
            out.append(self._parent(plan, children, share))
        return tuple(out)

    def _all_na(self, plan: NodePlan) -> NodeResult:
        if isinstance(plan, LeafPlan):
            return self._na_leaf(plan)
        return self._parent(plan, tuple(self._all_na(child) for child in plan.children), ZERO)


def _weight(plan: NodePlan) -> Decimal:
    return plan.weight if isinstance(plan, LeafPlan) else plan.node.weight


def _shares(weights: list[Decimal], applicable: list[bool], effective: Decimal) -> list[Decimal]:
    """Each sibling's effective weight: w_i × E ÷ Σ applicable w_j, in cents, adding up to
    E exactly (largest remainders first, ties in pack order); 0 for an N/A sibling."""
    base = sum([w for w, ok in zip(weights, applicable) if ok], ZERO)
    if all(applicable) and base == effective:
        return list(weights)
    exact = [CONTEXT.divide(CONTEXT.multiply(w, effective), base) if ok else ZERO for w, ok in zip(weights, applicable)]
    floors = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int(((effective - sum(floors, ZERO)) / CENT).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:max(left, 0)]:
        if applicable[i]:
            floors[i] += CENT
    return [f if f != f.to_integral_value() else f.quantize(Decimal(1)) for f in floors]
