"""The OpenAI Agents SDK (openai-agents) against Switchyard's Responses API.

Run by scripts/test-sdkcompat.sh with a live gateway at SWITCHYARD_BASE_URL.
The model `agents-sim` (test/sdkcompat/switchyard.yaml) is a simulator with
auto_tool: get_weather, so it calls the agent's tool unasked, as a real
model would, and answers in text once the tool result is back. The Agents
SDK speaks the Responses API by default and sends the whole conversation as
input items on the second turn. Tracing is off: there is no network here.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import httpx
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL,
    reason="SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh",
)

agents = pytest.importorskip("agents")
from agents import (  # noqa: E402
    Agent,
    ModelSettings,
    Runner,
    function_tool,
    set_default_openai_api,
    set_default_openai_client,
    set_tracing_disabled,
)
from openai import AsyncOpenAI  # noqa: E402

CALLS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    CALLS.append(city)
    return json.dumps({"city": city, "sky": "sunny", "celsius": 21})


@pytest.fixture(autouse=True)
def gateway_client():
    client = AsyncOpenAI(base_url=BASE_URL, api_key="sk-test", timeout=30.0, max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)
    set_default_openai_api("responses")
    set_tracing_disabled(True)
    CALLS.clear()
    # Not closed here: its connections belong to the event loop of the run
    # that opened them, which Runner.run_sync has closed already.
    return client


def responses_requests(model: str) -> int:
    """The ledger's count of Responses-dialect requests for model."""
    root = BASE_URL.removesuffix("/v1")
    r = httpx.get(f"{root}/v1/usage", params={"group_by": ["dialect", "model"]}, timeout=10.0)
    r.raise_for_status()
    return sum(int(row["requests"]) for row in r.json()["rows"]
               if row["dialect"] == "responses" and row["model"] == model)


def wait_for_requests(model: str, want: int) -> int:
    # The ledger is written after the answer: poll briefly.
    got = 0
    for _ in range(50):
        got = responses_requests(model)
        if got >= want:
            break
        time.sleep(0.1)
    return got


def test_agent_calls_its_tool_and_answers():
    before = responses_requests("agents-sim")
    agent = Agent(
        name="Weather",
        instructions="Answer weather questions with the get_weather tool.",
        model="agents-sim",
        tools=[get_weather],
    )
    result = Runner.run_sync(agent, "What is the weather in Paris?", max_turns=4)
    assert len(CALLS) == 1, CALLS
    kinds = [item.type for item in result.new_items]
    assert kinds.count("tool_call_item") == 1 and kinds.count("tool_call_output_item") == 1, kinds
    assert kinds[-1] == "message_output_item", kinds
    assert isinstance(result.final_output, str) and result.final_output.strip()
    # Two model calls (the tool call, then the answer), both in the
    # Responses dialect, with usage the SDK summed.
    assert len(result.raw_responses) == 2
    assert all(r.usage.output_tokens > 0 for r in result.raw_responses)
    assert wait_for_requests("agents-sim", before + 2) == before + 2


def test_agent_without_tools_answers():
    agent = Agent(name="Plain", instructions="Be terse.", model="auto")
    result = Runner.run_sync(agent, "Say hello.")
    assert isinstance(result.final_output, str) and result.final_output.strip()
    assert result.raw_responses[0].response_id.startswith("resp_")


def test_agent_streamed_run():
    agent = Agent(name="Weather", model="agents-sim", tools=[get_weather],
                  model_settings=ModelSettings(temperature=0))

    async def run():
        streamed = Runner.run_streamed(agent, "Weather in Oslo?", max_turns=4)
        kinds = []
        async for ev in streamed.stream_events():
            if ev.type == "raw_response_event":
                kinds.append(ev.data.type)
        return streamed, kinds

    streamed, kinds = asyncio.run(run())
    assert len(CALLS) == 1, CALLS
    assert kinds.count("response.completed") == 2, kinds
    assert "response.function_call_arguments.delta" in kinds or "response.output_item.done" in kinds
    assert isinstance(streamed.final_output, str) and streamed.final_output.strip()
