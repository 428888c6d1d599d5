"""What scoring one batch row gives: its scores and their explanation, or the one-line
reason it failed; and a scored row as the JSON object a batch's outputs keep of it.

The JSON object (a line of .jsonl output, of an .xlsx output's journal, and what
`ScoreFile.records()` yields) is:

    {"key", "pack", "version", "digest", "score", "grade",
     "level1": {id: score}, "leaves": {id: score},
     "overrides"?: [rule id], "not_applicable"?: [leaf id], "ignored_facts"?: [name],
     "language", "total_weight", "rate",
     "dimensions": [{"id", "name", "weight", "score", "rate", "grade"}],
     "details": [{"id", "name", "dimension", "weight", "scored_weight", "score", "deducted",
                  "deductions": [{"rule_id", "points", "reason"}], "rationale",
                  "not_applicable", "not_applicable_reason"}],
     "findings": [{"id", "text", "dimension", "rule_ids", "node_ids", "observation"}],
     "recommendations": [the same]}

Decimals are strings as the wire writes them ("2.39", rates "68.75"); names and texts are
in the batch's language; `details` has one entry per leaf in the order of the pack's tree.
The keys from "language" on come with every row scored since outputs explained
themselves; a row of an older output, or read back from a CSV output, has only the keys
before them (`RowScore.explained` is False).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple

from jixiao.api.convert import decimal_text, language_code, rate_text
from jixiao.core.evaluation import results
from jixiao.v1 import evaluation_pb2


class DimensionScore(NamedTuple):
    """A level-1 indicator's result: 决策 16 → 11, 68.75 %, 中."""

    id: str
    name: str
    weight: str
    score: str
    rate: str
    grade: str


class DeductionText(NamedTuple):
    """One reason a leaf lost points; `points` exact, before the leaf's rounding."""

    rule_id: str
    points: str
    reason: str


class LeafDetail(NamedTuple):
    """A leaf's score and why: its deductions and its rationale, or why it does not apply."""

    id: str
    name: str
    dimension: str  # the id of the level-1 indicator it belongs to
    weight: str  # as the pack gives it
    scored_weight: str  # what it is scored on: a not-applicable treatment may change the weight
    score: str
    deducted: str  # scored_weight - score
    deductions: tuple[DeductionText, ...]
    rationale: str
    not_applicable: bool
    not_applicable_reason: str


class FindingText(NamedTuple):
    """A problem found (存在的问题) or a recommendation (有关建议), and the rules it comes from."""

    id: str
    text: str
    dimension: str
    rule_ids: tuple[str, ...]
    node_ids: tuple[str, ...]
    observation: bool


@dataclass(frozen=True)
class RowScore:
    """A scored row: the total, the grade, the level-1 scores and every leaf's score, and
    (when `explained`) the dimensions, each leaf's deductions and rationale, the findings
    and the recommendations."""

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
    language: str = ""  # "zh" or "en"; "" for a row kept without its explanation
    total_weight: str = ""
    rate: str = ""  # score ÷ total_weight in percent, 2 places
    dimensions: tuple[DimensionScore, ...] = ()
    details: tuple[LeafDetail, ...] = ()
    findings: tuple[FindingText, ...] = ()
    recommendations: tuple[FindingText, ...] = ()

    @property
    def explained(self) -> bool:
        return bool(self.language)


@dataclass(frozen=True)
class RowFailure:
    """A row that could not be scored, with every problem of the row on one line."""

    key: str
    number: int
    message: str


Outcome = RowScore | RowFailure


def row_score(key: str, number: int, evaluation: evaluation_pb2.Evaluation | results.Evaluation) -> RowScore:
    """What a batch keeps of an evaluation, a server's reply or the core's result in this
    process alike, every decimal written as the wire writes it ("2.39")."""
    reply = isinstance(evaluation, evaluation_pb2.Evaluation)
    rate: Callable[[Any], str] = (lambda node: node.score_rate) if reply else (lambda node: rate_text(node.rate))
    details = [detail for top in evaluation.indicators for detail in _details(top.id, (top,), reply)]
    return RowScore(
        key, number, evaluation.pack_id, evaluation.version, evaluation.digest,
        _text(evaluation.score), evaluation.grade,
        {node.id: _text(node.score) for node in evaluation.indicators},
        {detail.id: detail.score for detail in details},
        tuple(override.rule_id for override in evaluation.overrides),
        tuple(detail.id for detail in details if detail.not_applicable),
        tuple(evaluation.ignored_facts),
        language_code(evaluation.language) if reply else evaluation.language,
        _text(evaluation.total_weight),
        evaluation.score_rate if reply else rate_text(evaluation.rate),
        tuple(DimensionScore(node.id, node.name, _text(node.weight), _text(node.score), rate(node),
                             node.grade or "") for node in evaluation.indicators),
        tuple(details),
        tuple(_finding(finding) for finding in evaluation.findings),
        tuple(_finding(finding) for finding in evaluation.recommendations))


def _details(dimension: str, nodes: Iterable, reply: bool) -> Iterator[LeafDetail]:
    for node in nodes:
        if node.children:
            yield from _details(dimension, node.children, reply)
            continue
        weight, score = _text(node.weight), _text(node.score)
        if reply:
            scored_weight = node.effective_weight or weight
            deducted = decimal_text(Decimal(scored_weight) - Decimal(score))
        else:
            scored_weight, deducted = decimal_text(node.scored_weight), decimal_text(node.deducted)
        yield LeafDetail(node.id, node.name, dimension, weight, scored_weight, score, deducted,
                         tuple(DeductionText(d.rule_id, _text(d.points), d.reason) for d in node.deductions),
                         node.rationale, node.not_applicable, node.not_applicable_reason)


def _finding(finding: evaluation_pb2.Finding | results.Finding) -> FindingText:
    return FindingText(finding.id, finding.text, finding.dimension, tuple(finding.rule_ids),
                       tuple(finding.node_ids), finding.observation)


def _text(value: str | Decimal) -> str:
    return value if isinstance(value, str) else decimal_text(value)


# --- the row as a JSON object, and back ----------------------------------------------


def score_record(score: RowScore) -> dict:
    """A scored row as its JSON object; overrides, not_applicable and ignored_facts only
    when the row has some, the explanation only when the row has it."""
    record: dict[str, Any] = {
        "key": score.key, "pack": score.pack, "version": score.version, "digest": score.digest,
        "score": score.score, "grade": score.grade, "level1": dict(score.level1), "leaves": dict(score.leaves)}
    for name in ("overrides", "not_applicable", "ignored_facts"):
        if getattr(score, name):
            record[name] = list(getattr(score, name))
    if score.explained:
        record.update(
            language=score.language, total_weight=score.total_weight, rate=score.rate,
            dimensions=[dimension._asdict() for dimension in score.dimensions],
            details=[{**detail._asdict(), "deductions": [d._asdict() for d in detail.deductions]}
                     for detail in score.details],
            findings=[_finding_record(finding) for finding in score.findings],
            recommendations=[_finding_record(finding) for finding in score.recommendations])
    return record


def _finding_record(finding: FindingText) -> dict:
    return {**finding._asdict(), "rule_ids": list(finding.rule_ids), "node_ids": list(finding.node_ids)}


class RecordError(ValueError):
    """A JSON object that is not a scored row as `score_record` writes it; says what is wrong."""


def score_from_record(record: object, number: int = 0) -> RowScore:
    """The RowScore a JSON object read back from an output stands for, every field checked
    for its type (an output may have been edited); RecordError names the first that is not
    as written. A record without the explanation gives a row without it."""
    row = _Fields(record, "the row")
    score = RowScore(
        row.text("key", required=True), number, row.text("pack"), row.text("version"), row.text("digest"),
        row.text("score"), row.text("grade"), row.texts_by_id("level1"), row.texts_by_id("leaves"),
        row.texts("overrides"), row.texts("not_applicable"), row.texts("ignored_facts"))
    if "language" not in row.record:
        return score
    return replace(
        score, language=row.text("language", required=True), total_weight=row.text("total_weight"),
        rate=row.text("rate"),
        dimensions=row.items("dimensions", lambda item: DimensionScore(*map(item.text, DimensionScore._fields))),
        details=row.items("details", _detail),
        findings=row.items("findings", _finding_from),
        recommendations=row.items("recommendations", _finding_from))


def _detail(item: "_Fields") -> LeafDetail:
    return LeafDetail(
        item.text("id", required=True), item.text("name"), item.text("dimension"), item.text("weight"),
        item.text("scored_weight"), item.text("score"), item.text("deducted"),
        item.items("deductions", lambda d: DeductionText(d.text("rule_id"), d.text("points"), d.text("reason"))),
        item.text("rationale"), item.flag("not_applicable"), item.text("not_applicable_reason"))


def _finding_from(item: "_Fields") -> FindingText:
    return FindingText(item.text("id", required=True), item.text("text"), item.text("dimension"),
                       item.texts("rule_ids"), item.texts("node_ids"), item.flag("observation"))


class _Fields:
    """A JSON object's fields read with their types checked."""

    def __init__(self, record: object, what: str):
        if not isinstance(record, dict):
            raise RecordError(f"{what} is not a JSON object")
        self.record = record
        self.what = what

    def text(self, name: str, required: bool = False) -> str:
        value = self.record.get(name)
        if value is None and not required:
            return ""
        if name == "key" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or (required and not value):
            raise RecordError(f"{self.what}: '{name}' is not a text")
        return value

    def flag(self, name: str) -> bool:
        value = self.record.get(name, False)
        if not isinstance(value, bool):
            raise RecordError(f"{self.what}: '{name}' is not true or false")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.record.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise RecordError(f"{self.what}: '{name}' is not a list of texts")
        return tuple(value)

    def texts_by_id(self, name: str) -> dict[str, str]:
        value = self.record.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
            raise RecordError(f"{self.what}: '{name}' is not an object of texts")
        return dict(value)

    def items(self, name: str, read: Callable[["_Fields"], Any]) -> tuple:
        value = self.record.get(name, [])
        if not isinstance(value, list):
            raise RecordError(f"{self.what}: '{name}' is not a list")
        return tuple(read(_Fields(item, f"{self.what}: {name}[{position}]")) for position, item in enumerate(value))

