"""Golden cases: facts with the result a pack must give, checked node by node.

A case remembers the line of every value of its file, so that a failed expectation and a
fact the pack refuses point at the line to fix (`CaseMismatch.line`, `case_fact_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from ..evaluation.compiler import CompiledPack
from ..decimals import plain
from ..errors import FactsError, PackError, PackProblem
from ..evaluation.evaluator import evaluate
from ..identifiers import echo
from .schema_messages import schema_findings
from ..suggest import closest, did_you_mean
from .yaml12 import Path, YamlSyntaxError, line_of, parse_yaml, yaml_problem


#: What every golden case that expects a result must state about it, at least.
ASSERTED = ("score", "grade")
#: Every key `expected` may hold (case.schema.json).
KNOWN_EXPECTATIONS = ("score", "grade", "nodes", "findings", "recommendations", "error")
#: Lists of texts a case may expect word for word, in order, and what one item is called.
TEXT_LISTS = {"findings": "finding", "recommendations": "recommendation"}


@dataclass(frozen=True)
class GoldenCase:
    name: str
    facts: Mapping[str, Any]
    expected: Mapping[str, Any]
    file: str = ""
    language: str = "zh"
    description: str = ""  # what the case exercises; often the hand computation of its result
    #: The line of every value of the case file, by path ("expected", "nodes", id, "score").
    lines: Mapping[Path, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def line(self, *path: str | int) -> int | None:
        """The line of `path` in the case file (of its deepest known part), None if unknown."""
        return line_of(dict(self.lines), tuple(path)) if self.lines else None

    def fact_line(self, name: str) -> int | None:
        """The line where the case gives fact `name` (dotted, nested or flat), else of `facts`."""
        path: tuple[str | int, ...] = ("facts",)
        node: Any = self.facts
        parts = name.split(".")
        while parts and isinstance(node, Mapping):
            for size in range(len(parts), 0, -1):
                key = ".".join(parts[:size])
                if key in node:
                    path, node, parts = path + (key,), node[key], parts[size:]
                    break
            else:
                break
        return self.line(*path)


@dataclass(frozen=True)
class CaseMismatch:
    """One difference between a case's expectation and what the pack produced."""

    node: str  # node id, or "total"
    field: str  # score, grade, rationale_zh, deductions, error, ...
    expected: str
    actual: str
    line: int | None = None  # the line of the expectation in the case file


@dataclass(frozen=True)
class CaseResult:
    case: GoldenCase
    mismatches: tuple[CaseMismatch, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_case(text: str, filename: str = "case.yaml", schema: Mapping | None = None) -> GoldenCase:
    """Parse a golden case. Raises PackError naming the file when it is malformed, and
    (given the case schema) every field it misspells or misshapes, in words with its line:
    an expectation under a misspelt key would otherwise check nothing."""
    try:
        doc, lines = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise PackError([PackProblem("", yaml_problem(exc), filename, exc.line)]) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("facts"), Mapping) or not isinstance(doc.get("expected"), Mapping):
        raise PackError([PackProblem("", "a golden case needs 'facts' and 'expected' mappings", filename, 1)])
    expected = doc["expected"]
    if "error" not in expected and not all(key in expected for key in ASSERTED):
        missing = [key for key in ASSERTED if key not in expected]
        # A misspelt key ("scroe") is the likeliest reason: name it, at its line.
        misspelt = {key: closest(str(key), missing) for key in expected if key not in KNOWN_EXPECTATIONS}
        hints = [f"'{echo(str(key))}' is not an expectation; did you mean {match}?"
                 for key, match in misspelt.items() if match is not None]
        first = next((key for key, match in misspelt.items() if match is not None), None)
        line = line_of(lines, ("expected", first)) if first is not None else line_of(lines, ("expected",))
        raise PackError([PackProblem("expected", " ".join(hints + [
            f"a golden case must state at least the total score and grade it expects (missing: "
            f"{' and '.join(missing)}), e.g. expected: {{score: \"75.03\", grade: 中}}; a case that states "
            "nothing proves nothing"]), filename, line or 1)])
    if schema is not None:
        findings = schema_findings(doc, schema, filename, lines)
        if findings:
            raise PackError([finding.problem for finding in findings if finding.said])
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise PackError([PackProblem("description", "a case's description is a text (use '|' for several lines)",
                                     filename, lines.get(("description",)))])
    return GoldenCase(name=str(doc.get("name", filename)), facts=_json_like(doc["facts"]),
                      expected=doc["expected"], file=filename, language=str(doc.get("language", "zh")),
                      description=description, lines=lines)


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
        return CaseResult(case, tuple(_error_mismatches(case, exc)))
    if "error" in expected:
        return CaseResult(case, (CaseMismatch("total", "error", _describe_error(expected["error"]), "a result",
                                              case.line("expected", "error")),))
    mismatches: list[CaseMismatch] = []
    if "score" in expected and not _same_number(expected["score"], evaluation.score):
        mismatches.append(CaseMismatch("total", "score", str(expected["score"]), plain(evaluation.score),
                                       case.line("expected", "score")))
    if "grade" in expected and str(expected["grade"]) != evaluation.grade:
        mismatches.append(CaseMismatch("total", "grade", str(expected["grade"]), evaluation.grade,
                                       case.line("expected", "grade")))
    for key, item in TEXT_LISTS.items():
        if key in expected:
            mismatch = _text_list_mismatch(case, key, item, expected[key],
                                           [f.text for f in getattr(evaluation, key)])
            if mismatch is not None:
                mismatches.append(mismatch)
    nodes = {n.id: n for n in evaluation.nodes()}
    for node_id, want in (expected.get("nodes") or {}).items():
        node = nodes.get(node_id)
        at = ("expected", "nodes", node_id)
        if node is None:
            mismatches.append(CaseMismatch(node_id, "node", "present",
                                           "no such node" + did_you_mean(str(node_id), nodes), case.line(*at)))
            continue
        want = want if isinstance(want, Mapping) else {"score": want}
        if "score" in want and not _same_number(want["score"], node.score):
            mismatches.append(CaseMismatch(node_id, "score", str(want["score"]), plain(node.score),
                                           case.line(*at, "score")))
        if "grade" in want and str(want["grade"]) != (node.grade or ""):
            mismatches.append(CaseMismatch(node_id, "grade", str(want["grade"]), node.grade or "",
                                           case.line(*at, "grade")))
        for key in ("rationale_zh", "rationale_en"):  # each compared in its own language
            if key in want and case.language == key[-2:] and want[key] != node.rationale:
                mismatches.append(CaseMismatch(node_id, key, str(want[key]), node.rationale, case.line(*at, key)))
        if "deductions" in want:
            actual_ids = [d.rule_id for d in node.deductions]
            if list(want["deductions"]) != actual_ids:
                mismatches.append(CaseMismatch(node_id, "deductions", ", ".join(want["deductions"]),
                                               ", ".join(actual_ids), case.line(*at, "deductions")))
    return CaseResult(case, tuple(mismatches))


def _text_list_mismatch(case: GoldenCase, key: str, item: str, want: Any, got: list[str]) -> CaseMismatch | None:
    """The first item where the expected texts (word for word, in order) and the evaluation's
    differ, numbered from 1 as the report numbers them; None when they are the same."""
    wanted = [str(text) for text in want] if isinstance(want, list) else [str(want)]
    if wanted == got:
        return None
    index = next((i for i, (a, b) in enumerate(zip(wanted, got)) if a != b), min(len(wanted), len(got)))
    expected = wanted[index] if index < len(wanted) else f"no {item} {index + 1} (only {len(wanted)} expected)"
    actual = got[index] if index < len(got) else f"no {item} {index + 1} (only {len(got)} given)"
    line = case.line("expected", key, index) if index < len(wanted) else case.line("expected", key)
    return CaseMismatch("total", f"{item} {index + 1}", expected, actual, line)


def _describe_error(error: Any) -> str:
    violations = (error or {}).get("violations") or []
    return "input error on " + ", ".join(str(v.get("fact")) for v in violations)


def _error_mismatches(case: GoldenCase, exc: FactsError) -> list[CaseMismatch]:
    expected = case.expected
    actual = "; ".join(str(v) for v in exc.violations)
    if "error" not in expected:
        first = exc.violations[0].fact if exc.violations else ""
        return [CaseMismatch("total", "error", "a result", actual, case.fact_line(first) if first else case.line("facts"))]
    mismatches = []
    for i, want in enumerate((expected["error"] or {}).get("violations") or []):
        fact = str(want.get("fact"))
        hits = [v for v in exc.violations if v.fact == fact]
        contains = want.get("contains")
        if not hits or (contains and not any(str(contains) in v.description for v in hits)):
            wanted = f"violation on {fact}" + (f" containing '{contains}'" if contains else "")
            mismatches.append(CaseMismatch(fact, "error", wanted, actual,
                                           case.line("expected", "error", "violations", i)))
    return mismatches


def case_fact_problems(compiled: CompiledPack, case: GoldenCase) -> list[PackProblem]:
    """Each fact of a case that expects a result which the pack refuses, as a problem
    pointing at the case file's line: the same checks a request goes through (`evaluate`).
    A case that expects an input error is left to `run_case`."""
    if "error" in case.expected:
        return []
    try:
        evaluate(compiled, case.facts, case.language)
    except FactsError as exc:
        return [PackProblem(f"facts.{v.fact}" if v.fact != "facts" else "facts",
                            f"golden case '{case.name}' gives facts the pack refuses: {v.fact}: {v.description} "
                            "(fix the fact, or make the case expect this error)",
                            case.file, case.fact_line(v.fact))
                for v in exc.violations]
    return []
