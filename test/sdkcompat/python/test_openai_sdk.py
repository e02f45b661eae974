"""The official `openai` Python SDK against a live Switchyard gateway.

The gateway runs the deterministic `simulator` provider (see
test/sdkcompat/switchyard.yaml); scripts/test-sdkcompat.sh starts it and sets
SWITCHYARD_BASE_URL. Every assertion here is something a real OpenAI client
relies on: response shapes the SDK parses, the error classes it raises per
status, the SSE framing it iterates, and the headers it surfaces.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from typing import Any

import httpx
import openai
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL,
    reason="SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh",
)

API_KEY = "sk-test"
# Bounded: a hung gateway fails the test instead of hanging the suite.
TIMEOUT = 30.0

MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Name three prime numbers."},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone.",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
        },
    },
}


@pytest.fixture(scope="module")
def client() -> openai.OpenAI:
    c = openai.OpenAI(base_url=BASE_URL, api_key=API_KEY, timeout=TIMEOUT)
    yield c
    c.close()


@pytest.fixture(scope="module")
def no_retry_client() -> openai.OpenAI:
    # The SDK retries 5xx/429 twice with backoff by default; fault tests want
    # the first answer, fast.
    c = openai.OpenAI(base_url=BASE_URL, api_key=API_KEY, timeout=TIMEOUT, max_retries=0)
    yield c
    c.close()


@pytest.fixture(scope="module")
def raw() -> httpx.Client:
    c = httpx.Client(base_url=BASE_URL.rstrip("/") + "/", timeout=TIMEOUT)
    yield c
    c.close()


def assert_error_envelope(body: Any) -> dict:
    """The OpenAI error JSON: {"error": {"message", "type", "param", "code"}}."""
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"message", "type", "param", "code"} <= set(err), err
    assert isinstance(err["message"], str) and err["message"], err
    assert isinstance(err["type"], str) and err["type"], err
    return err


def assert_valid_completion(resp: openai.types.chat.ChatCompletion) -> None:
    assert isinstance(resp.id, str) and resp.id
    assert resp.object == "chat.completion"
    assert isinstance(resp.created, int) and resp.created > 0
    assert isinstance(resp.model, str) and resp.model
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert choice.finish_reason == "stop"
    assert_usage(resp.usage)


def assert_usage(usage: Any) -> None:
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def collect_stream(stream) -> list:
    chunks = list(stream)
    assert chunks, "stream produced no chunks"
    return chunks


def stream_text(chunks: list) -> str:
    return "".join(
        c.choices[0].delta.content or "" for c in chunks if c.choices
    )


# --- chat: unary -----------------------------------------------------------


@pytest.mark.parametrize("model", ["sim-small", "auto"])
def test_chat_unary_has_openai_shape(client, model):
    resp = client.chat.completions.create(model=model, messages=MESSAGES)
    assert_valid_completion(resp)


def test_chat_unary_same_request_same_text(client):
    a = client.chat.completions.create(model="sim-small", messages=MESSAGES)
    b = client.chat.completions.create(model="sim-small", messages=MESSAGES)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.completion_tokens == b.usage.completion_tokens


# --- chat: streaming -------------------------------------------------------


@pytest.mark.parametrize("model", ["sim-small", "auto"])
def test_chat_stream_with_usage_matches_unary(client, model):
    unary = client.chat.completions.create(model=model, messages=MESSAGES)
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = collect_stream(stream)

    for c in chunks:
        assert c.object == "chat.completion.chunk"
        assert isinstance(c.id, str) and c.id
        assert c.model
    assert len({c.id for c in chunks}) == 1, "all chunks of one completion share its id"

    choice_chunks = [c for c in chunks if c.choices]
    assert choice_chunks, "no chunk carried a choice"
    assert choice_chunks[0].choices[0].delta.role == "assistant"
    assert stream_text(chunks) == unary.choices[0].message.content

    finishes = [c.choices[0].finish_reason for c in choice_chunks]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1]), finishes

    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1, f"want exactly one usage chunk, got {len(usage_chunks)}"
    last = usage_chunks[0]
    assert last is chunks[-1], "the usage chunk comes last"
    assert last.choices == []
    assert_usage(last.usage)
    assert last.usage.prompt_tokens == unary.usage.prompt_tokens
    assert last.usage.completion_tokens == unary.usage.completion_tokens


def test_chat_stream_without_include_usage_has_no_usage_chunk(client):
    chunks = collect_stream(
        client.chat.completions.create(model="sim-small", messages=MESSAGES, stream=True)
    )
    assert all(c.usage is None for c in chunks)
    assert all(len(c.choices) == 1 for c in chunks), "without include_usage every chunk has a choice"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert stream_text(chunks).strip()


# --- models ----------------------------------------------------------------


def test_models_list_contains_configured_ids(client):
    models = list(client.models.list())
    ids = {m.id for m in models}
    assert {"auto", "sim-small", "sim-large"} <= ids, ids
    for m in models:
        assert m.object == "model"
        assert isinstance(m.owned_by, str)
        assert isinstance(m.created, int)


def test_models_retrieve(client):
    m = client.models.retrieve("sim-small")
    assert m.id == "sim-small"
    assert m.object == "model"


def test_models_retrieve_unknown_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as ei:
        client.models.retrieve("no-such-model")
    assert ei.value.status_code == 404
    assert_error_envelope(ei.value.response.json())


# --- errors ----------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_unknown_model_is_not_found(client, stream):
    with pytest.raises(openai.NotFoundError) as ei:
        r = client.chat.completions.create(model="no-such-model", messages=MESSAGES, stream=stream)
        if stream:
            list(r)
    e = ei.value
    assert e.status_code == 404
    assert_error_envelope(e.response.json())
    assert e.message
    assert e.request_id, "error responses carry x-request-id too"


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_empty_messages_is_bad_request(client, stream):
    with pytest.raises(openai.BadRequestError) as ei:
        r = client.chat.completions.create(model="sim-small", messages=[], stream=stream)
        if stream:
            list(r)
    assert ei.value.status_code == 400
    err = assert_error_envelope(ei.value.response.json())
    assert err["type"] == "invalid_request_error"


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_upstream_503_surfaces_as_server_error(no_retry_client, stream):
    with pytest.raises(openai.InternalServerError) as ei:
        r = no_retry_client.chat.completions.create(
            model="fault503-py",
            messages=MESSAGES,
            stream=stream,
            metadata={"simulator.fail_status": "503"},
        )
        if stream:
            list(r)
    e = ei.value
    assert isinstance(e, openai.APIStatusError)
    assert e.status_code == 503
    assert_error_envelope(e.response.json())


def test_upstream_429_surfaces_as_rate_limit_with_retry_after(no_retry_client):
    with pytest.raises(openai.RateLimitError) as ei:
        no_retry_client.chat.completions.create(
            model="fault429-py",
            messages=MESSAGES,
            metadata={"simulator.fail_status": "429", "simulator.retry_after": "7"},
        )
    e = ei.value
    assert e.status_code == 429
    assert e.response.headers.get("retry-after") == "7"
    assert_error_envelope(e.response.json())


# --- tools and limits ------------------------------------------------------


def test_tool_choice_required_returns_tool_call(client):
    resp = client.chat.completions.create(
        model="sim-small",
        messages=[{"role": "user", "content": "What is the weather in Oslo?"}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert isinstance(call.id, str) and call.id
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)
    assert_usage(resp.usage)


def test_tool_choice_named_function_is_called(client):
    resp = client.chat.completions.create(
        model="sim-small",
        messages=[{"role": "user", "content": "What time is it in Tokyo?"}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [c.function.name for c in choice.message.tool_calls] == ["get_time"]
    assert isinstance(json.loads(choice.message.tool_calls[0].function.arguments), dict)


def test_tool_call_streams_as_deltas(client):
    chunks = collect_stream(
        client.chat.completions.create(
            model="sim-small",
            messages=[{"role": "user", "content": "What is the weather in Oslo?"}],
            tools=[WEATHER_TOOL],
            tool_choice="required",
            stream=True,
        )
    )
    # Accumulate the way SDK users do: by tool_call index.
    calls: dict[int, dict] = {}
    for c in chunks:
        if not c.choices:
            continue
        for tc in c.choices[0].delta.tool_calls or []:
            acc = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            if tc.id:
                acc["id"] = tc.id
            if tc.function and tc.function.name:
                acc["name"] += tc.function.name
            if tc.function and tc.function.arguments:
                acc["arguments"] += tc.function.arguments
    assert list(calls) == [0], calls
    assert calls[0]["id"]
    assert calls[0]["name"] == "get_weather"
    assert isinstance(json.loads(calls[0]["arguments"]), dict)
    assert [c for c in chunks if c.choices][-1].choices[0].finish_reason == "tool_calls"


def test_max_tokens_truncates_with_length(client):
    resp = client.chat.completions.create(model="sim-small", messages=MESSAGES, max_tokens=3)
    assert resp.choices[0].finish_reason == "length"
    assert 0 < resp.usage.completion_tokens <= 3
    full = client.chat.completions.create(model="sim-small", messages=MESSAGES)
    assert full.usage.completion_tokens > resp.usage.completion_tokens


def test_max_tokens_truncates_stream_with_length(client):
    chunks = collect_stream(
        client.chat.completions.create(
            model="sim-small",
            messages=MESSAGES,
            max_tokens=3,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert [c for c in chunks if c.choices][-1].choices[0].finish_reason == "length"
    assert 0 < chunks[-1].usage.completion_tokens <= 3


# --- async client ----------------------------------------------------------


def test_async_client_unary_and_stream():
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=BASE_URL, api_key=API_KEY, timeout=TIMEOUT) as ac:
            resp = await ac.chat.completions.create(model="sim-large", messages=MESSAGES)
            assert_valid_completion(resp)
            stream = await ac.chat.completions.create(
                model="sim-large",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            parts = []
            usage = None
            async for c in stream:
                assert c.object == "chat.completion.chunk"
                if c.choices:
                    parts.append(c.choices[0].delta.content or "")
                if c.usage is not None:
                    usage = c.usage
            assert_usage(usage)
            return resp.choices[0].message.content, "".join(parts)

    unary_text, streamed_text = asyncio.run(run())
    assert streamed_text == unary_text


def test_async_client_concurrent_requests():
    async def run() -> list[str]:
        async with openai.AsyncOpenAI(base_url=BASE_URL, api_key=API_KEY, timeout=TIMEOUT) as ac:
            rs = await asyncio.gather(
                *(ac.chat.completions.create(model="auto", messages=MESSAGES) for _ in range(8))
            )
            return [r.choices[0].message.content for r in rs]

    texts = asyncio.run(run())
    assert len(set(texts)) == 1 and texts[0]


# --- raw response and headers ---------------------------------------------


def test_with_raw_response_exposes_request_id(client):
    raw_resp = client.chat.completions.with_raw_response.create(model="sim-small", messages=MESSAGES)
    rid = raw_resp.headers.get("x-request-id")
    assert rid
    assert raw_resp.headers.get("content-type", "").startswith("application/json")
    completion = raw_resp.parse()
    assert_valid_completion(completion)
    assert completion._request_id == rid


def test_request_ids_are_unique_per_request(client):
    ids = {
        client.chat.completions.with_raw_response.create(model="sim-small", messages=MESSAGES).headers.get(
            "x-request-id"
        )
        for _ in range(3)
    }
    assert None not in ids and len(ids) == 3


# --- raw HTTP (no SDK) -----------------------------------------------------


def test_raw_malformed_json_is_invalid_request(raw):
    r = raw.post(
        "chat/completions",
        content=b'{"model": "sim-small", "messages": [',
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + API_KEY},
    )
    assert r.status_code == 400, r.text
    assert r.headers.get("content-type", "").startswith("application/json")
    err = assert_error_envelope(r.json())
    assert err["type"] == "invalid_request_error"


def test_raw_models_list_shape(raw):
    r = raw.get("models", headers={"Authorization": "Bearer " + API_KEY})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list"
    assert isinstance(body["data"], list) and body["data"]


def test_raw_stream_is_sse_ending_with_done(raw):
    with raw.stream(
        "POST",
        "chat/completions",
        json={"model": "sim-small", "messages": MESSAGES, "stream": True},
        headers={"Authorization": "Bearer " + API_KEY},
    ) as r:
        assert r.status_code == 200
        assert r.headers.get("content-type", "").startswith("text/event-stream")
        body = r.read().decode()
    events = [e for e in body.split("\n\n") if e.strip()]
    assert events[-1].strip() == "data: [DONE]"
    for e in events[:-1]:
        assert e.startswith("data: "), e
        assert json.loads(e[len("data: "):])["object"] == "chat.completion.chunk"


@pytest.mark.parametrize("encoding_format", ["float", "base64", None])
def test_embeddings(client, encoding_format):
    kwargs = {} if encoding_format is None else {"encoding_format": encoding_format}
    resp = client.embeddings.create(model="sim-small", input=["alpha", "beta"], dimensions=8, **kwargs)
    assert resp.object == "list"
    assert [d.index for d in resp.data] == [0, 1]
    for d in resp.data:
        if encoding_format == "base64":
            # Asked for explicitly, the SDK hands the base64 string through:
            # little-endian float32s, as OpenAI sends them.
            raw = base64.b64decode(d.embedding)
            d.embedding = list(struct.unpack("<%df" % (len(raw) // 4), raw))
        assert len(d.embedding) == 8
        assert abs(sum(x * x for x in d.embedding) - 1.0) < 1e-3  # unit length survives the encoding
    again = client.embeddings.create(model="sim-small", input=["alpha"], dimensions=8, encoding_format="float")
    assert again.data[0].embedding == pytest.approx(resp.data[0].embedding, rel=1e-6)
    assert resp.usage.prompt_tokens > 0
