"""Golden cases: facts with the result a pack must give, checked node by node."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from .compiler import CompiledPack
from .decimals import plain
from .errors import FactsError, PackError, PackProblem
from .evaluator import evaluate
from .yaml12 import YamlSyntaxError, parse_yaml, yaml_problem


#: What every golden case that expects a result must state about it, at least.
ASSERTED = ("score", "grade")


@dataclass(frozen=True)
class GoldenCase:
    name: str
    facts: Mapping[str, Any]
    expected: Mapping[str, Any]
    file: str = ""
    language: str = "zh"


@dataclass(frozen=True)
class CaseMismatch:
    """One difference between a case's expectation and what the pack produced."""

    node: str  # node id, or "total"
    field: str  # score, grade, rationale_zh, deductions, error, ...
    expected: str
    actual: str


@dataclass(frozen=True)
class CaseResult:
    case: GoldenCase
    mismatches: tuple[CaseMismatch, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_case(text: str, filename: str = "case.yaml") -> GoldenCase:
    """Parse a golden case. Raises PackError naming the file when it is malformed."""
    try:
        doc, _ = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise PackError([PackProblem("", yaml_problem(exc), filename, exc.line)]) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("facts"), Mapping) or not isinstance(doc.get("expected"), Mapping):
        raise PackError([PackProblem("", "a golden case needs 'facts' and 'expected' mappings", filename, 1)])
    expected = doc["expected"]
    if "error" not in expected and not all(key in expected for key in ASSERTED):
        missing = " and ".join(key for key in ASSERTED if key not in expected)
        raise PackError([PackProblem("expected", f"a golden case must state at least the total score and grade "
                                                 f"it expects (missing: {missing}), e.g. "
                                                 "expected: {score: \"75.03\", grade: 中}; a case that states "
                                                 "nothing proves nothing", filename, 1)])
    return GoldenCase(name=str(doc.get("name", filename)), facts=_json_like(doc["facts"]),
                      expected=doc["expected"], file=filename, language=str(doc.get("language", "zh")))


def _json_like(value: Any) -> Any:
    """Facts as a JSON request would carry them: YAML's exact decimals become strings."""
    if isinstance(value, Mapping):
        return {str(k): _json_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_like(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _same_number(expected: Any, actual: Decimal) -> bool:
    try:
        return Decimal(str(expected)) == actual
    except Exception:  # noqa: BLE001 - a malformed expectation is a mismatch, reported as such
        return False


def run_case(compiled: CompiledPack, case: GoldenCase) -> CaseResult:
    """Evaluate the case's facts and compare every expectation it states."""
    expected = case.expected
    try:
        evaluation = evaluate(compiled, case.facts, case.language)
    except FactsError as exc:
        return CaseResult(case, tuple(_error_mismatches(expected, exc)))
    if "error" in expected:
        return CaseResult(case, (CaseMismatch("total", "error", _describe_error(expected["error"]), "a result"),))
    mismatches: list[CaseMismatch] = []
    if "score" in expected and not _same_number(expected["score"], evaluation.score):
        mismatches.append(CaseMismatch("total", "score", str(expected["score"]), plain(evaluation.score)))
    if "grade" in expected and str(expected["grade"]) != evaluation.grade:
        mismatches.append(CaseMismatch("total", "grade", str(expected["grade"]), evaluation.grade))
    nodes = {n.id: n for n in evaluation.nodes()}
    for node_id, want in (expected.get("nodes") or {}).items():
        node = nodes.get(node_id)
        if node is None:
            mismatches.append(CaseMismatch(node_id, "node", "present", "no such node"))
            continue
        want = want if isinstance(want, Mapping) else {"score": want}
        if "score" in want and not _same_number(want["score"], node.score):
            mismatches.append(CaseMismatch(node_id, "score", str(want["score"]), plain(node.score)))
        if "grade" in want and str(want["grade"]) != (node.grade or ""):
            mismatches.append(CaseMismatch(node_id, "grade", str(want["grade"]), node.grade or ""))
        if "rationale_zh" in want and case.language == "zh" and want["rationale_zh"] != node.rationale:
            mismatches.append(CaseMismatch(node_id, "rationale_zh", str(want["rationale_zh"]), node.rationale))
        if "deductions" in want:
            actual_ids = [d.rule_id for d in node.deductions]
            if list(want["deductions"]) != actual_ids:
                mismatches.append(CaseMismatch(node_id, "deductions", ", ".join(want["deductions"]), ", ".join(actual_ids)))
    return CaseResult(case, tuple(mismatches))


def _describe_error(error: Any) -> str:
    violations = (error or {}).get("violations") or []
    return "input error on " + ", ".join(str(v.get("fact")) for v in violations)


def _error_mismatches(expected: Mapping, exc: FactsError) -> list[CaseMismatch]:
    actual = "; ".join(str(v) for v in exc.violations)
    if "error" not in expected:
        return [CaseMismatch("total", "error", "a result", actual)]
    mismatches = []
    for want in (expected["error"] or {}).get("violations") or []:
        fact = str(want.get("fact"))
        hits = [v for v in exc.violations if v.fact == fact]
        contains = want.get("contains")
        if not hits or (contains and not any(str(contains) in v.description for v in hits)):
            mismatches.append(CaseMismatch(fact, "error", f"violation on {fact}" + (f" containing {contains!r}" if contains else ""), actual))
    return mismatches
