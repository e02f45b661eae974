"""Settings shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

# Generous receive limit: a batch of large embeddings easily passes gRPC's
# default of 4 MiB. Callers override it through ``options``.
DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (("grpc.max_receive_message_length", 64 << 20),)

DEFAULT_TIMEOUT = 600.0


def check_target(target: str) -> None:
    if not target:
        raise ValueError("target must be host:port, e.g. 127.0.0.1:8080")
    if target.startswith(("http://", "https://")):
        raise ValueError(
            f"target {target!r} is a URL; give host:port (and secure=True for TLS), e.g. 127.0.0.1:8080"
        )


def check_timeout(timeout: float | None) -> None:
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")


def channel_options(options: Sequence[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    given = list(options or ())
    names = {name for name, _ in given}
    return [o for o in DEFAULT_OPTIONS if o[0] not in names] + given


def default_metadata(api_key: str | None) -> tuple[tuple[str, str], ...]:
    if api_key is None or api_key == "":
        return ()
    if any(c in api_key for c in "\r\n"):
        raise ValueError("api_key must not contain line breaks")
    return (("authorization", f"Bearer {api_key}"),)


def credentials_for(secure: bool, credentials: grpc.ChannelCredentials | None) -> grpc.ChannelCredentials | None:
    if credentials is not None:
        return credentials
    if secure:
        return grpc.ssl_channel_credentials()
    return None
