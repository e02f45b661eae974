"""The synchronous client."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

import grpc

from switchyard import _common, _interceptors
from switchyard._errors import SwitchyardError
from switchyard._request import ChatParams, MessageLike, chat_request, embeddings_request
from switchyard.v1 import (
    billing_pb2_grpc,
    chat_pb2,
    chat_pb2_grpc,
    embeddings_pb2,
    embeddings_pb2_grpc,
    keys_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    providers_pb2_grpc,
    routing_pb2_grpc,
    usage_pb2_grpc,
)

if TYPE_CHECKING:
    from switchyard.v1.chat_pb2 import RequestOptions

__all__ = ["Client", "ChatStream"]


class ChatStream(Iterator[chat_pb2.ChatCompletionChunk]):
    """The chunks of one streamed chat completion.

    Iterate it (errors are raised as SwitchyardError from the iteration);
    ``close()`` — or leaving a ``with`` block — cancels the call so the
    gateway stops generating. A stream dropped unfinished (``break`` out of
    ``for chunk in client.chat_stream(...)``) is cancelled when collected.
    """

    def __init__(self, call: Any) -> None:
        #: The underlying grpc call: initial_metadata(), trailing_metadata(),
        #: code() once finished.
        self.call: Any = call

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> chat_pb2.ChatCompletionChunk:
        try:
            chunk: chat_pb2.ChatCompletionChunk = next(self.call)
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return chunk

    def close(self) -> None:
        """Cancel the call if it is still running."""
        self.call.cancel()

    def __del__(self) -> None:
        # `for chunk in client.chat_stream(...): break` drops the stream
        # without closing it; cancel here rather than rely on grpc's own
        # finalizer, which anything else holding the call would defeat.
        call = getattr(self, "call", None)
        if call is not None:
            call.cancel()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Client:
    """A synchronous Switchyard client over gRPC.

    ``target`` is host:port (any gRPC target, e.g. ``dns:///gw.internal:443``).
    Loopback and plaintext deployments use an insecure channel; pass
    ``secure=True`` for TLS with the system roots, or ``credentials``.
    ``api_key`` is sent as ``authorization: Bearer <key>`` on every call.
    ``timeout`` (seconds) is the default deadline of every call, streams
    included; None means no deadline. ``options`` are gRPC channel options.

    Use it as a context manager or call ``close()``. It is safe to share
    between threads.
    """

    def __init__(
        self,
        target: str = "127.0.0.1:8080",
        *,
        api_key: str | None = None,
        timeout: float | None = _common.DEFAULT_TIMEOUT,
        secure: bool = False,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] | None = None,
    ) -> None:
        _common.check_target(target)
        _common.check_timeout(timeout)
        opts = _common.channel_options(options)
        creds = _common.credentials_for(secure, credentials)
        if creds is None:
            base = grpc.insecure_channel(target, options=opts)
        else:
            base = grpc.secure_channel(target, creds, options=opts)
        self._base = base
        self.timeout = timeout
        self.channel: grpc.Channel = grpc.intercept_channel(
            base, _interceptors.Defaults(_common.default_metadata(api_key), timeout)
        )
        # Raw generated stubs, sharing the key and default deadline; their
        # errors are plain grpc.RpcError (see SwitchyardError.from_rpc_error).
        self.chat_service = chat_pb2_grpc.ChatServiceStub(self.channel)
        self.model_service = models_pb2_grpc.ModelServiceStub(self.channel)
        self.embedding_service = embeddings_pb2_grpc.EmbeddingServiceStub(self.channel)
        self.routing_config_service = routing_pb2_grpc.RoutingConfigServiceStub(self.channel)
        self.provider_service = providers_pb2_grpc.ProviderServiceStub(self.channel)
        self.usage_service = usage_pb2_grpc.UsageServiceStub(self.channel)
        self.key_service = keys_pb2_grpc.KeyServiceStub(self.channel)
        self.billing_service = billing_pb2_grpc.BillingServiceStub(self.channel)

    def chat(
        self,
        model: str,
        messages: Sequence[MessageLike],
        *,
        timeout: float | None = None,
        **params: Unpack[ChatParams],
    ) -> chat_pb2.ChatCompletion:
        """Send a chat completion request and wait for the whole answer.

        ``messages`` are ChatMessage objects or dicts
        (``{"role": "user", "content": "Hi"}``); ``params`` are the other
        request fields (temperature=..., max_tokens=..., switchyard={...}).
        ``timeout`` overrides the client's deadline for this call.
        """
        req = chat_request(model, messages, params)
        try:
            resp: chat_pb2.ChatCompletion = self.chat_service.CreateChatCompletion(req, timeout=timeout)
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return resp

    def chat_stream(
        self,
        model: str,
        messages: Sequence[MessageLike],
        *,
        timeout: float | None = None,
        **params: Unpack[ChatParams],
    ) -> ChatStream:
        """Stream a chat completion chunk by chunk.

        The call starts at once; errors (unknown model, bad key...) are
        raised when iterating. Pass ``stream_options={"include_usage": True}``
        for a final usage chunk.
        """
        req = chat_request(model, messages, params)
        return ChatStream(self.chat_service.StreamChatCompletion(req, timeout=timeout))

    def list_models(self, *, timeout: float | None = None) -> list[models_pb2.Model]:
        """Route aliases and every model the configured providers serve."""
        try:
            resp: models_pb2.ListModelsResponse = self.model_service.ListModels(
                models_pb2.ListModelsRequest(), timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return list(resp.data)

    def get_model(self, id: str, *, timeout: float | None = None) -> models_pb2.Model:
        """One model or alias; NotFoundError when unknown."""
        try:
            resp: models_pb2.GetModelResponse = self.model_service.GetModel(
                models_pb2.GetModelRequest(id=id), timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return resp.model

    def embeddings(
        self,
        model: str,
        input: str | Sequence[str],
        *,
        dimensions: int | None = None,
        encoding_format: str | None = None,
        user: str | None = None,
        switchyard: RequestOptions | dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> embeddings_pb2.CreateEmbeddingsResponse:
        """Embed one text or several; vectors come back in input order."""
        req = embeddings_request(
            model,
            input,
            {"dimensions": dimensions, "encoding_format": encoding_format, "user": user, "switchyard": switchyard},
        )
        try:
            resp: embeddings_pb2.CreateEmbeddingsResponse = self.embedding_service.CreateEmbeddings(
                req, timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return resp

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self.channel.close()
        self._base.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
