"""Errors raised by the Switchyard clients, mapped from gRPC status codes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import grpc

__all__ = [
    "SwitchyardError",
    "NotFoundError",
    "UnauthenticatedError",
    "InvalidArgumentError",
    "RateLimitError",
    "UnavailableError",
]


class SwitchyardError(Exception):
    """A call the gateway (or the transport) failed.

    ``code`` is the gRPC status code, ``message`` the gateway's explanation.
    ``retry_after`` is the wait in seconds the gateway advised (rate limits,
    unavailability), ``param`` the request field an invalid argument is about
    (e.g. ``"messages[0].role"``); both are None when not sent. ``metadata``
    holds every trailing metadata pair.
    """

    code: grpc.StatusCode
    message: str
    retry_after: float | None
    param: str | None
    metadata: tuple[tuple[str, str | bytes], ...]

    # The code each subclass stands for; the base class takes any.
    _code: ClassVar[grpc.StatusCode | None] = None

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        retry_after: float | None = None,
        param: str | None = None,
        metadata: Iterable[tuple[str, str | bytes]] = (),
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.param = param
        self.metadata = tuple(metadata)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> SwitchyardError:
        """Map a grpc (or grpc.aio) error to the matching SwitchyardError
        subclass; useful with the raw stubs, whose errors are not mapped."""
        code = _call(err, "code") or grpc.StatusCode.UNKNOWN
        message = _call(err, "details") or ""
        metadata = tuple((str(k), v) for k, v in (_call(err, "trailing_metadata") or ()))
        retry_after: float | None = None
        param: str | None = None
        for key, value in metadata:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if key == "retry-after":
                try:
                    retry_after = float(text)
                except ValueError:
                    pass
            elif key == "x-switchyard-param":
                param = text
        kind = _BY_CODE.get(code, SwitchyardError)
        return kind(code, message, retry_after=retry_after, param=param, metadata=metadata)


def _call(err: object, name: str) -> Any:
    # Errors raised before a call exists (or by test doubles) may lack some
    # of the grpc.Call accessors.
    fn = getattr(err, name, None)
    return fn() if callable(fn) else None


class NotFoundError(SwitchyardError):
    """The model (or other resource) does not exist (NOT_FOUND)."""

    _code = grpc.StatusCode.NOT_FOUND


class UnauthenticatedError(SwitchyardError):
    """The API key is missing or wrong (UNAUTHENTICATED)."""

    _code = grpc.StatusCode.UNAUTHENTICATED


class InvalidArgumentError(SwitchyardError):
    """The request is malformed; ``param`` names the field (INVALID_ARGUMENT)."""

    _code = grpc.StatusCode.INVALID_ARGUMENT


class RateLimitError(SwitchyardError):
    """Rate limited upstream or by the gateway; see ``retry_after``
    (RESOURCE_EXHAUSTED)."""

    _code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(SwitchyardError):
    """No provider could answer right now, or the gateway is unreachable;
    safe to retry later (UNAVAILABLE)."""

    _code = grpc.StatusCode.UNAVAILABLE


_BY_CODE: dict[grpc.StatusCode, type[SwitchyardError]] = {
    sub._code: sub
    for sub in (NotFoundError, UnauthenticatedError, InvalidArgumentError, RateLimitError, UnavailableError)
    if sub._code is not None
}
