"""Client interceptors that add the API key and the default deadline to
every call, so the raw stubs behave like the client's own methods."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc
from grpc import aio

_Metadata = Sequence[tuple[str, str | bytes]]


def _merge(metadata: _Metadata | None, extra: _Metadata) -> list[tuple[str, str | bytes]]:
    out = list(metadata or ())
    present = {k.lower() for k, _ in out}
    # A key the caller put on one call wins over the client's default.
    out.extend((k, v) for k, v in extra if k not in present)
    return out


class _SyncDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: _Metadata | None,
        credentials: grpc.CallCredentials | None,
        wait_for_ready: bool | None,
        compression: grpc.Compression | None,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = None if metadata is None else tuple(metadata)
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


class Defaults(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Sync interceptor: default metadata and deadline."""

    def __init__(self, metadata: _Metadata, timeout: float | None) -> None:
        self._metadata = tuple(metadata)
        self._timeout = timeout

    def _details(self, d: Any) -> _SyncDetails:
        return _SyncDetails(
            d.method,
            d.timeout if d.timeout is not None else self._timeout,
            _merge(d.metadata, self._metadata),
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Callable[..., Any], client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


class _AioDefaults:
    def __init__(self, metadata: _Metadata, timeout: float | None) -> None:
        self._metadata = tuple(metadata)
        self._timeout = timeout

    def _details(self, d: Any) -> aio.ClientCallDetails:
        md = aio.Metadata(*_merge(tuple(d.metadata or ()), self._metadata))
        return aio.ClientCallDetails(
            d.method,
            d.timeout if d.timeout is not None else self._timeout,
            md,
            d.credentials,
            d.wait_for_ready,
        )


class AioUnaryUnary(_AioDefaults, aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Callable[..., Any], client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class AioUnaryStream(_AioDefaults, aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Callable[..., Any], client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class AioStreamUnary(_AioDefaults, aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


class AioStreamStream(_AioDefaults, aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def aio_interceptors(metadata: _Metadata, timeout: float | None) -> list[aio.ClientInterceptor]:
    return [cls(metadata, timeout) for cls in (AioUnaryUnary, AioUnaryStream, AioStreamUnary, AioStreamStream)]
