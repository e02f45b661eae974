// The official openai Node SDK's Responses API against Switchyard.
//
// scripts/test-sdkcompat.sh starts the gateway and sets SWITCHYARD_BASE_URL.
// The simulator behind it speaks no Responses API: every answer went through
// the canonical model. Mirrors test_responses_sdk.py.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? '';
const skip = BASE_URL ? false : 'SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh';
const client = BASE_URL ? new OpenAI({ baseURL: BASE_URL, apiKey: 'sk-test', timeout: 30_000, maxRetries: 0 }) : null;

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

describe('openai responses', { skip }, () => {
  test('create', async () => {
    const r = await client.responses.create({ model: 'auto', instructions: 'Be terse.', input: 'Name three prime numbers.' });
    assert.match(r.id, /^resp_/);
    assert.equal(r.status, 'completed');
    assert.ok(r.output_text);
    assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
  });

  test('stream events end with response.completed', async () => {
    const types = [];
    let text = '';
    const stream = await client.responses.create({ model: 'auto', input: 'Hello', stream: true });
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(text);
  });

  test('function tool round trip over previous_response_id', async () => {
    const r = await client.responses.create({ model: 'auto', input: 'Weather in Paris?', tools: [WEATHER], tool_choice: 'required' });
    const call = r.output.find((o) => o.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    JSON.parse(call.arguments);
    const answer = await client.responses.create({
      model: 'auto',
      previous_response_id: r.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"sunny"}' }],
      tools: [WEATHER],
    });
    assert.ok(answer.output_text);
  });

  test('previous_response_id chain, retrieve, input_items, delete', async () => {
    const first = await client.responses.create({ model: 'auto', input: 'one two three' });
    const second = await client.responses.create({ model: 'auto', input: 'and more', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.ok(second.usage.input_tokens >= first.usage.input_tokens + first.usage.output_tokens);
    assert.equal((await client.responses.retrieve(second.id)).id, second.id);
    const items = [];
    for await (const it of client.responses.inputItems.list(second.id, { order: 'asc' })) items.push(it);
    assert.deepEqual(items.map((it) => it.role), ['user', 'assistant', 'user']);
    await client.responses.delete(second.id);
    await assert.rejects(client.responses.retrieve(second.id), OpenAI.NotFoundError);
  });

  test('unknown model is NotFoundError', async () => {
    await assert.rejects(client.responses.create({ model: 'no-such-model', input: 'hi' }), OpenAI.NotFoundError);
  });
});
