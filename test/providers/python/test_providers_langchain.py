"""LangChain (`langchain-openai`: ChatOpenAI, OpenAIEmbeddings) through
Switchyard's Chat Completions ingress to each provider format.

ChatOpenAI is pointed at the gateway with base_url, as LangChain users point
it at any OpenAI-compatible gateway. OpenAIEmbeddings' default splits input
with tiktoken and sends token ids (input: [[...]]); tiktoken's encodings are
downloaded at run time, which this machine cannot do, so the test points
TIKTOKEN_CACHE_DIR at the copy of cl100k_base that the litellm package ships.
Known gaps are strict xfails (plib.GAPS).
"""

from __future__ import annotations

import json
import os
import importlib.util

import openai
import pytest
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel, ConfigDict

from plib import (
    BASE_URL, CITY_SCHEMA, MODELS, PDF_B64, STATUSES, TIMEOUT, check_pdf_upstream, check_reasoning_upstream,
    fault_model, fault_prompt, forwarded_schema, marker, records, upstream, needs_gateway,
)

pytestmark = needs_gateway



class City(BaseModel):
    """A city and its temperature."""

    model_config = ConfigDict(extra="forbid")
    city: str
    celsius: int


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def chat(model: str, **kw) -> ChatOpenAI:
    return ChatOpenAI(model=model, base_url=BASE_URL, api_key="sk-test", timeout=TIMEOUT, max_retries=0, **kw)


@pytest.mark.parametrize("model", MODELS)
def test_langchain_chat_invoke(model: str) -> None:
    m = marker()
    r = chat(model).invoke([SystemMessage("Be terse."), HumanMessage(f"{m} Name three primes.")])
    assert isinstance(r.content, str) and r.content.strip()
    assert r.usage_metadata["input_tokens"] == 2 + 4, r.usage_metadata
    assert r.usage_metadata["output_tokens"] == len(r.content.split()), r.usage_metadata
    assert r.response_metadata["finish_reason"] == "stop"
    assert "Be terse." in json.dumps(upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_langchain_stream(model: str) -> None:
    chunks = list(chat(model, stream_usage=True).stream("Count to five."))
    text = "".join(c.content for c in chunks if isinstance(c.content, str))
    assert text.strip(), "nothing streamed"
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert total.usage_metadata and total.usage_metadata["output_tokens"] == len(text.split()), total.usage_metadata
    assert total.response_metadata.get("finish_reason") == "stop", total.response_metadata


@pytest.mark.parametrize("model", MODELS)
def test_langchain_bind_tools_round_trip(model: str) -> None:
    llm = chat(model).bind_tools([get_weather], tool_choice="get_weather")
    question = HumanMessage("What is the weather in Paris?")
    first = llm.invoke([question])
    assert first.tool_calls and first.tool_calls[0]["name"] == "get_weather", first
    call = first.tool_calls[0]
    assert isinstance(call["args"].get("city"), str) and call["id"]
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
    answer = chat(model).bind_tools([get_weather]).invoke([question, first, result])
    assert isinstance(answer.content, str) and answer.content.strip() and not answer.tool_calls


@pytest.mark.parametrize("model", MODELS)
def test_langchain_bind_tools_stream(model: str) -> None:
    llm = chat(model).bind_tools([get_weather], tool_choice="get_weather")
    total = None
    for c in llm.stream("What is the weather in Paris?"):
        total = c if total is None else total + c
    assert total.tool_calls and total.tool_calls[0]["name"] == "get_weather", total.tool_call_chunks
    assert isinstance(total.tool_calls[0]["args"].get("city"), str)


@pytest.mark.parametrize("model", MODELS)
def test_langchain_structured_output_function_calling(model: str) -> None:
    # method="function_calling": a forced tool whose arguments are the object.
    out = chat(model).with_structured_output(City, method="function_calling").invoke("Weather in Paris?")
    assert isinstance(out, City), out


@pytest.mark.parametrize("model", MODELS)
def test_langchain_structured_output_json_schema_upstream(model: str) -> None:
    m = marker()
    llm = chat(model).with_structured_output(City, method="json_schema")
    try:
        llm.invoke(f"{m} Weather in Paris?")
    except ValueError:  # the answer is the next cell's business (a fake gap for two formats)
        pass
    body = upstream(model, m)[0]["json"]
    schema = forwarded_schema(model, body)
    assert schema["required"] == ["city", "celsius"] and set(schema["properties"]) == {"city", "celsius"}, schema


@pytest.mark.parametrize("model", MODELS)
def test_langchain_structured_output_json_schema(model: str) -> None:
    out = chat(model).with_structured_output(City, method="json_schema").invoke("Weather in Paris?")
    assert isinstance(out, City), out


@pytest.mark.parametrize("model", MODELS)
def test_langchain_structured_output_json_schema_stream(model: str) -> None:
    parts = list(chat(model).with_structured_output(City, method="json_schema").stream("Weather in Paris?"))
    assert parts and isinstance(parts[-1], City), parts


@pytest.mark.parametrize("model", MODELS)
def test_langchain_reasoning_effort(model: str) -> None:
    m = marker()
    r = chat(model, reasoning_effort="high", max_completion_tokens=4000).invoke(f"{m} Think, then answer.")
    assert r.content
    if model == "fake-gemini":  # the Gemini fake reports thought tokens
        assert r.usage_metadata["output_token_details"].get("reasoning", 0) > 0, r.usage_metadata
    check_reasoning_upstream(model, upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_langchain_logprobs(model: str) -> None:
    llm = chat(model, logprobs=True, top_logprobs=2)
    if model == "fake-claude":
        with pytest.raises(openai.BadRequestError) as e:
            llm.invoke("Hi")
        assert "logprobs" in str(e.value)
        return
    r = llm.invoke("Say hello.")
    lp = r.response_metadata.get("logprobs")
    assert lp and lp["content"] and len(lp["content"][0]["top_logprobs"]) == 2, lp


@pytest.mark.parametrize("model", MODELS)
def test_langchain_n2_generations(model: str) -> None:
    llm = chat(model, n=2)
    if model == "fake-claude":
        with pytest.raises(openai.BadRequestError) as e:
            llm.generate([[HumanMessage("Hi")]])
        assert e.value.body.get("param") == "n", e.value
        # The route fake-claude-fanout sets fan_out_n.
        res = chat("fake-claude-fanout", n=2).generate([[HumanMessage("Hi")]])
        assert len(res.generations[0]) == 2, res.generations
        return
    res = llm.generate([[HumanMessage("Hi")]])
    assert len(res.generations[0]) == 2, res.generations


@pytest.mark.parametrize("model", MODELS)
def test_langchain_file_pdf_block(model: str) -> None:
    m = marker()
    msg = HumanMessage(content=[
        {"type": "text", "text": f"{m} Summarise this document."},
        {"type": "file", "base64": PDF_B64, "mime_type": "application/pdf", "filename": "note.pdf"},
    ])
    r = chat(model).invoke([msg])
    assert r.content
    check_pdf_upstream(model, upstream(model, m)[0]["json"])


@pytest.fixture
def tiktoken_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # find_spec locates the package without importing it (its import is slow).
    spec = importlib.util.find_spec("litellm")
    assert spec and spec.submodule_search_locations, "litellm is not installed (requirements-dev.txt)"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", os.path.join(spec.submodule_search_locations[0], "litellm_core_utils", "tokenizers"))


def embeddings(model: str, **kw) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(model=model, base_url=BASE_URL, api_key="sk-test", timeout=TIMEOUT, max_retries=0, **kw)


@pytest.mark.parametrize("model", MODELS)
def test_langchain_embeddings_default_token_arrays(tiktoken_cache: None, model: str) -> None:
    emb = embeddings(model)  # check_embedding_ctx_length=True: tiktoken ids go upstream
    if model != "fake-gpt":
        with pytest.raises(openai.BadRequestError) as e:
            emb.embed_documents(["hello world"])
        assert e.value.body.get("param") == "input" or "embeddings" in str(e.value), e.value
        return
    vecs = emb.embed_documents(["hello world", "goodbye"])
    assert len(vecs) == 2 and all(vecs) and vecs[0] != vecs[1]
    recs = records(path="/v1/embeddings", limit="5")
    assert any(isinstance((r["json"].get("input") or [None])[0], list) for r in recs), [r["json"] for r in recs]


@pytest.mark.parametrize("model", ["fake-gpt", "fake-gemini"])
def test_langchain_embeddings_text(model: str) -> None:
    emb = embeddings(model, check_embedding_ctx_length=False)
    vecs = emb.embed_documents(["hello world", "goodbye"])
    assert len(vecs) == 2 and all(vecs) and vecs[0] != vecs[1]
    assert emb.embed_query("hello world") == vecs[0]


ERROR_CLASS = {400: openai.BadRequestError, 429: openai.RateLimitError, 503: openai.InternalServerError}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("status", STATUSES)
def test_langchain_errors_raise_the_openai_error(model: str, status: int) -> None:
    llm = chat(fault_model(model, status))
    with pytest.raises(ERROR_CLASS[status]) as e:
        llm.invoke(fault_prompt(status))
    assert e.value.status_code == status
    with pytest.raises(ERROR_CLASS[status]):
        list(llm.stream(fault_prompt(status)))
