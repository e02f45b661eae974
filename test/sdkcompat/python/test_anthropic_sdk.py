"""The official Anthropic Python SDK against Switchyard's Messages ingress.

Run by scripts/test-sdkcompat.sh with a live gateway at SWITCHYARD_BASE_URL
(the simulator behind it speaks no Anthropic at all: every answer here went
through the canonical model and back into Anthropic's shape).
"""

import json
import os

import anthropic
import pytest

BASE_URL = os.environ.get("SWITCHYARD_BASE_URL", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL,
    reason="SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh",
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
MESSAGES = [{"role": "user", "content": "Name three prime numbers."}]


@pytest.fixture
def client():
    # The SDK appends /v1/messages itself: its base URL is the gateway root.
    return anthropic.Anthropic(
        base_url=BASE_URL.removesuffix("/v1"), api_key="sk-test", timeout=30.0, max_retries=0
    )


def test_create_has_anthropic_shape(client):
    msg = client.messages.create(
        model="auto", max_tokens=64, system="Be terse.", messages=MESSAGES
    )
    assert msg.id.startswith("msg_")
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content and msg.content[0].type == "text" and msg.content[0].text
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0


def test_stream_text_matches_unary(client):
    unary = client.messages.create(model="auto", max_tokens=64, messages=MESSAGES)
    with client.messages.stream(model="auto", max_tokens=64, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == unary.content[0].text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == unary.usage.output_tokens


def test_count_tokens(client):
    n = client.messages.count_tokens(model="auto", messages=MESSAGES)
    assert n.input_tokens > 0


def test_tool_use_round_trip(client):
    msg = client.messages.create(
        model="auto",
        max_tokens=64,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    )
    assert msg.stop_reason == "tool_use"
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather"]
    assert isinstance(uses[0].input, dict) and uses[0].id
    follow = client.messages.create(
        model="auto",
        max_tokens=64,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": [u.model_dump() for u in uses]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": uses[0].id, "content": json.dumps({"temp_c": 4})}
                ],
            },
        ],
    )
    assert follow.content[0].type == "text" and follow.content[0].text


def test_tool_use_streams_as_input_json_deltas(client):
    with client.messages.stream(
        model="auto",
        max_tokens=64,
        tools=[WEATHER],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    ) as s:
        final = s.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    assert final.stop_reason == "tool_use" and uses
    assert isinstance(uses[0].input, dict)


def test_unknown_model_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model="no-such-model", max_tokens=8, messages=MESSAGES)
    assert e.value.body["error"]["type"] == "not_found_error"


def test_missing_max_tokens_is_bad_request(client):
    # The SDK insists on max_tokens, so send the body ourselves through it.
    with pytest.raises(anthropic.BadRequestError):
        client.post("/v1/messages", body={"model": "auto", "messages": MESSAGES}, cast_to=object)


def test_upstream_503_is_a_server_error(client):
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model="fault503-anthropic", max_tokens=8, messages=MESSAGES)


THINKING = {"type": "enabled", "budget_tokens": 1024}


def test_thinking_round_trip(client):
    # think-sim thinks when asked and refuses a signature that does not
    # match its thinking, as Claude does.
    msg = client.messages.create(model="think-sim", max_tokens=2048, thinking=THINKING, messages=MESSAGES)
    assert [b.type for b in msg.content] == ["thinking", "text"]
    thinking = msg.content[0]
    assert thinking.thinking and thinking.signature
    follow = client.messages.create(
        model="think-sim",
        max_tokens=2048,
        thinking=THINKING,
        messages=[
            *MESSAGES,
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]},
            {"role": "user", "content": "And the next three?"},
        ],
    )
    assert follow.content[0].type == "thinking" and follow.content[-1].type == "text"
    altered = {"type": "thinking", "thinking": thinking.thinking + " (edited)", "signature": thinking.signature}
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="think-sim",
            max_tokens=2048,
            thinking=THINKING,
            messages=[*MESSAGES, {"role": "assistant", "content": [altered]}, {"role": "user", "content": "More?"}],
        )


def test_thinking_streams_before_text(client):
    unary = client.messages.create(model="think-sim", max_tokens=2048, thinking=THINKING, messages=MESSAGES)
    with client.messages.stream(model="think-sim", max_tokens=2048, thinking=THINKING, messages=MESSAGES) as s:
        kinds = [e.type for e in s]
        final = s.get_final_message()
    assert "thinking" in kinds and "signature" in kinds
    assert kinds.index("signature") < kinds.index("text")
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == unary.content[0].thinking
    assert final.content[0].signature == unary.content[0].signature
    assert final.content[1].text == unary.content[1].text


def test_models_list_and_retrieve(client):
    # limit=2 makes the SDK page through the list with after_id.
    ids = [m.id for m in client.models.list(limit=2)]
    assert "auto" in ids and "sim-small" in ids and "think-sim" in ids
    assert len(ids) == len(set(ids))
    m = client.models.retrieve("sim-small")
    assert m.id == "sim-small" and m.type == "model" and m.display_name and m.created_at
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("no-such-model")
