"""The Anthropic Python SDK through Switchyard's Messages ingress to each
provider format: structured output (output_config.format, messages.parse),
extended thinking and PDF document blocks. `fake-claude` gets the client's
body as written; `fake-gpt` and `fake-gemini` a translation, checked in the
recorded upstream body. The Messages API has no logprobs, n or embeddings.
Known gaps are strict xfails (plib.GAPS).
"""

from __future__ import annotations

import json

import anthropic
import pytest
from pydantic import BaseModel, ConfigDict

from plib import (
    CITY_SCHEMA, MODELS, PDF_B64, ROOT_URL, TIMEOUT, check_city, check_pdf_upstream, forwarded_schema, marker,
    needs_gateway, upstream,
)

pytestmark = needs_gateway

OUTPUT_CONFIG = {"format": {"type": "json_schema", "schema": CITY_SCHEMA}}


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str
    celsius: int


@pytest.fixture
def claude() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=ROOT_URL, api_key="sk-test", timeout=TIMEOUT, max_retries=0)


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_structured_output_config_reaches_upstream(claude: anthropic.Anthropic, model: str) -> None:
    m = marker()
    claude.messages.create(model=model, max_tokens=256, messages=ask(f"{m} Weather in Paris?"), output_config=OUTPUT_CONFIG)
    with claude.messages.stream(model=model, max_tokens=256, messages=ask(f"{m} Again."), output_config=OUTPUT_CONFIG) as s:
        s.get_final_message()
    recs = upstream(model, m)
    assert len(recs) == 2
    for rec in recs:
        assert forwarded_schema(model, rec["json"]) == CITY_SCHEMA, rec["json"]


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_structured_output_answer(claude: anthropic.Anthropic, model: str) -> None:
    msg = claude.messages.create(model=model, max_tokens=256, messages=ask("Weather in Paris?"), output_config=OUTPUT_CONFIG)
    assert [b.type for b in msg.content] == ["text"], msg.content
    check_city(msg.content[0].text)
    with claude.messages.stream(model=model, max_tokens=256, messages=ask("Weather in Paris?"), output_config=OUTPUT_CONFIG) as s:
        check_city("".join(s.text_stream))


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_structured_parse_pydantic(claude: anthropic.Anthropic, model: str) -> None:
    msg = claude.messages.parse(model=model, max_tokens=256, messages=ask("Weather in Paris?"), output_format=City)
    assert isinstance(msg.parsed_output, City), msg


THINKING = {"type": "enabled", "budget_tokens": 2048}


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_thinking_reaches_upstream(claude: anthropic.Anthropic, model: str) -> None:
    m = marker()
    msg = claude.messages.create(model=model, max_tokens=4096, thinking=THINKING, messages=ask(f"{m} Think, then answer."))
    assert msg.content[-1].type == "text" and msg.content[-1].text
    body = upstream(model, m)[0]["json"]
    if model == "fake-gpt":
        assert body.get("reasoning_effort") in ("minimal", "low", "medium", "high"), body
    elif model == "fake-claude":
        assert body["thinking"] == THINKING
        thinking = [b for b in msg.content if b.type == "thinking"]
        assert thinking and thinking[0].signature, msg.content
    else:
        assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 2048, body


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_file_pdf_document(claude: anthropic.Anthropic, model: str) -> None:
    m = marker()
    content = [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64}, "title": "note.pdf"},
        {"type": "text", "text": f"{m} Summarise this document."},
    ]
    msg = claude.messages.create(model=model, max_tokens=128, messages=[{"role": "user", "content": content}])
    assert msg.content[0].type == "text" and msg.content[0].text
    check_pdf_upstream(model, upstream(model, m)[0]["json"])
    assert json.dumps(upstream(model, m)[0]["json"]).count(PDF_B64) == 1
