"""JSON Schema errors about a pack, said in words a finance user can act on.

jsonschema's own messages quote regular expressions (`'两分' does not match '^\\d+…'`),
Python reprs (`Decimal('1.2') is greater than the maximum of 1`) and schema keywords.
This module turns each `ValidationError` into one sentence by its validator keyword
(required, type, enum, pattern, minimum…, additionalProperties, oneOf/anyOf through
their most relevant branch, …), names the place in words ("indicator decision.targets,
field weight") and the line, and suggests the closest known name for a misspelt key or
enum value. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

import jsonschema

from ..decimals import plain
from ..errors import PackProblem
from ..identifiers import echo
from ..suggest import did_you_mean
from .yaml12 import Path, format_path, line_of

#: What a value of each shared definition of the pack schema looks like, in words.
#: Keyed by the name under `$defs`; a definition not listed here is described by its
#: own `description`.
DEFINITION_WORDS = {
    "text": "a text: a string, or {zh: ..., en: ...} with the Chinese text required",
    "decimal": "a number such as 2.5",
    "nonNegativeDecimal": "a number of 0 or more, such as 0.5",
    "positiveDecimal": "a number above 0, such as 2.5",
    "percent": "a percentage from 0 to 100, such as 90",
    "fraction": "a number from 0 to 1, such as 0.8",
    "integerValue": "a whole number such as 3",
    "factName": "a fact name: lowercase letters, digits and underscores in dotted parts, such as budget.spent",
    "optionKey": "an option key: lowercase letters, digits and underscores, such as very_satisfied",
    "condition": ("a condition: {fact: NAME, eq: VALUE} (or ne, lt, le, gt, ge), {all: [...]}, "
                  "{any: [...]} or {not: ...}"),
    "comparison": "a comparison: {fact: NAME} with exactly one of eq, ne, lt, le, gt, ge",
    "operand": "a value: a number, true or false, a text, {fact: NAME} or {add|sub|mul|div: [a, b]}",
    "operandPair": "a pair of values, such as [{fact: budget.approved}, 0.9]",
    "indicator": "an indicator: a mapping with id, name, weight and either children or scoring",
    "fact": "a fact: a mapping with name, type and label",
    "grade": "a grade band such as {grade: 优, en: excellent, min: 90}",
    "surveyOption": "an option such as {key: very_satisfied, label: {zh: 非常满意}}",
    "check": "a check: a mapping with id, when, points and reason",
    "band": "a band such as {min: 80, deduct: 0.5, reason: ...}",
    "scoring": "a scoring method: a mapping with method and that method's fields",
    "notApplicable": ("a not-applicable rule: {when: CONDITION, reason: TEXT} (the rules decide) or "
                      "{flag: BOOLEAN FACT, reason: TEXT FACT} (the evaluator declares it)"),
    "overrideCondition": ("a condition: over facts as anywhere else, or over a node's score or rate: "
                          "{score: NODE, lt: 60} or {rate: NODE, lt: 60}, NODE an indicator id or total"),
    "expression": ("an expression: a number, {fact: NAME}, {add|sub|mul|div: [a, b]}, {min|max: [a, b, ...]}, "
                   "{abs: a} or {round: [a, places]}"),
    "override": "an override: a mapping with id, when, reason and one of grade, zero or cap",
    "derivedValue": "a derived value: a mapping with name, label, value and optionally format and places",
    "constraint": "a constraint: a mapping with id, require and message",
    "perItem": "a per-item rule: a mapping with method, count, points and reason",
    # The case schema's.
    "score": "a number such as 75.03, best quoted: \"75.03\"",
    "node": "a node's expectation such as {score: \"2.39\", grade: 良}",
    "result": "an expected result: {score: ..., grade: ..., nodes: {...}}",
    "error": "an expected input error: {error: {violations: [{fact: NAME}, ...]}}",
}

#: The patterns of the pack and case schemas, in words (a pattern not listed here is
#: never shown: the message says the value has the wrong form).
PATTERN_WORDS = {
    "^[a-z0-9]+(-[a-z0-9]+)*$(?!\\n)":
        "lowercase letters and digits, in parts joined by single dashes, such as quality-district-funding",
    "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?"
    "(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$(?!\\n)":
        "three numbers joined by dots, such as 1.0.0",
    "^-?[0-9]+(\\.[0-9]+)?$(?!\\n)": "a number such as 2.5",
    "^[0-9]+(\\.[0-9]+)?$(?!\\n)": "a number of 0 or more, such as 2.5",
    "^0+(\\.0+)?$(?!\\n)": "zero",
    "^(100(\\.0+)?|[0-9]{1,2}(\\.[0-9]+)?)$(?!\\n)": "a percentage from 0 to 100, such as 90",
    "^(1(\\.0+)?|0(\\.[0-9]+)?)$(?!\\n)": "a number from 0 to 1, such as 0.8",
    "^-?[0-9]+$(?!\\n)": "a whole number such as 3",
    "^[a-z0-9_]+(\\.[a-z0-9_]+)*$(?!\\n)":
        "lowercase letters, digits and underscores in dotted parts, such as budget.spent",
    "^[a-z0-9_]+$(?!\\n)": "lowercase letters, digits and underscores, such as very_satisfied",
    "^[a-z0-9_]+(\\.[a-z0-9_]+)*#[a-z0-9_]+$(?!\\n)":
        "a rule id: the leaf's id, '#' and the check's id, such as process.funds.compliance#late",
}

#: JSON types in words.
TYPE_WORDS = {
    "object": "a mapping of 'key: value' lines",
    "array": "a list (one '- ' item a line, or [a, b])",
    "string": "a text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}

#: A field's name → how a sentence calls its value ("a weight is a number …").
FIELD_NOUNS = {
    "weight": "a weight",
    "total_weight": "the total weight",
    "min": "a lower bound",
    "max": "an upper bound",
    "points": "the points",
    "deduct": "a deduction",
    "cap": "a cap",
    "places": "the number of decimal places",
    "id": "an id",
    "name": "a name",
    "version": "a version",
    "schema": "the format tag",
    "key": "an option key",
    "fact": "a fact name",
    "method": "a scoring method",
    "type": "a fact type",
    "grade": "a grade",
    "score": "a score",
    "label": "a label",
    "reason": "a reason",
    "met": "a text",
    "title": "a title",
    "unit": "a unit",
    "format": "a format",
    "language": "the language",
    "facts": "the list of facts",
    "indicators": "the list of indicators",
    "grades": "the list of grade bands",
    "children": "the list of sub-indicators",
    "checks": "the list of checks",
    "bands": "the list of bands",
    "options": "the list of options",
    "when": "a condition",
    "require": "a condition",
    "treatment": "the treatment",
    "not_applicable": "a not-applicable rule",
    "pass": "a condition",
}

#: A list in the document → what one of its items is called, and the item's naming key.
SECTIONS = {
    "indicators": ("indicator", "id"),
    "children": ("indicator", "id"),
    "facts": ("fact", "name"),
    "grades": ("grade band", "grade"),
    "checks": ("check", "id"),
    "bands": ("band", None),
    "options": ("option", "key"),
    "derived": ("derived value", "name"),
    "constraints": ("constraint", "id"),
    "overrides": ("override", "id"),
}

#: A oneOf/anyOf that no branch satisfies, explained by the definition that holds it.
ONE_OF_WORDS = {
    "indicator": ("an indicator has either 'children' (a parent, scored as the sum of its children) "
                  "or 'scoring' (a leaf), not both and not neither"),
}


def schema_problems(document: Any, schema: Mapping, filename: str, lines: Mapping[Path, int]) -> list[PackProblem]:
    """Every schema error of `document`, one problem each, in words, in document order."""
    return [finding.problem for finding in schema_findings(document, schema, filename, lines) if finding.said]


def _order(path: Path) -> list:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path]


# --- the place, in words -------------------------------------------------------


#: A mapping in the document keyed by names → what one of its entries is called.
NAMED_SECTIONS = {"nodes": "the expectation of node", "weights": "the weight of option"}


def place(document: Any, path: Path) -> str:
    """Where `path` points, in words: "indicator decision.targets, field weight",
    "fact budget.spent", "check late of indicator process.funds.compliance"."""
    owner = ""
    node: Any = document
    rest: list[str | int] = []
    i = 0
    while i < len(path):
        part = path[i]
        section = SECTIONS.get(part) if isinstance(part, str) else None
        nxt = path[i + 1] if i + 1 < len(path) else None
        if section is not None and isinstance(nxt, int) and isinstance(_child(node, part), list):
            item = _child(_child(node, part), nxt)
            noun, naming = section
            named = item.get(naming) if isinstance(item, Mapping) and naming else None
            if isinstance(named, str) and named:
                what = f"{noun} {echo(named, 60)}"
            else:
                what = f"{noun} {nxt + 1}" + (f" under {owner}" if owner and noun == "indicator" else "")
            if noun == "indicator" or not owner:
                owner = what
            else:
                owner = f"{what} of {owner}"
            node = item
            rest = []
            i += 2
            continue
        if isinstance(part, str) and part in NAMED_SECTIONS and isinstance(nxt, str) \
                and isinstance(_child(node, part), Mapping) and part == "nodes":
            owner = f"{NAMED_SECTIONS[part]} {echo(nxt, 60)}"
            node = _child(_child(node, part), nxt)
            rest = []
            i += 2
            continue
        rest.append(part)
        node = _child(node, part)
        i += 1
    field = format_path(tuple(rest))
    if not owner:
        return f"field {field}" if field else "the pack"
    return f"{owner}, field {field}" if field else owner


def _at(document: Any, path: Path) -> Any:
    node = document
    for part in path:
        node = _child(node, part)
    return node


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


# --- values, in words ----------------------------------------------------------


def shown(value: Any) -> str:
    """A value from the document as a message shows it: texts quoted and truncated, numbers
    plain, never a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, Decimal):
        return plain(value) if value.is_finite() else "a value that is not a number"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "a value that is not a number" if value != value or value in (float("inf"), float("-inf")) \
            else plain(Decimal(repr(value)))
    if isinstance(value, str):
        return f"'{echo(value, 60)}'" if value else "an empty text"
    if isinstance(value, Mapping):
        return "a mapping (key: value lines)"
    if isinstance(value, list):
        return "a list"
    return "a value of another kind"


#: A mapping's name → how a sentence calls one of its values.
CONTAINER_NOUNS = {"weights": "an option weight", "nodes": "a node's expectation", "default": "a default share"}


def _noun(path: Path) -> str:
    """How the sentence calls the value at `path`: 'a weight', 'the value'."""
    names = [p for p in path if isinstance(p, str)]
    if path and isinstance(path[-1], int) and len(path) > 1 and path[-2] in SECTIONS:
        return "each item of this list"
    if not names:
        return "the value"
    if names[-1] in FIELD_NOUNS:
        return FIELD_NOUNS[names[-1]]
    if len(names) > 1 and names[-2] in CONTAINER_NOUNS and path[-1] == names[-1]:
        return CONTAINER_NOUNS[names[-2]]
    return "the value"


def _only_empty_list(subschema: Any) -> bool:
    """Whether a schema admits the empty list alone (type array, at most 0 items)."""
    return isinstance(subschema, Mapping) and subschema.get("type") == "array" and subschema.get("maxItems") == 0


def _wrong_type(error: jsonschema.ValidationError) -> bool:
    """Whether the error says the value is of the wrong kind altogether (a text where a
    mapping belongs), also through a oneOf/anyOf none of whose forms takes its kind."""
    if error.validator == "type":
        return True
    if error.validator in ("oneOf", "anyOf") and error.context:
        forms: dict[int, bool] = {}
        for sub in error.context:
            if not sub.relative_path:
                forms[sub.relative_schema_path[0]] = forms.get(sub.relative_schema_path[0], False) or _wrong_type(sub)
        return bool(forms) and all(forms.values())
    return False


def _is(noun: str, expected: str) -> str:
    """"a condition is a condition: {…}" said once: "a condition is written as {…}"."""
    head, colon, rest = expected.partition(": ")
    if colon and head.split(" ", 1)[-1] == noun.split(" ", 1)[-1]:
        return f"{noun} is written as {rest}"
    return f"{noun} is {expected}"


def _quoted_list(items: Iterable[Any]) -> str:
    return ", ".join(shown(i) if not isinstance(i, str) else i for i in items)


# --- the errors, in words ------------------------------------------------------


class _Speaker:
    """Explains validation errors of one document against one schema."""

    def __init__(self, document: Any, schema: Mapping):
        self.document = document
        self.definitions = {id(d): name for name, d in (schema.get("$defs") or {}).items()
                            if isinstance(d, Mapping)}

    def definition(self, subschema: Any) -> str | None:
        return self.definitions.get(id(subschema))

    def expected(self, subschema: Any) -> str | None:
        name = self.definition(subschema)
        if name is None:
            return None
        if name in DEFINITION_WORDS:
            return DEFINITION_WORDS[name]
        description = subschema.get("description") if isinstance(subschema, Mapping) else None
        return description.rstrip(".") if isinstance(description, str) else None

    def findings(self, error: jsonschema.ValidationError) -> list[tuple[Path, str, str, str]]:
        """(path, sentence, kind, key) for one error (see SchemaFinding); a oneOf/anyOf may
        give several (its best branch's)."""
        path = tuple(error.absolute_path)
        kind = error.validator
        value = error.instance
        noun = _noun(path)
        if kind in ("oneOf", "anyOf"):
            return self.alternatives(error, path)
        if kind in ("type", "maxItems") and _only_empty_list(error.schema):
            # A text_list fact's default: the loader says why it can only be [] ("a text_list
            # fact's only default is [] (no texts)"), which replaces this note.
            return [(path, f"{noun} can only be [] (an empty list); got {shown(value)}", "note", "")]
        if kind == "required":
            missing = error.message.split("'")[1] if error.message.count("'") >= 2 else str(error.validator_value)
            return [(path, self.required(error, missing), "missing", missing)]
        if kind == "additionalProperties":
            return self.unknown_keys(error, path)
        if kind == "enum":
            allowed = [str(a) for a in error.validator_value]
            hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
            return [(path, f"{noun} is one of {', '.join(allowed)}; got {shown(value)}{hint}", "value", "")]
        if kind == "const":
            return [(path, f"{noun} must be {shown(error.validator_value).strip(chr(39))}; got {shown(value)}", "value", "")]
        if kind == "type":
            wanted = error.validator_value
            wanted = wanted if isinstance(wanted, list) else [wanted]
            words = " or ".join(TYPE_WORDS.get(w, w) for w in wanted)
            better = self.expected(error.schema)
            return [(path, f"{_is(noun, better or words)}; got {shown(value)}", "value", "")]
        if kind == "pattern":
            words = PATTERN_WORDS.get(error.validator_value) or self.expected(error.schema)
            if words is None:
                return [(path, f"{noun} has the wrong form; got {shown(value)}", "value", "")]
            return [(path, f"{_is(noun, words)}; got {shown(value)}", "value", "")]
        if kind == "not":
            return [(path, f"{noun} cannot be {shown(value)} here", "value", "")]
        if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            bound = shown(error.validator_value)
            rule = {"minimum": f"at least {bound}", "maximum": f"at most {bound}",
                    "exclusiveMinimum": f"more than {bound}", "exclusiveMaximum": f"less than {bound}"}[kind]
            return [(path, f"{noun} must be {rule}; got {shown(value)}", "value", "")]
        if kind == "minLength":
            if error.validator_value == 1:
                return [(path, f"{noun} must not be empty", "value", "")]
            return [(path, f"{noun} must have at least {error.validator_value} characters", "value", "")]
        if kind == "maxLength":
            return [(path, f"{noun} may have at most {error.validator_value} characters; this one has {len(value)}", "value", "")]
        if kind in ("minItems", "maxItems"):
            count = error.validator_value
            least = "at least" if kind == "minItems" else "at most"
            items = "item" if count == 1 else "items"
            return [(path, f"this list needs {least} {count} {items}; it has {len(value)}", "value", "")]
        if kind in ("minProperties", "maxProperties"):
            count = error.validator_value
            described = self.expected(error.schema)
            if described and isinstance(value, Mapping):
                return [(path, f"{_is(noun, described)}; this one has {', '.join(map(str, value))}", "value", "")]
            least = "at least" if kind == "minProperties" else "at most"
            return [(path, f"this mapping needs {least} {count} field{'s' if count != 1 else ''}; "
                           f"it has {', '.join(map(str, value)) if value else 'none'}", "value", "")]
        if kind is None or error.schema is False:  # a `false` schema: the key may not appear here
            return self.not_allowed(error, path)
        if kind == "propertyNames":
            return [(path, f"{shown(value)} cannot be a key here", "value", "")]
        if kind == "uniqueItems":
            return [(path, "the items of this list must all differ", "value", "")]
        # Any other keyword: its description when the schema has one, else a generic sentence.
        described = self.expected(error.schema)
        return [(path, f"{_is(noun, described)}; got {shown(value)}" if described
                 else f"{noun} {shown(value)} is not allowed here", "value", "")]

    def required(self, error: jsonschema.ValidationError, missing: str) -> str:
        properties = error.schema.get("properties") if isinstance(error.schema, Mapping) else None
        field = properties.get(missing) if isinstance(properties, Mapping) else None
        description = field.get("description") if isinstance(field, Mapping) else None
        about = ""
        if isinstance(description, str) and description:
            about = f" ({description[:1].lower() + description[1:] if not description[1:2].isupper() else description})"
            about = about.replace(".)", ")")
        return f"the field '{missing}' is required here but missing{about}"

    def unknown_keys(self, error: jsonschema.ValidationError, path: Path) -> list[tuple[Path, str, str, str]]:
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = list(schema.get("properties") or {})
        value = error.instance if isinstance(error.instance, Mapping) else {}
        extras = [k for k in value if k not in known]
        out = []
        for key in extras:
            hint = did_you_mean(key, known) if isinstance(key, str) else ""
            allowed = f" (the fields here are {', '.join(known)})" if known and not hint else ""
            if isinstance(key, str):
                named = f"'{echo(key, 60)}'"
            else:
                written = format_path((key,))
                reads = "an empty value" if key is None else "true or false" if isinstance(key, bool) else "a number"
                named = (f"the key {written} (YAML reads an unquoted {written} as {reads}: quote it if you "
                         "mean the text)")
            out.append((path + (key,), f"{named} is not a field here{hint}{allowed}", "unknown", ""))
        return out or [(path, "this mapping has a field that is not allowed here", "value", "")]

    def not_allowed(self, error: jsonschema.ValidationError, path: Path) -> list[tuple[Path, str, str, str]]:
        """A field that a `false` schema shuts out. jsonschema leaves the field's name out of
        the error's path, so it is found in the mapping by its value."""
        parent = _at(self.document, path)
        if isinstance(parent, Mapping) and not (path and isinstance(path[-1], str) and path[-1] in parent
                                                and parent[path[-1]] is error.instance):
            keys = [k for k, v in parent.items() if v is error.instance] or \
                   [k for k, v in parent.items() if v == error.instance and type(v) is type(error.instance)]
            kind = parent.get("type") if isinstance(parent.get("type"), str) else None
            of = f" of a {kind} fact" if kind and "name" in parent else ""
            return [(path + (key,), f"the field '{key}' does not apply here{of}: remove it", "note", str(key))
                    for key in keys] or [(path, "a field here does not apply: remove it", "value", "")]
        key = path[-1] if path else None
        if isinstance(key, str):
            return [(path, f"the field '{key}' does not apply here: remove it", "note", key)]
        return [(path, f"{shown(error.instance)} is not allowed here", "value", "")]

    def alternatives(self, error: jsonschema.ValidationError, path: Path) -> list[tuple[Path, str, str, str]]:
        """A oneOf/anyOf: the definition's own words for a scalar of the wrong form, else the
        errors of the branch the value was most likely meant to follow."""
        value = error.instance
        name = self.definition(error.schema)
        if name in ONE_OF_WORDS and not error.context:
            # Valid under more than one branch: for a value that is no mapping at all, the
            # type error says it better.
            return [(path, ONE_OF_WORDS[name], "note", "")] if isinstance(value, Mapping) else []
        expected = self.expected(error.schema)
        if expected is not None and not isinstance(value, (Mapping, list)):
            return [(path, f"{_is(_noun(path), expected)}; got {shown(value)}", "value", "")]
        branches: dict[int, list[jsonschema.ValidationError]] = {}
        for sub in error.context or ():
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        if error.validator == "oneOf" and not branches:
            # Valid under more than one branch, or (indicator) under none by its required keys.
            return [(path, ONE_OF_WORDS.get(name or "", f"{_noun(path)} matches more than one form"), "note", "")]
        if not branches:
            return [(path, f"{_noun(path)} is {expected or 'not of a form allowed here'}; got {shown(value)}", "value", "")]

        def rank(item: tuple[int, list[jsonschema.ValidationError]]) -> tuple:
            errors = item[1]
            at_root = [e for e in errors if len(e.relative_path) == 0]
            return (any(_wrong_type(e) for e in at_root), len(at_root), len(errors))

        if name == "indicator":
            return [(path, ONE_OF_WORDS["indicator"], "note", "")]
        ranked = sorted(branches.items(), key=rank)
        _, errors = ranked[0]
        if len(ranked) > 1 and rank(ranked[0]) == rank(ranked[1]) and expected is not None:
            # Two forms fit equally badly: say what the forms are rather than pick one.
            has = f"; this one has {', '.join(map(str, value))}" if isinstance(value, Mapping) else \
                f"; got {shown(value)}"
            return [(path, f"{_is(_noun(path), expected)}{has}", "value", "")]
        if all(e.validator == "type" and not e.relative_path for e in errors) and expected is not None:
            return [(path, f"{_is(_noun(path), expected)}; got {shown(value)}", "value", "")]
        out: list[tuple[Path, str, str, str]] = []
        for sub in errors:
            out.extend(self.findings(sub))
        return out


# --- schema and meaning problems together ----------------------------------------


@dataclass(frozen=True)
class SchemaFinding:
    """One schema problem and what it covers: "value" (the value at `path` cannot be read,
    so nothing below it is checked for meaning), "missing" (field `key` is absent from the
    mapping at `path`), or "note" (a remark that a more precise meaning check replaces)."""

    problem: PackProblem
    path: Path
    kind: str
    key: str = ""
    said: bool = True  # False: covered by another finding's words, but still covers what it covers


def schema_findings(document: Any, schema: Mapping, filename: str,
                    lines: Mapping[Path, int]) -> list[SchemaFinding]:
    """`schema_problems`, each with what it covers (see SchemaFinding)."""
    validator = jsonschema.Draft202012Validator(schema)
    speaker = _Speaker(document, schema)
    found: dict[tuple[Path, str], SchemaFinding] = {}
    for error in validator.iter_errors(document):
        for path, sentence, kind, key in speaker.findings(error):
            message = f"{place(document, path)}: {sentence}" if path else sentence
            problem = PackProblem(format_path(path), message, filename, line_of(dict(lines), path))
            found.setdefault((path, sentence), SchemaFinding(problem, path, kind, key))
    # A missing field that a misspelt key beside it is taken for: the misspelling says it.
    meant = {(f.path[:-1], f.problem.message.rsplit("did you mean ", 1)[-1].rstrip("?"))
             for f in found.values() if f.kind == "unknown" and "did you mean " in f.problem.message}
    ordered = [found[key] for key in sorted(found, key=lambda k: (_order(k[0]), k[1]))]
    return [dataclasses.replace(f, said=False) if f.kind == "missing" and (f.path, f.key) in meant else f
            for f in ordered]


def merge_problems(document: Any, findings: list[SchemaFinding],
                   meaning: list[PackProblem]) -> list[PackProblem]:
    """Schema and meaning problems as one list, each place and gist once, by line.

    A meaning problem is dropped when a schema problem already says it: one at or below a
    value the schema could not read, or about the same missing field. A schema "note" is
    dropped when a meaning problem speaks about the same node more precisely. Meaning
    problems are told where they are in words unless they already name it.
    """
    unreadable = _unreadable_facts(document, findings)
    # A value of the wrong kind (nothing, true/false, a list or mapping where a text belongs)
    # that a meaning check would print as Python does: such a check is said already.
    printed = {str(value) for f in findings if f.kind == "value"
               for value in [_at(document, f.path)] if value is None or isinstance(value, (bool, list, Mapping))}
    no_facts = any(f.path == ("facts",) and f.kind == "value" or f.path == () and f.key == "facts" for f in findings)
    kept_meaning = []
    for problem in meaning:
        path = parse_path(problem.path)
        if any(_covers(f, path, problem) for f in findings):
            continue
        if "declared" in problem.message and no_facts:
            continue  # "not declared": the list of facts could not be read (said already)
        if any(text in problem.message for text in printed):
            continue
        if path[:1] != ("facts",) and any(_names(name, problem.message) for name in unreadable):
            continue  # a check that reads a fact whose declaration could not be read (said already)
        kept_meaning.append(_placed(document, path, problem))
    kept_schema = [f.problem for f in findings if f.said and not (f.kind == "note" and _said_better(f, meaning))]
    merged: list[PackProblem] = []
    seen: set[tuple[str, str]] = set()
    for problem in kept_schema + kept_meaning:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            merged.append(problem)
    return sorted(merged, key=lambda p: (p.line is None, p.line or 0))


def _names(name: str, message: str) -> bool:
    """Whether `message` names the fact `name` (or one of its survey shares)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message) is not None


def _unreadable_facts(document: Any, findings: list[SchemaFinding]) -> set[str]:
    """Names of declared facts whose declaration the schema refused."""
    facts = document.get("facts") if isinstance(document, Mapping) else None
    names = set()
    for finding in findings:
        if finding.kind in ("value", "unknown", "missing") and finding.path[:1] == ("facts",) and len(finding.path) > 1:
            item = _child(facts, finding.path[1])
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                names.add(item["name"])
    return names


def _said_better(note: SchemaFinding, meaning: list[PackProblem]) -> bool:
    """Whether a meaning problem speaks about what a schema note is about, more precisely:
    one at or just below the note's place, or (for a field that does not apply) one at the
    field's mapping that names the field."""
    for problem in meaning:
        path = parse_path(problem.path)
        if path[:len(note.path)] == note.path and len(path) <= len(note.path) + 1:
            return True
        if note.key and path == note.path[:-1] and note.key in problem.message:
            return True
    return False


def _covers(finding: SchemaFinding, path: Path, problem: PackProblem) -> bool:
    """Whether the schema finding already says what the meaning problem at `path` says."""
    if finding.kind == "value":
        if finding.path and path[:len(finding.path)] == finding.path:
            return True
        # A weight that cannot be read makes every sum it is part of, and every bound its
        # leaf's rules take from it, wrong: say it once.
        if finding.path[-1:] == ("weight",):
            leaf = finding.path[:-1]
            return "add up to" in problem.message or (path[:len(leaf)] == leaf and "weight" in problem.message)
        return False
    if finding.kind == "missing":
        if path == finding.path + (finding.key,):
            return True
        if finding.key == "weight" and ("add up to" in problem.message or (
                path[:len(finding.path)] == finding.path and "weight" in problem.message)):
            return True  # as for a weight that cannot be read
        return path == finding.path and f"'{finding.key}'" in problem.message
    if finding.kind == "unknown":
        return path[:len(finding.path)] == finding.path or path == finding.path[:-1]
    return False


def _placed(document: Any, path: Path, problem: PackProblem) -> PackProblem:
    """The problem with its place in words in front, unless the message names it already."""
    if not path:
        return problem
    where = place(document, path)
    owner = where.split(", field ")[0]
    name = owner.rsplit(" ", 1)[-1]
    if name and name in problem.message:
        return problem
    return PackProblem(problem.path, f"{where}: {problem.message}", problem.file, problem.line)


def parse_path(text: str) -> Path:
    """"indicators[0].weight" → ("indicators", 0, "weight") (the inverse of format_path)."""
    parts: list[str | int] = []
    for chunk in text.split(".") if text else []:
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        for index in indexes:
            number = index.rstrip("]")
            parts.append(int(number) if number.isdigit() else number)
    return tuple(parts)
