// The official `openai` Node SDK's Chat Completions through Switchyard to each
// provider format.
//
// scripts/test-providers.sh starts the fake upstream (loadtest/fakeupstream)
// and a gateway whose three providers (test/providers/switchyard.yaml) point
// at it, one per wire format, and sets SWITCHYARD_BASE_URL and
// FAKE_UPSTREAM_URL. The cases mirror test/providers/python/test_providers.py.
//
// The SDK is the one test/sdkcompat/node pins (same version for both
// suites), imported by path so there is one lockfile to keep current.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import OpenAI from '../../sdkcompat/node/node_modules/openai/index.mjs';

const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? '';
const FAKE_URL = process.env.FAKE_UPSTREAM_URL ?? '';
const skip = BASE_URL && FAKE_URL ? false : 'SWITCHYARD_BASE_URL / FAKE_UPSTREAM_URL not set; run scripts/test-providers.sh';

const MODELS = ['fake-gpt', 'fake-claude', 'fake-gemini'];
// Bounded: a hung gateway fails the test instead of hanging the suite.
const TIMEOUT_MS = 20_000;
const client = skip ? null : new OpenAI({ baseURL: BASE_URL, apiKey: 'sk-test', timeout: TIMEOUT_MS, maxRetries: 0 });

const SYSTEM = 'You are a terse assistant.';
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};
const TIME_TOOL = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Current time in a timezone.',
    parameters: { type: 'object', properties: { tz: { type: 'string' } } },
  },
};
const TOOL_NAMES = new Set(['get_weather', 'get_time']);

const words = (s) => s.split(/\s+/).filter(Boolean).length;
const messages = (prompt) => [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: prompt },
];
const promptWords = (msgs) => msgs.reduce((n, m) => n + (typeof m.content === 'string' ? words(m.content) : 0), 0);
const marker = () => 'm' + randomUUID().replaceAll('-', '');

async function records(params) {
  const r = await fetch(`${FAKE_URL}/_control/records?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  assert.equal(r.status, 200);
  return (await r.json()).records;
}

function assertUsage(usage, prompt, completion) {
  assert.ok(usage, 'usage present');
  assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0 && usage.total_tokens > 0, JSON.stringify(usage));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  // The fake counts words: usage must be what it reported, not an estimate.
  assert.equal(usage.prompt_tokens, prompt);
  assert.equal(usage.completion_tokens, completion);
}

for (const model of MODELS) {
  describe(`chat → ${model}`, { skip }, () => {
    test('unary answer', async () => {
      const msgs = messages('Name three prime numbers.');
      const r = await client.chat.completions.create({ model, messages: msgs });
      assert.equal(r.object, 'chat.completion');
      assert.ok(r.id);
      assert.equal(r.choices.length, 1);
      const [choice] = r.choices;
      assert.equal(choice.message.role, 'assistant');
      assert.ok(typeof choice.message.content === 'string' && choice.message.content.trim());
      assert.equal(choice.finish_reason, 'stop');
      assertUsage(r.usage, promptWords(msgs), words(choice.message.content));
    });

    test('stream with usage', async () => {
      const msgs = messages('Count to five.');
      const stream = await client.chat.completions.create({ model, messages: msgs, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      const withChoices = chunks.filter((c) => c.choices.length > 0);
      assert.ok(withChoices.length > 0, 'no chunks with choices');
      assert.equal(withChoices[0].choices[0].delta.role, 'assistant');
      const text = withChoices.map((c) => c.choices[0].delta.content ?? '').join('');
      assert.ok(text.trim(), 'no text streamed');
      const finishes = withChoices.map((c) => c.choices[0].finish_reason).filter(Boolean);
      assert.deepEqual(finishes, ['stop']);
      const usageChunks = chunks.filter((c) => c.usage);
      assert.equal(usageChunks.length, 1, `${usageChunks.length} usage chunks`);
      assert.equal(usageChunks[0], chunks.at(-1), 'the usage chunk is not the last');
      assert.deepEqual(chunks.at(-1).choices, []);
      assertUsage(chunks.at(-1).usage, promptWords(msgs), words(text));
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'chunks of one stream carry different ids');
    });

    test('tool call, unary', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: messages('What is the weather and the time in Paris?'),
        tools: [WEATHER_TOOL, TIME_TOOL],
        tool_choice: 'required',
      });
      const [choice] = r.choices;
      assert.equal(choice.finish_reason, 'tool_calls');
      const calls = choice.message.tool_calls;
      assert.ok(calls?.length > 0, 'no tool_calls');
      assert.ok(TOOL_NAMES.has(calls[0].function.name));
      for (const call of calls) {
        assert.ok(call.id);
        assert.equal(call.type, 'function');
        const args = JSON.parse(call.function.arguments);
        assert.equal(typeof args, 'object');
        assert.ok(args !== null && !Array.isArray(args));
      }
      assert.ok(!choice.message.content);
      assert.ok(r.usage.completion_tokens > 0);
      assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    });

    test('tool call, streamed deltas reassemble by index', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: messages('What is the weather and the time in Paris?'),
        tools: [WEATHER_TOOL, TIME_TOOL],
        tool_choice: 'required',
        stream: true,
        stream_options: { include_usage: true },
      });
      const calls = new Map();
      const finishes = [];
      let firstRole;
      let usage;
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        if (chunk.choices.length === 0) continue;
        const { delta, finish_reason } = chunk.choices[0];
        if (firstRole === undefined) firstRole = delta.role;
        if (finish_reason) finishes.push(finish_reason);
        for (const tc of delta.tool_calls ?? []) {
          const slot = calls.get(tc.index) ?? { id: '', name: '', args: '' };
          if (tc.id) slot.id = tc.id;
          if (tc.function?.name) slot.name = tc.function.name;
          if (tc.function?.arguments) slot.args += tc.function.arguments;
          calls.set(tc.index, slot);
        }
      }
      assert.equal(firstRole, 'assistant');
      assert.deepEqual(finishes, ['tool_calls']);
      assert.ok(calls.size > 0, 'no tool-call deltas');
      assert.deepEqual([...calls.keys()].sort((a, b) => a - b), [...Array(calls.size).keys()], 'indexes are not 0..n-1');
      for (const [i, c] of calls) {
        assert.ok(c.id, `call ${i} has no id`);
        assert.ok(TOOL_NAMES.has(c.name), `call ${i} name ${c.name}`);
        const args = JSON.parse(c.args);
        assert.ok(args !== null && typeof args === 'object' && !Array.isArray(args), `call ${i} arguments ${c.args}`);
      }
      assert.ok(usage?.completion_tokens > 0);
    });

    test('a stream aborted upstream throws from for-await', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: messages('[[fake:abort_after=3]] Tell me a story.'),
        stream: true,
        stream_options: { include_usage: true },
      });
      const got = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) if (chunk.choices.length) got.push(chunk.choices[0]);
        })(),
        (err) => err instanceof OpenAI.APIError,
      );
      assert.ok(got.some((c) => c.delta.content), 'no content before the cut');
      assert.ok(!got.some((c) => c.finish_reason), 'a cut stream reported a finish_reason');
    });
  });
}

const lowerKeys = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('chat → upstream requests', { skip }, () => {
  test('anthropic: top-level system, max_tokens, anthropic-version, no system role in messages', async () => {
    const m = marker();
    const msgs = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Hello.' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'system', content: 'Answer in English.' },
      { role: 'user', content: `${m} What now?` },
    ];
    await client.chat.completions.create({ model: 'fake-claude', messages: msgs });
    for await (const _ of await client.chat.completions.create({ model: 'fake-claude', messages: msgs, stream: true }));
    const recs = await records({ format: 'anthropic', contains: m });
    assert.equal(recs.length, 2);
    for (const rec of recs) {
      assert.equal(rec.path, '/v1/messages');
      const body = rec.json;
      const roles = body.messages.map((x) => x.role);
      assert.ok(!roles.includes('system'), `roles ${roles}`);
      assert.ok(roles.every((r) => r === 'user' || r === 'assistant'), `roles ${roles}`);
      assert.ok(JSON.stringify(body.system ?? '').includes(SYSTEM), `system ${JSON.stringify(body.system)}`);
      assert.ok(Number.isInteger(body.max_tokens) && body.max_tokens > 0);
      assert.equal(body.model, 'fake-claude');
      const h = lowerKeys(rec.headers);
      assert.ok(h['anthropic-version']?.[0], 'no anthropic-version');
      assert.ok(h['x-api-key']?.[0], 'no x-api-key');
    }
    assert.deepEqual(recs.map((r) => r.json.stream ?? false), [false, true]);
  });

  test('gemini: role model for assistant turns, systemInstruction', async () => {
    const m = marker();
    const msgs = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Hello.' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'user', content: `${m} What now?` },
    ];
    await client.chat.completions.create({ model: 'fake-gemini', messages: msgs });
    for await (const _ of await client.chat.completions.create({ model: 'fake-gemini', messages: msgs, stream: true }));
    const recs = await records({ format: 'gemini', contains: m });
    assert.equal(recs.length, 2);
    assert.ok(recs[0].path.endsWith('/fake-gemini:generateContent'), recs[0].path);
    assert.ok(recs[1].path.endsWith('/fake-gemini:streamGenerateContent'), recs[1].path);
    assert.ok(recs[1].query.includes('alt=sse'));
    for (const rec of recs) {
      assert.deepEqual(rec.json.contents.map((c) => c.role), ['user', 'model', 'user']);
      assert.ok(JSON.stringify(rec.json.systemInstruction ?? '').includes(SYSTEM));
      assert.ok(lowerKeys(rec.headers)['x-goog-api-key']?.[0], 'no x-goog-api-key');
    }
  });

  test('openai: streams ask the upstream for usage', async () => {
    const m = marker();
    for await (const _ of await client.chat.completions.create({ model: 'fake-gpt', messages: messages(`${m} Hi`), stream: true }));
    const recs = await records({ format: 'openai', contains: m });
    assert.equal(recs.length, 1);
    assert.equal(recs[0].json.stream, true);
    assert.equal(recs[0].json.stream_options?.include_usage, true);
  });
});
