"""Errors the core raises. Each names what is wrong so an adapter can report it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackProblem:
    """One thing wrong with a pack document."""

    path: str  # e.g. "indicators[0].children[1].weight"; "" for the whole document
    message: str
    file: str | None = None
    line: int | None = None  # 1-based

    def __str__(self) -> str:
        where = self.file or "pack"
        if self.line is not None:
            where += f":{self.line}"
        at = f" at {self.path}" if self.path else ""
        return f"{where}{at}: {self.message}"


class PackError(Exception):
    """A pack failed to load, validate or compile. Carries every problem found."""

    def __init__(self, problems: list[PackProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class FactViolation:
    """One thing wrong with a request's facts, named by the fact's dotted path."""

    fact: str
    description: str

    def __str__(self) -> str:
        return f"{self.fact}: {self.description}"


class FactsError(Exception):
    """The request's facts do not satisfy the pack's fact schema. Carries all violations."""

    def __init__(self, violations: list[FactViolation]):
        self.violations = tuple(violations)
        super().__init__("; ".join(str(v) for v in violations))
