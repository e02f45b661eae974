"""The synchronous client against a live gateway."""

from __future__ import annotations

import gc
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

import switchyard
from switchyard.v1 import models_pb2, routing_pb2

from conftest import Gateway

HELLO = [{"role": "user", "content": "Hello!"}]
SLOW = {"simulator.tokens": "300", "simulator.delay": "100ms"}  # 30 s if read to the end


@pytest.fixture
def client(gateway: Gateway) -> Iterator[switchyard.Client]:
    with switchyard.Client(gateway.target, api_key=gateway.api_key, timeout=30) as c:
        yield c


def stream_text(chunks: switchyard.ChatStream) -> tuple[str, list[switchyard.ChatCompletionChunk]]:
    got = list(chunks)
    return "".join(c.choices[0].delta.content for c in got if c.choices), got


def test_chat_answers_through_the_route(client: switchyard.Client) -> None:
    r = client.chat("auto", [{"role": "system", "content": "Be brief."}, *HELLO])
    assert isinstance(r, switchyard.ChatCompletion)
    assert r.object == "chat.completion"
    assert len(r.choices) == 1
    msg = r.choices[0].message
    assert msg.role == "assistant"
    assert msg.content.startswith("Simulated reply from sim-small")
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == 12
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    sw = r.switchyard
    assert (sw.route, sw.provider, sw.upstream_model, sw.attempts) == ("auto", "sim", "sim-small", 1)
    assert sw.cost_usd > 0


def test_chat_accepts_messages_as_protos_or_dicts(client: switchyard.Client) -> None:
    as_dict = client.chat("sim-large", HELLO)
    as_proto = client.chat("sim-large", [switchyard.ChatMessage(role="user", content="Hello!")])
    assert as_dict.choices[0].message.content == as_proto.choices[0].message.content


def test_chat_sends_params(client: switchyard.Client) -> None:
    # The simulator honours metadata overrides: 3 words instead of 12.
    r = client.chat("auto", HELLO, metadata={"simulator.tokens": "3"}, temperature=0.2, max_tokens=50,
                    switchyard={"route": "auto", "cache_control": "CACHE_CONTROL_NO_CACHE"}, seed=None)
    assert r.usage.completion_tokens == 3
    # The route override beats the model name.
    r = client.chat("sim-large", HELLO, switchyard=switchyard.RequestOptions(route="auto"))
    assert r.switchyard.route == "auto"
    assert r.switchyard.upstream_model == "sim-small"


def test_chat_rejects_unknown_params_before_sending(client: switchyard.Client) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'temprature'"):
        client.chat("auto", HELLO, temprature=0.5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'stream'"):
        client.chat("auto", HELLO, stream=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="temperature"):
        client.chat("auto", HELLO, temperature="hot")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="messages"):
        client.chat("auto", "Hello!")  # type: ignore[arg-type]


def test_chat_stream_yields_the_unary_answer(client: switchyard.Client) -> None:
    unary = client.chat("sim-large", HELLO)
    text, chunks = stream_text(client.chat_stream("sim-large", HELLO, stream_options={"include_usage": True}))
    assert text == unary.choices[0].message.content
    assert len(chunks) > 3
    assert all(isinstance(c, switchyard.ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].HasField("finish_reason")]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert not last.choices and last.usage.completion_tokens == 12


def test_closing_a_stream_cancels_the_call(client: switchyard.Client) -> None:
    start = time.monotonic()
    with client.chat_stream("sim-small", HELLO, metadata=SLOW) as stream:
        first = next(stream)
        assert first.choices[0].delta.role == "assistant"
    assert time.monotonic() - start < 5
    assert stream.call.code() == grpc.StatusCode.CANCELLED
    # Reading on after close reports the cancellation as a SwitchyardError.
    with pytest.raises(switchyard.SwitchyardError) as err:
        next(stream)
    assert err.value.code == grpc.StatusCode.CANCELLED


def test_a_stream_dropped_unfinished_is_cancelled(client: switchyard.Client) -> None:
    start = time.monotonic()
    stream = client.chat_stream("sim-small", HELLO, metadata=SLOW)
    call = stream.call
    for _ in stream:
        break
    del stream  # as after `for chunk in client.chat_stream(...): break`
    gc.collect()
    assert call.code() == grpc.StatusCode.CANCELLED
    assert time.monotonic() - start < 5
    assert client.chat("sim-small", HELLO).choices[0].message.content


def test_models(client: switchyard.Client) -> None:
    models = {m.id: m for m in client.list_models()}
    assert {"auto", "flaky", "sim-small", "sim-large"} <= models.keys()
    assert models["auto"].alias and not models["sim-small"].alias
    m = client.get_model("sim-large")
    assert isinstance(m, switchyard.Model)
    assert (m.id, m.owned_by, list(m.providers)) == ("sim-large", "sim", ["sim"])


def test_embeddings(client: switchyard.Client) -> None:
    r = client.embeddings("sim-small", ["alpha", "beta", "alpha"])
    assert isinstance(r, switchyard.CreateEmbeddingsResponse)
    assert [e.index for e in r.data] == [0, 1, 2]
    for e in r.data:
        assert len(e.embedding) == 16
        assert math.isclose(sum(v * v for v in e.embedding), 1.0, rel_tol=1e-3)
    assert list(r.data[0].embedding) == list(r.data[2].embedding)
    assert list(r.data[0].embedding) != list(r.data[1].embedding)
    assert r.usage.prompt_tokens > 0
    single = client.embeddings("sim-small", "alpha", dimensions=8)
    assert len(single.data) == 1 and len(single.data[0].embedding) == 8


@pytest.mark.parametrize(
    ("api_key", "ok"),
    [("sk-sdk-python-test-0123456789", True), (None, False), ("sk-wrong-key-0123456789", False)],
    ids=["correct key", "missing key", "wrong key"],
)
def test_api_key(gateway: Gateway, api_key: str | None, ok: bool) -> None:
    with switchyard.Client(gateway.target, api_key=api_key, timeout=30) as c:
        calls = {
            "chat": lambda: c.chat("auto", HELLO),
            "chat_stream": lambda: list(c.chat_stream("auto", HELLO)),
            "list_models": c.list_models,
            "get_model": lambda: c.get_model("auto"),
            "embeddings": lambda: c.embeddings("sim-small", "x"),
        }
        for name, call in calls.items():
            if ok:
                call()
            else:
                with pytest.raises(switchyard.UnauthenticatedError) as err:
                    call()
                assert err.value.code == grpc.StatusCode.UNAUTHENTICATED, name
                assert "API key" in err.value.message, name
        # The raw stubs carry the key too; their errors stay grpc.RpcError.
        if ok:
            models = c.model_service.ListModels(models_pb2.ListModelsRequest())
            assert models is not None
        else:
            with pytest.raises(grpc.RpcError) as raw:
                c.model_service.ListModels(models_pb2.ListModelsRequest())
            mapped = switchyard.SwitchyardError.from_rpc_error(raw.value)
            assert isinstance(mapped, switchyard.UnauthenticatedError)
        # Admin services need the admin key: a client key is refused.
        with pytest.raises(grpc.RpcError) as admin:
            c.routing_config_service.GetRoutingConfig(routing_pb2.GetRoutingConfigRequest())
        assert admin.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


# A rate-limited target stays ejected for its Retry-After, so each
# rate-limit call has a target of its own; "flaky" fails on every target
# (see switchyard.yaml). Healthy models never see an injected fault.
RATE_LIMITED = {"simulator.fail_status": "429", "simulator.retry_after": "7"}
ERROR_CASES = [
    pytest.param(("no-such-model", "no-such-model"), HELLO, {}, switchyard.NotFoundError, grpc.StatusCode.NOT_FOUND,
                 id="not found"),
    pytest.param(("auto", "auto"), [{"content": "Hi"}], {}, switchyard.InvalidArgumentError,
                 grpc.StatusCode.INVALID_ARGUMENT, id="invalid argument"),
    pytest.param(("limited-sync-unary", "limited-sync-stream"), HELLO, RATE_LIMITED, switchyard.RateLimitError,
                 grpc.StatusCode.RESOURCE_EXHAUSTED, id="rate limited"),
    pytest.param(("flaky", "flaky"), HELLO, {"simulator.fail_status": "503"}, switchyard.UnavailableError,
                 grpc.StatusCode.UNAVAILABLE, id="unavailable on every target"),
]


@pytest.mark.parametrize(("models", "messages", "metadata", "kind", "code"), ERROR_CASES)
def test_errors_are_mapped(client: switchyard.Client, models: tuple[str, str], messages: Any,
                           metadata: dict[str, str], kind: type[switchyard.SwitchyardError],
                           code: grpc.StatusCode) -> None:
    unary_model, stream_model = models
    with pytest.raises(kind) as unary:
        client.chat(unary_model, messages, metadata=metadata)
    with pytest.raises(kind) as streamed:
        for _ in client.chat_stream(stream_model, messages, metadata=metadata):
            pytest.fail("a failing stream yielded a chunk")
    for err in (unary.value, streamed.value):
        assert isinstance(err, switchyard.SwitchyardError)
        assert err.code == code
        assert err.message and str(err).startswith(code.name)
        if kind is switchyard.RateLimitError:
            assert err.retry_after == 7.0
        if kind is switchyard.InvalidArgumentError:
            assert err.param == "messages[0].role"


def test_get_model_not_found(client: switchyard.Client) -> None:
    with pytest.raises(switchyard.NotFoundError, match="gpt-99"):
        client.get_model("gpt-99")


def test_timeouts(gateway: Gateway) -> None:
    slow = {"simulator.tokens": "20", "simulator.delay": "100ms"}
    with switchyard.Client(gateway.target, api_key=gateway.api_key, timeout=0.3) as c:
        start = time.monotonic()
        with pytest.raises(switchyard.SwitchyardError) as unary:
            c.chat("sim-small", HELLO, metadata=slow)
        assert unary.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        chunks = []
        with pytest.raises(switchyard.SwitchyardError) as streamed:
            for chunk in c.chat_stream("sim-small", HELLO, metadata=slow):
                chunks.append(chunk)
        assert streamed.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert chunks, "the stream should yield chunks before its deadline"
        assert time.monotonic() - start < 3
        # A per-call timeout overrides the client's.
        assert c.chat("sim-small", HELLO, metadata=slow, timeout=30).usage.completion_tokens == 20


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_gateway_is_unavailable() -> None:
    with switchyard.Client(f"127.0.0.1:{_unused_port()}", timeout=5) as c:
        with pytest.raises(switchyard.UnavailableError):
            c.list_models()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "http://127.0.0.1:8080"}, "host:port"),
        ({"target": ""}, "host:port"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"api_key": "sk-abc\r\nx-evil: 1"}, "line breaks"),
    ],
)
def test_client_rejects_bad_settings(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        switchyard.Client(**kwargs)  # type: ignore[arg-type]
