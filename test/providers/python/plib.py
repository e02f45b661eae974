"""Shared by the feature-matrix files of the providers suite (not a test
module: pytest collects test_*.py only).

The matrix is client × feature × target format. A cell that cannot pass yet
is marked with gap(...): a strict xfail whose reason names the missing piece
exactly, so the cell fails loudly (XPASS) the day the piece lands and the
mark must go. GATEWAY gaps are Switchyard's; FAKE gaps are the fake
upstream's (loadtest/fakeupstream), which the cell needs to see a real
provider's behaviour.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

import httpx
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")
FAKE_URL = os.environ.get("FAKE_UPSTREAM_URL", "")
ROOT_URL = BASE_URL.removesuffix("/v1")
TIMEOUT = 20.0

needs_gateway = pytest.mark.skipif(
    not BASE_URL or not FAKE_URL,
    reason="SWITCHYARD_BASE_URL / FAKE_UPSTREAM_URL not set; run scripts/test-providers.sh",
)

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
FORMAT = {"fake-gpt": "openai", "fake-claude": "anthropic", "fake-gemini": "gemini"}
FAULT = {"fake-gpt": "gpt", "fake-claude": "claude", "fake-gemini": "gemini"}
STATUSES = [400, 429, 503]


def fault_model(model: str, status: int) -> str:
    return f"fault-{FAULT[model]}-{status}"


def fault_prompt(status: int) -> str:
    # A short Retry-After keeps the gateway's wait before its one retry short
    # (it still tells the client Retry-After: 1, rounded up).
    return f"[[fake:status={status},retry_after_ms=100]] Hello" if status == 429 else f"[[fake:status={status}]] Hello"


# --- the known gaps, one line each ------------------------------------------

GAPS = {
}


def gap(param: Any, key: str | tuple[str, ...] | None) -> Any:
    """A parametrize value, marked as a known gap (or gaps) when key is given."""
    if not key:
        return param
    keys = (key,) if isinstance(key, str) else key
    return pytest.param(param, marks=pytest.mark.xfail(strict=True, reason="; ".join(GAPS[k] for k in keys)))


def per_model(gaps: dict[str, Any]) -> list[Any]:
    return [gap(m, gaps.get(m)) for m in MODELS]


# --- helpers -----------------------------------------------------------------


def marker() -> str:
    return "m" + uuid.uuid4().hex


def records(**params: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{FAKE_URL}/_control/records", params=params, timeout=TIMEOUT)
    r.raise_for_status()
    return r.json()["records"]


UPSTREAM_PATH = {"fake-gpt": "/v1/", "fake-claude": "/v1/messages", "fake-gemini": "/v1beta/models/"}


def upstream(model: str, m: str) -> list[dict[str, Any]]:
    """The requests carrying marker m that reached model's provider, in its format."""
    recs = records(format=FORMAT[model], contains=m)
    assert recs, f"no {FORMAT[model]} upstream request contains {m}"
    for r in recs:
        assert r["path"].startswith(UPSTREAM_PATH[model]), r["path"]
    return recs


# A city and its temperature: what every structured-output cell asks for.
CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "celsius": {"type": "integer"}},
    "required": ["city", "celsius"],
    "additionalProperties": False,
}


def check_city(text: str) -> dict[str, Any]:
    """text is one JSON object valid against CITY_SCHEMA."""
    assert text and text.strip(), "empty answer"
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise AssertionError(f"answer is not JSON: {text[:200]!r}") from e
    assert isinstance(obj, dict), obj
    assert set(obj) == {"city", "celsius"}, obj
    assert isinstance(obj["city"], str) and isinstance(obj["celsius"], int) and not isinstance(obj["celsius"], bool), obj
    return obj


def forwarded_schema(model: str, body: dict[str, Any]) -> Any:
    """The JSON schema the upstream body asks the answer to follow, in the target's form:
    OpenAI response_format, Anthropic output_config/output_format or a forced tool, Gemini
    responseJsonSchema (with responseMimeType application/json)."""
    if model == "fake-gpt":
        rf = body.get("response_format") or {}
        assert rf.get("type") == "json_schema", rf
        return rf["json_schema"]["schema"]
    if model == "fake-claude":
        native = (body.get("output_config") or {}).get("format") or body.get("output_format")
        if native:
            assert native.get("type") == "json_schema", native
            return native["schema"]
        choice = body.get("tool_choice") or {}
        assert choice.get("type") == "tool", f"neither output_config.format nor a forced tool: {body}"
        tool = next((t for t in body.get("tools") or [] if t.get("name") == choice.get("name")), None)
        assert tool, f"forced tool {choice} not declared"
        return tool["input_schema"]
    gc = body.get("generationConfig") or {}
    assert gc.get("responseMimeType") == "application/json", gc
    return gc.get("responseJsonSchema") or gc.get("responseSchema")


def check_reasoning_upstream(model: str, body: dict[str, Any], effort: str = "high") -> None:
    """reasoning_effort (or thinking) reached the upstream in its own form."""
    if model == "fake-gpt":
        assert body.get("reasoning_effort") == effort or (body.get("reasoning") or {}).get("effort") == effort, body
    elif model == "fake-claude":
        t = body.get("thinking") or {}
        assert t.get("type") in ("enabled", "adaptive"), f"no thinking: {body}"
        if t["type"] == "enabled":
            assert 1024 <= t["budget_tokens"] < body["max_tokens"], body
    else:
        tc = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
        assert tc.get("thinkingBudget", 0) > 0 or tc.get("thinkingLevel"), f"no thinkingConfig: {body}"


# A small, valid one-page PDF.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PDF_B64 = base64.b64encode(PDF_BYTES).decode()
# 0.01 s of silence, 8 kHz mono 16-bit.
WAV_BYTES = (
    b"RIFF" + (36 + 160).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
    + (16000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    + b"data" + (160).to_bytes(4, "little") + b"\0" * 160
)
WAV_B64 = base64.b64encode(WAV_BYTES).decode()


def check_pdf_upstream(model: str, body: dict[str, Any]) -> None:
    """The PDF reached the upstream as the target's file part, bytes intact."""
    s = json.dumps(body)
    if model == "fake-gemini":
        # A Gemini client's body goes as written: URL-safe base64 and proto
        # (snake_case) field names are the client's, and Gemini takes both.
        parts = [p for c in body["contents"] for p in c.get("parts", [])]
        inline = [p.get("inlineData") or p.get("inline_data") for p in parts if "inlineData" in p or "inline_data" in p]
        assert inline, parts
        assert (inline[0].get("mimeType") or inline[0].get("mime_type")) == "application/pdf", inline
        assert base64.b64decode(inline[0]["data"].replace("-", "+").replace("_", "/")) == PDF_BYTES, inline
        return
    assert PDF_B64 in s, "the PDF's bytes did not reach the upstream in standard base64"
    if model == "fake-gpt":
        parts = [p for msg in body["messages"] if isinstance(msg.get("content"), list) for p in msg["content"]]
        files = [p for p in parts if p.get("type") == "file"]
        assert files and PDF_B64 in files[0]["file"]["file_data"], parts
    elif model == "fake-claude":
        blocks = [b for msg in body["messages"] if isinstance(msg.get("content"), list) for b in msg["content"]]
        docs = [b for b in blocks if b.get("type") == "document"]
        assert docs, blocks
        src = docs[0]["source"]
        assert src["type"] == "base64" and src["media_type"] == "application/pdf" and src["data"] == PDF_B64, src


def names_field(err: Any, field: str) -> bool:
    """An error body names field (as param, or in the message)."""
    body = getattr(err, "body", None)
    text = json.dumps(body) if body is not None else str(err)
    return field in text
