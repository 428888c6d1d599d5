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
    __slots__ = ("pack_id",)
    PACK_ID_FIELD_NUMBER: _ClassVar[int]
    pack_id: str
    def __init__(self, pack_id: _Optional[str] = ...) -> None: ...

class ListActivationsResponse(_message.Message):
    __slots__ = ("activations",)
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    activations: _containers.RepeatedCompositeFieldContainer[Activation]
    def __init__(self, activations: _Optional[_Iterable[_Union[Activation, _Mapping]]] = ...) -> None: ...
