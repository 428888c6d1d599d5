"""Conversions between the core's dataclasses and the jixiao.v1 messages.

Decimals leave as strings (scores, weights and points without trailing zeros, rates
with exactly two places) so that no client sees a binary float.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from typing import Iterable, Mapping, Sequence, TypeVar

from google.protobuf import json_format, struct_pb2

from jixiao.core.evaluation import derived as derived_values
from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.facts import TEXT_LIST_ITEMS
from jixiao.core.decimals import fixed2, plain
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.core.pack.model import Derived, FactSpec, FactType, Indicator, Pack, method_name
from jixiao.core.pack.references import facts_read
from jixiao.core.evaluation.results import Evaluation, Finding, NodeResult, OverrideResult
from jixiao.core.evaluation.scoring import remember
from jixiao.v1 import evaluation_pb2 as pb

from .decisions import decision_id_field

LANGUAGE_CODES = {
    pb.LANGUAGE_UNSPECIFIED: "zh",
    pb.LANGUAGE_ZH: "zh",
    pb.LANGUAGE_EN: "en",
}
LANGUAGES = {"zh": pb.LANGUAGE_ZH, "en": pb.LANGUAGE_EN}

FACT_TYPES = {
    FactType.DECIMAL: pb.FACT_TYPE_DECIMAL,
    FactType.INTEGER: pb.FACT_TYPE_INTEGER,
    FactType.BOOLEAN: pb.FACT_TYPE_BOOLEAN,
    FactType.TEXT: pb.FACT_TYPE_TEXT,
    FactType.SURVEY: pb.FACT_TYPE_SURVEY,
    FactType.CHOICE: pb.FACT_TYPE_CHOICE,
    FactType.TEXT_LIST: pb.FACT_TYPE_TEXT_LIST,
}


def decimal_text(value: Decimal | None) -> str:
    """A weight, score or bound as the wire writes it: "2.39", "3", "0.5"; "" for None."""
    if value is None:
        return ""
    try:
        return _PLAIN[value]
    except KeyError:
        pass
    except TypeError:  # a signalling NaN cannot be hashed
        return plain(value)
    return _keep(_PLAIN, value, plain(value))  # a function of the value alone: 2.390 and 2.39 give "2.39"


def rate_text(value: Decimal) -> str:
    """A rate in percent with exactly two places: "68.75", "72.70"."""
    text = str(value)
    # The core's rates are already quantized to 2 places, and then str() is what fixed2
    # writes ('.' third from the end rules out an exponent, whose digits would follow it).
    # Long ones take fixed2's way, which raises when they pass the context's precision.
    if 3 < len(text) < 20 and text[-3] == ".":
        return text
    return fixed2(value)


#: What an unknown Language value is told: every value this server accepts.
ACCEPTED_LANGUAGES = ", ".join(f"{pb.Language.Name(value)} ({value})" for value in LANGUAGE_CODES)


def language_code(language: int) -> str:
    """The core's language code for a Language enum value (unspecified means Chinese).

    A value the enum does not define (an open proto3 enum carries any int32) raises
    InvalidIdentifier naming `language` and the accepted values.
    """
    try:
        return LANGUAGE_CODES[language]
    except KeyError:
        raise InvalidIdentifier("language", f"{language} is not a Language; expected one of "
                                f"{ACCEPTED_LANGUAGES}") from None


def language_enum(code: str) -> int:
    return LANGUAGES.get(code, pb.LANGUAGE_ZH)


# --- facts in ---------------------------------------------------------------------


def facts_from_struct(facts: struct_pb2.Struct) -> dict[str, object]:
    """The request's facts as the plain nested dict json.loads would give.

    A Struct carries every number as a double: integral ones become ints, others stay
    floats, which the core reads through their shortest repr (2.5 stays 2.5). NaN and
    infinities are passed on so that the core names the fact they were sent for.
    """
    return _struct_dict(facts.fields)


def _struct_dict(fields) -> dict[str, object]:
    # Keys then lookups: the map's items() is a Python-level generator (collections.abc),
    # slower than indexing the upb map, and this runs for every fact of every request.
    return {key: _plain_value(fields[key]) for key in fields}


def _plain_value(value: struct_pb2.Value) -> object:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return _struct_dict(value.struct_value.fields)
    if kind == "list_value":
        return [_plain_value(item) for item in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


# --- evaluations out --------------------------------------------------------------
#
# Replies are written straight in protobuf's wire format and parsed once, in C: setting
# ~45 nodes' fields one by one from Python, and copying each subtree into its parent
# again at every level, cost more than the scoring itself. The bytes are exactly those
# protobuf writes for the same message (fields in number order, proto3 defaults left
# out); tests/api/test_convert_fast.py holds them to a field-by-field reference.
#
# The core memoises leaf results: a memo hit is the very NodeResult object an earlier
# evaluation returned, so a leaf's encoding is kept by the node's identity and reused.
# An entry holds its node, so the id cannot be reused while the entry lives; the cache
# drops its oldest entry when full (no lock: dict reads and writes are atomic under the GIL).

_LEAF_CACHE_ENTRIES = 4096
_TEXT_CACHE_ENTRIES = 8192  # each of the caches below
#: id(leaf) → (leaf, the leaf as a child field of its parent: tag, length, message)
_leaf_fields: OrderedDict[int, tuple[NodeResult, bytes]] = OrderedDict()
# What every evaluation with a pack repeats: an evaluation's fields 1-5, a node's fields
# 1-4 and 8, a rule id's field; and decimal_text's texts.
_evaluation_heads: OrderedDict[tuple, bytes] = OrderedDict()
_node_heads: OrderedDict[tuple, tuple[bytes, bytes]] = OrderedDict()
_rule_fields: OrderedDict[str, bytes] = OrderedDict()
_PLAIN: OrderedDict[Decimal, str] = OrderedDict()
Key = TypeVar("Key")
Value = TypeVar("Value")

# Field tags (field number << 3 | 2 for strings and messages, | 0 for varints).
_CHILD = b"\x5a"  # IndicatorScore.children, 11
_INDICATOR = b"\x4a"  # Evaluation.indicators, 9
_OVERRIDE = b"\x52"  # Evaluation.overrides, 10
_IGNORED = b"\x5a"  # Evaluation.ignored_facts, 11
_TREATMENT = b"\x62"  # Evaluation.not_applicable_treatment, 12
_APPLICABLE_WEIGHT = b"\x6a"  # Evaluation.applicable_weight, 13
_EFFECTIVE_WEIGHT = b"\x62"  # IndicatorScore.effective_weight, 12
_NOT_APPLICABLE = b"\x68\x01"  # IndicatorScore.not_applicable, 13: true
_NOT_APPLICABLE_REASON = b"\x72"  # IndicatorScore.not_applicable_reason, 14
_OVERRIDDEN_BY = b"\x7a"  # IndicatorScore.overridden_by, 15
_FINDING = b"\x72"  # Evaluation.findings, 14
_RECOMMENDATION = b"\x7a"  # Evaluation.recommendations, 15
_OBSERVATION = b"\x30\x01"  # Finding.observation, 6: true

# The varint of every length below 16384 (one or two bytes), looked up rather than computed.
_LENGTHS = [bytes((n,)) for n in range(0x80)] + [bytes((n & 0x7F | 0x80, n >> 7)) for n in range(0x80, 0x4000)]


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # a negative int32 takes ten bytes, as protobuf writes it
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length(size: int) -> bytes:
    return _LENGTHS[size] if size < 0x4000 else _varint(size)


def _text_field(tag: bytes, text: str) -> bytes:
    """A string field, its tag included; nothing for "" (proto3 leaves defaults out)."""
    if not text:
        return b""
    data = text.encode()
    size = len(data)
    return tag + (_LENGTHS[size] if size < 0x4000 else _varint(size)) + data


def _int_field(tag: bytes, value: int) -> bytes:
    return tag + _varint(value) if value else b""


def evaluation_bytes(evaluation: Evaluation) -> bytes:
    """The reply for one evaluation, serialised: `evaluation_message(evaluation)`'s bytes."""
    key = (evaluation.pack_id, evaluation.version, evaluation.digest, evaluation.language,
           evaluation.total_weight)
    head = _evaluation_heads.get(key)
    if head is None:
        head = _keep(_evaluation_heads, key, b"".join((
            _text_field(b"\x0a", evaluation.pack_id),
            _text_field(b"\x12", evaluation.version),
            _text_field(b"\x1a", evaluation.digest),
            _int_field(b"\x20", language_enum(evaluation.language)),
            _text_field(b"\x2a", decimal_text(evaluation.total_weight)),
        )))
    parts = [head, _text_field(b"\x32", decimal_text(evaluation.score)),
             _text_field(b"\x3a", rate_text(evaluation.rate)), _text_field(b"\x42", evaluation.grade)]
    for node in evaluation.indicators:
        if node.children:
            parts.append(_parent_field(node, _INDICATOR))
        else:  # a level-1 leaf: its field as a child, under the other tag
            parts.append(_INDICATOR + _child_field(node)[1:])
    # Fields 10-13: what overrides, ignored facts and not-applicable indicators add (none in most replies).
    for override in evaluation.overrides:
        parts.append(_message_field(_OVERRIDE, _override_bytes(override)))
    for name in evaluation.ignored_facts:
        parts.append(_string_field(_IGNORED, name))
    if evaluation.not_applicable_treatment:
        parts.append(_text_field(_TREATMENT, evaluation.not_applicable_treatment))
    if evaluation.applicable_weight is not None:
        parts.append(_text_field(_APPLICABLE_WEIGHT, decimal_text(evaluation.applicable_weight)))
    # Fields 14-15: the findings and recommendations (none for a pack without findings).
    for finding in evaluation.findings:
        parts.append(_message_field(_FINDING, _finding_bytes(finding)))
    for finding in evaluation.recommendations:
        parts.append(_message_field(_RECOMMENDATION, _finding_bytes(finding)))
    return b"".join(parts)


def _finding_bytes(finding: Finding) -> bytes:
    """A Finding message's fields 1-6."""
    parts = [_text_field(b"\x0a", finding.id), _text_field(b"\x12", finding.text),
             _text_field(b"\x1a", finding.dimension)]
    parts.extend(_string_field(b"\x22", rule_id) for rule_id in finding.rule_ids)
    parts.extend(_string_field(b"\x2a", node_id) for node_id in finding.node_ids)
    if finding.observation:
        parts.append(_OBSERVATION)
    return b"".join(parts)


def _override_bytes(override: OverrideResult) -> bytes:
    """An Override message's fields 1-6."""
    return b"".join((_text_field(b"\x0a", override.rule_id), _text_field(b"\x12", override.action),
                     _text_field(b"\x1a", override.node), _text_field(b"\x22", override.before),
                     _text_field(b"\x2a", override.after), _text_field(b"\x32", override.rationale)))


def _message_field(tag: bytes, data: bytes) -> bytes:
    """A message (or an element of a repeated string) as a field: written even when empty."""
    return tag + _length(len(data)) + data


def _string_field(tag: bytes, text: str) -> bytes:
    """An element of a repeated string field: unlike a singular one, written even when ""."""
    return _message_field(tag, text.encode())


def evaluation_message(evaluation: Evaluation) -> pb.Evaluation:
    """The reply for one evaluation: the whole scored tree."""
    return pb.Evaluation.FromString(evaluation_bytes(evaluation))


def evaluation_result(key: str, evaluation: bytes, decision_id: str = "") -> pb.BatchEvaluateResult:
    """A stream's result for `key` around a serialised Evaluation (`evaluation_bytes`), parsed once.

    A recorded item's `decision_id` goes in its Evaluation (field 16, appended as Evaluate's
    reply carries it: `decisions.decision_id_field`) and in the result (field 4).
    """
    data = key.encode()
    head = b"\x0a" + _length(len(data)) + data if data else b""  # proto3 leaves "" out
    tail = b""
    if decision_id:
        evaluation += decision_id_field(decision_id)
        tail = _text_field(b"\x22", decision_id)
    return pb.BatchEvaluateResult.FromString(b"".join((head, b"\x12", _length(len(evaluation)), evaluation, tail)))


def indicator_score(node: NodeResult) -> pb.IndicatorScore:
    field = _child_field(node)
    start = 2
    while field[start - 1] & 0x80:  # past the tag and the length's varint
        start += 1
    return pb.IndicatorScore.FromString(field[start:])


def _keep(cache: OrderedDict[Key, Value], key: Key, value: Value) -> Value:
    """Remember `value` under `key`, dropping the oldest entry when `cache` is full."""
    remember(cache, key, value, _TEXT_CACHE_ENTRIES)
    return value


def _child_field(node: NodeResult) -> bytes:
    """`node` as an IndicatorScore.children field: tag, length, serialised message."""
    if node.children:
        return _parent_field(node)
    entry = _leaf_fields.get(id(node))
    if entry is not None and entry[0] is node:
        return entry[1]
    return _leaf_field(node)


def _parent_field(node: NodeResult, tag: bytes = _CHILD) -> bytes:
    """A node with children as a field (`tag`, length, message): its fields, then each child's."""
    parts = _common_fields(node)
    get = _leaf_fields.get
    for child in node.children:
        if child.children:
            parts.append(_parent_field(child))
        else:
            entry = get(id(child))
            parts.append(entry[1] if entry is not None and entry[0] is child else _leaf_field(child))
    if node.effective_weight is not None or node.not_applicable or node.not_applicable_reason or node.overridden_by:
        parts.extend(_later_fields(node))
    data = b"".join(parts)
    size = len(data)
    return tag + (_LENGTHS[size] if size < 0x4000 else _varint(size)) + data


def _leaf_field(node: NodeResult) -> bytes:
    """A leaf's field, encoded and kept for the next evaluation that returns the same leaf."""
    parts = _common_fields(node)
    if node.effective_weight is not None or node.not_applicable or node.not_applicable_reason or node.overridden_by:
        parts.extend(_later_fields(node))
    data = b"".join(parts)
    size = len(data)
    field = _CHILD + (_LENGTHS[size] if size < 0x4000 else _varint(size)) + data
    remember(_leaf_fields, id(node), (node, field), _LEAF_CACHE_ENTRIES)
    return field


def _common_fields(node: NodeResult) -> list[bytes]:
    """An IndicatorScore's fields up to 10 (all but the children), in field order."""
    key = (node.id, node.name, node.level, node.weight, node.method)
    head = _node_heads.get(key)
    if head is None:  # fields 1-4 and 8: the same for a pack's node every time
        head = _keep(_node_heads, key, (
            b"".join((_text_field(b"\x0a", node.id), _text_field(b"\x12", node.name),
                      _int_field(b"\x18", node.level), _text_field(b"\x22", decimal_text(node.weight)))),
            _text_field(b"\x42", node.method or "")))
    first, method = head
    score, rate = decimal_text(node.score), rate_text(node.rate)
    if 0 < len(score) < 0x80 and 0 < len(rate) < 0x80:  # decimals: ASCII, so one encode
        parts = [first, f"*{chr(len(score))}{score}2{chr(len(rate))}{rate}".encode()]
    else:
        parts = [first, _text_field(b"\x2a", score), _text_field(b"\x32", rate)]
    if node.grade:
        parts.append(_text_field(b"\x3a", node.grade))
    if method:
        parts.append(method)
    for deduction in node.deductions:
        rule = _rule_fields.get(deduction.rule_id)
        if rule is None:
            rule = _keep(_rule_fields, deduction.rule_id, _text_field(b"\x0a", deduction.rule_id))
        points, reason = decimal_text(deduction.points), deduction.reason.encode()
        if 0 < len(points) < 0x80 and 0 < len(reason) < 0x80:
            data = rule + f"\x12{chr(len(points))}{points}\x1a{chr(len(reason))}".encode() + reason
        else:
            data = rule + _text_field(b"\x12", points) + _text_field(b"\x1a", deduction.reason)
        parts.append(b"\x4a" + _length(len(data)) + data)
    rationale = node.rationale
    if rationale:
        data = rationale.encode()
        size = len(data)
        parts.append(b"\x52" + (_LENGTHS[size] if size < 0x4000 else _varint(size)) + data)
    return parts


def _later_fields(node: NodeResult) -> list[bytes]:
    """An IndicatorScore's fields 12-15 (after the children): what a not-applicable
    treatment and the overrides set."""
    parts = []
    if node.effective_weight is not None:
        parts.append(_text_field(_EFFECTIVE_WEIGHT, decimal_text(node.effective_weight)))
    if node.not_applicable:
        parts.append(_NOT_APPLICABLE)
    parts.append(_text_field(_NOT_APPLICABLE_REASON, node.not_applicable_reason))
    parts.extend(_string_field(_OVERRIDDEN_BY, rule_id) for rule_id in node.overridden_by)
    return parts


# --- packs out --------------------------------------------------------------------


def pack_summary(compiled: CompiledPack, default_version: bool) -> pb.PackSummary:
    pack = compiled.pack
    return pb.PackSummary(
        id=pack.id,
        version=pack.version,
        digest=pack.digest,
        title=pack.title.zh,
        title_en=pack.title.en or "",
        default_version=default_version,
    )


def pack_message(compiled: CompiledPack) -> pb.Pack:
    """A pack version's indicator tree and fact schema, enough to build an input form."""
    pack: Pack = compiled.pack
    needed_only_by = {name: [leaf.id for leaf in pack.leaves() if leaf.id in leaves]
                      for name, leaves in compiled.deferrable.items()}
    return pb.Pack(
        id=pack.id,
        version=pack.version,
        digest=pack.digest,
        title=pack.title.zh,
        title_en=pack.title.en or "",
        framework=pack.framework,
        total_weight=decimal_text(pack.total_weight),
        grades=[
            pb.GradeBand(grade=band.grade, grade_en=band.en or "", min_rate=decimal_text(band.minimum))
            for band in pack.grades
        ],
        facts=[fact_spec(spec, needed_only_by.get(spec.name, ())) for spec in pack.facts],
        indicators=[indicator_spec(top, 1, {f.name for f in pack.facts},
                                   derived_values.inputs(pack) if pack.derived else None)
                    for top in pack.indicators],
        derived=[derived_spec(value) for value in pack.derived],
    )


def derived_spec(value: Derived) -> pb.DerivedValueSpec:
    return pb.DerivedValueSpec(name=value.name, label=value.label.zh, label_en=value.label.en or "",
                               format=value.format)


def fact_spec(spec: FactSpec, needed_only_by: Iterable[str] = ()) -> pb.FactSpec:
    """A fact's declaration; `needed_only_by`: the leaves that may be not applicable and are
    the only ones reading it (deferral.deferrable), in the pack's order."""
    message = pb.FactSpec(
        name=spec.name,
        type=FACT_TYPES[spec.type],
        label=spec.label.zh,
        label_en=spec.label.en or "",
        unit=spec.unit or "",
        min=decimal_text(spec.minimum),
        max=decimal_text(spec.maximum),
        required=spec.required,
        non_empty=spec.non_empty,
        needed_only_by=list(needed_only_by),
        max_items=(spec.max_items or TEXT_LIST_ITEMS) if spec.type is FactType.TEXT_LIST else 0,
        options=[
            pb.SurveyOption(key=o.key, label=o.label.zh, label_en=o.label.en or "")
            for o in spec.options
        ],
    )
    if spec.has_default:
        message.default_value.CopyFrom(json_format.ParseDict(_json_ready(spec.default), struct_pb2.Value()))
    return message


def _json_ready(value: object) -> object:
    """A default value with its decimals as strings, as a request would send it."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def indicator_spec(indicator: Indicator, level: int, declared: set[str],
                   derived: Mapping[str, Sequence[str]] | None = None) -> pb.IndicatorSpec:
    """An indicator and its descendants; a leaf lists the declared facts it reads, those a
    derived value it reads is computed from included (`derived`: name → facts)."""
    leaf = indicator.is_leaf
    return pb.IndicatorSpec(
        id=indicator.id,
        name=indicator.name.zh,
        name_en=indicator.name.en or "",
        weight=decimal_text(indicator.weight),
        level=level,
        method=method_name(indicator.scoring) if leaf else "",
        facts=facts_read(indicator, declared, derived) if leaf else (),
        children=[indicator_spec(child, level + 1, declared, derived) for child in indicator.children],
        may_be_not_applicable=leaf and indicator.not_applicable is not None,
        description=indicator.description.zh if indicator.description else "",
        description_en=(indicator.description.en or "") if indicator.description else "",
    )
