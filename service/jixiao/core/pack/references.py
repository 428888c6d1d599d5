"""Which facts an indicator reads: for input forms, the API and validation."""

from __future__ import annotations

from typing import Collection, Iterator, Mapping, Sequence

from ..evaluation.conditions import condition_refs
from .model import AllOrNothing, Bands, Deductions, Indicator, Judgement, PerItem, Ratio, Survey, Text
from ..evaluation.rationale import placeholders


#: The placeholder of a finding's text that says why it was given: the reasons of the rules
#: that gave it (their deductions', bands', overrides'), joined. No fact: findings.py fills it.
FIRED_REASONS = "fired_reasons"


def text_names(text: Text) -> Iterator[str]:
    """Every name a text's templates use (`{name}`, `{name|format}`), in both languages."""
    for template in (text.zh, text.en or ""):
        for name, _ in placeholders(template):
            yield name


def uses_fired_reasons(text: Text | None) -> bool:
    """Whether a text says `{fired_reasons}` in either language."""
    return text is not None and FIRED_REASONS in text_names(text)


def scoring_refs(leaf: Indicator) -> Iterator[str]:
    """Fact names (or survey option refs) the leaf's scoring rules read."""
    scoring = leaf.scoring
    if isinstance(scoring, Ratio):
        yield scoring.actual.name
        yield scoring.target.name
    elif isinstance(scoring, PerItem):
        yield scoring.count.name
    elif isinstance(scoring, Deductions):
        for check in scoring.checks:
            yield from condition_refs(check.when)
    elif isinstance(scoring, AllOrNothing):
        yield from condition_refs(scoring.passes)
    elif isinstance(scoring, Survey):
        yield scoring.fact.name
    elif isinstance(scoring, Bands):
        yield scoring.value.name
    elif isinstance(scoring, Judgement):
        yield scoring.score.name
        yield scoring.reason.name


def not_applicable_refs(leaf: Indicator) -> Iterator[str]:
    """Fact names that decide whether the leaf is not applicable, and its reason's."""
    na = leaf.not_applicable
    if na is None:
        return
    if na.flag is not None:
        yield na.flag.name
        yield na.reason_fact.name  # type: ignore[union-attr]
    elif na.when is not None:
        yield from condition_refs(na.when)
        if na.reason:
            yield from text_names(na.reason)


def leaf_texts(leaf: Indicator) -> Iterator[Text]:
    """Every template of a leaf."""
    scoring = leaf.scoring
    if leaf.rationale:
        yield leaf.rationale
    if isinstance(scoring, Ratio):
        yield scoring.reason
        if scoring.below_floor:
            yield scoring.below_floor
    elif isinstance(scoring, PerItem):
        yield scoring.reason
        if scoring.met:
            yield scoring.met
    elif isinstance(scoring, Deductions):
        for check in scoring.checks:
            yield check.reason
            if check.met:
                yield check.met
    elif isinstance(scoring, AllOrNothing):
        yield scoring.reason
        if scoring.met:
            yield scoring.met
    elif isinstance(scoring, Bands):
        for band in scoring.bands:
            if band.reason:
                yield band.reason
        if scoring.inferred:
            yield scoring.inferred


def facts_read(leaf: Indicator, declared: Collection[str],
               derived: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """Declared fact names a leaf reads, through its rules or its texts, in first-use order.

    A survey option ref (`survey.x.option`) counts as its survey fact (`survey.x`); a
    derived value counts as the facts it is computed from (`derived`: name → facts, see
    `derived.inputs`); the leaf's own template values (`score`, `ratio`, ...) are not
    facts and are left out.
    """
    names: list[str] = list(scoring_refs(leaf)) + list(not_applicable_refs(leaf))
    for text in leaf_texts(leaf):
        names.extend(text_names(text))
    if derived:
        names = [fact for name in names for fact in (derived[name] if name in derived else (name,))]
    facts = []
    for name in names:
        if name not in declared:
            name = name.rpartition(".")[0]  # a survey option's share: its survey
        if name in declared:
            facts.append(name)
    return tuple(dict.fromkeys(facts))


def leaf_inputs(leaf: Indicator, leaf_variables: Collection[str]) -> tuple[str, ...]:
    """Every value name a leaf's result depends on: what its rules and templates read.

    Names are as the rules and templates write them (a survey option's share stays
    `survey.x.option`); the leaf's own derived values (`leaf_variables`) are left out.
    """
    names: list[str] = list(scoring_refs(leaf))
    for text in leaf_texts(leaf):
        names.extend(name for name in text_names(text) if name not in leaf_variables)
    return tuple(dict.fromkeys(names))
