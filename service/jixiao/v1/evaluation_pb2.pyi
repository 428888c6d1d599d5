from google.protobuf import struct_pb2 as _struct_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Language(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LANGUAGE_UNSPECIFIED: _ClassVar[Language]
    LANGUAGE_ZH: _ClassVar[Language]
    LANGUAGE_EN: _ClassVar[Language]

class FactType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FACT_TYPE_UNSPECIFIED: _ClassVar[FactType]
    FACT_TYPE_DECIMAL: _ClassVar[FactType]
    FACT_TYPE_INTEGER: _ClassVar[FactType]
    FACT_TYPE_BOOLEAN: _ClassVar[FactType]
    FACT_TYPE_TEXT: _ClassVar[FactType]
    FACT_TYPE_SURVEY: _ClassVar[FactType]
    FACT_TYPE_CHOICE: _ClassVar[FactType]
    FACT_TYPE_TEXT_LIST: _ClassVar[FactType]

class ReportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_FORMAT_UNSPECIFIED: _ClassVar[ReportFormat]
    REPORT_FORMAT_DOCX: _ClassVar[ReportFormat]
    REPORT_FORMAT_MARKDOWN: _ClassVar[ReportFormat]
    REPORT_FORMAT_HTML: _ClassVar[ReportFormat]
LANGUAGE_UNSPECIFIED: Language
LANGUAGE_ZH: Language
LANGUAGE_EN: Language
FACT_TYPE_UNSPECIFIED: FactType
FACT_TYPE_DECIMAL: FactType
FACT_TYPE_INTEGER: FactType
FACT_TYPE_BOOLEAN: FactType
FACT_TYPE_TEXT: FactType
FACT_TYPE_SURVEY: FactType
FACT_TYPE_CHOICE: FactType
FACT_TYPE_TEXT_LIST: FactType
REPORT_FORMAT_UNSPECIFIED: ReportFormat
REPORT_FORMAT_DOCX: ReportFormat
REPORT_FORMAT_MARKDOWN: ReportFormat
REPORT_FORMAT_HTML: ReportFormat

class EvaluateRequest(_message.Message):
    __slots__ = ("pack_id", "version", "facts", "language", "ignore_unknown_facts")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    IGNORE_UNKNOWN_FACTS_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    facts: _struct_pb2.Struct
    language: Language
    ignore_unknown_facts: bool
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ..., facts: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., language: _Optional[_Union[Language, str]] = ..., ignore_unknown_facts: _Optional[bool] = ...) -> None: ...

class BatchEvaluateRequest(_message.Message):
    __slots__ = ("key", "request")
    KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    key: str
    request: EvaluateRequest
    def __init__(self, key: _Optional[str] = ..., request: _Optional[_Union[EvaluateRequest, _Mapping]] = ...) -> None: ...

class BatchEvaluateResult(_message.Message):
    __slots__ = ("key", "evaluation", "error", "decision_id")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    evaluation: Evaluation
    error: _status_pb2.Status
    decision_id: str
    def __init__(self, key: _Optional[str] = ..., evaluation: _Optional[_Union[Evaluation, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., decision_id: _Optional[str] = ...) -> None: ...

class Evaluation(_message.Message):
    __slots__ = ("pack_id", "version", "digest", "language", "total_weight", "score", "score_rate", "grade", "indicators", "overrides", "ignored_facts", "not_applicable_treatment", "applicable_weight", "findings", "recommendations", "decision_id")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_RATE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    IGNORED_FACTS_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLICABLE_TREATMENT_FIELD_NUMBER: _ClassVar[int]
    APPLICABLE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    digest: str
    language: Language
    total_weight: str
    score: str
    score_rate: str
    grade: str
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorScore]
    overrides: _containers.RepeatedCompositeFieldContainer[Override]
    ignored_facts: _containers.RepeatedScalarFieldContainer[str]
    not_applicable_treatment: str
    applicable_weight: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    recommendations: _containers.RepeatedCompositeFieldContainer[Finding]
    decision_id: str
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ..., digest: _Optional[str] = ..., language: _Optional[_Union[Language, str]] = ..., total_weight: _Optional[str] = ..., score: _Optional[str] = ..., score_rate: _Optional[str] = ..., grade: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[IndicatorScore, _Mapping]]] = ..., overrides: _Optional[_Iterable[_Union[Override, _Mapping]]] = ..., ignored_facts: _Optional[_Iterable[str]] = ..., not_applicable_treatment: _Optional[str] = ..., applicable_weight: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., recommendations: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., decision_id: _Optional[str] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("id", "text", "dimension", "rule_ids", "node_ids", "observation")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    RULE_IDS_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    dimension: str
    rule_ids: _containers.RepeatedScalarFieldContainer[str]
    node_ids: _containers.RepeatedScalarFieldContainer[str]
    observation: bool
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., dimension: _Optional[str] = ..., rule_ids: _Optional[_Iterable[str]] = ..., node_ids: _Optional[_Iterable[str]] = ..., observation: _Optional[bool] = ...) -> None: ...

class Override(_message.Message):
    __slots__ = ("rule_id", "action", "node", "before", "after", "rationale")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    action: str
    node: str
    before: str
    after: str
    rationale: str
    def __init__(self, rule_id: _Optional[str] = ..., action: _Optional[str] = ..., node: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class IndicatorScore(_message.Message):
    __slots__ = ("id", "name", "level", "weight", "score", "score_rate", "grade", "method", "deductions", "rationale", "children", "effective_weight", "not_applicable", "not_applicable_reason", "overridden_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_RATE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    DEDUCTIONS_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLICABLE_FIELD_NUMBER: _ClassVar[int]
    NOT_APPLICABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    level: int
    weight: str
    score: str
    score_rate: str
    grade: str
    method: str
    deductions: _containers.RepeatedCompositeFieldContainer[Deduction]
    rationale: str
    children: _containers.RepeatedCompositeFieldContainer[IndicatorScore]
    effective_weight: str
    not_applicable: bool
    not_applicable_reason: str
    overridden_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., level: _Optional[int] = ..., weight: _Optional[str] = ..., score: _Optional[str] = ..., score_rate: _Optional[str] = ..., grade: _Optional[str] = ..., method: _Optional[str] = ..., deductions: _Optional[_Iterable[_Union[Deduction, _Mapping]]] = ..., rationale: _Optional[str] = ..., children: _Optional[_Iterable[_Union[IndicatorScore, _Mapping]]] = ..., effective_weight: _Optional[str] = ..., not_applicable: _Optional[bool] = ..., not_applicable_reason: _Optional[str] = ..., overridden_by: _Optional[_Iterable[str]] = ...) -> None: ...

class Deduction(_message.Message):
    __slots__ = ("rule_id", "points", "reason")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    points: str
    reason: str
    def __init__(self, rule_id: _Optional[str] = ..., points: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListPacksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPacksResponse(_message.Message):
    __slots__ = ("packs",)
    PACKS_FIELD_NUMBER: _ClassVar[int]
    packs: _containers.RepeatedCompositeFieldContainer[PackSummary]
    def __init__(self, packs: _Optional[_Iterable[_Union[PackSummary, _Mapping]]] = ...) -> None: ...

class PackSummary(_message.Message):
    __slots__ = ("id", "version", "digest", "title", "title_en", "default_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_EN_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: str
    digest: str
    title: str
    title_en: str
    default_version: bool
    def __init__(self, id: _Optional[str] = ..., version: _Optional[str] = ..., digest: _Optional[str] = ..., title: _Optional[str] = ..., title_en: _Optional[str] = ..., default_version: _Optional[bool] = ...) -> None: ...

class GetPackRequest(_message.Message):
    __slots__ = ("pack_id", "version")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class Pack(_message.Message):
    __slots__ = ("id", "version", "digest", "title", "title_en", "framework", "total_weight", "grades", "facts", "indicators", "derived")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_EN_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    GRADES_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    DERIVED_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: str
    digest: str
    title: str
    title_en: str
    framework: str
    total_weight: str
    grades: _containers.RepeatedCompositeFieldContainer[GradeBand]
    facts: _containers.RepeatedCompositeFieldContainer[FactSpec]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorSpec]
    derived: _containers.RepeatedCompositeFieldContainer[DerivedValueSpec]
    def __init__(self, id: _Optional[str] = ..., version: _Optional[str] = ..., digest: _Optional[str] = ..., title: _Optional[str] = ..., title_en: _Optional[str] = ..., framework: _Optional[str] = ..., total_weight: _Optional[str] = ..., grades: _Optional[_Iterable[_Union[GradeBand, _Mapping]]] = ..., facts: _Optional[_Iterable[_Union[FactSpec, _Mapping]]] = ..., indicators: _Optional[_Iterable[_Union[IndicatorSpec, _Mapping]]] = ..., derived: _Optional[_Iterable[_Union[DerivedValueSpec, _Mapping]]] = ...) -> None: ...

class DerivedValueSpec(_message.Message):
    __slots__ = ("name", "label", "label_en", "format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_EN_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    label_en: str
    format: str
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., label_en: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class GradeBand(_message.Message):
    __slots__ = ("grade", "grade_en", "min_rate")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    GRADE_EN_FIELD_NUMBER: _ClassVar[int]
    MIN_RATE_FIELD_NUMBER: _ClassVar[int]
    grade: str
    grade_en: str
    min_rate: str
    def __init__(self, grade: _Optional[str] = ..., grade_en: _Optional[str] = ..., min_rate: _Optional[str] = ...) -> None: ...

class FactSpec(_message.Message):
    __slots__ = ("name", "type", "label", "label_en", "unit", "min", "max", "required", "default_value", "options", "non_empty", "needed_only_by", "max_items")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_EN_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    NON_EMPTY_FIELD_NUMBER: _ClassVar[int]
    NEEDED_ONLY_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: FactType
    label: str
    label_en: str
    unit: str
    min: str
    max: str
    required: bool
    default_value: _struct_pb2.Value
    options: _containers.RepeatedCompositeFieldContainer[SurveyOption]
    non_empty: bool
    needed_only_by: _containers.RepeatedScalarFieldContainer[str]
    max_items: int
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[FactType, str]] = ..., label: _Optional[str] = ..., label_en: _Optional[str] = ..., unit: _Optional[str] = ..., min: _Optional[str] = ..., max: _Optional[str] = ..., required: _Optional[bool] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., options: _Optional[_Iterable[_Union[SurveyOption, _Mapping]]] = ..., non_empty: _Optional[bool] = ..., needed_only_by: _Optional[_Iterable[str]] = ..., max_items: _Optional[int] = ...) -> None: ...

class SurveyOption(_message.Message):
    __slots__ = ("key", "label", "label_en")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_EN_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    label_en: str
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., label_en: _Optional[str] = ...) -> None: ...

class IndicatorSpec(_message.Message):
    __slots__ = ("id", "name", "name_en", "weight", "level", "method", "facts", "children", "may_be_not_applicable", "description", "description_en")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    MAY_BE_NOT_APPLICABLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_EN_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    name_en: str
    weight: str
    level: int
    method: str
    facts: _containers.RepeatedScalarFieldContainer[str]
    children: _containers.RepeatedCompositeFieldContainer[IndicatorSpec]
    may_be_not_applicable: bool
    description: str
    description_en: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., name_en: _Optional[str] = ..., weight: _Optional[str] = ..., level: _Optional[int] = ..., method: _Optional[str] = ..., facts: _Optional[_Iterable[str]] = ..., children: _Optional[_Iterable[_Union[IndicatorSpec, _Mapping]]] = ..., may_be_not_applicable: _Optional[bool] = ..., description: _Optional[str] = ..., description_en: _Optional[str] = ...) -> None: ...

class RenderReportRequest(_message.Message):
    __slots__ = ("request", "format")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    request: EvaluateRequest
    format: ReportFormat
    def __init__(self, request: _Optional[_Union[EvaluateRequest, _Mapping]] = ..., format: _Optional[_Union[ReportFormat, str]] = ...) -> None: ...

class RenderReportResponse(_message.Message):
    __slots__ = ("content", "media_type", "file_name", "evaluation")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    media_type: str
    file_name: str
    evaluation: Evaluation
    def __init__(self, content: _Optional[bytes] = ..., media_type: _Optional[str] = ..., file_name: _Optional[str] = ..., evaluation: _Optional[_Union[Evaluation, _Mapping]] = ...) -> None: ...
