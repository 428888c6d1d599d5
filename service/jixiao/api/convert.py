"""Conversions between the core's dataclasses and the jixiao.v1 messages.

Decimals leave as strings (scores, weights and points without trailing zeros, rates
with exactly two places) so that no client sees a binary float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from google.protobuf import json_format, struct_pb2

from jixiao.core.compiler import CompiledPack
from jixiao.core.decimals import fixed2, plain
from jixiao.core.model import FactSpec, FactType, Indicator, Pack, method_name
from jixiao.core.references import facts_read
from jixiao.core.results import Evaluation, NodeResult
from jixiao.v1 import evaluation_pb2 as pb

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
}


def decimal_text(value: Decimal | None) -> str:
    """A weight, score or bound as the wire writes it: "2.39", "3", "0.5"; "" for None."""
    return "" if value is None else plain(value)


def rate_text(value: Decimal) -> str:
    """A rate in percent with exactly two places: "68.75", "72.70"."""
    return fixed2(value)


def language_code(language: int) -> str:
    """The core's language code for a Language enum value (unspecified means Chinese)."""
    return LANGUAGE_CODES.get(language, "zh")


def language_enum(code: str) -> int:
    return LANGUAGES.get(code, pb.LANGUAGE_ZH)


# --- facts in ---------------------------------------------------------------------


def facts_from_struct(facts: struct_pb2.Struct) -> dict[str, object]:
    """The request's facts as the plain nested dict json.loads would give.

    A Struct carries every number as a double: integral ones become ints, others stay
    floats, which the core reads through their shortest repr (2.5 stays 2.5). NaN and
    infinities are passed on so that the core names the fact they were sent for.
    """
    return {key: _plain_value(value) for key, value in facts.fields.items()}


def _plain_value(value: struct_pb2.Value) -> object:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return facts_from_struct(value.struct_value)
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


def evaluation_message(evaluation: Evaluation) -> pb.Evaluation:
    """The reply for one evaluation: the whole scored tree."""
    return pb.Evaluation(
        pack_id=evaluation.pack_id,
        version=evaluation.version,
        digest=evaluation.digest,
        language=language_enum(evaluation.language),
        total_weight=decimal_text(evaluation.total_weight),
        score=decimal_text(evaluation.score),
        score_rate=rate_text(evaluation.rate),
        grade=evaluation.grade,
        indicators=[indicator_score(node) for node in evaluation.indicators],
    )


def indicator_score(node: NodeResult) -> pb.IndicatorScore:
    return pb.IndicatorScore(
        id=node.id,
        name=node.name,
        level=node.level,
        weight=decimal_text(node.weight),
        score=decimal_text(node.score),
        score_rate=rate_text(node.rate),
        grade=node.grade or "",
        method=node.method or "",
        deductions=[
            pb.Deduction(rule_id=d.rule_id, points=decimal_text(d.points), reason=d.reason)
            for d in node.deductions
        ],
        rationale=node.rationale,
        children=[indicator_score(child) for child in node.children],
    )


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
        facts=[fact_spec(spec) for spec in pack.facts],
        indicators=[indicator_spec(top, 1, {f.name for f in pack.facts}) for top in pack.indicators],
    )


def fact_spec(spec: FactSpec) -> pb.FactSpec:
    message = pb.FactSpec(
        name=spec.name,
        type=FACT_TYPES[spec.type],
        label=spec.label.zh,
        label_en=spec.label.en or "",
        unit=spec.unit or "",
        min=decimal_text(spec.minimum),
        max=decimal_text(spec.maximum),
        required=spec.required,
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


def indicator_spec(indicator: Indicator, level: int, declared: set[str]) -> pb.IndicatorSpec:
    leaf = indicator.is_leaf
    return pb.IndicatorSpec(
        id=indicator.id,
        name=indicator.name.zh,
        name_en=indicator.name.en or "",
        weight=decimal_text(indicator.weight),
        level=level,
        method=method_name(indicator.scoring) if leaf else "",
        facts=facts_read(indicator, declared) if leaf else (),
        children=[indicator_spec(child, level + 1, declared) for child in indicator.children],
    )
