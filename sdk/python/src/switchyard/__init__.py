"""Switchyard: a typed Python client for the Switchyard AI gateway over gRPC.

    import switchyard

    with switchyard.Client("127.0.0.1:8080", api_key="sk-...") as client:
        reply = client.chat("auto", [{"role": "user", "content": "Hi"}])
        print(reply.choices[0].message.content)

``AsyncClient`` has the same surface for asyncio. Responses are the
generated protobuf messages of ``switchyard.v1`` (re-exported below).
"""

from switchyard._async_client import AsyncChatStream, AsyncClient
from switchyard._client import ChatStream, Client
from switchyard._errors import (
    InvalidArgumentError,
    NotFoundError,
    RateLimitError,
    SwitchyardError,
    UnauthenticatedError,
    UnavailableError,
)
from switchyard._request import ChatParams, MessageLike
from switchyard._version import __version__
from switchyard.v1.chat_pb2 import (
    CacheControl,
    CacheStatus,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    RequestOptions,
    RoutingInfo,
    Tool,
    ToolCall,
    Usage,
)
from switchyard.v1.embeddings_pb2 import CreateEmbeddingsResponse, Embedding
from switchyard.v1.models_pb2 import Model

__all__ = [
    "AsyncChatStream",
    "AsyncClient",
    "CacheControl",
    "CacheStatus",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessage",
    "ChatParams",
    "ChatStream",
    "Client",
    "CreateEmbeddingsResponse",
    "Embedding",
    "InvalidArgumentError",
    "MessageLike",
    "Model",
    "NotFoundError",
    "RateLimitError",
    "RequestOptions",
    "RoutingInfo",
    "SwitchyardError",
    "Tool",
    "ToolCall",
    "UnauthenticatedError",
    "UnavailableError",
    "Usage",
    "__version__",
]
