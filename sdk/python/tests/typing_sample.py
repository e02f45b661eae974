"""Type-checked (mypy --strict) by scripts/test-sdk-python.sh against the
installed package: what a user's type checker sees. Never executed."""

from __future__ import annotations

from typing import assert_type

import grpc

import switchyard
from switchyard.v1 import chat_pb2, models_pb2


def sync_usage(client: switchyard.Client) -> str:
    reply = client.chat("auto", [{"role": "user", "content": "Hi"}], temperature=0.2, max_tokens=10,
                        switchyard={"route": "auto"}, tool_choice="auto", metadata={"k": "v"})
    assert_type(reply, chat_pb2.ChatCompletion)
    text: str = reply.choices[0].message.content
    cost: float = reply.switchyard.cost_usd
    stream = client.chat_stream("auto", [switchyard.ChatMessage(role="user", content="Hi")],
                                stream_options={"include_usage": True})
    assert_type(stream, switchyard.ChatStream)
    for chunk in stream:
        assert_type(chunk, chat_pb2.ChatCompletionChunk)
        if chunk.choices:
            text += chunk.choices[0].delta.content
    stream.close()
    models = client.list_models()
    assert_type(models, list[models_pb2.Model])
    owner: str = client.get_model("auto").owned_by
    vectors = client.embeddings("sim-small", ["a", "b"], dimensions=8)
    first: float = vectors.data[0].embedding[0]
    return f"{text}{cost}{owner}{first}"


async def async_usage(client: switchyard.AsyncClient) -> str:
    reply = await client.chat("auto", [{"role": "user", "content": "Hi"}], seed=7)
    assert_type(reply, chat_pb2.ChatCompletion)
    text = ""
    async for chunk in client.chat_stream("auto", [{"role": "user", "content": "Hi"}]):
        assert_type(chunk, chat_pb2.ChatCompletionChunk)
    models = await client.list_models()
    assert_type(models, list[models_pb2.Model])
    return text + reply.id


def errors(client: switchyard.Client) -> float | None:
    try:
        client.get_model("x")
    except switchyard.RateLimitError as e:
        assert_type(e.code, grpc.StatusCode)
        return e.retry_after
    except switchyard.SwitchyardError as e:
        param: str | None = e.param
        return None if param is None else 0.0
    return None


def rejected(client: switchyard.Client) -> None:
    # warn_unused_ignores (in --strict) fails the check if any of these
    # mistakes went unnoticed by the type checker.
    client.chat("auto", [], temprature=0.5)  # type: ignore[call-arg]
    client.chat("auto", [], temperature="hot")  # type: ignore[arg-type]
    client.chat("auto", "Hi")  # type: ignore[arg-type]
    _: str = client.get_model("auto")  # type: ignore[assignment]
