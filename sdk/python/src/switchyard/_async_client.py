"""The asyncio client (grpc.aio)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

import grpc
from grpc import aio

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

__all__ = ["AsyncClient", "AsyncChatStream"]


class AsyncChatStream(AsyncIterator[chat_pb2.ChatCompletionChunk]):
    """The chunks of one streamed chat completion, for ``async for``.

    Errors are raised as SwitchyardError from the iteration. ``close()`` —
    or leaving an ``async with`` block — cancels the call so the gateway
    stops generating; a stream dropped unfinished is cancelled when
    collected.
    """

    def __init__(self, call: Any) -> None:
        #: The underlying grpc.aio call: await initial_metadata(),
        #: trailing_metadata(), code().
        self.call: Any = call

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> chat_pb2.ChatCompletionChunk:
        try:
            chunk = await self.call.read()
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        if chunk is aio.EOF:
            raise StopAsyncIteration
        result: chat_pb2.ChatCompletionChunk = chunk
        return result

    def close(self) -> None:
        """Cancel the call if it is still running."""
        self.call.cancel()

    def __del__(self) -> None:
        # A stream dropped unfinished (break out of `async for`) is cancelled
        # when collected; after its event loop has closed there is nothing
        # left to cancel.
        call = getattr(self, "call", None)
        if call is not None:
            try:
                call.cancel()
            except RuntimeError:
                pass

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """An asyncio Switchyard client over grpc.aio, with the same surface as
    Client: ``await client.chat(...)``, ``async for chunk in
    client.chat_stream(...)``. Create it inside the running event loop; use
    ``async with`` or ``await close()``.
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
        interceptors = _interceptors.aio_interceptors(_common.default_metadata(api_key), timeout)
        if creds is None:
            self.channel: aio.Channel = aio.insecure_channel(target, options=opts, interceptors=interceptors)
        else:
            self.channel = aio.secure_channel(target, creds, options=opts, interceptors=interceptors)
        self.timeout = timeout
        # Raw generated stubs, sharing the key and default deadline; their
        # errors are plain grpc.aio.AioRpcError (see SwitchyardError.from_rpc_error).
        self.chat_service = chat_pb2_grpc.ChatServiceStub(self.channel)
        self.model_service = models_pb2_grpc.ModelServiceStub(self.channel)
        self.embedding_service = embeddings_pb2_grpc.EmbeddingServiceStub(self.channel)
        self.routing_config_service = routing_pb2_grpc.RoutingConfigServiceStub(self.channel)
        self.provider_service = providers_pb2_grpc.ProviderServiceStub(self.channel)
        self.usage_service = usage_pb2_grpc.UsageServiceStub(self.channel)
        self.key_service = keys_pb2_grpc.KeyServiceStub(self.channel)
        self.billing_service = billing_pb2_grpc.BillingServiceStub(self.channel)

    async def chat(
        self,
        model: str,
        messages: Sequence[MessageLike],
        *,
        timeout: float | None = None,
        **params: Unpack[ChatParams],
    ) -> chat_pb2.ChatCompletion:
        """Send a chat completion request and wait for the whole answer."""
        req = chat_request(model, messages, params)
        try:
            resp: chat_pb2.ChatCompletion = await self.chat_service.CreateChatCompletion(req, timeout=timeout)
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
    ) -> AsyncChatStream:
        """Stream a chat completion: ``async for chunk in client.chat_stream(...)``.

        Not a coroutine: the call starts at once and errors are raised when
        iterating.
        """
        req = chat_request(model, messages, params)
        return AsyncChatStream(self.chat_service.StreamChatCompletion(req, timeout=timeout))

    async def list_models(self, *, timeout: float | None = None) -> list[models_pb2.Model]:
        """Route aliases and every model the configured providers serve."""
        try:
            resp: models_pb2.ListModelsResponse = await self.model_service.ListModels(
                models_pb2.ListModelsRequest(), timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return list(resp.data)

    async def get_model(self, id: str, *, timeout: float | None = None) -> models_pb2.Model:
        """One model or alias; NotFoundError when unknown."""
        try:
            resp: models_pb2.GetModelResponse = await self.model_service.GetModel(
                models_pb2.GetModelRequest(id=id), timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return resp.model

    async def embeddings(
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
            resp: embeddings_pb2.CreateEmbeddingsResponse = await self.embedding_service.CreateEmbeddings(
                req, timeout=timeout
            )
        except grpc.RpcError as e:
            raise SwitchyardError.from_rpc_error(e) from e
        return resp

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
