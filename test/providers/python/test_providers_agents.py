"""The OpenAI Agents SDK (openai-agents) through Switchyard to each provider
format.

The Agents SDK speaks the Responses API and sends the whole conversation as
input items on every turn. The fake upstream calls a declared tool unasked
when the last user message carries [[fake:auto_tool=NAME]], and answers in
text once the conversation ends in the tool's result: one agent, one
function tool, one round trip, whatever the target format. Tracing is off.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import httpx
import openai
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")
FAKE_URL = os.environ.get("FAKE_UPSTREAM_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL or not FAKE_URL,
    reason="SWITCHYARD_BASE_URL / FAKE_UPSTREAM_URL not set; run scripts/test-providers.sh",
)

agents = pytest.importorskip("agents")
from agents import Agent, Runner, function_tool, set_default_openai_api, set_tracing_disabled  # noqa: E402
from agents.models.openai_responses import OpenAIResponsesModel  # noqa: E402

MODELS = ["fake-gpt", "fake-claude", "fake-gemini"]
FORMAT = {"fake-gpt": "openai", "fake-claude": "anthropic", "fake-gemini": "gemini"}
FAULT = {"fake-gpt": "gpt", "fake-claude": "claude", "fake-gemini": "gemini"}
TOOL_RESULT_SHAPE = {"fake-gpt": "function_call_output", "fake-claude": "tool_result", "fake-gemini": "functionResponse"}
ASK = "[[fake:auto_tool=get_weather]]"

set_default_openai_api("responses")
set_tracing_disabled(True)


def marker() -> str:
    return "m" + uuid.uuid4().hex


def records(**params: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{FAKE_URL}/_control/records", params=params, timeout=20.0)
    r.raise_for_status()
    return r.json()["records"]


def weather_agent(model: str, calls: list[str]) -> tuple[Agent, openai.AsyncOpenAI]:
    @function_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        calls.append(city)
        return json.dumps({"city": city, "sky": "sunny", "celsius": 21})

    # A client per run: its connections belong to the event loop that opens them.
    client = openai.AsyncOpenAI(base_url=BASE_URL, api_key="sk-test", timeout=20.0, max_retries=0)
    agent = Agent(
        name="Weather",
        instructions="Answer weather questions with the get_weather tool.",
        model=OpenAIResponsesModel(model=model, openai_client=client),
        tools=[get_weather],
    )
    return agent, client


@pytest.mark.parametrize("model", MODELS)
def test_agent_run_calls_its_tool_and_answers(model: str) -> None:
    calls: list[str] = []
    agent, client = weather_agent(model, calls)
    m = marker()

    async def run():
        try:
            return await Runner.run(agent, f"{ASK} {m} What is the weather in Paris?", max_turns=4)
        finally:
            await client.close()

    result = asyncio.run(run())
    assert len(calls) == 1 and calls[0], calls
    kinds = [item.type for item in result.new_items]
    assert kinds.count("tool_call_item") == 1 and kinds.count("tool_call_output_item") == 1, kinds
    assert kinds[-1] == "message_output_item", kinds
    assert isinstance(result.final_output, str) and result.final_output.strip()
    # Two model calls: the tool call, then the answer.
    assert len(result.raw_responses) == 2
    assert all(r.usage.output_tokens > 0 for r in result.raw_responses)
    assert all(r.response_id and r.response_id.startswith("resp_") for r in result.raw_responses)
    # Both reached the target in its own format; the second carried the result.
    recs = records(format=FORMAT[model], contains=m)
    assert len(recs) == 2, [r["path"] for r in recs]
    second = json.dumps(recs[1]["json"])
    assert TOOL_RESULT_SHAPE[model] in second and "sunny" in second, second


@pytest.mark.parametrize("model", MODELS)
def test_agent_run_streamed(model: str) -> None:
    calls: list[str] = []
    agent, client = weather_agent(model, calls)

    async def run():
        try:
            streamed = Runner.run_streamed(agent, f"{ASK} Weather in Oslo?", max_turns=4)
            raw, items = [], []
            async for ev in streamed.stream_events():
                if ev.type == "raw_response_event":
                    raw.append(ev.data.type)
                elif ev.type == "run_item_stream_event":
                    items.append(ev.item.type)
            return streamed, raw, items
        finally:
            await client.close()

    streamed, raw, items = asyncio.run(run())
    assert len(calls) == 1, calls
    assert raw.count("response.completed") == 2, raw
    assert "response.function_call_arguments.delta" in raw or "response.output_item.done" in raw, raw
    assert "response.output_text.delta" in raw, raw
    assert items.count("tool_call_item") == 1 and items.count("tool_call_output_item") == 1, items
    assert isinstance(streamed.final_output, str) and streamed.final_output.strip()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "status, error",
    [(400, openai.BadRequestError), (429, openai.RateLimitError), (503, openai.InternalServerError)],
)
def test_agent_upstream_errors_raise_the_openai_error(model: str, status: int, error: type) -> None:
    calls: list[str] = []
    agent, client = weather_agent(f"fault-{FAULT[model]}-{status}", calls)
    fault = f"[[fake:status={status},retry_after=1]]" if status == 429 else f"[[fake:status={status}]]"

    async def run(streamed: bool):
        if not streamed:
            return await Runner.run(agent, f"{fault} Hello", max_turns=2)
        s = Runner.run_streamed(agent, f"{fault} Hello", max_turns=2)
        async for _ in s.stream_events():
            pass
        return s

    async def both():
        try:
            for streamed in (False, True):
                with pytest.raises(error) as e:
                    await run(streamed)
                assert e.value.status_code == status
        finally:
            await client.close()

    asyncio.run(both())
    assert calls == []
