"""LiteLLM as a client: `litellm.completion(model="openai/<model>",
api_base=<gateway>)` through Switchyard's Chat Completions ingress to each
provider format, as LiteLLM SDK users point it at any OpenAI-compatible
gateway. LiteLLM reads its model price map from the package
(LITELLM_LOCAL_MODEL_COST_MAP), since this machine reaches no other host.
Known gaps are strict xfails (plib.GAPS).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
import pytest  # noqa: E402

from plib import (  # noqa: E402
    BASE_URL, CITY_SCHEMA, MODELS, PDF_B64, STATUSES, TIMEOUT, check_city, check_pdf_upstream,
    check_reasoning_upstream, fault_model, fault_prompt, forwarded_schema, marker, needs_gateway,
    upstream,
)

pytestmark = needs_gateway

CITY_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True}}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def completion(model: str, prompt: str | list, **kw):
    msgs = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    return litellm.completion(
        model=f"openai/{model}", api_base=BASE_URL, api_key="sk-test", messages=msgs, timeout=TIMEOUT,
        num_retries=0, max_retries=0, **kw,
    )


@pytest.mark.parametrize("model", MODELS)
def test_litellm_completion(model: str) -> None:
    m = marker()
    r = completion(model, [{"role": "system", "content": "Be terse."}, {"role": "user", "content": f"{m} Name three primes."}])
    text = r.choices[0].message.content
    assert text and text.strip()
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == 2 + 4 and r.usage.completion_tokens == len(text.split()), r.usage
    assert "Be terse." in json.dumps(upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_litellm_stream(model: str) -> None:
    chunks = list(completion(model, "Count to five.", stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes and finishes[-1] == "stop", finishes
    built = litellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.content == text
    assert built.usage.completion_tokens == len(text.split()), built.usage


@pytest.mark.parametrize("model", MODELS)
def test_litellm_tools_round_trip(model: str) -> None:
    question = {"role": "user", "content": "What is the weather in Paris?"}
    r = completion(model, [question], tools=[WEATHER_TOOL], tool_choice="required")
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments)["city"], str)
    answer = completion(model, [question, r.choices[0].message.model_dump(exclude_none=True),
                                {"role": "tool", "tool_call_id": call.id, "content": "sunny"}], tools=[WEATHER_TOOL])
    assert answer.choices[0].message.content and answer.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", MODELS)
def test_litellm_tools_stream(model: str) -> None:
    chunks = list(completion(model, "What is the weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required", stream=True))
    built = litellm.stream_chunk_builder(chunks)
    calls = built.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather", built
    assert isinstance(json.loads(calls[0].function.arguments)["city"], str)


@pytest.mark.parametrize("model", MODELS)
def test_litellm_response_format_reaches_upstream(model: str) -> None:
    m = marker()
    completion(model, f"{m} Weather in Paris?", response_format=CITY_FORMAT)
    assert forwarded_schema(model, upstream(model, m)[0]["json"]) == CITY_SCHEMA


@pytest.mark.parametrize("model", MODELS)
def test_litellm_response_format_json_schema(model: str) -> None:
    r = completion(model, "Weather in Paris?", response_format=CITY_FORMAT)
    check_city(r.choices[0].message.content)
    chunks = list(completion(model, "Weather in Paris?", response_format=CITY_FORMAT, stream=True))
    check_city("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))


@pytest.mark.parametrize("model", MODELS)
def test_litellm_reasoning_effort(model: str) -> None:
    m = marker()
    r = completion(model, f"{m} Think, then answer.", reasoning_effort="high", max_completion_tokens=4000)
    assert r.choices[0].message.content
    if model == "fake-gemini":  # the Gemini fake reports thought tokens
        assert r.usage.completion_tokens_details.reasoning_tokens > 0, r.usage
    check_reasoning_upstream(model, upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_litellm_logprobs(model: str) -> None:
    if model == "fake-claude":
        with pytest.raises(litellm.BadRequestError) as e:
            completion(model, "Hi", logprobs=True, top_logprobs=2)
        assert "logprobs" in str(e.value)
        return
    r = completion(model, "Say hello.", logprobs=True, top_logprobs=2)
    lp = r.choices[0].logprobs
    assert lp and lp.content and len(lp.content[0].top_logprobs) == 2, lp


@pytest.mark.parametrize("model", MODELS)
def test_litellm_n2(model: str) -> None:
    if model == "fake-claude":
        with pytest.raises(litellm.BadRequestError) as e:
            completion(model, "Hi", n=2)
        assert "n must be 1" in str(e.value) or "'n'" in str(e.value), e.value
        # The route fake-claude-fanout sets fan_out_n.
        r = completion("fake-claude-fanout", "Hi", n=2)
        assert [c.index for c in r.choices] == [0, 1] and all(c.message.content for c in r.choices), r.choices
        return
    r = completion(model, "Hi", n=2)
    assert [c.index for c in r.choices] == [0, 1], r.choices


@pytest.mark.parametrize("model", MODELS)
def test_litellm_file_pdf_part(model: str) -> None:
    m = marker()
    content = [
        {"type": "text", "text": f"{m} Summarise this document."},
        {"type": "file", "file": {"filename": "note.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}},
    ]
    r = completion(model, [{"role": "user", "content": content}])
    assert r.choices[0].message.content
    check_pdf_upstream(model, upstream(model, m)[0]["json"])


def embedding(model: str, inp):
    return litellm.embedding(model=f"openai/{model}", api_base=BASE_URL, api_key="sk-test", input=inp, timeout=TIMEOUT, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_litellm_embeddings_text(model: str) -> None:
    if model == "fake-claude":
        with pytest.raises(litellm.BadRequestError) as e:
            embedding(model, ["hello world"])
        assert "embeddings" in str(e.value)
        return
    r = embedding(model, ["hello world", "goodbye"])
    assert [d["index"] for d in r.data] == [0, 1] and all(d["embedding"] for d in r.data)


@pytest.mark.parametrize("model", MODELS)
def test_litellm_embeddings_token_arrays(model: str) -> None:
    if model != "fake-gpt":
        with pytest.raises(litellm.BadRequestError) as e:
            embedding(model, [[15339, 1917]])
        assert "input" in str(e.value) or "embeddings" in str(e.value), e.value
        return
    r = embedding(model, [[15339, 1917], [12199]])
    assert len(r.data) == 2 and all(d["embedding"] for d in r.data)


ERROR_CLASS = {400: litellm.BadRequestError, 429: litellm.RateLimitError, 503: litellm.ServiceUnavailableError}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("status", STATUSES)
def test_litellm_errors_map_to_litellm_exceptions(model: str, status: int) -> None:
    target = fault_model(model, status)
    with pytest.raises(ERROR_CLASS[status]) as e:
        completion(target, fault_prompt(status))
    assert e.value.status_code == status
    with pytest.raises(ERROR_CLASS[status]) as e:
        list(completion(target, fault_prompt(status), stream=True))
    assert e.value.status_code == status
