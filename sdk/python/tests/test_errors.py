"""SwitchyardError.from_rpc_error without a gateway: every code and the
metadata the gateway attaches."""

from __future__ import annotations

import grpc
import pytest

import switchyard


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str, trailers: tuple[tuple[str, str | bytes], ...] = ()):
        self._code, self._details, self._trailers = code, details, trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._trailers


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.NOT_FOUND, switchyard.NotFoundError),
        (grpc.StatusCode.UNAUTHENTICATED, switchyard.UnauthenticatedError),
        (grpc.StatusCode.INVALID_ARGUMENT, switchyard.InvalidArgumentError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, switchyard.RateLimitError),
        (grpc.StatusCode.UNAVAILABLE, switchyard.UnavailableError),
        (grpc.StatusCode.INTERNAL, switchyard.SwitchyardError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, switchyard.SwitchyardError),
        (grpc.StatusCode.PERMISSION_DENIED, switchyard.SwitchyardError),
    ],
)
def test_each_code_maps_to_its_class(code: grpc.StatusCode, kind: type[switchyard.SwitchyardError]) -> None:
    err = switchyard.SwitchyardError.from_rpc_error(FakeRpcError(code, "boom"))
    assert type(err) is kind
    assert err.code == code and err.message == "boom"
    assert str(err) == f"{code.name}: boom"
    assert repr(err) == f"{kind.__name__}({code!r}, 'boom')"
    assert err.retry_after is None and err.param is None


def test_metadata_is_read() -> None:
    trailers = (("retry-after", "12"), ("x-switchyard-param", b"messages[2].content"), ("x-request-id", "req_1"))
    err = switchyard.SwitchyardError.from_rpc_error(FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", trailers))
    assert isinstance(err, switchyard.RateLimitError)
    assert err.retry_after == 12.0
    assert err.param == "messages[2].content"
    assert ("x-request-id", "req_1") in err.metadata


def test_unparsable_retry_after_is_ignored() -> None:
    err = switchyard.SwitchyardError.from_rpc_error(
        FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down", (("retry-after", "soon"),)))
    assert isinstance(err, switchyard.UnavailableError)
    assert err.retry_after is None


def test_an_error_without_call_accessors_is_unknown() -> None:
    err = switchyard.SwitchyardError.from_rpc_error(grpc.RpcError())
    assert type(err) is switchyard.SwitchyardError
    assert err.code == grpc.StatusCode.UNKNOWN


def test_subclasses_are_catchable_as_the_base() -> None:
    with pytest.raises(switchyard.SwitchyardError):
        raise switchyard.NotFoundError(grpc.StatusCode.NOT_FOUND, "gone")
