// The official `openai` Node SDK against a live Switchyard gateway.
//
// scripts/test-sdkcompat.sh starts the gateway on the deterministic simulator
// (test/sdkcompat/switchyard.yaml) and sets SWITCHYARD_BASE_URL. The cases
// mirror test/sdkcompat/python/test_openai_sdk.py.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? '';
const skip = BASE_URL ? false : 'SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh';

// Bounded: a hung gateway fails the test instead of hanging the suite.
const TIMEOUT_MS = 30_000;
const opts = { baseURL: BASE_URL, apiKey: 'sk-test', timeout: TIMEOUT_MS };
const client = BASE_URL ? new OpenAI(opts) : null;
// The SDK retries 5xx/429 twice with backoff by default; fault tests want the
// first answer, fast.
const noRetry = BASE_URL ? new OpenAI({ ...opts, maxRetries: 0 }) : null;

const MESSAGES = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three prime numbers.' },
];

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
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

function assertUsage(usage) {
  assert.ok(usage, 'usage present');
  assert.ok(usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(usage.completion_tokens > 0, `completion_tokens ${usage.completion_tokens}`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

function assertCompletion(resp) {
  assert.equal(typeof resp.id, 'string');
  assert.ok(resp.id);
  assert.equal(resp.object, 'chat.completion');
  assert.ok(Number.isInteger(resp.created) && resp.created > 0);
  assert.ok(resp.model);
  assert.equal(resp.choices.length, 1);
  const [choice] = resp.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(choice.message.content.trim());
  assert.equal(choice.finish_reason, 'stop');
  assertUsage(resp.usage);
}

// The error's inner object is what the SDK exposes as err.error.
function assertErrorEnvelope(err) {
  assert.ok(err.error && typeof err.error === 'object', `error body: ${JSON.stringify(err.error)}`);
  for (const k of ['message', 'type', 'param', 'code']) {
    assert.ok(k in err.error, `error.${k} missing in ${JSON.stringify(err.error)}`);
  }
  assert.ok(err.error.message);
  assert.ok(err.error.type);
}

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length > 0, 'stream produced no chunks');
  return chunks;
}

const textOf = (chunks) =>
  chunks
    .filter((c) => c.choices.length > 0)
    .map((c) => c.choices[0].delta.content ?? '')
    .join('');

// Runs fn (which may create and drain a stream) and returns the thrown error.
async function rejection(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to throw');
}

describe('chat completions', { skip }, () => {
  for (const model of ['sim-small', 'auto']) {
    test(`unary has the OpenAI shape (${model})`, async () => {
      assertCompletion(await client.chat.completions.create({ model, messages: MESSAGES }));
    });

    test(`stream with include_usage matches unary (${model})`, async () => {
      const unary = await client.chat.completions.create({ model, messages: MESSAGES });
      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.ok(c.id);
      }
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'chunks share one id');

      const withChoices = chunks.filter((c) => c.choices.length > 0);
      assert.equal(withChoices[0].choices[0].delta.role, 'assistant');
      assert.equal(textOf(chunks), unary.choices[0].message.content);
      const finishes = withChoices.map((c) => c.choices[0].finish_reason);
      assert.equal(finishes.at(-1), 'stop');
      assert.ok(finishes.slice(0, -1).every((f) => f == null), `finish reasons ${finishes}`);

      const usageChunks = chunks.filter((c) => c.usage != null);
      assert.equal(usageChunks.length, 1, 'exactly one usage chunk');
      assert.equal(usageChunks[0], chunks.at(-1), 'usage chunk comes last');
      assert.deepEqual(usageChunks[0].choices, []);
      assertUsage(usageChunks[0].usage);
      assert.equal(usageChunks[0].usage.prompt_tokens, unary.usage.prompt_tokens);
      assert.equal(usageChunks[0].usage.completion_tokens, unary.usage.completion_tokens);
    });
  }

  test('stream without include_usage has no usage chunk', async () => {
    const chunks = await collect(
      await client.chat.completions.create({ model: 'sim-small', messages: MESSAGES, stream: true }),
    );
    assert.ok(chunks.every((c) => c.usage == null));
    assert.ok(chunks.every((c) => c.choices.length === 1), 'every chunk has a choice');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    assert.ok(textOf(chunks).trim());
  });

  test('same request yields the same text', async () => {
    const a = await client.chat.completions.create({ model: 'sim-small', messages: MESSAGES });
    const b = await client.chat.completions.create({ model: 'sim-small', messages: MESSAGES });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test('concurrent requests all succeed', async () => {
    const rs = await Promise.all(
      Array.from({ length: 8 }, () => client.chat.completions.create({ model: 'auto', messages: MESSAGES })),
    );
    const texts = new Set(rs.map((r) => r.choices[0].message.content));
    assert.equal(texts.size, 1);
  });
});

describe('models', { skip }, () => {
  test('list contains the configured ids', async () => {
    const ids = new Set();
    for await (const m of client.models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.owned_by, 'string');
      ids.add(m.id);
    }
    for (const want of ['auto', 'sim-small', 'sim-large']) assert.ok(ids.has(want), `${want} in ${[...ids]}`);
  });

  test('retrieve sim-small', async () => {
    const m = await client.models.retrieve('sim-small');
    assert.equal(m.id, 'sim-small');
    assert.equal(m.object, 'model');
  });

  test('retrieve unknown model is NotFoundError', async () => {
    const err = await rejection(() => client.models.retrieve('no-such-model'));
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.status, 404);
    assertErrorEnvelope(err);
  });
});

describe('errors', { skip }, () => {
  for (const stream of [false, true]) {
    const kind = stream ? 'stream' : 'unary';

    test(`unknown model is NotFoundError (${kind})`, async () => {
      const err = await rejection(async () => {
        const r = await client.chat.completions.create({ model: 'no-such-model', messages: MESSAGES, stream });
        if (stream) await collect(r);
      });
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      assert.equal(err.status, 404);
      assertErrorEnvelope(err);
      assert.ok(err.requestID, 'error responses carry x-request-id');
    });

    test(`empty messages is BadRequestError (${kind})`, async () => {
      const err = await rejection(async () => {
        const r = await client.chat.completions.create({ model: 'sim-small', messages: [], stream });
        if (stream) await collect(r);
      });
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.status, 400);
      assertErrorEnvelope(err);
      assert.equal(err.type, 'invalid_request_error');
    });

    test(`upstream 503 is an APIError with status 503 (${kind})`, async () => {
      const err = await rejection(async () => {
        const r = await noRetry.chat.completions.create({
          model: 'fault503-node',
          messages: MESSAGES,
          stream,
          metadata: { 'simulator.fail_status': '503' },
        });
        if (stream) await collect(r);
      });
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.ok(err instanceof OpenAI.InternalServerError, String(err));
      assert.equal(err.status, 503);
      assertErrorEnvelope(err);
    });
  }

  test('upstream 429 is RateLimitError with Retry-After', async () => {
    const err = await rejection(() =>
      noRetry.chat.completions.create({
        model: 'fault429-node',
        messages: MESSAGES,
        metadata: { 'simulator.fail_status': '429', 'simulator.retry_after': '7' },
      }),
    );
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.headers.get('retry-after'), '7');
    assertErrorEnvelope(err);
  });

  test('malformed JSON body is a 400 invalid_request_error (raw fetch)', async () => {
    const r = await fetch(new URL('chat/completions', BASE_URL.replace(/\/?$/, '/')), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-test' },
      body: '{"model": "sim-small", "messages": [',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const body = await r.json();
    assert.deepEqual(Object.keys(body), ['error']);
    assertErrorEnvelope(body);
    assert.equal(body.error.type, 'invalid_request_error');
  });
});

describe('tools and limits', { skip }, () => {
  test('tool_choice required returns one tool call', async () => {
    const resp = await client.chat.completions.create({
      model: 'sim-small',
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [WEATHER_TOOL, TIME_TOOL],
      tool_choice: 'required',
    });
    const [choice] = resp.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.tool_calls?.length, 1);
    const [call] = choice.message.tool_calls;
    assert.equal(call.type, 'function');
    assert.ok(call.id);
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.equal(typeof args, 'object');
    assert.ok(args !== null && !Array.isArray(args));
    assertUsage(resp.usage);
  });

  test('tool_choice naming a function calls that function', async () => {
    const resp = await client.chat.completions.create({
      model: 'sim-small',
      messages: [{ role: 'user', content: 'What time is it in Tokyo?' }],
      tools: [WEATHER_TOOL, TIME_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    assert.equal(resp.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(
      resp.choices[0].message.tool_calls.map((c) => c.function.name),
      ['get_time'],
    );
    JSON.parse(resp.choices[0].message.tool_calls[0].function.arguments);
  });

  test('tool call streams as deltas', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'sim-small',
        messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
        tools: [WEATHER_TOOL],
        tool_choice: 'required',
        stream: true,
      }),
    );
    const calls = new Map();
    for (const c of chunks) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        const acc = calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) acc.id = tc.id;
        acc.name += tc.function?.name ?? '';
        acc.args += tc.function?.arguments ?? '';
        calls.set(tc.index, acc);
      }
    }
    assert.deepEqual([...calls.keys()], [0]);
    const call = calls.get(0);
    assert.ok(call.id);
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.args), 'object');
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    assert.equal(withChoices.at(-1).choices[0].finish_reason, 'tool_calls');
  });

  test('max_tokens 3 stops with length', async () => {
    const resp = await client.chat.completions.create({ model: 'sim-small', messages: MESSAGES, max_tokens: 3 });
    assert.equal(resp.choices[0].finish_reason, 'length');
    assert.ok(resp.usage.completion_tokens > 0 && resp.usage.completion_tokens <= 3, `${resp.usage.completion_tokens}`);
  });

  test('max_tokens 3 stops the stream with length', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'sim-small',
        messages: MESSAGES,
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    assert.equal(withChoices.at(-1).choices[0].finish_reason, 'length');
    const u = chunks.at(-1).usage;
    assert.ok(u && u.completion_tokens > 0 && u.completion_tokens <= 3);
  });
});

describe('raw response', { skip }, () => {
  test('withResponse exposes x-request-id', async () => {
    const { data, response, request_id } = await client.chat.completions
      .create({ model: 'sim-small', messages: MESSAGES })
      .withResponse();
    const rid = response.headers.get('x-request-id');
    assert.ok(rid);
    assert.equal(request_id, rid);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assertCompletion(data);
  });

  test('request ids are unique per request', async () => {
    const ids = new Set();
    for (let i = 0; i < 3; i++) {
      const { request_id } = await client.chat.completions
        .create({ model: 'sim-small', messages: MESSAGES })
        .withResponse();
      assert.ok(request_id);
      ids.add(request_id);
    }
    assert.equal(ids.size, 3);
  });

  test('stream is SSE ending with [DONE] (raw fetch)', async () => {
    const r = await fetch(new URL('chat/completions', BASE_URL.replace(/\/?$/, '/')), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-test' },
      body: JSON.stringify({ model: 'sim-small', messages: MESSAGES, stream: true }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await r.text()).split('\n\n').filter((e) => e.trim());
    assert.equal(events.at(-1).trim(), 'data: [DONE]');
    for (const e of events.slice(0, -1)) {
      assert.ok(e.startsWith('data: '), e);
      assert.equal(JSON.parse(e.slice('data: '.length)).object, 'chat.completion.chunk');
    }
  });
});

describe('embeddings', { skip }, () => {
  test('vectors in input order, same with the SDK default (base64) and float', async () => {
    const b64 = await client.embeddings.create({ model: 'sim-small', input: ['alpha', 'beta'], dimensions: 8 });
    const flt = await client.embeddings.create({ model: 'sim-small', input: ['alpha', 'beta'], dimensions: 8, encoding_format: 'float' });
    assert.equal(b64.object, 'list');
    assert.deepEqual(b64.data.map((d) => d.index), [0, 1]);
    for (let i = 0; i < 2; i++) {
      assert.equal(flt.data[i].embedding.length, 8);
      flt.data[i].embedding.forEach((x, j) => assert.ok(Math.abs(x - b64.data[i].embedding[j]) < 1e-6));
    }
    assert.ok(b64.usage.prompt_tokens > 0);
  });
});
