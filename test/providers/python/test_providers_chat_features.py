"""The `openai` Python SDK's Chat Completions through Switchyard to each
provider format: the feature columns of the matrix test_providers.py does not
cover (structured output, reasoning, logprobs, n, files, embeddings, errors).

Each cell asserts two things where it can: what the SDK got, and what reached
the upstream (the fake's records), in the target's own form. Known gaps are
strict xfails (plib.GAPS), so a cell flips loudly when its piece lands.
"""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import BaseModel, ConfigDict

from plib import (
    BASE_URL, CITY_SCHEMA, MODELS, PDF_B64, STATUSES, TIMEOUT, WAV_B64, check_city, check_pdf_upstream,
    check_reasoning_upstream, fault_model, fault_prompt, forwarded_schema, marker, names_field, needs_gateway,
    upstream,
)

pytestmark = needs_gateway

CITY_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True}}


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str
    celsius: int


@pytest.fixture(scope="module")
def client() -> openai.OpenAI:
    c = openai.OpenAI(base_url=BASE_URL, api_key="sk-test", timeout=TIMEOUT, max_retries=0)
    yield c
    c.close()


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# --- structured output ------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_structured_json_schema_reaches_upstream_translated(client: openai.OpenAI, model: str) -> None:
    m = marker()
    client.chat.completions.create(model=model, messages=user(f"{m} Weather in Paris?"), response_format=CITY_FORMAT)
    list(client.chat.completions.create(model=model, messages=user(f"{m} Again."), response_format=CITY_FORMAT, stream=True))
    recs = upstream(model, m)
    assert len(recs) == 2
    for rec in recs:
        assert forwarded_schema(model, rec["json"]) == CITY_SCHEMA, rec["json"]


@pytest.mark.parametrize("model", MODELS)
def test_structured_json_schema_answer_unary(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(model=model, messages=user("Weather in Paris?"), response_format=CITY_FORMAT)
    choice = r.choices[0]
    assert choice.finish_reason == "stop", choice
    assert not choice.message.tool_calls, choice.message.tool_calls
    check_city(choice.message.content)


@pytest.mark.parametrize("model", MODELS)
def test_structured_json_schema_answer_stream(client: openai.OpenAI, model: str) -> None:
    chunks = list(client.chat.completions.create(
        model=model, messages=user("Weather in Paris?"), response_format=CITY_FORMAT, stream=True,
        stream_options={"include_usage": True},
    ))
    with_choices = [c for c in chunks if c.choices]
    assert not any(c.choices[0].delta.tool_calls for c in with_choices), "the schema came back as a tool call"
    assert [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason] == ["stop"]
    check_city("".join(c.choices[0].delta.content or "" for c in with_choices))
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_structured_parse_pydantic(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.parse(model=model, messages=user("Weather in Paris?"), response_format=City)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, City), r.choices[0].message


@pytest.mark.parametrize("model", MODELS)
def test_structured_json_object_mode(client: openai.OpenAI, model: str) -> None:
    m = marker()
    r = client.chat.completions.create(
        model=model, messages=user(f"{m} Reply with a JSON object."), response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(r.choices[0].message.content), dict), r.choices[0].message.content
    body = upstream(model, m)[0]["json"]
    if model == "fake-gpt":
        assert body["response_format"] == {"type": "json_object"}
    elif model == "fake-gemini":
        assert body["generationConfig"]["responseMimeType"] == "application/json"


# --- reasoning --------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_reasoning_effort_reaches_upstream(client: openai.OpenAI, model: str) -> None:
    m = marker()
    r = client.chat.completions.create(
        model=model, messages=user(f"{m} Think, then answer."), reasoning_effort="high", max_completion_tokens=4000
    )
    assert r.choices[0].message.content
    list(client.chat.completions.create(
        model=model, messages=user(f"{m} Again."), reasoning_effort="high", max_completion_tokens=4000, stream=True
    ))
    recs = upstream(model, m)
    assert len(recs) == 2
    for rec in recs:
        check_reasoning_upstream(model, rec["json"])
    if model == "fake-gemini":  # the Gemini fake reports its thought tokens (thoughtsTokenCount)
        assert r.usage.completion_tokens_details.reasoning_tokens > 0, r.usage


def test_reasoning_tokens_in_usage_responses_api(client: openai.OpenAI) -> None:
    # The fake reports reasoning tokens only on /v1/responses when a summary is asked for.
    r = client.responses.create(model="fake-gpt", input="Think.", reasoning={"effort": "high", "summary": "auto"})
    assert r.usage.output_tokens_details.reasoning_tokens > 0, r.usage
    assert r.usage.output_tokens >= r.usage.output_tokens_details.reasoning_tokens


# --- logprobs ---------------------------------------------------------------


def _check_logprobs(lp) -> None:
    assert lp is not None and lp.content, f"logprobs {lp}"
    for t in lp.content:
        assert isinstance(t.token, str) and t.logprob <= 0, t
        assert len(t.top_logprobs) == 2, t


@pytest.mark.parametrize("model", MODELS)
def test_logprobs_unary_and_stream(client: openai.OpenAI, model: str) -> None:
    if model == "fake-claude":
        # Anthropic has no logprobs: the documented answer is a 400 naming the field.
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=model, messages=user("Hi"), logprobs=True, top_logprobs=2)
        assert names_field(e.value, "logprobs"), e.value
        return
    r = client.chat.completions.create(model=model, messages=user("Say hello."), logprobs=True, top_logprobs=2)
    _check_logprobs(r.choices[0].logprobs)
    tokens = []
    for c in client.chat.completions.create(model=model, messages=user("Say hello."), logprobs=True, top_logprobs=2, stream=True):
        if c.choices and c.choices[0].logprobs and c.choices[0].logprobs.content:
            tokens += c.choices[0].logprobs.content
    assert tokens, "no logprobs streamed"


# --- n ----------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_n2_two_choices(client: openai.OpenAI, model: str) -> None:
    if model == "fake-claude":
        # No n on Anthropic: without fan-out on the route, a 400 naming n.
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=model, messages=user("Hi"), n=2)
        assert e.value.body.get("param") == "n" or names_field(e.value, "n must be"), e.value
        return
    m = marker()
    r = client.chat.completions.create(model=model, messages=user(f"{m} Hi"), n=2)
    assert [c.index for c in r.choices] == [0, 1], r.choices
    assert all(c.message.content for c in r.choices)
    body = upstream(model, m)[0]["json"]
    assert body.get("n") == 2 or body["generationConfig"].get("candidateCount") == 2, body


def test_n2_fan_out_to_anthropic(client: openai.OpenAI) -> None:
    # The route fake-claude-fanout (switchyard.yaml) sets fan_out_n: n calls, merged, each billed.
    m = marker()
    r = client.chat.completions.create(model="fake-claude-fanout", messages=user(f"{m} Hi there"), n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert all(c.message.content and c.finish_reason == "stop" for c in r.choices), r.choices
    assert r.usage.prompt_tokens == 2 * 3, r.usage
    assert r.usage.completion_tokens == sum(len(c.message.content.split()) for c in r.choices), r.usage
    recs = upstream("fake-claude", m)
    assert len(recs) == 2 and all("n" not in rec["json"] for rec in recs), [rec["json"] for rec in recs]
    chunks = list(client.chat.completions.create(model="fake-claude-fanout", messages=user("Hi there"), n=2, stream=True))
    texts = {0: "", 1: ""}
    finishes = {}
    for c in chunks:
        for ch in c.choices:
            texts[ch.index] += ch.delta.content or ""
            if ch.finish_reason:
                finishes[ch.index] = ch.finish_reason
    assert all(texts.values()) and finishes == {0: "stop", 1: "stop"}, (texts, finishes)


# --- files ------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_file_pdf_part_reaches_upstream(client: openai.OpenAI, model: str) -> None:
    m = marker()
    content = [
        {"type": "text", "text": f"{m} Summarise this document."},
        {"type": "file", "file": {"filename": "note.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}},
    ]
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    assert r.choices[0].message.content
    check_pdf_upstream(model, upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_file_input_audio_part(client: openai.OpenAI, model: str) -> None:
    m = marker()
    content = [{"type": "text", "text": f"{m} Transcribe."}, {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}}]
    if model == "fake-claude":
        # Claude takes no audio: a 400 naming the part.
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
        assert names_field(e.value, "audio"), e.value
        return
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    body = upstream(model, m)[0]["json"]
    if model == "fake-gpt":
        parts = body["messages"][-1]["content"]
        assert {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}} in parts, parts
    else:
        inline = [p["inlineData"] for c in body["contents"] for p in c["parts"] if "inlineData" in p]
        assert inline and inline[0]["mimeType"] in ("audio/wav", "audio/x-wav") and inline[0]["data"] == WAV_B64, inline


# --- embeddings -------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_embeddings_text(client: openai.OpenAI, model: str) -> None:
    if model == "fake-claude":
        # Anthropic has no embeddings endpoint: a 400 saying so.
        with pytest.raises(openai.BadRequestError) as e:
            client.embeddings.create(model=model, input="hello")
        assert names_field(e.value, "embeddings"), e.value
        return
    r = client.embeddings.create(model=model, input=["hello world", "goodbye"])
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) > 0 for d in r.data)
    assert r.data[0].embedding != r.data[1].embedding
    if model == "fake-gpt":  # the fake counts words; Gemini's embedContent reports no usage
        assert r.usage.prompt_tokens == 3, r.usage


@pytest.mark.parametrize("model", MODELS)
def test_embeddings_token_arrays(client: openai.OpenAI, model: str) -> None:
    if model != "fake-gpt":
        # Only OpenAI-family targets take token ids: a 400 naming input
        # (Anthropic serves no embeddings at all, and says so).
        with pytest.raises(openai.BadRequestError) as e:
            client.embeddings.create(model=model, input=[[15339, 1917]])
        assert e.value.body.get("param") == "input" or names_field(e.value, "input") or "embeddings" in str(e.value), e.value
        return
    r = client.embeddings.create(model=model, input=[[15339, 1917], [12199]])
    assert [d.index for d in r.data] == [0, 1] and all(d.embedding for d in r.data)
    recs = [x for x in upstream_embeddings() if x["json"].get("input") == [[15339, 1917], [12199]]]
    assert recs, "the token arrays did not reach the upstream as they were"


def upstream_embeddings() -> list[dict]:
    from plib import records

    return records(path="/v1/embeddings", limit="20")


# --- errors -----------------------------------------------------------------

ERROR_CLASS = {400: openai.BadRequestError, 429: openai.RateLimitError, 503: openai.InternalServerError}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("status", STATUSES)
def test_errors_upstream_status_unary_and_stream(client: openai.OpenAI, model: str, status: int) -> None:
    target = fault_model(model, status)
    with pytest.raises(ERROR_CLASS[status]) as e:
        client.chat.completions.create(model=target, messages=user(fault_prompt(status)))
    assert e.value.status_code == status
    if status == 429:
        assert int(e.value.response.headers.get("retry-after", "0")) >= 1
    with pytest.raises(ERROR_CLASS[status]) as e:
        list(client.chat.completions.create(model=target, messages=user(fault_prompt(status)), stream=True))
    assert e.value.status_code == status
