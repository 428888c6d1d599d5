"""The rows behind a summary's figures as a table: one line per project (its key), one
column per value a figure is computed from. Each figure names its column, so it can be
recomputed from the rows: a grade's count is the rows with that grade, a dimension's
mean the mean of its column, an indicator's points lost the sum of its column (a blank
cell: no points lost), a finding's count the rows whose finding ids hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .figures import Summary
from .labels import labels

SEPARATOR = "; "


@dataclass(frozen=True)
class SourceTable:
    headers: tuple[str, ...]
    #: what each figure's column is: ("grade",), ("total", "score"), ("dimension", id, "rate"),
    #: ("leaf", id), ("findings",) ... → its position
    positions: dict[tuple[str, ...], int]
    summary: Summary
    language: str

    def lines(self) -> Iterator[list]:
        """A list of cells per project, in the order of the rows."""
        s = self.summary
        words = labels(self.language)
        grade_of = {key: g.grade.called(self.language) for g in s.grades for key in g.keys}
        version_of = {key: v.version for v in s.versions for key in v.keys}
        dimension_values = [{key: (score, rate) for key, score, rate in d.values} for d in s.dimensions]
        lost = [dict(loss.losses) for loss in sorted(s.indicators or (), key=lambda loss: _tree(s, loss.leaf.id))]
        findings: dict[str, list[str]] = {}
        for finding in s.findings or ():
            for key in finding.keys:
                findings.setdefault(key, []).append(finding.id)
        overrides: dict[str, list[str]] = {}
        for override in s.overrides or ():
            for key in override.keys:
                overrides.setdefault(key, []).append(override.id)
        not_applicable: dict[str, set[str]] = {}
        for leaf in s.not_applicable or ():
            for key in leaf.keys:
                not_applicable.setdefault(key, set()).add(leaf.id)
        leaf_ids = [leaf.id for leaf in s.outline.leaves]
        rated = s.total_rate is not None
        for key, score, rate in s.totals:
            cells: list = [key, version_of[key], grade_of[key], score]
            if rated:
                cells.append(rate)
            for values in dimension_values:
                dimension_score, dimension_rate = values[key]
                cells.append(dimension_score)
                if rated:
                    cells.append(dimension_rate)
            if s.indicators is not None:
                skipped = not_applicable.get(key, set())
                cells.extend(words["source_not_applicable_cell"] if leaf_id in skipped else losses.get(key)
                             for leaf_id, losses in zip(leaf_ids, lost))
            if s.findings is not None:
                cells.append(SEPARATOR.join(findings.get(key, ())))
            if s.overrides is not None:
                cells.append(SEPARATOR.join(overrides.get(key, ())))
            if s.not_applicable is not None:
                cells.append(SEPARATOR.join(leaf for leaf in leaf_ids if leaf in not_applicable.get(key, ())))
            yield cells


def _tree(summary: Summary, leaf_id: str) -> int:
    return next(i for i, leaf in enumerate(summary.outline.leaves) if leaf.id == leaf_id)


def source_table(summary: Summary, language: str) -> SourceTable:
    """The columns of the sources table for `summary`."""
    words = labels(language)
    headers: list[str] = []
    positions: dict[tuple[str, ...], int] = {}

    def column(what: tuple[str, ...], header: str) -> None:
        positions[what] = len(headers)
        headers.append(header)

    rated = summary.total_rate is not None
    column(("key",), words["key"])
    column(("version",), words["version"])
    column(("grade",), words["source_grade"])
    column(("total", "score"), words["source_total"])
    if rated:
        column(("total", "rate"), words["source_rate"])
    for dimension in summary.outline.dimensions:
        name = dimension.called(language)
        column(("dimension", dimension.id, "score"), words["source_score_of"].format(name=name))
        if rated:
            column(("dimension", dimension.id, "rate"), words["source_rate_of"].format(name=name))
    if summary.indicators is not None:
        for leaf in summary.outline.leaves:
            column(("leaf", leaf.id), words["source_lost_of"].format(name=f"{leaf.called(language)} ({leaf.id})"))
    if summary.findings is not None:
        column(("findings",), words["source_findings"])
    if summary.overrides is not None:
        column(("overrides",), words["source_overrides"])
    if summary.not_applicable is not None:
        column(("not_applicable",), words["source_not_applicable"])
    return SourceTable(tuple(headers), positions, summary, language)
