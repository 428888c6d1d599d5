"""Loading a pack document into the model, with every problem named by file, line and path.

`load_pack` parses YAML, checks it against the JSON Schema (shape), then builds the model
and checks what a schema cannot: weights add up, ids are unique, every fact used is
declared and of a usable type, bands and grades are ordered, templates only use known
names. It reports all problems found, not the first only.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping


from ..decimals import ZERO, plain
from ..errors import PackError, PackProblem
from ..evaluation.facts import choice_index, coerce
from ..identifiers import InvalidIdentifier, check_pack_id, check_version, echo
from .model import (
    COMPARISONS, AllOf, AllOrNothing, AnyOf, Arithmetic, Band, Bands, Check, Compare, Condition,
    Deductions, FactRef, FactSpec, FactType, GradeBand, Indicator, Judgement, Not, Operand, Pack,
    DERIVED_FORMATS, DERIVED_OPS, Apply, Constraint, Derived, Expression, NODE_TOTAL, OVERRIDE_ACTIONS, RATE_PREFIX, SCORE_PREFIX, TREATMENTS, NotApplicable, Override, PerItem, Ratio,
    Slope, Survey, SurveyOption, Text, method_name, node_paths,
)
from ..evaluation.derived import expression_refs as _expression_refs
from ..evaluation.overrides import find_cycle
from ..suggest import did_you_mean
from .references import FIRED_REASONS, leaf_texts
from .findings_loader import (fired_reasons_misplaced, finding_named, placeholder_type_problem, read_findings,
                              text_list_items, text_list_read)
from ..evaluation.rationale import FORMATS, LEAF_VARIABLES, placeholders
from .schema_messages import merge_problems, schema_findings, schema_problems, shown
from .yaml12 import Path, YamlSyntaxError, format_path, line_of, parse_yaml, yaml_problem

#: Leaf values known only once the leaf is scored: its rationale may read them, its reasons not.
SCORED_VARIABLES = frozenset({"score", "deducted", "findings"})

#: A number written as text in a pack: ASCII digits only (Decimal() alone would also take
#: "1_000", other scripts' digits and surrounding whitespace).
_PACK_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

SCHEMA_TAG = "jixiao.pack/v1"
#: A derived value's name (as a fact's) and a constraint's id.
_NAME = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_ID = re.compile(r"[a-z0-9_]+")
#: Decimal places a derived value (or its `round`) may keep: what the rule engine reads exactly.
MAX_PLACES = 15
#: Levels a derived value's expression may nest.
MAX_EXPRESSION_DEPTH = 32
NUMERIC = (FactType.DECIMAL, FactType.INTEGER)
ARITHMETIC_OPS = ("add", "sub", "mul", "div")


def load_pack(text: str, filename: str = "pack.yaml", schema: Mapping | None = None) -> Pack:
    """Parse, check and build a pack from YAML text. Raises PackError listing every problem."""
    try:
        document, lines = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise PackError([PackProblem("", yaml_problem(exc), filename, exc.line)]) from None
    return build_pack(document, filename=filename, lines=lines, schema=schema)


def build_pack(
    document: Any,
    filename: str = "pack.yaml",
    lines: Mapping[Path, int] | None = None,
    schema: Mapping | None = None,
) -> Pack:
    """Build a pack from a parsed document (see `load_pack`).

    The schema's problems and the meaning checks' problems are reported together: the
    builder runs on a schema-invalid document too, skipping only the parts it cannot read.
    """
    lines = lines or {}
    if not isinstance(document, Mapping):
        raise PackError([PackProblem("", "a pack must be a mapping of 'key: value' lines (schema, id, version, "
                                         "indicators, ...)", filename, 1)])
    findings = schema_findings(document, schema, filename, lines) if schema is not None else []
    builder = _Builder(filename, lines)
    crashes = _guard_parts(builder)
    try:
        pack = builder.build(_readable_top_level(document))
    except Exception:  # noqa: BLE001 - a part the schema already refused could not be read
        if not findings:
            raise
        pack = None
    if crashes and not findings:
        raise crashes[0]
    if findings or builder.problems:
        raise PackError(merge_problems(document, findings, builder.problems))
    return pack  # type: ignore[return-value]


def _schema_problems(document: Any, schema: Mapping, filename: str, lines: Mapping[Path, int]) -> list[PackProblem]:
    """The schema's problems with `document`, in words (see schema_messages)."""
    return schema_problems(document, schema, filename, lines)


#: Top-level fields the builder reads as lists.
_LIST_FIELDS = ("grades", "facts", "indicators", "derived", "constraints", "overrides")


def _readable_top_level(document: Mapping) -> Mapping:
    """The document with top-level lists that are not lists left out (the schema names them)."""
    return {key: value for key, value in document.items()
            if key not in _LIST_FIELDS or isinstance(value, list)}


#: The builder's per-part steps, and what each gives for a part it cannot read.
_PART_FALLBACKS = {
    "fact": lambda: None,
    "scoring": lambda: None,
    "condition": lambda: AllOf(()),
    "operand": lambda: (Decimal(0), None),
    "indicator": lambda: Indicator(id="", name=Text(zh=""), weight=ZERO),
    "grades": lambda: (),
}


def _guard_parts(builder: "_Builder") -> list[Exception]:
    """Make each part of a schema-invalid document that the builder cannot read (a list item
    that is not a mapping, say) skip its own meaning checks instead of ending the report.
    Returns the list the exceptions are collected in: on a schema-valid document one is a bug."""
    crashes: list[Exception] = []
    for name, fallback in _PART_FALLBACKS.items():
        step = getattr(builder, name, None)
        if step is None:
            continue

        def guarded(*args, _step=step, _fallback=fallback, **kwargs):
            try:
                return _step(*args, **kwargs)
            except (AttributeError, TypeError, KeyError, IndexError, ValueError, InvalidOperation) as exc:
                crashes.append(exc)
                return _fallback()

        setattr(builder, name, guarded)
    return crashes


class _Builder:
    """Builds the model from a schema-valid document, collecting semantic problems."""

    def __init__(self, filename: str, lines: Mapping[Path, int]):
        self.filename = filename
        self.lines = lines
        self.problems: list[PackProblem] = []
        self.facts: dict[str, FactSpec] = {}
        self.derived_names: set[str] = set()  # derived values: read like decimal facts
        self.node_ids: set[str] | None = None  # while building overrides: node ids a condition may read

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(PackProblem(format_path(path), message, self.filename, line_of(self.lines, path)))

    # --- scalars ---------------------------------------------------------------

    def decimal(self, value: Any, path: Path) -> Decimal:
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            if isinstance(value, str) and not _PACK_NUMBER.fullmatch(value):
                raise InvalidOperation
            number = Decimal(value) if isinstance(value, (str, int, Decimal)) else Decimal(repr(value))
            if not number.is_finite():
                raise InvalidOperation
            return number
        except (InvalidOperation, ValueError, TypeError):
            self.problem(path, f"expected a number written with the digits 0-9, an optional '-' and a decimal "
                               f"point, such as 2.5; got {shown(value)}")
            return ZERO

    def text(self, value: Any, path: Path) -> Text:
        if isinstance(value, str):
            return Text(zh=value)
        if isinstance(value, Mapping) and isinstance(value.get("zh"), str):
            en = value.get("en")
            return Text(zh=value["zh"], en=en if isinstance(en, str) else None)
        self.problem(path, f"expected a text: a string, or {{zh: ..., en: ...}} with the Chinese text required; "
                           f"got {shown(value)}")
        return Text(zh="")

    def required(self, mapping: Mapping, key: str, path: Path) -> Any:
        if key not in mapping:
            self.problem(path, f"the field '{key}' is required here but missing")
            return None
        return mapping[key]

    # --- the document ----------------------------------------------------------

    def build(self, doc: Mapping) -> Pack:
        if doc.get("schema") != SCHEMA_TAG:
            self.problem(("schema",), f"expected schema: {SCHEMA_TAG}")
        pack_id = str(self.required(doc, "id", ()) or "")
        version = str(self.required(doc, "version", ()) or "")
        for field, value, check in (("id", pack_id, check_pack_id), ("version", version, check_version)):
            try:
                if value:
                    check(value, field)
            except InvalidIdentifier as bad:
                self.problem((field,), bad.problem)
        total = self.decimal(self.required(doc, "total_weight", ()) or 0, ("total_weight",))
        grades = self.grades(doc.get("grades") or [], ("grades",))
        for i, raw in enumerate(doc.get("facts") or []):
            spec = self.fact(raw, ("facts", i))
            if spec is None:
                continue
            if spec.name in self.facts:
                self.problem(("facts", i, "name"), f"fact '{spec.name}' is declared twice")
            self.facts[spec.name] = spec
        derived = self.derived(doc.get("derived") or [])
        constraints = self.constraints(doc.get("constraints") or [])
        indicators = tuple(
            self.indicator(raw, ("indicators", i)) for i, raw in enumerate(doc.get("indicators") or [])
        )
        if not indicators:
            self.problem(("indicators",), "a pack needs at least one indicator")
        self.check_tree(indicators, total)
        treatment = self.not_applicable_treatment(doc, indicators)
        overrides = self.overrides(doc.get("overrides") or [], indicators, grades)
        findings, observations, report_project = read_findings(self, doc, indicators, overrides)
        return Pack(
            id=pack_id,
            version=version,
            title=self.text(doc.get("title", ""), ("title",)),
            framework=str(doc.get("framework", "")),
            total_weight=total,
            grades=grades,
            facts=tuple(self.facts.values()),
            indicators=indicators,
            derived=derived,
            constraints=constraints,
            not_applicable_treatment=treatment,
            overrides=overrides,
            findings=findings,
            observations=observations,
            report_project=report_project,
        )

    def grades(self, raw: list, path: Path) -> tuple[GradeBand, ...]:
        bands = []
        for i, item in enumerate(raw):
            bands.append(GradeBand(
                grade=str(item.get("grade", "")),
                minimum=self.decimal(item.get("min", 0), path + (i, "min")),
                en=item.get("en"),
            ))
        if not bands:
            self.problem(path, "a pack needs grade bands (e.g. 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 ≥ 0)")
            return ()
        for i in range(1, len(bands)):
            if bands[i].minimum >= bands[i - 1].minimum:
                self.problem(path + (i, "min"), "grade bands must be listed highest first, each lower bound below the previous one")
        if bands[-1].minimum != 0:
            self.problem(path + (len(bands) - 1, "min"), "the last grade band must start at 0 so that every score has a grade")
        return tuple(bands)

    def fact(self, raw: Mapping, path: Path) -> FactSpec | None:
        name = raw.get("name")
        try:
            ftype = FactType(raw.get("type"))
        except ValueError:
            types = [t.value for t in FactType]
            kind = raw.get("type")
            self.problem(path + ("type",), f"unknown fact type {shown(kind)}; expected one of {', '.join(types)}"
                                           f"{did_you_mean(kind, types) if isinstance(kind, str) else ''}")
            return None
        if not isinstance(name, str) or not name:
            self.problem(path + ("name",), "a fact needs a name")
            return None
        minimum = self.decimal(raw["min"], path + ("min",)) if "min" in raw else None
        maximum = self.decimal(raw["max"], path + ("max",)) if "max" in raw else None
        if (minimum is not None or maximum is not None) and ftype not in NUMERIC:
            self.problem(path, f"min/max only apply to decimal and integer facts, not {ftype.value}")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.problem(path + ("max",), f"max {plain(maximum)} is below min {plain(minimum)}")
        options = tuple(
            SurveyOption(str(o.get("key")), self.text(o.get("label", str(o.get("key"))), path + ("options", j, "label")))
            for j, o in enumerate(raw.get("options") or [])
        )
        if ftype in (FactType.SURVEY, FactType.CHOICE) and not options:
            self.problem(path + ("options",), f"a {ftype.value} fact needs its options")
        if ftype not in (FactType.SURVEY, FactType.CHOICE) and options:
            self.problem(path + ("options",), "only survey and choice facts have options")
        keys = [o.key for o in options]
        for j, key in enumerate(keys):
            if key in keys[:j]:
                self.problem(path + ("options", j, "key"), f"option key '{key}' is listed twice; keys must be unique")
        if ftype is FactType.CHOICE:
            self.check_choice_labels(name, options, path)
        non_empty = raw.get("non_empty", False)
        if non_empty is not False and (ftype is not FactType.TEXT or non_empty is not True):
            self.problem(path + ("non_empty",), f"non_empty: true is for text facts only ('{name}' is {ftype.value})"
                         if ftype is not FactType.TEXT else "non_empty is true or false")
            non_empty = False
        spec = FactSpec(
            name=name, type=ftype, label=self.text(raw.get("label", name), path + ("label",)),
            unit=raw.get("unit"), minimum=minimum, maximum=maximum, options=options, non_empty=non_empty,
            max_items=text_list_items(self, raw, ftype, path),
        )
        if ftype is FactType.TEXT_LIST and "default" in raw and raw["default"] != []:
            self.problem(path + ("default",), f"a text_list fact's only default is [] (no texts); got "
                                              f"{shown(raw['default'])}")
        elif "default" in raw:
            value, violations = coerce(spec, raw["default"])
            for v in violations:
                self.problem(path + ("default",), f"default does not fit the fact: {v.description}")
            spec = dataclasses.replace(spec, default=value, has_default=True)
        return spec

    def check_choice_labels(self, name: str, options: tuple[SurveyOption, ...], path: Path) -> None:
        """A request may send a choice by code or by label: each text must name one option."""
        owner: dict[str, str] = {o.key: o.key for o in options}
        for j, option in enumerate(options):
            for label in dict.fromkeys(filter(None, (option.label.zh, option.label.en))):
                other = owner.setdefault(label, option.key)
                if other != option.key:
                    self.problem(path + ("options", j, "label"), (
                        f"'{label}' would name two options of {name} ({other} and {option.key}); a request may "
                        f"send an option's code or its label, so every code and label must differ"))

    # --- derived values and constraints ------------------------------------------

    def derived(self, raw: Any) -> tuple[Derived, ...]:
        """The pack's derived values. Names are collected first: an expression may read a
        derived value declared further down; values reading each other in a loop are refused."""
        if not isinstance(raw, list):
            self.problem(("derived",), "derived is a list of {name, label, value, format, places}")
            return ()
        named = []
        for i, item in enumerate(raw):
            path = ("derived", i)
            if not isinstance(item, Mapping):
                self.problem(path, "a derived value is {name, label, value, format, places}")
                continue
            name = item.get("name")
            if not isinstance(name, str) or _NAME.fullmatch(name) is None:
                self.problem(path + ("name",), "a derived value needs a name of lower-case letters, digits and "
                                               "underscores in dotted parts, such as cost.overrun_rate")
            elif self.ref_type(name) is not None and name not in self.derived_names:
                self.problem(path + ("name",), f"'{name}' is already a fact (or a survey option's share); "
                                               "a derived value needs a name of its own")
            elif name in self.derived_names:
                self.problem(path + ("name",), f"derived value '{name}' is declared twice")
            else:
                self.derived_names.add(name)
                named.append((i, item, name))
        out = []
        for i, item, name in named:
            path = ("derived", i)
            expression = self.expression(self.required(item, "value", path), path + ("value",), 1)
            fmt = item.get("format", "number")
            if fmt not in DERIVED_FORMATS:
                self.problem(path + ("format",), f"format is one of {', '.join(DERIVED_FORMATS)}, got "
                                                 f"{echo(str(fmt))!r}{did_you_mean(str(fmt), DERIVED_FORMATS)}")
                fmt = "number"
            places = item.get("places", 6)
            if type(places) is not int or not 0 <= places <= MAX_PLACES:
                self.problem(path + ("places",), f"places is a whole number from 0 to {MAX_PLACES} (decimal places "
                                                 f"kept, rounded half up), got {echo(str(places))}")
                places = 6
            out.append(Derived(name, self.text(item.get("label", name), path + ("label",)), expression, fmt, places))
        self.check_derived_loops(out, {name: i for i, _item, name in named})
        return tuple(out)

    def expression(self, raw: Any, path: Path, depth: int) -> Expression:
        """A derived value's expression: a number, {fact: NAME} or {OP: arguments}."""
        if depth > MAX_EXPRESSION_DEPTH:
            self.problem(path, f"the expression nests more than {MAX_EXPRESSION_DEPTH} levels deep here")
            return ZERO
        if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
            return self.decimal(raw, path)
        if isinstance(raw, str) and _PACK_NUMBER.fullmatch(raw):
            return self.decimal(raw, path)
        if isinstance(raw, str):
            self.problem(path, f"expected a number, {{fact: NAME}} or an operation; to read '{echo(raw)}' "
                               f"write {{fact: {echo(raw)}}}")
            return ZERO
        if isinstance(raw, Mapping) and len(raw) == 1 and "fact" in raw:
            name = raw["fact"]
            kind = self.ref_type(name)
            if kind is None:
                self.problem(path + ("fact",), self.undeclared(name))
            elif kind is FactType.TEXT_LIST:
                self.problem(path + ("fact",), text_list_read(str(name), "a derived value"))
            elif kind not in NUMERIC:
                self.problem(path + ("fact",), f"a derived value computes with numbers; '{name}' is a {kind.value} fact")
            return FactRef(str(name))
        ops = [op for op in DERIVED_OPS if isinstance(raw, Mapping) and op in raw]
        if len(ops) != 1 or len(raw) != 1:
            self.problem(path, "expected a number, {fact: NAME} or one operation: add, sub, mul or div of two values, "
                               "min or max of two or more, abs of one, round of [value, places]")
            return ZERO
        op = ops[0]
        args = raw[op]
        if op == "abs":
            args = args if isinstance(args, list) and len(args) == 1 else [args]
            return Apply(op, (self.expression(args[0], path + (op,), depth + 1),))
        if op == "round":
            if not isinstance(args, list) or len(args) != 2:
                self.problem(path + (op,), "round takes [value, places], e.g. {round: [{fact: x}, 2]}")
                return ZERO
            places = args[1]
            if type(places) is not int or not 0 <= places <= MAX_PLACES:
                self.problem(path + (op, 1), f"places is a whole number from 0 to {MAX_PLACES}, got {echo(str(places))}")
                places = 0
            return Apply(op, (self.expression(args[0], path + (op, 0), depth + 1), Decimal(places)))
        wanted = "two or more values" if op in ("min", "max") else "two values"
        if not isinstance(args, list) or len(args) < 2 or (op not in ("min", "max") and len(args) != 2):
            self.problem(path + (op,), f"{op} takes a list of {wanted}")
            return ZERO
        parts = tuple(self.expression(arg, path + (op, k), depth + 1) for k, arg in enumerate(args))
        written = args[1]  # a literal 0 divisor; not a part already refused (read as 0)
        literal = (isinstance(written, (int, float, Decimal)) and not isinstance(written, bool)) or (
            isinstance(written, str) and _PACK_NUMBER.fullmatch(written) is not None)
        if op == "div" and literal and parts[1] == 0:
            self.problem(path + (op, 1), "divides by 0")
        return Apply(op, parts)

    def check_derived_loops(self, derived: list[Derived], index: dict[str, int]) -> None:
        """Refuse derived values that read each other in a loop, naming it once."""
        reads = {d.name: [n for n in _expression_refs(d.expression) if n in index] for d in derived}
        state: dict[str, int] = {}  # 1: being visited, 2: done
        for start in reads:
            if state.get(start):
                continue
            stack = [(start, iter(reads[start]))]
            trail = [start]
            state[start] = 1
            while stack:
                name, todo = stack[-1]
                following = next(todo, None)
                if following is None:
                    state[name] = 2
                    stack.pop()
                    trail.pop()
                elif state.get(following) == 1:
                    loop = trail[trail.index(following):] + [following]
                    self.problem(("derived", index[loop[0]], "value"), (
                        f"derived values read each other in a loop: {' → '.join(loop)}; none of them can be "
                        f"computed first"))
                elif not state.get(following):
                    state[following] = 1
                    stack.append((following, iter(reads.get(following, ()))))
                    trail.append(following)

    def constraints(self, raw: Any) -> tuple[Constraint, ...]:
        """Checks between facts that refuse a request when they do not hold."""
        if not isinstance(raw, list):
            self.problem(("constraints",), "constraints is a list of {id, require, message}")
            return ()
        out: list[Constraint] = []
        for i, item in enumerate(raw):
            constraint = self.constraint(item, ("constraints", i))
            if constraint is None:
                continue
            if any(c.id == constraint.id for c in out):
                self.problem(("constraints", i, "id"), f"constraint id '{constraint.id}' is used twice")
            out.append(constraint)
        return tuple(out)

    def constraint(self, item: Any, path: Path) -> Constraint | None:
        if not isinstance(item, Mapping):
            self.problem(path, "a constraint is {id, require: CONDITION, message: {zh: ..., en: ...}}")
            return None
        constraint_id = self.required(item, "id", path)
        if not isinstance(constraint_id, str) or _ID.fullmatch(constraint_id) is None:
            self.problem(path + ("id",), "a constraint needs an id of lower-case letters, digits and underscores, "
                                         "such as vouchers_within_sample")
            constraint_id = str(constraint_id)
        require = self.condition(self.required(item, "require", path), path + ("require",))
        message = self.text(self.required(item, "message", path) or "", path + ("message",))
        return Constraint(constraint_id, require, message)

    def undeclared(self, name: Any) -> str:
        """The problem of a name that is no declared fact, with the closest one."""
        return f"fact '{echo(str(name))}' is not declared in facts{did_you_mean(str(name), self.known_refs())}"

    def known_refs(self) -> list[str]:
        """Every name a rule may read: facts, survey option shares, derived values."""
        names = list(self.facts) + sorted(self.derived_names)
        names += [f"{spec.name}.{o.key}" for spec in self.facts.values() if spec.type is FactType.SURVEY
                  for o in spec.options]
        return names

    # --- the tree --------------------------------------------------------------

    def indicator(self, raw: Mapping, path: Path) -> Indicator:
        node_id = str(raw.get("id", ""))
        name = self.text(raw.get("name", node_id), path + ("name",))
        weight = self.decimal(raw.get("weight", 0), path + ("weight",))
        if weight <= 0:
            self.problem(path + ("weight",), f"weight must be positive, got {plain(weight)}")
        children = tuple(self.indicator(c, path + ("children", i)) for i, c in enumerate(raw.get("children") or []))
        has_scoring = "scoring" in raw
        if children and has_scoring:
            self.problem(path + ("scoring",), f"'{node_id}' has children, so its score is their sum: remove 'scoring'")
        if not children and not has_scoring:
            self.problem(path, f"leaf '{node_id}' needs a 'scoring' method (or children)")
        if children and "rationale" in raw:
            self.problem(path + ("rationale",), "only leaves have a rationale")
        scoring = None
        rationale = None
        if not children and has_scoring:
            scoring = self.scoring(raw["scoring"], weight, path + ("scoring",))
            if "rationale" in raw:
                rationale = self.text(raw["rationale"], path + ("rationale",))
        not_applicable = None
        if "not_applicable" in raw:
            if children:
                self.problem(path + ("not_applicable",), f"'{node_id}' has children: only leaves are declared not "
                                                         "applicable (a parent is when all its children are)")
            else:
                not_applicable = self.not_applicable(raw["not_applicable"], path + ("not_applicable",), node_id)
        if children and "finding" in raw:
            self.problem(path + ("finding",), f"'{node_id}' has children: only a leaf gives a finding when it loses "
                                              "points (name it on the leaf, or on one of its checks or bands)")
        description = self.text(raw["description"], path + ("description",)) if "description" in raw else None
        leaf = Indicator(id=node_id, name=name, weight=weight, children=children, scoring=scoring, rationale=rationale,
                         not_applicable=not_applicable, description=description,
                         finding=None if children else finding_named(raw))
        if scoring is not None:
            self.check_templates(leaf, raw, path)
        return leaf

    def check_tree(self, indicators: tuple[Indicator, ...], total: Decimal) -> None:
        seen: set[str] = set()

        def visit(node: Indicator, path: Path) -> None:
            if node.id in seen:
                self.problem(path + ("id",), f"indicator id '{node.id}' is used more than once")
            seen.add(node.id)
            if node.children:
                child_sum = sum((c.weight for c in node.children), ZERO)
                if child_sum != node.weight:
                    self.problem(path + ("weight",),
                                 f"'{node.id}' weighs {plain(node.weight)} but its children add up to {plain(child_sum)}: "
                                 f"change the children's weights to add up to {plain(node.weight)}, or its weight "
                                 f"to {plain(child_sum)}")
                for i, child in enumerate(node.children):
                    visit(child, path + ("children", i))

        for i, node in enumerate(indicators):
            visit(node, ("indicators", i))
        top = sum((n.weight for n in indicators), ZERO)
        if indicators and top != total:
            self.problem(("total_weight",), f"total_weight is {plain(total)} but the level-1 weights add up to {plain(top)}: "
                                                 f"change them to add up to {plain(total)}")

    # --- not applicable (不适用) ------------------------------------------------

    def not_applicable(self, raw: Any, path: Path, leaf_id: str) -> NotApplicable | None:
        """A leaf's N/A decision: {when: CONDITION, reason: TEXT} or {flag: FACT, reason: FACT}."""
        if not isinstance(raw, Mapping) or ("when" in raw) == ("flag" in raw):
            self.problem(path, "not_applicable needs either 'when' (a condition over facts) and 'reason' (a text), "
                               "or 'flag' (a boolean fact the evaluator sets) and 'reason' (the text fact holding "
                               "the evaluator's reason)")
            return None
        if "reason" not in raw:
            self.problem(path, f"leaf '{leaf_id}': not_applicable needs a 'reason' to show when it applies")
            return None
        if "flag" in raw:
            flag = self.ref(raw["flag"], path + ("flag",), (FactType.BOOLEAN,), "a not-applicable flag")
            reason = self.ref(raw["reason"], path + ("reason",), (FactType.TEXT,), "a not-applicable reason")
            return NotApplicable(flag=flag, reason_fact=reason)
        when = self.condition(raw["when"], path + ("when",))
        reason = self.text(raw["reason"], path + ("reason",))
        self.check_value_placeholders(reason, path + ("reason",), f"leaf '{leaf_id}'")
        return NotApplicable(when=when, reason=reason)

    def not_applicable_treatment(self, doc: Mapping, indicators: tuple[Indicator, ...]) -> str | None:
        """The pack's treatment of N/A weight; required when a leaf may be N/A."""
        raw = doc.get("not_applicable")
        may = node_paths(indicators, lambda node: node.not_applicable is not None)
        if raw is None:
            if may:
                names = ", ".join(f"'{node_id}'" for node_id in may)
                leaves = f"leaf {names} may be" if len(may) == 1 else f"leaves {names} may be"
                self.problem(next(iter(may.values())) + ("not_applicable",),
                             f"{leaves} not applicable, so the pack must say at its top level how the weight of "
                             f"a leaf found not applicable is treated: not_applicable: {{treatment: rescale}} "
                             f"(or redistribute)")
            return None
        treatment = raw.get("treatment") if isinstance(raw, Mapping) else None
        if treatment not in TREATMENTS:
            self.problem(("not_applicable", "treatment"), f"the treatment of not-applicable weight is rescale or "
                                                          f"redistribute, got {echo(str(treatment))!r}")
            return None
        return treatment

    def check_value_placeholders(self, text: Text, path: Path, owner: str, own: tuple[str, ...] = ()) -> None:
        """A text outside a leaf's scoring (an N/A reason, an override reason): its
        placeholders are facts, derived values or the names in `own`."""
        for template in filter(None, (text.zh, text.en)):
            for name, fmt in placeholders(template):
                if fmt is not None and fmt not in FORMATS:
                    self.problem(path, f"{owner}: unknown format '{fmt}' in {{{name}|{fmt}}}; "
                                       f"expected one of {', '.join(FORMATS)}{did_you_mean(fmt, FORMATS)}")
                elif name in own:
                    if fmt is not None:
                        self.problem(path, f"{owner}: {{{name}}} is a text and cannot be formatted as {fmt}")
                elif name == FIRED_REASONS and self.ref_type(name) is None:
                    self.problem(path, f"{owner}: {fired_reasons_misplaced('this text')}")
                elif self.ref_type(name) is None:
                    extra = f" nor one of {', '.join(own)}" if own else ""
                    self.problem(path, f"{owner}: the text uses '{name}', which is not a declared fact{extra}"
                                       f"{did_you_mean(name, list(self.facts) + list(own))}")
                elif (problem := placeholder_type_problem(name, fmt, self.ref_type(name))) is not None:
                    self.problem(path, f"{owner}: {problem}")

    # --- overrides (一票否决, caps, zeroing) -----------------------------------

    def overrides(self, raw: Any, indicators: tuple[Indicator, ...], grades: tuple[GradeBand, ...]) -> tuple[Override, ...]:
        """The pack's overrides; unknown nodes and grades, and overrides waiting on each other
        in a loop, are refused."""
        if not isinstance(raw, list):
            self.problem(("overrides",), "overrides is a list of {id, when, grade|cap|zero, reason}")
            return ()
        nodes = [n.id for top in indicators for n in top.walk()]
        known = set(nodes) | {NODE_TOTAL}
        out: list[Override] = []
        seen: set[str] = set()
        self.node_ids = known
        try:
            for i, item in enumerate(raw):
                override = self.override(item, ("overrides", i), nodes, grades)
                if override is None:
                    continue
                if override.id in seen:
                    self.problem(("overrides", i, "id"), f"override id '{override.id}' is used twice")
                seen.add(override.id)
                out.append(override)
        finally:
            self.node_ids = None
        if out:
            loop = find_cycle(out, indicators)
            if loop:
                self.problem(("overrides",), "overrides " + " → ".join(loop) + " wait on each other: each reads a "
                                             "node score another one changes; break the loop")
        return tuple(out)

    def override(self, item: Any, path: Path, nodes: list[str], grades: tuple[GradeBand, ...]) -> Override | None:
        if not isinstance(item, Mapping):
            self.problem(path, "an override is {id, when, grade|cap|zero, reason}")
            return None
        override_id = str(self.required(item, "id", path) or "")
        actions = [a for a in OVERRIDE_ACTIONS if a in item]
        if len(actions) != 1:
            self.problem(path, f"override '{override_id}' needs exactly one action: grade (force the total grade), "
                               f"cap ({{node: NODE, score: N}}) or zero (a node id)")
            return None
        when = self.condition(self.required(item, "when", path), path + ("when",))
        reason = self.text(self.required(item, "reason", path) or "", path + ("reason",))
        self.check_value_placeholders(reason, path + ("reason",), f"override '{override_id}'", ("before", "after"))
        action = actions[0]
        if action == "grade":
            names = [g.grade for g in grades]
            grade = str(item["grade"])
            if grade not in names:
                self.problem(path + ("grade",), f"'{echo(grade)}' is not one of the pack's grades "
                                                f"({', '.join(names)}){did_you_mean(grade, names)}")
            return Override(override_id, when, action, reason, grade=grade, finding=finding_named(item))
        if action == "zero":
            node = str(item["zero"])
            if node == NODE_TOTAL:
                self.problem(path + ("zero",), "zero names an indicator; to cap the total use cap: {node: total, score: N}")
            elif node not in nodes:
                self.problem(path + ("zero",), f"'{echo(node)}' is not an indicator id{did_you_mean(node, nodes)}")
            return Override(override_id, when, action, reason, node=node, finding=finding_named(item))
        cap = item["cap"] if isinstance(item["cap"], Mapping) else {}
        node = str(cap.get("node", ""))
        if node != NODE_TOTAL and node not in nodes:
            self.problem(path + ("cap", "node"), f"'{echo(node)}' is not an indicator id nor total"
                                                 f"{did_you_mean(node, nodes + [NODE_TOTAL])}")
        score = self.decimal(self.required(cap, "score", path + ("cap",)) or 0, path + ("cap", "score"))
        if score < 0:
            self.problem(path + ("cap", "score"), f"a cap is a score of 0 or more, got {plain(score)}")
        return Override(override_id, when, action, reason, node=node, cap=score, finding=finding_named(item))

    def node_condition(self, raw: Mapping, path: Path) -> Condition:
        """{score: NODE, OP: x} or {rate: NODE, OP: x}: a node's score (or rate in percent)
        compared, in an override's condition; NODE is an indicator id or total."""
        key = "score" if "score" in raw else "rate"
        ops = [op for op in COMPARISONS if op in raw]
        if len(ops) != 1 or len(raw) != 2:
            self.problem(path, f"a node comparison needs '{key}' and exactly one of eq, ne, lt, le, gt, ge")
            return AllOf(())
        node, op = str(raw[key]), ops[0]
        if node not in (self.node_ids or ()):
            known = sorted(self.node_ids or ())
            self.problem(path + (key,), f"'{echo(node)}' is not an indicator id nor total{did_you_mean(node, known)}")
        operand, right_type = self.operand(raw[op], path + (op,))
        if right_type is not None and right_type not in NUMERIC:
            self.problem(path + (op,), f"a node's {key} is a number; it cannot be compared with a {right_type.value}")
        return Compare(FactRef((SCORE_PREFIX if key == "score" else RATE_PREFIX) + node), op, operand)

    # --- scoring ---------------------------------------------------------------

    def ref(self, name: Any, path: Path, kinds: tuple[FactType, ...], what: str) -> FactRef:
        """A reference to a declared fact (or survey option share) of one of `kinds`."""
        kind = self.ref_type(name)
        if kind is None:
            self.problem(path, self.undeclared(name))
        elif kind is FactType.TEXT_LIST:
            self.problem(path, text_list_read(str(name), what))
        elif kind not in kinds:
            wanted = " or ".join(k.value for k in kinds)
            self.problem(path, f"{what} must be a {wanted} fact, but '{name}' is {kind.value}")
        return FactRef(str(name))

    def ref_type(self, name: Any) -> FactType | None:
        """The type of a declared fact, DECIMAL for a survey option's share or a derived
        value, None if unknown."""
        if not isinstance(name, str):
            return None
        if name in self.facts:
            return self.facts[name].type
        if name in self.derived_names:
            return FactType.DECIMAL
        survey, _, option = name.rpartition(".")
        spec = self.facts.get(survey)
        if spec is not None and spec.type is FactType.SURVEY and spec.option(option):
            return FactType.DECIMAL
        return None

    def scoring(self, raw: Mapping, weight: Decimal, path: Path):
        method = raw.get("method")
        if method == "ratio":
            return self.ratio(raw, weight, path)
        if method == "per_item":
            return self.per_item(raw, weight, path)
        if method == "deductions":
            checks = []
            for i, item in enumerate(raw.get("checks") or []):
                p = path + ("checks", i)
                points = self.decimal(item.get("points", 0), p + ("points",))
                if points <= 0 or points > weight:
                    self.problem(p + ("points",), f"points must be in (0, {plain(weight)}] (the leaf's weight), got {plain(points)}")
                checks.append(Check(
                    id=str(item.get("id", "")),
                    when=self.condition(item.get("when"), p + ("when",)),
                    points=points,
                    reason=self.text(item.get("reason", ""), p + ("reason",)),
                    met=self.text(item["met"], p + ("met",)) if "met" in item else None,
                    finding=finding_named(item),
                ))
            ids = [c.id for c in checks]
            for i, check_id in enumerate(ids):
                if ids.index(check_id) != i:
                    self.problem(path + ("checks", i, "id"), f"check id '{check_id}' is used twice in this leaf")
            if not checks:
                self.problem(path + ("checks",), "a deductions leaf needs at least one check")
            return Deductions(tuple(checks))
        if method == "all_or_nothing":
            return AllOrNothing(
                passes=self.condition(raw.get("pass"), path + ("pass",)),
                reason=self.text(raw.get("reason", ""), path + ("reason",)),
                met=self.text(raw["met"], path + ("met",)) if "met" in raw else None,
            )
        if method == "survey":
            fact = self.ref(raw.get("fact"), path + ("fact",), (FactType.SURVEY,), "a survey leaf's fact")
            spec = self.facts.get(fact.name)
            weights_raw = raw.get("weights") or {}
            weights: dict[str, Decimal] = {}
            if spec is not None and spec.type is FactType.SURVEY:
                for option in spec.options:
                    if option.key not in weights_raw:
                        self.problem(path + ("weights",), f"no weight for option '{option.key}' of {fact.name}")
                        continue
                    w = self.decimal(weights_raw[option.key], path + ("weights", option.key))
                    if w < 0 or w > 1:
                        self.problem(path + ("weights", option.key), f"an option weight must be in [0, 1], got {plain(w)}")
                    weights[option.key] = w
                for key in weights_raw:
                    if spec.option(str(key)) is None:
                        codes = [o.key for o in spec.options]
                        self.problem(path + ("weights", key), f"'{echo(str(key))}' is not an option of {fact.name} "
                                                              f"(its options: {', '.join(codes)})"
                                                              f"{did_you_mean(str(key), codes)}")
            return Survey(fact, weights)
        if method == "bands":
            return self.bands(raw, weight, path)
        if method == "judgement":
            return Judgement(
                score=self.ref(raw.get("score"), path + ("score",), NUMERIC, "an evaluator's score"),
                reason=self.ref(raw.get("reason"), path + ("reason",), (FactType.TEXT,), "an evaluator's reason"),
            )
        methods = ("ratio", "per_item", "deductions", "all_or_nothing", "survey", "bands", "judgement")
        self.problem(path + ("method",), f"unknown scoring method {shown(method)}; expected ratio, per_item, deductions, "
                                         "all_or_nothing, survey, bands or judgement"
                                         f"{did_you_mean(method, methods) if isinstance(method, str) else ''}")
        return None

    def ratio(self, raw: Mapping, weight: Decimal, path: Path) -> Ratio:
        """比率法, with an optional floor (below it: 0) and slope (points per unit short of 1)."""
        floor = slope = None
        if "floor" in raw:
            floor = self.decimal(raw["floor"], path + ("floor",))
            if not 0 < floor <= 1:
                self.problem(path + ("floor",), f"a floor is a ratio in (0, 1] (0.6 means 60%), got {plain(floor)}")
        if "slope" in raw:
            item = raw["slope"] if isinstance(raw["slope"], Mapping) else {}
            per = self.decimal(item.get("per", 0), path + ("slope", "per"))
            points = self.decimal(item.get("points", 0), path + ("slope", "points"))
            if not 0 < per <= 1:
                self.problem(path + ("slope", "per"), f"'per' is the step of the ratio in (0, 1] (0.01 means "
                                                      f"each percentage point), got {plain(per)}")
            if not 0 < points <= weight:
                self.problem(path + ("slope", "points"),
                             f"points must be in (0, {plain(weight)}] (the leaf's weight), got {plain(points)}")
            slope = Slope(per, points)
        if "below_floor" in raw and floor is None:
            self.problem(path + ("below_floor",), "'below_floor' is the reason for a ratio under the floor: "
                                                  "declare 'floor' too, or remove it")
        return Ratio(
            actual=self.ref(raw.get("actual"), path + ("actual",), NUMERIC, "a ratio's actual value"),
            target=self.ref(raw.get("target"), path + ("target",), NUMERIC, "a ratio's target"),
            reason=self.text(self.required(raw, "reason", path) or "", path + ("reason",)),
            floor=floor,
            slope=slope,
            below_floor=self.text(raw["below_floor"], path + ("below_floor",)) if "below_floor" in raw else None,
        )

    def per_item(self, raw: Mapping, weight: Decimal, path: Path) -> PerItem:
        """`points` per item counted, at most `cap` (the weight by default: 扣完为止)."""
        points = self.decimal(self.required(raw, "points", path) or 0, path + ("points",))
        if not 0 < points <= weight:
            self.problem(path + ("points",), f"points must be in (0, {plain(weight)}] (the leaf's weight), got {plain(points)}")
        cap = None
        if "cap" in raw:
            cap = self.decimal(raw["cap"], path + ("cap",))
            if not 0 < cap <= weight:
                self.problem(path + ("cap",), f"cap must be in (0, {plain(weight)}] (the leaf's weight), got {plain(cap)}")
        return PerItem(
            count=self.ref(raw.get("count"), path + ("count",), NUMERIC, "a per_item leaf's count"),
            points=points,
            reason=self.text(self.required(raw, "reason", path) or "", path + ("reason",)),
            cap=cap,
            met=self.text(raw["met"], path + ("met",)) if "met" in raw else None,
        )

    def bands(self, raw: Mapping, weight: Decimal, path: Path) -> Bands:
        """分档 over a number (each band from its `min` down to the next) or over a choice
        fact (each band lists its option codes; every option in exactly one band)."""
        value = self.ref(raw.get("value"), path + ("value",), NUMERIC + (FactType.CHOICE,), "a bands leaf's value")
        spec = self.facts.get(value.name)
        choice = spec if spec is not None and spec.type is FactType.CHOICE else None
        bands = []
        raw_bands = raw.get("bands") or []
        placed: dict[str, int] = {}
        for i, item in enumerate(raw_bands):
            p = path + ("bands", i)
            deduct = self.decimal(item.get("deduct", 0), p + ("deduct",))
            if deduct < 0 or deduct > weight:
                self.problem(p + ("deduct",), f"deduct must be in [0, {plain(weight)}] (the leaf's weight), got {plain(deduct)}")
            reason = self.text(item["reason"], p + ("reason",)) if "reason" in item else None
            if choice is not None:
                bands.append(Band(None, deduct, reason, self.band_options(item, choice, placed, i, p),
                                  finding=finding_named(item)))
                continue
            if "options" in item:
                self.problem(p + ("options",), f"'options' belong to bands over a choice fact; '{value.name}' is a "
                                               "number: give the band a 'min'")
            minimum = self.decimal(item["min"], p + ("min",)) if "min" in item else None
            if minimum is None and i != len(raw_bands) - 1:
                self.problem(p, "only the last band may omit 'min' (it catches everything below)")
            if i and minimum is not None and bands[-1].minimum is not None and minimum >= bands[-1].minimum:
                self.problem(p + ("min",), f"bands must be ordered highest first, each min below the previous "
                                           f"one: this band's min {plain(minimum)} is not below the previous "
                                           f"band's {plain(bands[-1].minimum)}")
            bands.append(Band(minimum, deduct, reason, finding=finding_named(item)))
        if not bands:
            self.problem(path + ("bands",), "a bands leaf needs at least one band")
        elif choice is not None:
            missing = [o.key for o in choice.options if o.key not in placed]
            if missing:
                self.problem(path + ("bands",), f"option{'s' if len(missing) > 1 else ''} {', '.join(missing)} of "
                                                f"{value.name} {'are' if len(missing) > 1 else 'is'} in no band; "
                                                "every option must be in exactly one band")
        elif bands[-1].minimum is not None:
            self.problem(path + ("bands", len(bands) - 1),
                         "the last band must omit 'min' so that every value falls in a band")
        inferred = self.text(raw["inferred"], path + ("inferred",)) if "inferred" in raw else None
        return Bands(value, tuple(bands), inferred)

    def band_options(self, item: Mapping, choice: FactSpec, placed: dict[str, int], index: int,
                     path: Path) -> tuple[str, ...]:
        """A choice band's option codes: known, and in no earlier band."""
        if "min" in item:
            self.problem(path + ("min",), f"'{choice.name}' is a choice: a band lists its option codes in "
                                          "'options' instead of a 'min'")
        raw = item.get("options")
        if not isinstance(raw, list) or not raw:
            self.problem(path, f"a band over the choice '{choice.name}' needs 'options': a list of its option codes")
            return ()
        codes = [o.key for o in choice.options]
        out = []
        for j, code in enumerate(raw):
            code = str(code)
            if code not in codes:
                self.problem(path + ("options", j), f"'{echo(code)}' is not an option of {choice.name} (its options: "
                                                    f"{', '.join(codes)}){did_you_mean(code, codes)}")
            elif code in placed:
                self.problem(path + ("options", j), f"option '{code}' of {choice.name} is already in band "
                                                    f"{placed[code] + 1}; every option must be in exactly one band")
            else:
                placed[code] = index
                out.append(code)
        return tuple(out)

    # --- conditions ------------------------------------------------------------

    def condition(self, raw: Any, path: Path) -> Condition:
        if self.node_ids is not None and isinstance(raw, Mapping) and "fact" not in raw and ("score" in raw or "rate" in raw):
            return self.node_condition(raw, path)  # overrides only: a node's score or rate
        if not isinstance(raw, Mapping):
            self.problem(path, "expected a condition: {fact: ..., eq: ...}, {all: [...]}, {any: [...]} or {not: ...}")
            return AllOf(())
        if "all" in raw or "any" in raw:
            key = "all" if "all" in raw else "any"
            items = raw[key] or []
            if not items:
                self.problem(path + (key,), f"'{key}' needs at least one condition")
            parts = tuple(self.condition(c, path + (key, i)) for i, c in enumerate(items))
            return AllOf(parts) if key == "all" else AnyOf(parts)
        if "not" in raw:
            return Not(self.condition(raw["not"], path + ("not",)))
        ops = [op for op in COMPARISONS + ("in",) if op in raw]
        if "fact" not in raw or len(ops) != 1 or len(raw) != 2:
            self.problem(path, "a comparison needs 'fact' and exactly one of eq, ne, lt, le, gt, ge or in")
            return AllOf(())
        op = ops[0]
        left_type = self.ref_type(raw["fact"])
        fact = FactRef(str(raw["fact"]))
        if left_type is None:
            self.problem(path + ("fact",), self.undeclared(raw["fact"]))
        elif left_type is FactType.SURVEY:
            self.problem(path + ("fact",), f"'{fact.name}' is a survey; compare one option's share: {fact.name}.<option>")
        elif left_type is FactType.TEXT_LIST:
            self.problem(path + ("fact",), text_list_read(fact.name, "a condition"))
            left_type = None
        if op == "in":  # {fact: X, in: [a, b]}: any of X eq a, X eq b
            items = raw["in"]
            if not isinstance(items, list) or not items:
                self.problem(path + ("in",), "'in' needs a list of one or more values, e.g. in: [good, fairly_good]")
                return AllOf(())
            parts = tuple(self.comparison(fact, left_type, "eq", item, path + ("in", i)) for i, item in enumerate(items))
            return parts[0] if len(parts) == 1 else AnyOf(parts)
        return self.comparison(fact, left_type, op, raw[op], path + (op,))

    def comparison(self, fact: FactRef, left_type: FactType | None, op: str, raw: Any, path: Path) -> Compare:
        """`fact` OP `raw`, its types checked; a choice is compared with its option codes."""
        operand, right_type = self.operand(raw, path)
        if left_type is FactType.CHOICE and right_type is FactType.TEXT and op in ("eq", "ne"):
            self.check_option_code(fact.name, str(operand), path)
        elif left_type is not None and right_type is not None and left_type is not FactType.SURVEY:
            numeric = left_type in NUMERIC and right_type in NUMERIC
            if op not in ("eq", "ne") and not numeric:
                self.problem(path, f"'{op}' compares numbers; '{fact.name}' is {left_type.value}")
            elif not numeric and left_type != right_type:
                self.problem(path, f"cannot compare '{fact.name}' ({left_type.value}) with a {right_type.value}")
        return Compare(fact, op, operand)

    def check_option_code(self, name: str, code: str, path: Path) -> None:
        """A condition tests a choice by an option's code: name the options when it is none."""
        spec = self.facts[name]
        codes = [o.key for o in spec.options]
        if code in codes:
            return
        labelled = choice_index(spec).get(code)
        if labelled is not None:
            self.problem(path, f"'{echo(code)}' is the label of option {labelled} of {name}; conditions test "
                               f"option codes: write {labelled}")
        else:
            self.problem(path, f"'{echo(code)}' is not an option of {name} (its options: {', '.join(codes)})"
                               f"{did_you_mean(code, codes)}")

    def operand(self, raw: Any, path: Path) -> tuple[Operand, FactType | None]:
        if isinstance(raw, bool):
            return raw, FactType.BOOLEAN
        if isinstance(raw, (int, Decimal, float)):
            return self.decimal(raw, path), FactType.DECIMAL
        if isinstance(raw, str):
            return raw, FactType.TEXT
        if isinstance(raw, Mapping) and "fact" in raw and len(raw) == 1:
            kind = self.ref_type(raw["fact"])
            if kind is None:
                self.problem(path + ("fact",), self.undeclared(raw["fact"]))
            elif kind is FactType.TEXT_LIST:
                self.problem(path + ("fact",), text_list_read(str(raw["fact"]), "a condition"))
                kind = None
            return FactRef(str(raw["fact"])), kind
        ops = [op for op in ARITHMETIC_OPS if isinstance(raw, Mapping) and op in raw]
        if len(ops) == 1 and len(raw) == 1 and isinstance(raw[ops[0]], list) and len(raw[ops[0]]) == 2:
            op = ops[0]
            left, lt = self.operand(raw[op][0], path + (op, 0))
            right, rt = self.operand(raw[op][1], path + (op, 1))
            for side, kind in ((0, lt), (1, rt)):
                if kind is not None and kind not in NUMERIC:
                    self.problem(path + (op, side), f"arithmetic needs numbers, got a {kind.value}")
            if op == "div" and isinstance(right, Decimal) and right == 0:
                self.problem(path + (op, 1), "divides by 0")
            return Arithmetic(op, left, right), FactType.DECIMAL
        self.problem(path, "expected a literal, {fact: NAME} or {add|sub|mul|div: [a, b]}")
        return Decimal(0), None

    # --- templates -------------------------------------------------------------

    def check_templates(self, leaf: Indicator, raw: Mapping, path: Path) -> None:
        method = method_name(leaf.scoring)
        # The rationale (and a band's inferred note) is written once the leaf is scored; every
        # other text of the leaf (a reason, a met text) while it is being scored.
        written_after = {id(leaf.rationale), id(getattr(leaf.scoring, "inferred", None))}
        for text in leaf_texts(leaf):
            for template in filter(None, (text.zh, text.en)):
                for name, fmt in placeholders(template):
                    if name in SCORED_VARIABLES and id(text) not in written_after:
                        self.problem(path, f"leaf '{leaf.id}': {{{name}}} is known only to the leaf's "
                                           f"rationale (a reason is written before the leaf's score is known)")
                        continue
                    self.check_placeholder(name, fmt, method, path, leaf.id)

    def check_placeholder(self, name: str, fmt: str | None, method: str, path: Path, leaf_id: str) -> None:
        if fmt is not None and fmt not in FORMATS:
            self.problem(path, f"leaf '{leaf_id}': unknown format '{fmt}' in {{{name}|{fmt}}}; "
                               f"expected one of {', '.join(FORMATS)}{did_you_mean(fmt, FORMATS)}")
            return
        if name in LEAF_VARIABLES:
            only = LEAF_VARIABLES[name]
            if only is not None and only != method:
                self.problem(path, f"leaf '{leaf_id}': {{{name}}} is only known to {only} leaves, this one is {method}")
            elif fmt in ("shares", "yesno") or (name == "findings" and fmt is not None):
                self.problem(path, f"leaf '{leaf_id}': {{{name}}} cannot be formatted as {fmt}")
            return
        kind = self.ref_type(name)
        if kind is None and name == FIRED_REASONS:
            self.problem(path, f"leaf '{leaf_id}': {fired_reasons_misplaced('a leaf (its own reasons are {findings})')}")
        elif kind is None:
            self.problem(path, f"leaf '{leaf_id}': template uses '{name}', which is neither a declared fact "
                               f"nor one of {', '.join(LEAF_VARIABLES)}"
                               f"{did_you_mean(name, self.known_refs() + list(LEAF_VARIABLES))}")
        elif (problem := placeholder_type_problem(name, fmt, kind)) is not None:
            self.problem(path, f"leaf '{leaf_id}': {problem}")
