from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PackFile(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class PublishPackVersionRequest(_message.Message):
    __slots__ = ("files", "signature")
    FILES_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[PackFile]
    signature: str
    def __init__(self, files: _Optional[_Iterable[_Union[PackFile, _Mapping]]] = ..., signature: _Optional[str] = ...) -> None: ...

class PublishPackVersionResponse(_message.Message):
    __slots__ = ("version", "created")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    version: PackVersion
    created: bool
    def __init__(self, version: _Optional[_Union[PackVersion, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class PackVersion(_message.Message):
    __slots__ = ("pack_id", "version", "digest", "title", "publisher", "published_at", "signed_by", "active")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    digest: str
    title: str
    publisher: str
    published_at: str
    signed_by: str
    active: bool
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ..., digest: _Optional[str] = ..., title: _Optional[str] = ..., publisher: _Optional[str] = ..., published_at: _Optional[str] = ..., signed_by: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ListPackVersionsRequest(_message.Message):
    __slots__ = ("pack_id",)
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    def __init__(self, pack_id: _Optional[str] = ...) -> None: ...

class ListPackVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[PackVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[PackVersion, _Mapping]]] = ...) -> None: ...

class ActivatePackVersionRequest(_message.Message):
    __slots__ = ("pack_id", "version")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    version: str
    def __init__(self, pack_id: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class RollbackPackRequest(_message.Message):
    __slots__ = ("pack_id",)
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    def __init__(self, pack_id: _Optional[str] = ...) -> None: ...

class Activation(_message.Message):
    __slots__ = ("pack_id", "from_version", "to_version", "kind", "actor", "at")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    from_version: str
    to_version: str
    kind: str
    actor: str
    at: str
    def __init__(self, pack_id: _Optional[str] = ..., from_version: _Optional[str] = ..., to_version: _Optional[str] = ..., kind: _Optional[str] = ..., actor: _Optional[str] = ..., at: _Optional[str] = ...) -> None: ...

class ActivationResponse(_message.Message):
    __slots__ = ("activation", "changed")
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    activation: Activation
    changed: bool
    def __init__(self, activation: _Optional[_Union[Activation, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...

class ListActivationsRequest(_message.Message):
    __slots__ = ("pack_id", "page_size", "page_token")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    page_size: int
    page_token: str
    def __init__(self, pack_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListActivationsResponse(_message.Message):
    __slots__ = ("activations", "next_page_token")
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activations: _containers.RepeatedCompositeFieldContainer[Activation]
    next_page_token: str
    def __init__(self, activations: _Optional[_Iterable[_Union[Activation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StartShadowRequest(_message.Message):
    __slots__ = ("pack_id", "candidate_version", "sample")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    candidate_version: str
    sample: str
    def __init__(self, pack_id: _Optional[str] = ..., candidate_version: _Optional[str] = ..., sample: _Optional[str] = ...) -> None: ...

class StartShadowResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ShadowRun
    def __init__(self, run: _Optional[_Union[ShadowRun, _Mapping]] = ...) -> None: ...

class ShadowRun(_message.Message):
    __slots__ = ("run_id", "pack_id", "candidate_version", "candidate_digest", "sample", "started_at", "started_by", "stopped_at", "stopped_by")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    STOPPED_AT_FIELD_NUMBER: _ClassVar[int]
    STOPPED_BY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    pack_id: str
    candidate_version: str
    candidate_digest: str
    sample: str
    started_at: str
    started_by: str
    stopped_at: str
    stopped_by: str
    def __init__(self, run_id: _Optional[str] = ..., pack_id: _Optional[str] = ..., candidate_version: _Optional[str] = ..., candidate_digest: _Optional[str] = ..., sample: _Optional[str] = ..., started_at: _Optional[str] = ..., started_by: _Optional[str] = ..., stopped_at: _Optional[str] = ..., stopped_by: _Optional[str] = ...) -> None: ...

class GetShadowReportRequest(_message.Message):
    __slots__ = ("pack_id", "run_id", "worst")
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORST_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    run_id: str
    worst: int
    def __init__(self, pack_id: _Optional[str] = ..., run_id: _Optional[str] = ..., worst: _Optional[int] = ...) -> None: ...

class GetShadowReportResponse(_message.Message):
    __slots__ = ("run", "samples", "candidate_errors", "mean_total_delta", "min_total_delta", "max_total_delta", "mean_abs_total_delta", "grade_changes", "grade_change_counts", "indicators", "worst")
    RUN_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    MEAN_TOTAL_DELTA_FIELD_NUMBER: _ClassVar[int]
    MIN_TOTAL_DELTA_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_DELTA_FIELD_NUMBER: _ClassVar[int]
    MEAN_ABS_TOTAL_DELTA_FIELD_NUMBER: _ClassVar[int]
    GRADE_CHANGES_FIELD_NUMBER: _ClassVar[int]
    GRADE_CHANGE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    WORST_FIELD_NUMBER: _ClassVar[int]
    run: ShadowRun
    samples: int
    candidate_errors: int
    mean_total_delta: str
    min_total_delta: str
    max_total_delta: str
    mean_abs_total_delta: str
    grade_changes: int
    grade_change_counts: _containers.RepeatedCompositeFieldContainer[GradeChange]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorDelta]
    worst: _containers.RepeatedCompositeFieldContainer[ShadowExample]
    def __init__(self, run: _Optional[_Union[ShadowRun, _Mapping]] = ..., samples: _Optional[int] = ..., candidate_errors: _Optional[int] = ..., mean_total_delta: _Optional[str] = ..., min_total_delta: _Optional[str] = ..., max_total_delta: _Optional[str] = ..., mean_abs_total_delta: _Optional[str] = ..., grade_changes: _Optional[int] = ..., grade_change_counts: _Optional[_Iterable[_Union[GradeChange, _Mapping]]] = ..., indicators: _Optional[_Iterable[_Union[IndicatorDelta, _Mapping]]] = ..., worst: _Optional[_Iterable[_Union[ShadowExample, _Mapping]]] = ...) -> None: ...

class GradeChange(_message.Message):
    __slots__ = ("live_grade", "candidate_grade", "count")
    LIVE_GRADE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_GRADE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    live_grade: str
    candidate_grade: str
    count: int
    def __init__(self, live_grade: _Optional[str] = ..., candidate_grade: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class IndicatorDelta(_message.Message):
    __slots__ = ("node_id", "name", "mean_delta", "min_delta", "max_delta", "changed")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEAN_DELTA_FIELD_NUMBER: _ClassVar[int]
    MIN_DELTA_FIELD_NUMBER: _ClassVar[int]
    MAX_DELTA_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    name: str
    mean_delta: str
    min_delta: str
    max_delta: str
    changed: int
    def __init__(self, node_id: _Optional[str] = ..., name: _Optional[str] = ..., mean_delta: _Optional[str] = ..., min_delta: _Optional[str] = ..., max_delta: _Optional[str] = ..., changed: _Optional[int] = ...) -> None: ...

class ShadowExample(_message.Message):
    __slots__ = ("decision_id", "live_version", "live_total", "candidate_total", "delta", "live_grade", "candidate_grade")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    LIVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIVE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    LIVE_GRADE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_GRADE_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    live_version: str
    live_total: str
    candidate_total: str
    delta: str
    live_grade: str
    candidate_grade: str
    def __init__(self, decision_id: _Optional[str] = ..., live_version: _Optional[str] = ..., live_total: _Optional[str] = ..., candidate_total: _Optional[str] = ..., delta: _Optional[str] = ..., live_grade: _Optional[str] = ..., candidate_grade: _Optional[str] = ...) -> None: ...

class StopShadowRequest(_message.Message):
    __slots__ = ("pack_id",)
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    def __init__(self, pack_id: _Optional[str] = ...) -> None: ...

class StopShadowResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ShadowRun
    def __init__(self, run: _Optional[_Union[ShadowRun, _Mapping]] = ...) -> None: ...
