"""Inputs only a not-applicable leaf reads: their absence is an error only if the leaf applies.

A fact that only leaves which may be found not applicable read (directly, or through derived
values) is needed only when one of those leaves turns out applicable: 生态效益's conclusion
when the evaluators declare the indicator 不适用, a cost overrun rate whose planned cost is 0
when no cost target was set. For such a name (`deferrable`), a missing fact or a derived value
that cannot be computed (a division by 0, a result beyond the engine's limits) is not refused
at once: the matcher is given a safe placeholder of the value's type (`placeholders`), and the
evaluator refuses the request after the not-applicable decisions only when a leaf reading the
name is applicable. A leaf found not applicable is never scored, so it never reads one.

A name's readers are every leaf's rules and templates, the not-applicable conditions and their
reasons, the constraints, the overrides (conditions and reasons), the findings' texts and
recommendations and the derived values that read it, followed through those derived values.
A name is deferrable when it has at least one reader and every reader is a leaf that may be
not applicable (or a deferrable derived value).

A finding's texts are read on behalf of the rules that give it (findings.py): when every one
of them is a leaf that may be not applicable, or a check or band of such a leaf, they read
for those leaves, and what they read is needed only when one of those leaves applies (a
finding of a leaf found not applicable is never given, so never rendered). A finding an
override or an always-applicable leaf may give reads for itself: what it reads is required.
Computed once per pack; a pack without not-applicable leaves has none, and pays nothing.
Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from .conditions import condition_refs
from .derived import expression_refs
from ..pack.model import Bands, Deductions, FactType, Pack
from .overrides import RULE_PREFIX
from .rationale import LEAF_VARIABLES
from ..pack.references import FIRED_REASONS, leaf_inputs, not_applicable_refs, text_names

_ZERO = Decimal(0)
_FIXED = "fixed"  # a reader that is always read: a condition, a constraint, an override, any applicable leaf


def deferrable(pack: Pack) -> dict[str, frozenset[str]]:
    """Name (fact or derived value) → the ids of the leaves that read it, for every name only
    leaves that may be not applicable read. Empty when no leaf may be not applicable."""
    may_be_na = {leaf.id for leaf in pack.leaves() if leaf.not_applicable is not None}
    if not may_be_na:
        return {}
    readers: dict[str, set[tuple[str, str]]] = {}

    def read(names: Iterable[str], reader: tuple[str, str]) -> None:
        for name in names:
            readers.setdefault(_base(pack, name), set()).add(reader)

    for leaf in pack.leaves():
        read(leaf_inputs(leaf, LEAF_VARIABLES), ("leaf", leaf.id) if leaf.id in may_be_na else (_FIXED, leaf.id))
        read(not_applicable_refs(leaf), (_FIXED, leaf.id))
    for constraint in pack.constraints:
        read(condition_refs(constraint.require), (_FIXED, constraint.id))
    for override in pack.overrides:
        read(condition_refs(override.when), (_FIXED, override.id))
        read(text_names(override.reason), (_FIXED, override.id))
    for value in pack.derived:
        read(expression_refs(value.expression), ("derived", value.name))
    given_by = finding_sources(pack)
    for finding in pack.findings:
        sources = given_by.get(finding.id, ())
        if sources and all(source in may_be_na for source in sources):
            finding_readers = [("leaf", leaf_id) for leaf_id in sources]  # rendered only if one applies
        else:  # an override or an always-applicable leaf may give it: rendered whichever leaves apply
            finding_readers = [(_FIXED, finding.id)]
        for text in filter(None, (finding.text, finding.recommendation)):
            names = [name for name in text_names(text) if name != FIRED_REASONS]
            for reader in finding_readers:
                read(names, reader)

    found: dict[str, frozenset[str] | None] = {}  # None: not deferrable

    def leaves(name: str, path: frozenset[str]) -> frozenset[str] | None:
        if name in found:
            return found[name]
        if name in path:  # a loop: the loader refuses them
            return None
        out: set[str] = set()
        answer: frozenset[str] | None = None
        for kind, who in readers.get(name, ()):
            if kind == _FIXED:
                break
            if kind == "derived":
                below = leaves(who, path | {name})
                if below is None:
                    break
                out |= below
            else:
                out.add(who)
        else:
            answer = frozenset(out) if out else None
        found[name] = answer
        return answer

    names = [spec.name for spec in pack.facts] + [value.name for value in pack.derived]
    return {name: ids for name in names if (ids := leaves(name, frozenset())) is not None}


def finding_sources(pack: Pack) -> dict[str, tuple[str, ...]]:
    """Finding id → who may give it: the leaves whose checks, bands or own scoring name it,
    in tree order, and `override#<id>` for each override naming it."""
    out: dict[str, list[str]] = {}

    def give(finding_id: str | None, source: str) -> None:
        if finding_id is not None and source not in out.setdefault(finding_id, []):
            out[finding_id].append(source)

    for leaf in pack.leaves():
        scoring = leaf.scoring
        if isinstance(scoring, Deductions):
            for check in scoring.checks:
                give(check.finding, leaf.id)
        elif isinstance(scoring, Bands):
            for band in scoring.bands:
                give(band.finding, leaf.id)
        give(leaf.finding, leaf.id)
    for override in pack.overrides:
        give(override.finding, f"{RULE_PREFIX}{override.id}")
    return {finding_id: tuple(sources) for finding_id, sources in out.items()}


def placeholders(pack: Pack, names: Iterable[str]) -> dict[str, object]:
    """A safe value of each name's type, for the matcher only: 0, False, "", a choice's first
    option, a survey with every share 0 (and its shares by option), 0 for a derived value."""
    out: dict[str, object] = {}
    for name in names:
        spec = pack.fact(name)
        if spec is None:  # a derived value
            out[name] = _ZERO
        elif spec.type is FactType.DECIMAL:
            out[name] = _ZERO
        elif spec.type is FactType.INTEGER:
            out[name] = 0
        elif spec.type is FactType.BOOLEAN:
            out[name] = False
        elif spec.type is FactType.TEXT:
            out[name] = ""
        elif spec.type is FactType.CHOICE:
            out[name] = spec.options[0].key
        elif spec.type is FactType.TEXT_LIST:
            out[name] = ()
        else:  # a survey: every share 0, also one by one
            out[name] = {option.key: _ZERO for option in spec.options}
            out.update({f"{name}.{option.key}": _ZERO for option in spec.options})
    return out


def _base(pack: Pack, name: str) -> str:
    """The fact or derived value a name stands for: a survey option's share is its survey's."""
    if pack.fact(name) is not None or pack.derived_value(name) is not None:
        return name
    survey = name.rpartition(".")[0]
    return survey if pack.fact(survey) is not None else name
