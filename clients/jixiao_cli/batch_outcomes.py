"""What scoring one batch row gives: its scores, or the one-line reason it failed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Iterator, Mapping

from jixiao.api.convert import decimal_text
from jixiao.core.evaluation import results
from jixiao.v1 import evaluation_pb2


@dataclass(frozen=True)
class RowScore:
    """A scored row: the total, the grade, the level-1 scores and every leaf's score."""

    key: str
    number: int
    pack: str
    version: str
    digest: str
    score: str
    grade: str
    level1: Mapping[str, str]  # id → score, e.g. {"decision": "11", ...}
    leaves: Mapping[str, str]  # id → score, e.g. {"process.funds.execution": "2.39", ...}
    overrides: tuple[str, ...] = ()  # rule ids of the overrides that fired, e.g. ("override#misappropriation",)
    not_applicable: tuple[str, ...] = ()  # ids of the leaves found not applicable
    ignored_facts: tuple[str, ...] = ()  # facts the pack does not declare, left out (--ignore-unknown-facts)


@dataclass(frozen=True)
class RowFailure:
    """A row that could not be scored, with every problem of the row on one line."""

    key: str
    number: int
    message: str


Outcome = RowScore | RowFailure


def row_score(key: str, number: int, evaluation: evaluation_pb2.Evaluation | results.Evaluation) -> RowScore:
    """The scores a batch keeps of an evaluation, a server's reply or the core's result in
    this process, written as the wire writes them ("2.39"): no names, no rationales; the
    overrides that fired, the leaves not applicable and the facts ignored by their names."""
    leaves = list(_leaves(evaluation.indicators))
    return RowScore(key, number, evaluation.pack_id, evaluation.version, evaluation.digest,
                    _text(evaluation.score), evaluation.grade,
                    {node.id: _text(node.score) for node in evaluation.indicators},
                    {node.id: _text(node.score) for node in leaves},
                    tuple(override.rule_id for override in evaluation.overrides),
                    tuple(node.id for node in leaves if node.not_applicable),
                    tuple(evaluation.ignored_facts))


def _text(score: str | Decimal) -> str:
    return score if isinstance(score, str) else decimal_text(score)


def _leaves(nodes: Iterable) -> Iterator:
    for node in nodes:
        if node.children:
            yield from _leaves(node.children)
        else:
            yield node
