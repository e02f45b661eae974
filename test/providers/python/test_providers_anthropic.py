"""The official Anthropic Python SDK through Switchyard to each provider
format.

scripts/test-providers.sh starts the fake upstream and a gateway with three
providers (test/providers/switchyard.yaml): `fake-gpt` (OpenAI format),
`fake-claude` (Anthropic: a Messages client's body goes as written) and
`fake-gemini` (translated to generateContent). Every case runs once per
model, so the SDK meets one same-dialect target and two translated ones.
The fake counts words as tokens, calls a tool only when tool_choice forces
it, and takes faults from a [[fake:...]] directive.
"""

from __future__ import annotations

import os

import anthropic
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(not BASE_URL, reason="SWITCHYARD_BASE_URL not set; run scripts/test-providers.sh")

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
# fault-<format>-<status> is a target of its own per format and status (switchyard.yaml).
FAULT = {"fake-gpt": "gpt", "fake-claude": "claude", "fake-gemini": "gemini"}
ROOT = BASE_URL.removesuffix("/v1")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def claude() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=ROOT, api_key="sk-test", timeout=20.0, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_sdk_create_and_stream(claude: anthropic.Anthropic, model: str) -> None:
    msg = claude.messages.create(model=model, max_tokens=64, system="Be terse.", messages=[{"role": "user", "content": "Hello there"}])
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.stop_reason == "end_turn" and msg.usage.output_tokens == len(msg.content[0].text.split())
    with claude.messages.stream(model=model, max_tokens=64, messages=[{"role": "user", "content": "Hello there"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == msg.content[0].text and final.usage.output_tokens == msg.usage.output_tokens


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_sdk_tool_round_trip(claude: anthropic.Anthropic, model: str) -> None:
    tools = [{"name": "get_weather", "description": "Weather by city", "input_schema": WEATHER_SCHEMA}]
    question = {"role": "user", "content": "Weather in Paris?"}
    msg = claude.messages.create(model=model, max_tokens=64, messages=[question], tools=tools, tool_choice={"type": "any"})
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert msg.stop_reason == "tool_use" and uses and uses[0].name == "get_weather" and "city" in uses[0].input
    answer = claude.messages.create(
        model=model, max_tokens=64, tools=tools,
        messages=[question, {"role": "assistant", "content": msg.content},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny"}]}],
    )
    assert answer.content[0].type == "text" and answer.content[0].text


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "status, error",
    [(400, anthropic.BadRequestError), (429, anthropic.RateLimitError), (503, anthropic.InternalServerError)],
)
def test_anthropic_sdk_upstream_errors_are_mapped(claude: anthropic.Anthropic, model: str, status: int, error: type) -> None:
    fault = f"[[fake:status={status},retry_after=1]]" if status == 429 else f"[[fake:status={status}]]"
    req = {"model": f"fault-{FAULT[model]}-{status}", "max_tokens": 16, "messages": [{"role": "user", "content": f"{fault} hi"}]}
    with pytest.raises(error) as e:
        claude.messages.create(**req)
    assert e.value.status_code == status
    if status == 429:
        assert int(e.value.response.headers.get("retry-after", "0")) >= 1
    with pytest.raises(error) as e:
        with claude.messages.stream(**req) as s:
            s.get_final_message()
    assert e.value.status_code == status
