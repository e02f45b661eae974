"""The official google-genai Python SDK against Switchyard's Gemini ingress.

Run by scripts/test-sdkcompat.sh with a live gateway at SWITCHYARD_BASE_URL;
the simulator behind it speaks no Gemini: every answer went through the
canonical model and back into Google's shape.
"""

import os

import pytest
from google import genai
from google.genai import errors, types

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL,
    reason="SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh",
)

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city.",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)


@pytest.fixture
def client():
    # The SDK adds /v1beta/models/... itself: its base URL is the gateway root.
    return genai.Client(
        api_key="sk-test",
        http_options=types.HttpOptions(base_url=BASE_URL.removesuffix("/v1"), retry_options=None),
    )


def test_generate_content(client):
    r = client.models.generate_content(
        model="auto",
        contents="Name three prime numbers.",
        config=types.GenerateContentConfig(system_instruction="Be terse.", max_output_tokens=64),
    )
    assert r.text
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.usage_metadata.prompt_token_count > 0
    assert r.usage_metadata.candidates_token_count > 0


def test_stream_matches_unary(client):
    unary = client.models.generate_content(model="auto", contents="Hello")
    chunks = list(client.models.generate_content_stream(model="auto", contents="Hello"))
    assert len(chunks) > 1
    assert "".join(c.text or "" for c in chunks) == unary.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.candidates_token_count == unary.usage_metadata.candidates_token_count


def test_max_output_tokens_cut(client):
    r = client.models.generate_content(
        model="auto", contents="Hello", config=types.GenerateContentConfig(max_output_tokens=3)
    )
    assert r.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert r.usage_metadata.candidates_token_count == 3


def test_count_tokens(client):
    r = client.models.count_tokens(model="auto", contents="Hello there, how are you?")
    assert r.total_tokens > 0


def test_function_call_round_trip(client):
    tools = [types.Tool(function_declarations=[WEATHER])]
    forced = types.GenerateContentConfig(
        tools=tools,
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    r = client.models.generate_content(model="auto", contents=[question], config=forced)
    calls = r.function_calls
    assert calls and calls[0].name == "get_weather" and isinstance(calls[0].args, dict)
    # The SDK sends parameters_json_schema by its Python name; the schema
    # reached the model (the simulator fills its first required property).
    assert "city" in calls[0].args
    answer = client.models.generate_content(
        model="auto",
        contents=[
            question,
            r.candidates[0].content,
            types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"sky": "sunny"})]),
        ],
        config=types.GenerateContentConfig(tools=tools),
    )
    assert answer.text and not answer.function_calls


def test_streamed_function_call_comes_whole(client):
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    calls = [fc for c in client.models.generate_content_stream(model="auto", contents="Weather?", config=config) for fc in (c.function_calls or [])]
    assert len(calls) == 1 and calls[0].name == "get_weather"


def test_models_list():
    # On Google's v1 paths GET /v1/models is OpenAI's list; Gemini's is under v1beta.
    client = genai.Client(api_key="sk-test", http_options=types.HttpOptions(base_url=BASE_URL.removesuffix("/v1"), api_version="v1beta"))
    names = [m.name for m in client.models.list()]
    assert "models/auto" in names


def test_unknown_model_is_not_found(client):
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model="no-such-model", contents="hi")
    assert e.value.code == 404 and e.value.status == "NOT_FOUND"


def test_upstream_failure_maps_to_server_error(client):
    with pytest.raises(errors.ServerError) as e:
        client.models.generate_content(model="fault503-anthropic", contents="hi")
    assert e.value.code == 503


def test_image_and_sampling_settings(client):
    # inlineData goes out with mime_type, thinkingConfig with
    # thinking_budget and topK as a float: Google's names both ways.
    r = client.models.generate_content(
        model="auto",
        contents=[types.Part.from_bytes(data=b"\x89PNG\r\n", mime_type="image/png"), "What is this?"],
        config=types.GenerateContentConfig(
            temperature=0.2, top_p=0.9, top_k=40, seed=7, stop_sequences=["END"],
            thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True),
        ),
    )
    assert r.text and r.candidates[0].finish_reason == types.FinishReason.STOP


def test_bad_request_is_client_error(client):
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(
            model="auto",
            contents="hi",
            config=types.GenerateContentConfig(
                tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY", allowed_function_names=["nope"])),
                tools=[types.Tool(function_declarations=[WEATHER])],
            ),
        )
    assert e.value.code == 400 and e.value.status == "INVALID_ARGUMENT"
