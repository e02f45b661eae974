// The official Anthropic TypeScript SDK against Switchyard's Messages ingress.
//
// scripts/test-sdkcompat.sh starts the gateway and sets SWITCHYARD_BASE_URL.
// The target behind it is the simulator, which speaks no Anthropic: every
// answer went through the canonical model. Mirrors test_anthropic_sdk.py.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? '';
const skip = BASE_URL ? false : 'SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh';
// The SDK appends /v1/messages itself: its base URL is the gateway root.
const client = BASE_URL
  ? new Anthropic({ baseURL: BASE_URL.replace(/\/v1$/, ''), apiKey: 'sk-test', timeout: 30_000, maxRetries: 0 })
  : null;

const MESSAGES = [{ role: 'user', content: 'Name three prime numbers.' }];
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('anthropic messages', { skip }, () => {
  test('create has Anthropic shape', async () => {
    const msg = await client.messages.create({ model: 'auto', max_tokens: 64, system: 'Be terse.', messages: MESSAGES });
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.type, 'message');
    assert.equal(msg.content[0].type, 'text');
    assert.ok(msg.content[0].text.length > 0);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
  });

  test('stream text equals unary text', async () => {
    const unary = await client.messages.create({ model: 'auto', max_tokens: 64, messages: MESSAGES });
    const s = client.messages.stream({ model: 'auto', max_tokens: 64, messages: MESSAGES });
    let text = '';
    s.on('text', (t) => { text += t; });
    const final = await s.finalMessage();
    assert.equal(text, unary.content[0].text);
    assert.equal(final.stop_reason, 'end_turn');
  });

  test('count_tokens', async () => {
    const n = await client.messages.countTokens({ model: 'auto', messages: MESSAGES });
    assert.ok(n.input_tokens > 0);
  });

  test('tool use, unary and streamed', async () => {
    const req = { model: 'auto', max_tokens: 64, tools: [WEATHER], tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Weather in Oslo?' }] };
    const msg = await client.messages.create(req);
    assert.equal(msg.stop_reason, 'tool_use');
    const use = msg.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    assert.equal(typeof use.input, 'object');
    const final = await client.messages.stream(req).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.content.find((b) => b.type === 'tool_use').name, 'get_weather');
  });

  const THINKING = { type: 'enabled', budget_tokens: 1024 };

  test('thinking comes back signed and goes back intact', async () => {
    // think-sim thinks when asked and refuses a signature that does not
    // match its thinking, as Claude does.
    const msg = await client.messages.create({ model: 'think-sim', max_tokens: 2048, thinking: THINKING, messages: MESSAGES });
    assert.deepEqual(msg.content.map((b) => b.type), ['thinking', 'text']);
    assert.ok(msg.content[0].thinking && msg.content[0].signature);
    const follow = await client.messages.create({ model: 'think-sim', max_tokens: 2048, thinking: THINKING,
      messages: [...MESSAGES, { role: 'assistant', content: msg.content }, { role: 'user', content: 'And the next three?' }] });
    assert.equal(follow.content[0].type, 'thinking');
    const altered = { ...msg.content[0], thinking: msg.content[0].thinking + ' (edited)' };
    await assert.rejects(client.messages.create({ model: 'think-sim', max_tokens: 2048, thinking: THINKING,
      messages: [...MESSAGES, { role: 'assistant', content: [altered] }, { role: 'user', content: 'More?' }] }), Anthropic.BadRequestError);
  });

  test('thinking streams before the text', async () => {
    const unary = await client.messages.create({ model: 'think-sim', max_tokens: 2048, thinking: THINKING, messages: MESSAGES });
    const s = client.messages.stream({ model: 'think-sim', max_tokens: 2048, thinking: THINKING, messages: MESSAGES });
    let thinking = '';
    let signature = '';
    s.on('thinking', (delta) => { thinking += delta; });
    s.on('signature', (sig) => { signature = sig; });
    const final = await s.finalMessage();
    assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
    assert.equal(thinking, unary.content[0].thinking);
    assert.equal(signature, unary.content[0].signature);
    assert.equal(final.content[1].text, unary.content[1].text);
  });

  test('models list and retrieve', async () => {
    const ids = [];
    // limit 2 makes the SDK page through the list with after_id.
    for await (const m of client.models.list({ limit: 2 })) ids.push(m.id);
    assert.ok(ids.includes('auto') && ids.includes('sim-small') && ids.includes('think-sim'));
    assert.equal(new Set(ids).size, ids.length);
    const m = await client.models.retrieve('sim-small');
    assert.equal(m.id, 'sim-small');
    assert.equal(m.type, 'model');
    await assert.rejects(client.models.retrieve('no-such-model'), Anthropic.NotFoundError);
  });

  test('errors map to the SDK error classes', async () => {
    await assert.rejects(client.messages.create({ model: 'no-such-model', max_tokens: 8, messages: MESSAGES }), Anthropic.NotFoundError);
    await assert.rejects(client.messages.create({ model: 'fault503-anthropic', max_tokens: 8, messages: MESSAGES }), Anthropic.InternalServerError);
  });
});
