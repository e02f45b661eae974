"""The official `openai` Python SDK through Switchyard to each provider format.

scripts/test-providers.sh starts the fake upstream (loadtest/fakeupstream),
which speaks the OpenAI, Anthropic and Gemini wire formats, and a gateway
whose three providers (test/providers/switchyard.yaml) all point at it: one
per format, serving `fake-gpt`, `fake-claude` and `fake-gemini`. It sets
SWITCHYARD_BASE_URL (the gateway's /v1) and FAKE_UPSTREAM_URL.

Every case runs once per model and asserts the same shape, so a translation
that differs from OpenAI's behaviour shows up as one model failing. The fake
counts whitespace-separated words as tokens, which lets the usage checks be
exact. Upstream requests are inspected through the fake's records endpoint.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import openai
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")
FAKE_URL = os.environ.get("FAKE_UPSTREAM_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL or not FAKE_URL,
    reason="SWITCHYARD_BASE_URL / FAKE_UPSTREAM_URL not set; run scripts/test-providers.sh",
)

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
# Bounded: a hung gateway fails the test instead of hanging the suite.
TIMEOUT = 20.0

SYSTEM = "You are a terse assistant."
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone.",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
}
TOOL_NAMES = {"get_weather", "get_time"}


def words(text: str) -> int:
    return len(text.split())


def messages(prompt: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


def prompt_words(msgs: list[dict[str, Any]]) -> int:
    return sum(words(m["content"]) for m in msgs if isinstance(m.get("content"), str))


def marker() -> str:
    return "m" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def client() -> openai.OpenAI:
    c = openai.OpenAI(base_url=BASE_URL, api_key="sk-test", timeout=TIMEOUT, max_retries=0)
    yield c
    c.close()


def records(**params: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{FAKE_URL}/_control/records", params=params, timeout=TIMEOUT)
    r.raise_for_status()
    return r.json()["records"]


def assert_usage(usage: Any, prompt: int, completion: int) -> None:
    assert usage is not None, "no usage"
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0 and usage.total_tokens > 0, usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage
    # The fake counts words: usage must be what it reported, not an estimate.
    assert usage.prompt_tokens == prompt, (usage, prompt)
    assert usage.completion_tokens == completion, (usage, completion)


@pytest.mark.parametrize("model", MODELS)
def test_unary_answer(client: openai.OpenAI, model: str) -> None:
    msgs = messages("Name three prime numbers.")
    r = client.chat.completions.create(model=model, messages=msgs)
    assert r.object == "chat.completion"
    assert r.id
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert choice.finish_reason == "stop"
    assert_usage(r.usage, prompt_words(msgs), words(choice.message.content))


@pytest.mark.parametrize("model", MODELS)
def test_stream_with_usage(client: openai.OpenAI, model: str) -> None:
    msgs = messages("Count to five.")
    stream = client.chat.completions.create(
        model=model, messages=msgs, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks, "empty stream"
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant", with_choices[0]
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert text.strip(), "no text streamed"
    finishes = [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason]
    assert finishes == ["stop"], finishes
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1, f"{len(usage_chunks)} usage chunks"
    assert usage_chunks[0] is chunks[-1], "the usage chunk is not the last"
    assert chunks[-1].choices == []
    assert_usage(chunks[-1].usage, prompt_words(msgs), words(text))
    assert len({c.id for c in chunks}) == 1, "chunks of one stream carry different ids"


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_unary(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(
        model=model,
        messages=messages("What is the weather and the time in Paris?"),
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    calls = choice.message.tool_calls
    assert calls, "no tool_calls"
    assert calls[0].function.name in TOOL_NAMES
    for call in calls:
        assert call.id and call.type == "function"
        args = json.loads(call.function.arguments)
        assert isinstance(args, dict), call.function.arguments
    assert not choice.message.content
    assert r.usage and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_stream_reassembles_by_index(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model,
        messages=messages("What is the weather and the time in Paris?"),
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict[str, str]] = {}
    finishes = []
    first_role = None
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if first_role is None:
            first_role = delta.role
        if chunk.choices[0].finish_reason:
            finishes.append(chunk.choices[0].finish_reason)
        for tc in delta.tool_calls or []:
            slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            if tc.id:
                slot["id"] = tc.id
            if tc.function and tc.function.name:
                slot["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                slot["arguments"] += tc.function.arguments
    assert first_role == "assistant"
    assert finishes == ["tool_calls"], finishes
    assert calls, "no tool-call deltas"
    assert sorted(calls) == list(range(len(calls))), f"indexes {sorted(calls)} are not 0..n-1"
    for i, c in calls.items():
        assert c["id"], f"call {i} has no id"
        assert c["name"] in TOOL_NAMES, c
        assert isinstance(json.loads(c["arguments"]), dict), f"call {i} arguments {c['arguments']!r}"
    assert usage is not None and usage.completion_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_aborted_upstream_stream_raises(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model,
        messages=messages("[[fake:abort_after=3]] Tell me a story."),
        stream=True,
        stream_options={"include_usage": True},
    )
    got = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices:
                got.append(chunk.choices[0])
    assert any(c.delta.content for c in got), "no content before the cut"
    assert not any(c.finish_reason for c in got), "a cut stream reported a finish_reason"


def test_anthropic_upstream_requests_are_well_formed(client: openai.OpenAI) -> None:
    m = marker()
    msgs = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Hi."},
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": f"{m} What now?"},
    ]
    client.chat.completions.create(model="fake-claude", messages=msgs)
    list(client.chat.completions.create(model="fake-claude", messages=msgs, stream=True))
    recs = records(format="anthropic", contains=m)
    assert len(recs) == 2, f"{len(recs)} upstream requests"
    for rec in recs:
        assert rec["path"] == "/v1/messages"
        body = rec["json"]
        roles = [msg["role"] for msg in body["messages"]]
        assert "system" not in roles, roles
        assert set(roles) <= {"user", "assistant"}, roles
        assert SYSTEM in json.dumps(body.get("system")), body.get("system")
        assert isinstance(body.get("max_tokens"), int) and body["max_tokens"] > 0, body.get("max_tokens")
        assert body["model"] == "fake-claude"
        headers = {k.lower(): v for k, v in rec["headers"].items()}
        assert headers.get("anthropic-version", [""])[0], headers
        assert headers.get("x-api-key", [""])[0], "no x-api-key"
    assert [r["json"].get("stream", False) for r in recs] == [False, True]


def test_gemini_upstream_requests_are_well_formed(client: openai.OpenAI) -> None:
    m = marker()
    msgs = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": f"{m} What now?"},
    ]
    client.chat.completions.create(model="fake-gemini", messages=msgs)
    list(client.chat.completions.create(model="fake-gemini", messages=msgs, stream=True))
    recs = records(format="gemini", contains=m)
    assert len(recs) == 2, f"{len(recs)} upstream requests"
    assert recs[0]["path"].endswith("/fake-gemini:generateContent"), recs[0]["path"]
    assert recs[1]["path"].endswith("/fake-gemini:streamGenerateContent"), recs[1]["path"]
    assert "alt=sse" in recs[1]["query"]
    for rec in recs:
        body = rec["json"]
        roles = [c.get("role") for c in body["contents"]]
        assert roles == ["user", "model", "user"], roles
        assert SYSTEM in json.dumps(body.get("systemInstruction")), body.get("systemInstruction")
        headers = {k.lower(): v for k, v in rec["headers"].items()}
        assert headers.get("x-goog-api-key", [""])[0], "no x-goog-api-key"


def test_openai_upstream_streams_ask_for_usage(client: openai.OpenAI) -> None:
    # Streams must never be billed as zero: the gateway asks the upstream for
    # usage even when the client did not.
    m = marker()
    list(client.chat.completions.create(model="fake-gpt", messages=messages(f"{m} Hi"), stream=True))
    recs = records(format="openai", contains=m)
    assert len(recs) == 1
    body = recs[0]["json"]
    assert body["stream"] is True
    assert body.get("stream_options", {}).get("include_usage") is True, body.get("stream_options")
    assert recs[0]["headers"]["Authorization"][0].startswith("Bearer ")
