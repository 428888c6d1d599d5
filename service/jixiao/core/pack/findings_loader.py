"""Loading what a pack says for the report: findings, observations and report.project.

A pack's `findings:` list names the problems (存在的问题) its rules may find and what to
recommend (有关建议); checks, bands, leaves and overrides point at them with
`finding: <id>`. `observations:` names the text_list facts through which an evaluator adds
findings and recommendations no rule can derive, and `report.project` the facts a report's
基本情况 shows. This module reads those parts for the loader's builder and checks what a
schema cannot: ids known and used, dimensions that are level-1 indicators, templates that
read only facts and derived values, and text_list facts read by observations alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from ..evaluation.rationale import FORMATS, NUMERIC_FORMATS, placeholders
from ..identifiers import echo
from ..suggest import did_you_mean
from .model import (
    NODE_TOTAL, REPORT_PROJECT_KEYS, Bands, Deductions, FactType, FindingRule, Indicator, Observations, Override,
    Text, node_paths,
)
from .references import FIRED_REASONS
from .schema_messages import shown

if TYPE_CHECKING:
    from .loader import _Builder
    from .yaml12 import Path

_ID = re.compile(r"[a-z0-9_]+")
_NUMERIC = (FactType.DECIMAL, FactType.INTEGER)
#: Texts a text_list fact holds when its pack does not say, and the most it may allow
#: (the fact checker's TEXT_LIST_ITEMS and TEXT_LIST_ITEMS_MAX).
DEFAULT_ITEMS = 20
MOST_ITEMS = 100
OBSERVATION_KEYS = ("findings", "recommendations")


def finding_named(raw: Any) -> str | None:
    """The finding id a check, band, leaf or override names (`finding: <id>`), if a text."""
    value = raw.get("finding") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


def text_list_read(name: str, reader: str) -> str:
    """The problem of a text_list fact read where only observations may read one."""
    return (f"'{name}' is a text_list fact (a list of texts that no rule reads); {reader} cannot read it: only "
            "observations (findings, recommendations) take a text_list fact")


def placeholder_type_problem(name: str, fmt: str | None, kind: FactType) -> str | None:
    """Why `{name|fmt}` cannot print a value of type `kind` (a text_list, or a format for
    another type), or None when it can. Leaf and finding templates alike."""
    if kind is FactType.TEXT_LIST:
        return text_list_read(name, "a template")
    if fmt in NUMERIC_FORMATS and kind not in _NUMERIC:
        return f"format '{fmt}' needs a number, '{name}' is {kind.value}"
    if fmt == "shares" and kind is not FactType.SURVEY:
        return f"format 'shares' needs a survey fact, '{name}' is {kind.value}"
    if fmt == "yesno" and kind is not FactType.BOOLEAN:
        return f"format 'yesno' needs a boolean fact, '{name}' is {kind.value}"
    return None


def fired_reasons_misplaced(reader: str) -> str:
    """The problem of {fired_reasons} anywhere but in a finding's text."""
    return (f"{{{FIRED_REASONS}}} says why a finding was given (the reasons of the rules that gave it) and is "
            f"known in a finding's text only; {reader} cannot use it")


def text_list_items(builder: "_Builder", raw: Mapping, ftype: FactType, path: "Path") -> int | None:
    """A text_list fact's max_items (DEFAULT_ITEMS when not given); None for other facts."""
    if ftype is not FactType.TEXT_LIST:
        if "max_items" in raw:
            builder.problem(path + ("max_items",), f"max_items is for text_list facts only ('{raw.get('name')}' "
                                                   f"is {ftype.value})")
        return None
    most = raw.get("max_items", DEFAULT_ITEMS)
    if type(most) is not int or not 1 <= most <= MOST_ITEMS:
        builder.problem(path + ("max_items",), f"max_items is a whole number from 1 to {MOST_ITEMS} (the most "
                                               f"texts a request may send), got {shown(most)}")
        return DEFAULT_ITEMS
    return most


def read_findings(builder: "_Builder", doc: Mapping, indicators: tuple[Indicator, ...],
                  overrides: tuple[Override, ...]) -> tuple[tuple[FindingRule, ...], Observations,
                                                            tuple[tuple[str, str], ...]]:
    """The pack's findings, observations and report.project, every problem reported to `builder`."""
    reader = _FindingsReader(builder, indicators)
    findings = reader.findings(doc.get("findings"))
    reader.check_sources(findings, doc.get("overrides"), overrides)
    return tuple(findings), reader.observations(doc.get("observations")), reader.report_project(doc.get("report"))


class _FindingsReader:
    def __init__(self, builder: "_Builder", indicators: tuple[Indicator, ...]):
        self.builder = builder
        self.indicators = indicators
        self.dimensions = [top.id for top in indicators]

    def problem(self, path: "Path", message: str) -> None:
        self.builder.problem(path, message)

    # --- findings: -----------------------------------------------------------------

    def findings(self, raw: Any) -> list[FindingRule]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(("findings",), "findings is a list of {id, text, recommendation, dimension}")
            return []
        out: list[FindingRule] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            path = ("findings", i)
            if not isinstance(item, Mapping):
                self.problem(path, "a finding is {id, text: {zh: ..., en: ...}, recommendation: {zh: ..., en: ...}, "
                                   "dimension: <level-1 id>}")
                continue
            finding_id = item.get("id")
            if not isinstance(finding_id, str) or _ID.fullmatch(finding_id) is None:
                self.problem(path + ("id",), "a finding needs an id of lower-case letters, digits and underscores, "
                                             "such as targets_not_declared")
                continue
            if finding_id in seen:
                self.problem(path + ("id",), f"finding id '{finding_id}' is used twice")
                continue
            seen.add(finding_id)
            owner = f"finding '{finding_id}'"
            text = self.builder.text(self.builder.required(item, "text", path) or "", path + ("text",))
            self.check_template(text, path + ("text",), owner, says_reasons=True)
            recommendation = None
            if "recommendation" in item:
                recommendation = self.builder.text(item["recommendation"], path + ("recommendation",))
                self.check_template(recommendation, path + ("recommendation",), owner)
            dimension = item.get("dimension")
            if dimension is not None:
                dimension = str(dimension)
                if dimension not in self.dimensions:
                    self.problem(path + ("dimension",), (
                        f"'{echo(dimension)}' is not a level-1 indicator; a finding's dimension is one of "
                        f"{', '.join(self.dimensions)}{did_you_mean(dimension, self.dimensions)}"))
                    dimension = None
            out.append(FindingRule(finding_id, text, recommendation, dimension))
        return out

    def check_template(self, text: Text, path: "Path", owner: str, says_reasons: bool = False) -> None:
        """A finding's text reads facts and derived values only: no leaf's own values (a
        finding may come from several leaves), no text_list fact; and, in its text only
        (`says_reasons`), {fired_reasons}: the reasons of the rules that gave it."""
        builder = self.builder
        for template in filter(None, (text.zh, text.en)):
            for name, fmt in placeholders(template):
                if name == FIRED_REASONS:
                    if not says_reasons:
                        self.problem(path, f"{owner}: {fired_reasons_misplaced('a recommendation')}")
                    elif fmt is not None:
                        self.problem(path, f"{owner}: {{{FIRED_REASONS}}} is a text (the reasons of the rules "
                                           f"that gave the finding) and cannot be formatted as {fmt}")
                    continue
                kind = builder.ref_type(name)
                if fmt is not None and fmt not in FORMATS:
                    self.problem(path, f"{owner}: unknown format '{fmt}' in {{{name}|{fmt}}}; expected one of "
                                       f"{', '.join(FORMATS)}{did_you_mean(fmt, FORMATS)}")
                elif kind is None:
                    self.problem(path, f"{owner}: the text uses '{name}', which is neither a declared fact nor a "
                                       f"derived value (a finding's text reads facts and derived values only, not "
                                       f"a leaf's score or findings){did_you_mean(name, builder.known_refs())}")
                elif (problem := placeholder_type_problem(name, fmt, kind)) is not None:
                    self.problem(path, f"{owner}: {problem}")

    def check_sources(self, findings: list[FindingRule], raw_overrides: Any, overrides: tuple[Override, ...]) -> None:
        """Every `finding:` names a declared finding; every finding is named; a finding without
        a dimension gets that of the first node naming it (`findings` is updated in place)."""
        ids = [f.id for f in findings]
        known = set(ids)
        first: dict[str, str | None] = {}  # finding id → the dimension of its first source (None: the total)
        for finding_id, path, dimension in self.sources(raw_overrides, overrides):
            if finding_id not in known:
                hint = did_you_mean(finding_id, ids) if ids else (
                    "; the pack declares no findings: list it under findings: at the top level")
                self.problem(path, f"'{echo(finding_id)}' is not one of the pack's findings{hint}")
                continue
            if first.get(finding_id) is None:
                first[finding_id] = dimension
        for i, finding in enumerate(findings):
            if finding.id not in first:
                self.problem(("findings", i, "id"), (
                    f"finding '{finding.id}' is named by no check, band, leaf or override: say where it is found "
                    f"with finding: {finding.id} there, or remove it"))
            elif finding.dimension is None:
                dimension = first[finding.id]
                if dimension is None:
                    self.problem(("findings", i), (
                        f"finding '{finding.id}' is given only by overrides acting on the total: say which "
                        f"dimension it belongs to with dimension: <one of {', '.join(self.dimensions)}>"))
                findings[i] = FindingRule(finding.id, finding.text, finding.recommendation, dimension)

    def sources(self, raw_overrides: Any, overrides: tuple[Override, ...]):
        """(finding id, path of its `finding:`, dimension) of every rule naming one: the tree's
        leaves, checks and bands in tree order, then the overrides in pack order."""
        paths = node_paths(self.indicators, lambda node: True)
        for top in self.indicators:
            for node in top.walk():
                if not node.is_leaf or node.id not in paths:
                    continue
                path = paths[node.id]
                scoring = node.scoring
                if isinstance(scoring, Deductions):
                    for k, check in enumerate(scoring.checks):
                        if check.finding is not None:
                            yield check.finding, path + ("scoring", "checks", k, "finding"), top.id
                elif isinstance(scoring, Bands):
                    for k, band in enumerate(scoring.bands):
                        if band.finding is not None:
                            yield band.finding, path + ("scoring", "bands", k, "finding"), top.id
                if node.finding is not None:
                    yield node.finding, path + ("finding",), top.id
        top_of = {node.id: top.id for top in self.indicators for node in top.walk()}
        built = {o.id: o for o in overrides}
        for i, item in enumerate(raw_overrides if isinstance(raw_overrides, list) else []):
            finding_id = finding_named(item)
            if finding_id is None:
                continue
            override = built.get(str(item.get("id", "")))
            node = override.node if override is not None else NODE_TOTAL
            yield finding_id, ("overrides", i, "finding"), top_of.get(node)

    # --- observations: and report: ----------------------------------------------------

    def observations(self, raw: Any) -> Observations:
        if raw is None:
            return Observations()
        if not isinstance(raw, Mapping):
            self.problem(("observations",), "observations is {findings: <text_list fact>, recommendations: "
                                            "<text_list fact>}")
            return Observations()
        named: dict[str, str | None] = {}
        for key, value in raw.items():
            path = ("observations", key)
            if key not in OBSERVATION_KEYS:
                self.problem(path, f"'{echo(str(key))}' is not a part of observations (findings, recommendations)"
                                   f"{did_you_mean(str(key), OBSERVATION_KEYS)}")
                continue
            named[key] = self.text_list_fact(value, path)
        return Observations(named.get("findings"), named.get("recommendations"))

    def text_list_fact(self, name: Any, path: "Path") -> str | None:
        spec = self.builder.facts.get(name) if isinstance(name, str) else None
        if spec is None:
            lists = [n for n, s in self.builder.facts.items() if s.type is FactType.TEXT_LIST]
            self.problem(path, f"fact '{echo(str(name))}' is not declared in facts"
                               f"{did_you_mean(str(name), lists or list(self.builder.facts))}")
            return None
        if spec.type is not FactType.TEXT_LIST:
            self.problem(path, f"observations take a text_list fact (a list of texts); '{spec.name}' is "
                               f"{spec.type.value}")
            return None
        return spec.name

    def report_project(self, raw: Any) -> tuple[tuple[str, str], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            self.problem(("report",), "report is {project: {name: <fact>, unit: <fact>, ...}}")
            return ()
        for key in raw:
            if key != "project":
                self.problem(("report", key), f"'{echo(str(key))}' is not a part of report (project)"
                                              f"{did_you_mean(str(key), ['project'])}")
        project = raw.get("project")
        if project is None:
            return ()
        if not isinstance(project, Mapping):
            self.problem(("report", "project"), "report.project is {name: <fact>, unit: <fact>, ...}, each key one "
                                                f"of {', '.join(REPORT_PROJECT_KEYS)}")
            return ()
        out = []
        facts = self.builder.facts
        for key, name in project.items():
            path = ("report", "project", key)
            if key not in REPORT_PROJECT_KEYS:
                self.problem(path, f"'{echo(str(key))}' is not one of what 基本情况 shows "
                                   f"({', '.join(REPORT_PROJECT_KEYS)}){did_you_mean(str(key), REPORT_PROJECT_KEYS)}")
                continue
            spec = facts.get(name) if isinstance(name, str) else None
            if spec is None:
                self.problem(path, f"fact '{echo(str(name))}' is not declared in facts"
                                   f"{did_you_mean(str(name), list(facts))}")
            elif spec.type is FactType.TEXT_LIST:
                self.problem(path, text_list_read(spec.name, "report.project"))
            else:
                out.append((key, spec.name))
        return tuple(out)
