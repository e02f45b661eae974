"""The asyncio client against a live gateway. Each test drives its own
event loop with asyncio.run, so the suite needs no async pytest plugin."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

import switchyard
from switchyard.v1 import models_pb2, routing_pb2

from conftest import Gateway

HELLO = [{"role": "user", "content": "Hello!"}]
SLOW = {"simulator.tokens": "300", "simulator.delay": "100ms"}


def run(gateway: Gateway, body: Callable[[switchyard.AsyncClient], Awaitable[None]], **kwargs: Any) -> None:
    async def main() -> None:
        kwargs.setdefault("api_key", gateway.api_key)
        kwargs.setdefault("timeout", 30)
        async with switchyard.AsyncClient(gateway.target, **kwargs) as client:
            await asyncio.wait_for(body(client), timeout=60)

    asyncio.run(main())


async def collect(stream: switchyard.AsyncChatStream) -> tuple[str, list[switchyard.ChatCompletionChunk]]:
    chunks = [c async for c in stream]
    return "".join(c.choices[0].delta.content for c in chunks if c.choices), chunks


def test_chat_and_stream_agree(gateway: Gateway) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        r = await client.chat("auto", HELLO)
        assert isinstance(r, switchyard.ChatCompletion)
        assert r.choices[0].message.content.startswith("Simulated reply from sim-small")
        assert (r.switchyard.route, r.switchyard.provider, r.usage.completion_tokens) == ("auto", "sim", 12)
        text, chunks = await collect(client.chat_stream("auto", HELLO, stream_options={"include_usage": True}))
        assert text == r.choices[0].message.content
        assert chunks[0].choices[0].delta.role == "assistant"
        assert not chunks[-1].choices and chunks[-1].usage.completion_tokens == 12

    run(gateway, body)


def test_concurrent_calls_share_one_client(gateway: Gateway) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        prompts = [f"question {i}" for i in range(8)]
        replies = await asyncio.gather(*(client.chat("sim-small", [{"role": "user", "content": p}]) for p in prompts))
        again = await asyncio.gather(*(client.chat("sim-small", [{"role": "user", "content": p}]) for p in prompts))
        # Deterministic simulator: the same prompt gives the same text.
        assert [r.choices[0].message.content for r in replies] == [r.choices[0].message.content for r in again]
        assert len({r.id for r in replies + again}) == 16

    run(gateway, body)


def test_sends_params(gateway: Gateway) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        r = await client.chat("sim-large", HELLO, metadata={"simulator.tokens": "3"}, switchyard={"route": "auto"})
        assert r.usage.completion_tokens == 3
        assert r.switchyard.route == "auto"

    run(gateway, body)


def test_closing_a_stream_cancels_the_call(gateway: Gateway) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        start = time.monotonic()
        async with client.chat_stream("sim-small", HELLO, metadata=SLOW) as stream:
            async for _ in stream:
                break
        assert await stream.call.code() == grpc.StatusCode.CANCELLED
        assert time.monotonic() - start < 5

        # Dropped unfinished, without close(): cancelled when collected.
        dropped = client.chat_stream("sim-small", HELLO, metadata=SLOW)
        call = dropped.call
        async for _ in dropped:
            break
        del dropped
        gc.collect()
        assert await asyncio.wait_for(call.code(), timeout=5) == grpc.StatusCode.CANCELLED
        assert (await client.chat("sim-small", HELLO)).choices[0].message.content

    run(gateway, body)


def test_models_and_embeddings(gateway: Gateway) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        models = {m.id: m for m in await client.list_models()}
        assert {"auto", "flaky", "sim-small", "sim-large"} <= models.keys()
        assert models["auto"].alias
        m = await client.get_model("sim-small")
        assert (m.id, m.owned_by) == ("sim-small", "sim")
        e = await client.embeddings("sim-small", ["alpha", "beta"], dimensions=32)
        assert [len(d.embedding) for d in e.data] == [32, 32]
        assert math.isclose(sum(v * v for v in e.data[0].embedding), 1.0, rel_tol=1e-3)

    run(gateway, body)


@pytest.mark.parametrize(
    ("api_key", "ok"),
    [("sk-sdk-python-test-0123456789", True), (None, False), ("sk-wrong-key-0123456789", False)],
    ids=["correct key", "missing key", "wrong key"],
)
def test_api_key(gateway: Gateway, api_key: str | None, ok: bool) -> None:
    async def body(client: switchyard.AsyncClient) -> None:
        async def stream() -> None:
            await collect(client.chat_stream("auto", HELLO))

        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "chat": lambda: client.chat("auto", HELLO),
            "chat_stream": stream,
            "list_models": client.list_models,
            "get_model": lambda: client.get_model("auto"),
            "embeddings": lambda: client.embeddings("sim-small", "x"),
        }
        for name, call in calls.items():
            if ok:
                await call()
            else:
                with pytest.raises(switchyard.UnauthenticatedError):
                    await call()
        raw = client.model_service.ListModels(models_pb2.ListModelsRequest())
        if ok:
            assert await raw is not None
        else:
            with pytest.raises(grpc.RpcError) as err:
                await raw
            assert isinstance(switchyard.SwitchyardError.from_rpc_error(err.value), switchyard.UnauthenticatedError)
        # Admin services need the admin key: a client key is refused.
        with pytest.raises(grpc.RpcError) as admin:
            await client.routing_config_service.GetRoutingConfig(routing_pb2.GetRoutingConfigRequest())
        assert admin.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)

    run(gateway, body, api_key=api_key)


# See test_client.py: each rate-limit call has a target of its own.
RATE_LIMITED = {"simulator.fail_status": "429", "simulator.retry_after": "7"}
ERROR_CASES = [
    pytest.param(("no-such-model", "no-such-model"), HELLO, {}, switchyard.NotFoundError, id="not found"),
    pytest.param(("auto", "auto"), [{"content": "Hi"}], {}, switchyard.InvalidArgumentError, id="invalid argument"),
    pytest.param(("limited-async-unary", "limited-async-stream"), HELLO, RATE_LIMITED, switchyard.RateLimitError,
                 id="rate limited"),
    pytest.param(("flaky", "flaky"), HELLO, {"simulator.fail_status": "503"}, switchyard.UnavailableError,
                 id="unavailable on every target"),
]


@pytest.mark.parametrize(("models", "messages", "metadata", "kind"), ERROR_CASES)
def test_errors_are_mapped(gateway: Gateway, models: tuple[str, str], messages: Any, metadata: dict[str, str],
                           kind: type[switchyard.SwitchyardError]) -> None:
    unary_model, stream_model = models

    async def body(client: switchyard.AsyncClient) -> None:
        with pytest.raises(kind) as unary:
            await client.chat(unary_model, messages, metadata=metadata)
        with pytest.raises(kind) as streamed:
            await collect(client.chat_stream(stream_model, messages, metadata=metadata))
        for err in (unary.value, streamed.value):
            if kind is switchyard.RateLimitError:
                assert err.retry_after == 7.0
            if kind is switchyard.InvalidArgumentError:
                assert err.param == "messages[0].role"

    run(gateway, body)


def test_timeouts(gateway: Gateway) -> None:
    slow = {"simulator.tokens": "20", "simulator.delay": "100ms"}

    async def body(client: switchyard.AsyncClient) -> None:
        with pytest.raises(switchyard.SwitchyardError) as unary:
            await client.chat("sim-small", HELLO, metadata=slow)
        assert unary.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        chunks: list[switchyard.ChatCompletionChunk] = []
        with pytest.raises(switchyard.SwitchyardError) as streamed:
            async for chunk in client.chat_stream("sim-small", HELLO, metadata=slow):
                chunks.append(chunk)
        assert streamed.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert chunks
        r = await client.chat("sim-small", HELLO, metadata=slow, timeout=30)
        assert r.usage.completion_tokens == 20

    run(gateway, body, timeout=0.3)
