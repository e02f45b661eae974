"""The official `openai` Python SDK's Responses API through Switchyard to
each provider format.

scripts/test-providers.sh starts the fake upstream and a gateway with three
providers (test/providers/switchyard.yaml): `fake-gpt` (type openai: the
request goes to the fake's /v1/responses with the client's body), and
`fake-claude` and `fake-gemini` (translated to Messages and generateContent
and back into the Responses shape). Every case runs once per model. The fake
counts words as tokens, calls a tool only when tool_choice forces it, and
takes faults from a [[fake:...]] directive in the last user text, since the
gateway forwards no client headers upstream.
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
# Where each model's requests land upstream, and how a tool result looks there.
UPSTREAM = {
    "fake-gpt": ("openai", "/v1/responses"),
    "fake-claude": ("anthropic", "/v1/messages"),
    "fake-gemini": ("gemini", "/v1beta/models/fake-gemini:"),
}
TIMEOUT = 20.0
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}


def words(text: str) -> int:
    return len(text.split())


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


def upstream(model: str, m: str) -> list[dict[str, Any]]:
    fmt, path = UPSTREAM[model]
    recs = records(format=fmt, contains=m)
    assert recs and all(r["path"].startswith(path) for r in recs), [r["path"] for r in recs]
    return recs


@pytest.mark.parametrize("model", MODELS)
def test_responses_unary(client: openai.OpenAI, model: str) -> None:
    m = marker()
    r = client.responses.create(model=model, instructions="Be terse.", input=f"{m} Name three prime numbers.")
    assert r.id.startswith("resp_") and r.object == "response" and r.status == "completed"
    assert r.model == model
    assert [o.type for o in r.output] == ["message"]
    assert r.output_text.strip()
    # The fake's own counts: instructions and input in, the words it wrote out.
    assert r.usage.input_tokens == 2 + 5, r.usage
    assert r.usage.output_tokens == words(r.output_text), r.usage
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    (rec,) = upstream(model, m)
    assert "Be terse." in json.dumps(rec["json"])


@pytest.mark.parametrize("model", MODELS)
def test_responses_stream(client: openai.OpenAI, model: str) -> None:
    events = list(client.responses.create(model=model, input="Count to five.", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "response.completed", types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    for t in ("response.output_item.added", "response.content_part.added", "response.output_text.done",
              "response.content_part.done", "response.output_item.done"):
        assert types.count(t) == 1, (t, types)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text.strip()
    final = events[-1].response
    assert final.status == "completed" and final.output_text == text
    assert final.id == events[0].response.id
    assert final.usage.input_tokens == 3 and final.usage.output_tokens == words(text), final.usage
    # The SDK's stream helper agrees.
    with client.responses.stream(model=model, input="Count to five.") as s:
        for _ in s:
            pass
        assert s.get_final_response().output_text.strip()


@pytest.mark.parametrize("model", MODELS)
def test_responses_function_tool_round_trip(client: openai.OpenAI, model: str) -> None:
    r = client.responses.create(model=model, input="What is the weather in Paris?", tools=[WEATHER], tool_choice="required")
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather", r.output
    assert calls[0].call_id and calls[0].id.startswith("fc_")
    args = json.loads(calls[0].arguments)
    assert isinstance(args["city"], str) and args.get("unit", "celsius") == "celsius"
    assert r.usage.output_tokens > 0

    m = marker()
    answer = client.responses.create(
        model=model,
        previous_response_id=r.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": f"{m} sunny"}],
        tools=[WEATHER],
    )
    assert answer.status == "completed" and answer.output_text.strip()
    assert answer.previous_response_id == r.id
    # The upstream saw the whole chain: the question, the call, its result.
    (rec,) = upstream(model, m)
    body = json.dumps(rec["json"])
    assert "What is the weather in Paris?" in body and "get_weather" in body
    assert {"fake-gpt": "function_call_output", "fake-claude": "tool_result", "fake-gemini": "functionResponse"}[model] in body


@pytest.mark.parametrize("model", MODELS)
def test_responses_streamed_function_call(client: openai.OpenAI, model: str) -> None:
    events = list(client.responses.create(model=model, input="Weather in Oslo?", tools=[WEATHER], tool_choice="required", stream=True))
    types = [e.type for e in events]
    assert types[-1] == "response.completed", types
    assert "response.function_call_arguments.done" in types
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert deltas == done.arguments and isinstance(json.loads(done.arguments), dict)
    call = next(o for o in events[-1].response.output if o.type == "function_call")
    assert call.name == "get_weather" and call.arguments == done.arguments


@pytest.mark.parametrize("fmt", ["gpt", "claude", "gemini"])
@pytest.mark.parametrize(
    "status, error",
    [(400, openai.BadRequestError), (429, openai.RateLimitError), (503, openai.InternalServerError)],
)
def test_responses_upstream_errors_are_mapped(client: openai.OpenAI, fmt: str, status: int, error: type) -> None:
    # fault-<format>-<status> is a target of its own (switchyard.yaml).
    model = f"fault-{fmt}-{status}"
    fault = f"[[fake:status={status},retry_after=1]]" if status == 429 else f"[[fake:status={status}]]"
    with pytest.raises(error) as e:
        client.responses.create(model=model, input=f"{fault} Hello")
    assert e.value.status_code == status
    assert "upstream status" in e.value.message or "rate-limited" in e.value.message, e.value.message
    if status == 429:  # the upstream's Retry-After reaches the client
        assert int(e.value.response.headers.get("retry-after", "0")) >= 1, dict(e.value.response.headers)
    # A stream that fails before its first event gets the status too.
    with pytest.raises(error) as e:
        list(client.responses.create(model=model, input=f"{fault} Hello", stream=True))
    assert e.value.status_code == status


@pytest.mark.parametrize("model", MODELS)
def test_responses_aborted_stream_ends_failed(client: openai.OpenAI, model: str) -> None:
    events = list(client.responses.create(model=model, input="[[fake:abort_after=3]] Tell me a story.", stream=True))
    types = [e.type for e in events]
    assert "response.output_text.delta" in types, types
    assert types[-1] == "response.failed" and "response.completed" not in types, types
    assert events[-1].response.status == "failed" and events[-1].response.error.message


def test_responses_chain_crosses_formats(client: openai.OpenAI) -> None:
    # A chain started on one format goes on on the others: the store holds
    # it in the Responses shape, not any upstream's.
    first = client.responses.create(model="fake-claude", input="Hello.")
    m = marker()
    second = client.responses.create(model="fake-gemini", input=f"{m} And now?", previous_response_id=first.id)
    third = client.responses.create(model="fake-gpt", input=f"{m} Once more.", previous_response_id=second.id)
    assert third.output_text.strip()
    (gem,) = upstream("fake-gemini", m)
    assert [c["role"] for c in gem["json"]["contents"]] == ["user", "model", "user"]
    assert first.output_text in json.dumps(gem["json"])
    (gpt,) = upstream("fake-gpt", m + " Once")
    assert "previous_response_id" not in gpt["json"]
    assert [i.get("role") for i in gpt["json"]["input"]] == ["user", "assistant", "user", "assistant", "user"]


CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
CITY_FORMAT = {"type": "json_schema", "name": "city", "schema": CITY_SCHEMA, "strict": True}
# Where each format carries the schema upstream.
FORWARDED_SCHEMA = {
    "fake-gpt": lambda b: (b.get("text") or {}).get("format", {}).get("schema"),
    # Anthropic: native structured outputs (output_format beta, output_config
    # GA), or a forced tool whose input is the schema.
    "fake-claude": lambda b: (
        (b.get("output_format") or (b.get("output_config") or {}).get("format") or {}).get("schema")
        or next((t.get("input_schema") for t in b.get("tools") or []
                 if (b.get("tool_choice") or {}).get("type") == "tool" and t.get("name") == b["tool_choice"].get("name")), None)
    ),
    "fake-gemini": lambda b: (b.get("generationConfig") or {}).get("responseJsonSchema"),
}


@pytest.mark.parametrize("model", MODELS)
def test_responses_json_schema_text_format(client: openai.OpenAI, model: str) -> None:
    # The fake writes its fixed words whatever the schema, so the answer is
    # not JSON: checked are what the upstream was asked and what the SDK got.
    m = marker()
    r = client.responses.create(model=model, input=f"{m} Name a city and its population.", text={"format": CITY_FORMAT})
    assert r.status == "completed" and r.output_text.strip()
    if r.output_text.lstrip().startswith("{"):  # the fake writes JSON only as a forced tool's arguments
        city = json.loads(r.output_text)
        assert isinstance(city["city"], str) and isinstance(city["population"], int), city
    assert r.text.format.type == "json_schema" and r.text.format.name == "city"
    assert r.text.format.schema_ == CITY_SCHEMA
    events = list(client.responses.create(model=model, input=f"{m} Again.", text={"format": CITY_FORMAT}, stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.text.format.type == "json_schema"
    recs = upstream(model, m)
    assert len(recs) == 2
    for rec in recs:
        assert FORWARDED_SCHEMA[model](rec["json"]) == CITY_SCHEMA, rec["json"]
        if model == "fake-gemini":
            assert rec["json"]["generationConfig"]["responseMimeType"] == "application/json"


@pytest.mark.parametrize("model", MODELS)
def test_responses_previous_response_id_chain(client: openai.OpenAI, model: str) -> None:
    m = marker()
    first = client.responses.create(model=model, input=f"{m} one two three")
    second = client.responses.create(model=model, input=f"{m} four five", previous_response_id=first.id)
    third = client.responses.create(model=model, input=f"{m} six", previous_response_id=second.id, stream=True)
    final = list(third)[-1].response
    assert second.previous_response_id == first.id and final.previous_response_id == second.id
    # The fake counted every earlier turn: 4 + 3 + 2 input words and both answers.
    assert final.usage.input_tokens == 9 + first.usage.output_tokens + second.usage.output_tokens, final.usage
    (rec,) = upstream(model, f"{m} six")
    assert "previous_response_id" not in rec["json"]
    body = json.dumps(rec["json"])
    for part in (f"{m} one two three", f"{m} four five", first.output_text, second.output_text):
        assert part in body, part
