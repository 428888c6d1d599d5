from google.rpc import status_pb2 as _status_pb2
from jixiao.v1 import evaluation_pb2 as _evaluation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplayOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLAY_OUTCOME_UNSPECIFIED: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_IDENTICAL: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_DIFFERENT: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_FACTS_ALTERED: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_FACTS_REDACTED: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_PACK_MISSING: _ClassVar[ReplayOutcome]
    REPLAY_OUTCOME_RECORD_ALTERED: _ClassVar[ReplayOutcome]
REPLAY_OUTCOME_UNSPECIFIED: ReplayOutcome
REPLAY_OUTCOME_IDENTICAL: ReplayOutcome
REPLAY_OUTCOME_DIFFERENT: ReplayOutcome
REPLAY_OUTCOME_FACTS_ALTERED: ReplayOutcome
REPLAY_OUTCOME_FACTS_REDACTED: ReplayOutcome
REPLAY_OUTCOME_PACK_MISSING: ReplayOutcome
REPLAY_OUTCOME_RECORD_ALTERED: ReplayOutcome

class DecisionFilter(_message.Message):
    __slots__ = ("pack_id", "version", "caller", "since", "until", "grade", "outcome", "method")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    caller: str
    since: str
    until: str
    grade: str
    outcome: str
    method: str
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ..., caller: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., grade: _Optional[str] = ..., outcome: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class DecisionSummary(_message.Message):
    __slots__ = ("decision_id", "at", "method", "caller", "request_id", "pack_id", "requested_version", "version", "pack_digest", "outcome", "score", "grade", "duration_ms", "facts_digest", "facts_redacted", "reply_digest", "item_key", "served_by")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PACK_DIGEST_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    FACTS_DIGEST_FIELD_NUMBER: _ClassVar[int]
    FACTS_REDACTED_FIELD_NUMBER: _ClassVar[int]
    REPLY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ITEM_KEY_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    at: str
    method: str
    caller: str
    request_id: str
    pack_id: str
    requested_version: str
    version: str
    pack_digest: str
    outcome: str
    score: str
    grade: str
    duration_ms: str
    facts_digest: str
    facts_redacted: bool
    reply_digest: str
    item_key: str
    served_by: str
    def __init__(self, decision_id: _Optional[str] = ..., at: _Optional[str] = ..., method: _Optional[str] = ..., caller: _Optional[str] = ..., request_id: _Optional[str] = ..., pack_id: _Optional[str] = ..., requested_version: _Optional[str] = ..., version: _Optional[str] = ..., pack_digest: _Optional[str] = ..., outcome: _Optional[str] = ..., score: _Optional[str] = ..., grade: _Optional[str] = ..., duration_ms: _Optional[str] = ..., facts_digest: _Optional[str] = ..., facts_redacted: _Optional[bool] = ..., reply_digest: _Optional[str] = ..., item_key: _Optional[str] = ..., served_by: _Optional[str] = ...) -> None: ...

class ListDecisionsRequest(_message.Message):
    __slots__ = ("filter", "page_size", "page_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: DecisionFilter
    page_size: int
    page_token: str
    def __init__(self, filter: _Optional[_Union[DecisionFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDecisionsResponse(_message.Message):
    __slots__ = ("decisions", "next_page_token")
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[DecisionSummary]
    next_page_token: str
    def __init__(self, decisions: _Optional[_Iterable[_Union[DecisionSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDecisionRequest(_message.Message):
    __slots__ = ("decision_id",)
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    def __init__(self, decision_id: _Optional[str] = ...) -> None: ...

class GetDecisionResponse(_message.Message):
    __slots__ = ("summary", "facts_json", "language", "ignore_unknown_facts", "evaluation", "error")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FACTS_JSON_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    IGNORE_UNKNOWN_FACTS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    summary: DecisionSummary
    facts_json: str
    language: _evaluation_pb2.Language
    ignore_unknown_facts: bool
    evaluation: _evaluation_pb2.Evaluation
    error: _status_pb2.Status
    def __init__(self, summary: _Optional[_Union[DecisionSummary, _Mapping]] = ..., facts_json: _Optional[str] = ..., language: _Optional[_Union[_evaluation_pb2.Language, str]] = ..., ignore_unknown_facts: _Optional[bool] = ..., evaluation: _Optional[_Union[_evaluation_pb2.Evaluation, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class ReplayDecisionsRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: DecisionFilter
    def __init__(self, filter: _Optional[_Union[DecisionFilter, _Mapping]] = ...) -> None: ...

class ReplayDecisionsResponse(_message.Message):
    __slots__ = ("decision_id", "outcome", "recorded_reply_digest", "replayed_reply_digest", "differences", "detail")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RECORDED_REPLY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_REPLY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    outcome: ReplayOutcome
    recorded_reply_digest: str
    replayed_reply_digest: str
    differences: _containers.RepeatedCompositeFieldContainer[ReplayDifference]
    detail: str
    def __init__(self, decision_id: _Optional[str] = ..., outcome: _Optional[_Union[ReplayOutcome, str]] = ..., recorded_reply_digest: _Optional[str] = ..., replayed_reply_digest: _Optional[str] = ..., differences: _Optional[_Iterable[_Union[ReplayDifference, _Mapping]]] = ..., detail: _Optional[str] = ...) -> None: ...

class ReplayDifference(_message.Message):
    __slots__ = ("node_id", "field", "recorded", "replayed")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    field: str
    recorded: str
    replayed: str
    def __init__(self, node_id: _Optional[str] = ..., field: _Optional[str] = ..., recorded: _Optional[str] = ..., replayed: _Optional[str] = ...) -> None: ...

class ExportDecisionsRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: DecisionFilter
    def __init__(self, filter: _Optional[_Union[DecisionFilter, _Mapping]] = ...) -> None: ...

class ExportDecisionsResponse(_message.Message):
    __slots__ = ("decision",)
    DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: GetDecisionResponse
    def __init__(self, decision: _Optional[_Union[GetDecisionResponse, _Mapping]] = ...) -> None: ...
