"""The official Anthropic and google-genai Python SDKs through Switchyard to
each provider format.

scripts/test-providers.sh starts the fake upstream and a gateway with three
providers (test/providers/switchyard.yaml): `fake-gpt` (OpenAI format),
`fake-claude` (Anthropic: a Messages client's body goes as written) and
`fake-gemini` (Gemini: a generateContent client's body goes as written).
Every case runs once per model, so each SDK meets one same-dialect target and
two translated ones. The fake counts words as tokens, calls a tool only when
tool_choice forces it, and takes faults from a [[fake:...]] directive.
"""

from __future__ import annotations

import os

import anthropic
import pytest
from google import genai
from google.genai import errors, types

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(not BASE_URL, reason="SWITCHYARD_BASE_URL not set; run scripts/test-providers.sh")

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
FAULT = {"fake-gpt": "fault-gpt-400", "fake-claude": "fault-claude-400", "fake-gemini": "fault-gemini-400"}
ROOT = BASE_URL.removesuffix("/v1")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def claude() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=ROOT, api_key="sk-test", timeout=20.0, max_retries=0)


@pytest.fixture
def gemini() -> genai.Client:
    return genai.Client(api_key="sk-test", http_options=types.HttpOptions(base_url=ROOT, retry_options=None))


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
def test_anthropic_sdk_upstream_400_is_bad_request(claude: anthropic.Anthropic, model: str) -> None:
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model=FAULT[model], max_tokens=16, messages=[{"role": "user", "content": "[[fake:status=400]] hi"}])


@pytest.mark.parametrize("model", MODELS)
def test_genai_generate_and_stream(gemini: genai.Client, model: str) -> None:
    r = gemini.models.generate_content(model=model, contents="Hello there")
    assert r.text and r.usage_metadata.candidates_token_count == len(r.text.split())
    chunks = list(gemini.models.generate_content_stream(model=model, contents="Hello there"))
    assert "".join(c.text or "" for c in chunks) == r.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


@pytest.mark.parametrize("model", MODELS)
def test_genai_function_call_round_trip(gemini: genai.Client, model: str) -> None:
    decl = types.FunctionDeclaration(name="get_weather", description="Weather by city", parameters_json_schema=WEATHER_SCHEMA)
    tools = [types.Tool(function_declarations=[decl])]
    forced = types.GenerateContentConfig(
        tools=tools, tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    r = gemini.models.generate_content(model=model, contents=[question], config=forced)
    assert r.function_calls and r.function_calls[0].name == "get_weather" and "city" in r.function_calls[0].args
    answer = gemini.models.generate_content(
        model=model,
        contents=[question, r.candidates[0].content,
                  types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"sky": "sunny"})])],
        config=types.GenerateContentConfig(tools=tools, automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)),
    )
    assert answer.text and not answer.function_calls


@pytest.mark.parametrize("model", MODELS)
def test_genai_upstream_400_is_client_error(gemini: genai.Client, model: str) -> None:
    with pytest.raises(errors.ClientError) as e:
        gemini.models.generate_content(model=FAULT[model], contents="[[fake:status=400]] hi")
    assert e.value.code == 400
