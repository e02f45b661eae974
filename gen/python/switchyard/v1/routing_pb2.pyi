import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoutingConfig(_message.Message):
    __slots__ = ("strategy", "fallback_strategy", "providers", "routes")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    fallback_strategy: str
    providers: _containers.RepeatedCompositeFieldContainer[ProviderWeight]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    def __init__(self, strategy: _Optional[str] = ..., fallback_strategy: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[ProviderWeight, _Mapping]]] = ..., routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ...) -> None: ...

class ProviderWeight(_message.Message):
    __slots__ = ("name", "priority", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    priority: int
    weight: int
    def __init__(self, name: _Optional[str] = ..., priority: _Optional[int] = ..., weight: _Optional[int] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("model", "strategy", "fallback_strategy", "targets", "fallbacks", "retry", "hedge", "cache", "hybrid", "panic_mode", "fan_out_n", "rules")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    HEDGE_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    HYBRID_FIELD_NUMBER: _ClassVar[int]
    PANIC_MODE_FIELD_NUMBER: _ClassVar[int]
    FAN_OUT_N_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    model: str
    strategy: str
    fallback_strategy: str
    targets: _containers.RepeatedCompositeFieldContainer[RouteTarget]
    fallbacks: _containers.RepeatedScalarFieldContainer[str]
    retry: RetryPolicy
    hedge: HedgePolicy
    cache: CachePolicy
    hybrid: HybridWeights
    panic_mode: bool
    fan_out_n: bool
    rules: _containers.RepeatedCompositeFieldContainer[RouteRule]
    def __init__(self, model: _Optional[str] = ..., strategy: _Optional[str] = ..., fallback_strategy: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[RouteTarget, _Mapping]]] = ..., fallbacks: _Optional[_Iterable[str]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., hedge: _Optional[_Union[HedgePolicy, _Mapping]] = ..., cache: _Optional[_Union[CachePolicy, _Mapping]] = ..., hybrid: _Optional[_Union[HybridWeights, _Mapping]] = ..., panic_mode: _Optional[bool] = ..., fan_out_n: _Optional[bool] = ..., rules: _Optional[_Iterable[_Union[RouteRule, _Mapping]]] = ...) -> None: ...

class RouteRule(_message.Message):
    __slots__ = ("name", "when", "targets")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    name: str
    when: RuleConditions
    targets: _containers.RepeatedCompositeFieldContainer[RouteTarget]
    def __init__(self, name: _Optional[str] = ..., when: _Optional[_Union[RuleConditions, _Mapping]] = ..., targets: _Optional[_Iterable[_Union[RouteTarget, _Mapping]]] = ...) -> None: ...

class RuleConditions(_message.Message):
    __slots__ = ("region", "key_label", "metadata", "estimated_cost_above", "consecutive_failures")
    class KeyLabelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REGION_FIELD_NUMBER: _ClassVar[int]
    KEY_LABEL_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_ABOVE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    region: str
    key_label: _containers.ScalarMap[str, str]
    metadata: _containers.ScalarMap[str, str]
    estimated_cost_above: float
    consecutive_failures: int
    def __init__(self, region: _Optional[str] = ..., key_label: _Optional[_Mapping[str, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., estimated_cost_above: _Optional[float] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class RouteTarget(_message.Message):
    __slots__ = ("provider", "model", "weight", "priority", "quality")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model: str
    weight: int
    priority: int
    quality: float
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., weight: _Optional[int] = ..., priority: _Optional[int] = ..., quality: _Optional[float] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_attempts", "initial_backoff_ms", "max_backoff_ms", "per_try_timeout_ms", "overall_timeout_ms")
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_MS_FIELD_NUMBER: _ClassVar[int]
    PER_TRY_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    OVERALL_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    max_attempts: int
    initial_backoff_ms: int
    max_backoff_ms: int
    per_try_timeout_ms: int
    overall_timeout_ms: int
    def __init__(self, max_attempts: _Optional[int] = ..., initial_backoff_ms: _Optional[int] = ..., max_backoff_ms: _Optional[int] = ..., per_try_timeout_ms: _Optional[int] = ..., overall_timeout_ms: _Optional[int] = ...) -> None: ...

class HedgePolicy(_message.Message):
    __slots__ = ("enabled", "delay_ms")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    delay_ms: int
    def __init__(self, enabled: _Optional[bool] = ..., delay_ms: _Optional[int] = ...) -> None: ...

class CachePolicy(_message.Message):
    __slots__ = ("mode", "ttl_seconds", "semantic")
    MODE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_FIELD_NUMBER: _ClassVar[int]
    mode: str
    ttl_seconds: int
    semantic: SemanticCachePolicy
    def __init__(self, mode: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., semantic: _Optional[_Union[SemanticCachePolicy, _Mapping]] = ...) -> None: ...

class SemanticCachePolicy(_message.Message):
    __slots__ = ("enabled", "model", "dimensions", "threshold", "ttl_seconds", "scope", "allow_tools", "timeout_ms")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ALLOW_TOOLS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    model: str
    dimensions: int
    threshold: float
    ttl_seconds: int
    scope: str
    allow_tools: bool
    timeout_ms: int
    def __init__(self, enabled: _Optional[bool] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ..., threshold: _Optional[float] = ..., ttl_seconds: _Optional[int] = ..., scope: _Optional[str] = ..., allow_tools: _Optional[bool] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class HybridWeights(_message.Message):
    __slots__ = ("cost", "latency", "quality", "error_rate", "load")
    COST_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    cost: float
    latency: float
    quality: float
    error_rate: float
    load: float
    def __init__(self, cost: _Optional[float] = ..., latency: _Optional[float] = ..., quality: _Optional[float] = ..., error_rate: _Optional[float] = ..., load: _Optional[float] = ...) -> None: ...

class GetRoutingConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRoutingConfigResponse(_message.Message):
    __slots__ = ("config", "version", "updated_at")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    config: RoutingConfig
    version: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, config: _Optional[_Union[RoutingConfig, _Mapping]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UpdateRoutingConfigRequest(_message.Message):
    __slots__ = ("config", "allow_unrouted", "clear_routes")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ALLOW_UNROUTED_FIELD_NUMBER: _ClassVar[int]
    CLEAR_ROUTES_FIELD_NUMBER: _ClassVar[int]
    config: RoutingConfig
    allow_unrouted: bool
    clear_routes: bool
    def __init__(self, config: _Optional[_Union[RoutingConfig, _Mapping]] = ..., allow_unrouted: _Optional[bool] = ..., clear_routes: _Optional[bool] = ...) -> None: ...

class UpdateRoutingConfigResponse(_message.Message):
    __slots__ = ("config", "version")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    config: RoutingConfig
    version: int
    def __init__(self, config: _Optional[_Union[RoutingConfig, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class ValidateRoutingConfigRequest(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: RoutingConfig
    def __init__(self, config: _Optional[_Union[RoutingConfig, _Mapping]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ValidateRoutingConfigResponse(_message.Message):
    __slots__ = ("valid", "violations")
    VALID_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    violations: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    def __init__(self, valid: _Optional[bool] = ..., violations: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ...) -> None: ...

class ListRoutingConfigHistoryRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class RoutingConfigVersion(_message.Message):
    __slots__ = ("version", "updated_at", "updated_by", "config", "rollback_of")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_OF_FIELD_NUMBER: _ClassVar[int]
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    config: RoutingConfig
    rollback_of: int
    def __init__(self, version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., config: _Optional[_Union[RoutingConfig, _Mapping]] = ..., rollback_of: _Optional[int] = ...) -> None: ...

class ListRoutingConfigHistoryResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[RoutingConfigVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[RoutingConfigVersion, _Mapping]]] = ...) -> None: ...

class RollbackRoutingConfigRequest(_message.Message):
    __slots__ = ("version", "allow_unrouted")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_UNROUTED_FIELD_NUMBER: _ClassVar[int]
    version: int
    allow_unrouted: bool
    def __init__(self, version: _Optional[int] = ..., allow_unrouted: _Optional[bool] = ...) -> None: ...

class RollbackRoutingConfigResponse(_message.Message):
    __slots__ = ("config", "version")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    config: RoutingConfig
    version: int
    def __init__(self, config: _Optional[_Union[RoutingConfig, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...
