"""The google-genai Python SDK through Switchyard's Gemini ingress to each
provider format: structured output (response_json_schema), thinking_config,
logprobs, candidate_count, PDF inline data and embed_content. `fake-gemini`
gets the client's body as written; `fake-gpt` and `fake-claude` a
translation, checked in the recorded upstream body. Known gaps are strict
xfails (plib.GAPS).
"""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types

from plib import (
    CITY_SCHEMA, MODELS, PDF_BYTES, ROOT_URL, check_city, check_pdf_upstream, forwarded_schema, marker,
    needs_gateway, upstream,
)

pytestmark = needs_gateway

JSON_CONFIG = types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=CITY_SCHEMA)


@pytest.fixture
def gemini() -> genai.Client:
    return genai.Client(api_key="sk-test", http_options=types.HttpOptions(base_url=ROOT_URL, retry_options=None))


@pytest.mark.parametrize("model", MODELS)
def test_genai_structured_response_json_schema_reaches_upstream(gemini: genai.Client, model: str) -> None:
    m = marker()
    gemini.models.generate_content(model=model, contents=f"{m} Weather in Paris?", config=JSON_CONFIG)
    list(gemini.models.generate_content_stream(model=model, contents=f"{m} Again.", config=JSON_CONFIG))
    recs = upstream(model, m)
    assert len(recs) == 2
    for rec in recs:
        assert forwarded_schema(model, rec["json"]) == CITY_SCHEMA, rec["json"]


@pytest.mark.parametrize("model", MODELS)
def test_genai_structured_answer_unary_and_stream(gemini: genai.Client, model: str) -> None:
    r = gemini.models.generate_content(model=model, contents="Weather in Paris?", config=JSON_CONFIG)
    assert not r.function_calls, r.function_calls
    check_city(r.text)
    chunks = list(gemini.models.generate_content_stream(model=model, contents="Weather in Paris?", config=JSON_CONFIG))
    check_city("".join(c.text or "" for c in chunks))


@pytest.mark.parametrize("model", MODELS)
def test_genai_thinking_config_reaches_upstream(gemini: genai.Client, model: str) -> None:
    m = marker()
    cfg = types.GenerateContentConfig(max_output_tokens=4096, thinking_config=types.ThinkingConfig(thinking_budget=2048))
    r = gemini.models.generate_content(model=model, contents=f"{m} Think, then answer.", config=cfg)
    assert r.text
    body = upstream(model, m)[0]["json"]
    if model == "fake-gpt":
        assert body.get("reasoning_effort") in ("minimal", "low", "medium", "high"), body
    elif model == "fake-claude":
        assert body.get("thinking") == {"type": "enabled", "budget_tokens": 2048}, body
    else:
        # As written: google-genai names it thinking_budget (proto name), which Gemini takes.
        tc = body["generationConfig"]["thinkingConfig"]
        assert tc.get("thinkingBudget", tc.get("thinking_budget")) == 2048, body


@pytest.mark.parametrize("model", MODELS)
def test_genai_logprobs(gemini: genai.Client, model: str) -> None:
    cfg = types.GenerateContentConfig(response_logprobs=True, logprobs=2)
    if model == "fake-claude":
        with pytest.raises(errors.ClientError) as e:
            gemini.models.generate_content(model=model, contents="Hi", config=cfg)
        assert e.value.code == 400 and "logprobs" in str(e.value).lower(), e.value
        return
    r = gemini.models.generate_content(model=model, contents="Say hello.", config=cfg)
    lr = r.candidates[0].logprobs_result
    assert lr and lr.chosen_candidates and len(lr.top_candidates[0].candidates) == 2, lr


@pytest.mark.parametrize("model", MODELS)
def test_genai_candidate_count_n2(gemini: genai.Client, model: str) -> None:
    cfg = types.GenerateContentConfig(candidate_count=2)
    if model == "fake-claude":
        with pytest.raises(errors.ClientError) as e:
            gemini.models.generate_content(model=model, contents="Hi", config=cfg)
        assert e.value.code == 400 and ("candidateCount" in str(e.value) or "n must be 1" in str(e.value)), e.value
        return
    r = gemini.models.generate_content(model=model, contents="Hi", config=cfg)
    assert [c.index or 0 for c in r.candidates] == [0, 1], r.candidates


@pytest.mark.parametrize("model", MODELS)
def test_genai_file_pdf_inline_data(gemini: genai.Client, model: str) -> None:
    m = marker()
    parts = [types.Part.from_bytes(data=PDF_BYTES, mime_type="application/pdf"), types.Part(text=f"{m} Summarise this document.")]
    r = gemini.models.generate_content(model=model, contents=[types.Content(role="user", parts=parts)])
    assert r.text
    check_pdf_upstream(model, upstream(model, m)[0]["json"])


@pytest.mark.parametrize("model", MODELS)
def test_genai_embed_content(gemini: genai.Client, model: str) -> None:
    if model == "fake-claude":
        with pytest.raises(errors.ClientError) as e:
            gemini.models.embed_content(model=model, contents=["hello world", "goodbye"])
        assert e.value.code == 400 and "embeddings" in str(e.value), e.value
        return
    r = gemini.models.embed_content(model=model, contents=["hello world", "goodbye"])
    if model == "fake-gemini":
        # google-genai treats a model named *gemini* as a multimodal
        # embedder: the two texts go as parts of one content, one vector.
        assert len(r.embeddings) == 1 and r.embeddings[0].values, r.embeddings
        return
    assert len(r.embeddings) == 2 and all(e.values for e in r.embeddings)
    assert r.embeddings[0].values != r.embeddings[1].values
