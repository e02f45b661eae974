import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TargetState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TARGET_STATE_UNSPECIFIED: _ClassVar[TargetState]
    TARGET_STATE_HEALTHY: _ClassVar[TargetState]
    TARGET_STATE_OPEN: _ClassVar[TargetState]
    TARGET_STATE_HALF_OPEN: _ClassVar[TargetState]
    TARGET_STATE_COOLING: _ClassVar[TargetState]
TARGET_STATE_UNSPECIFIED: TargetState
TARGET_STATE_HEALTHY: TargetState
TARGET_STATE_OPEN: TargetState
TARGET_STATE_HALF_OPEN: TargetState
TARGET_STATE_COOLING: TargetState

class Provider(_message.Message):
    __slots__ = ("name", "type", "base_url", "models", "keys", "healthy")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    base_url: str
    models: _containers.RepeatedScalarFieldContainer[str]
    keys: _containers.RepeatedCompositeFieldContainer[ProviderKey]
    healthy: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., base_url: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., keys: _Optional[_Iterable[_Union[ProviderKey, _Mapping]]] = ..., healthy: _Optional[bool] = ...) -> None: ...

class ProviderKey(_message.Message):
    __slots__ = ("id", "masked_key", "label", "weight", "state", "in_flight", "ewma_latency_ms", "error_rate", "cooldown_until", "source")
    ID_FIELD_NUMBER: _ClassVar[int]
    MASKED_KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    EWMA_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_UNTIL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    masked_key: str
    label: str
    weight: int
    state: TargetState
    in_flight: int
    ewma_latency_ms: float
    error_rate: float
    cooldown_until: _timestamp_pb2.Timestamp
    source: str
    def __init__(self, id: _Optional[str] = ..., masked_key: _Optional[str] = ..., label: _Optional[str] = ..., weight: _Optional[int] = ..., state: _Optional[_Union[TargetState, str]] = ..., in_flight: _Optional[int] = ..., ewma_latency_ms: _Optional[float] = ..., error_rate: _Optional[float] = ..., cooldown_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    def __init__(self, providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ...) -> None: ...

class AddProviderKeyRequest(_message.Message):
    __slots__ = ("provider", "api_key", "label", "weight")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    provider: str
    api_key: str
    label: str
    weight: int
    def __init__(self, provider: _Optional[str] = ..., api_key: _Optional[str] = ..., label: _Optional[str] = ..., weight: _Optional[int] = ...) -> None: ...

class AddProviderKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ProviderKey
    def __init__(self, key: _Optional[_Union[ProviderKey, _Mapping]] = ...) -> None: ...

class RemoveProviderKeyRequest(_message.Message):
    __slots__ = ("provider", "key_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    key_id: str
    def __init__(self, provider: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class RemoveProviderKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
