"""The official google-genai Python SDK through Switchyard to each provider
format.

scripts/test-providers.sh starts the fake upstream and a gateway with three
providers (test/providers/switchyard.yaml): `fake-gpt` (OpenAI format),
`fake-claude` (translated to Messages) and `fake-gemini` (Gemini: a
generateContent client's body goes as written). Every case runs once per
model, so the SDK meets one same-dialect target and two translated ones.
The fake counts words as tokens, calls a tool only when tool_choice forces
it, and takes faults from a [[fake:...]] directive.
"""

from __future__ import annotations

import os

import pytest
from google import genai
from google.genai import errors, types

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(not BASE_URL, reason="SWITCHYARD_BASE_URL not set; run scripts/test-providers.sh")

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
# fault-<format>-<status> is a target of its own per format and status (switchyard.yaml).
FAULT = {"fake-gpt": "gpt", "fake-claude": "claude", "fake-gemini": "gemini"}
ROOT = BASE_URL.removesuffix("/v1")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def gemini() -> genai.Client:
    return genai.Client(api_key="sk-test", http_options=types.HttpOptions(base_url=ROOT, retry_options=None))


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
@pytest.mark.parametrize("status, error", [(400, errors.ClientError), (429, errors.ClientError), (503, errors.ServerError)])
def test_genai_upstream_errors_are_mapped(gemini: genai.Client, model: str, status: int, error: type) -> None:
    fault = f"[[fake:status={status},retry_after=1]]" if status == 429 else f"[[fake:status={status}]]"
    target = f"fault-{FAULT[model]}-{status}"
    with pytest.raises(error) as e:
        gemini.models.generate_content(model=target, contents=f"{fault} hi")
    assert e.value.code == status
    with pytest.raises(error) as e:
        list(gemini.models.generate_content_stream(model=target, contents=f"{fault} hi"))
    assert e.value.code == status
