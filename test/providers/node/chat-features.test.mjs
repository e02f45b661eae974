// The official `openai` Node SDK's Chat Completions through Switchyard to
// each provider format: the feature columns providers.test.mjs does not
// cover (structured output, reasoning, logprobs, n, files, embeddings,
// errors). Cells mirror test/providers/python/test_providers_chat_features.py;
// known gaps go through known() (lib.mjs): a todo while the gap is there, an
// error the day it closes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from '../../sdkcompat/node/node_modules/openai/index.mjs';
import { zodResponseFormat } from '../../sdkcompat/node/node_modules/openai/helpers/zod.mjs';
import { z } from '../../sdkcompat/node/node_modules/zod/index.js';
import {
  BASE_URL, CITY_SCHEMA, MODELS, PDF_B64, STATUSES, TIMEOUT_MS, checkCity, checkPdfUpstream, checkReasoningUpstream,
  faultModel, faultPrompt, forwardedSchema, known, marker, records, skip, upstream,
} from './lib.mjs';

const client = skip ? null : new OpenAI({ baseURL: BASE_URL, apiKey: 'sk-test', timeout: TIMEOUT_MS, maxRetries: 0 });
const CITY_FORMAT = { type: 'json_schema', json_schema: { name: 'city', schema: CITY_SCHEMA, strict: true } };
const ERROR_CLASS = { 400: OpenAI.BadRequestError, 429: OpenAI.RateLimitError, 503: OpenAI.InternalServerError };
const user = (text) => [{ role: 'user', content: text }];
const City = z.object({ city: z.string(), celsius: z.number().int() });

async function collect(stream) {
  const out = [];
  for await (const c of stream) out.push(c);
  return out;
}

async function rejects400(promise, field) {
  const err = await promise.then(() => assert.fail('no error'), (e) => e);
  assert.ok(err instanceof OpenAI.BadRequestError, `${err?.constructor?.name}: ${err}`);
  assert.ok(JSON.stringify(err.error ?? {}).includes(field) || String(err).includes(field), `the 400 does not name ${field}: ${err}`);
}

for (const model of MODELS) {
  describe(`chat features → ${model}`, { skip }, () => {
    test('structured output: json_schema reaches the upstream translated, unary and streamed', async () => {
      const m = marker();
      await client.chat.completions.create({ model, messages: user(`${m} Weather in Paris?`), response_format: CITY_FORMAT });
      await collect(await client.chat.completions.create({ model, messages: user(`${m} Again.`), response_format: CITY_FORMAT, stream: true }));
      const recs = await upstream(model, m);
      assert.equal(recs.length, 2);
      for (const r of recs) assert.deepEqual(forwardedSchema(model, r.json), CITY_SCHEMA);
    });

    test('structured output: the answer is schema-valid JSON, unary and streamed', async (t) => {
      await known(t, null, async () => {
        const r = await client.chat.completions.create({ model, messages: user('Weather in Paris?'), response_format: CITY_FORMAT });
        assert.equal(r.choices[0].finish_reason, 'stop');
        assert.ok(!r.choices[0].message.tool_calls?.length, 'the schema came back as a tool call');
        checkCity(r.choices[0].message.content);
        const chunks = await collect(await client.chat.completions.create({ model, messages: user('Weather in Paris?'), response_format: CITY_FORMAT, stream: true }));
        checkCity(chunks.filter((c) => c.choices.length).map((c) => c.choices[0].delta.content ?? '').join(''));
      });
    });

    test('structured output: chat.completions.parse with zodResponseFormat', async (t) => {
      await known(t, null, async () => {
        const r = await client.chat.completions.parse({ model, messages: user('Weather in Paris?'), response_format: zodResponseFormat(City, 'city') });
        assert.ok(r.choices[0].message.parsed && typeof r.choices[0].message.parsed.city === 'string', JSON.stringify(r.choices[0].message));
      });
    });

    test('reasoning: reasoning_effort reaches the upstream in its form, unary and streamed', async () => {
      const m = marker();
      const r = await client.chat.completions.create({ model, messages: user(`${m} Think, then answer.`), reasoning_effort: 'high', max_completion_tokens: 4000 });
      assert.ok(r.choices[0].message.content);
      await collect(await client.chat.completions.create({ model, messages: user(`${m} Again.`), reasoning_effort: 'high', max_completion_tokens: 4000, stream: true }));
      const recs = await upstream(model, m);
      assert.equal(recs.length, 2);
      for (const rec of recs) checkReasoningUpstream(model, rec.json);
      // The Gemini fake reports thought tokens (thoughtsTokenCount).
      if (model === 'fake-gemini') assert.ok(r.usage.completion_tokens_details?.reasoning_tokens > 0, JSON.stringify(r.usage));
    });

    test('logprobs: non-null unary and streamed (Anthropic: a 400 naming logprobs)', async (t) => {
      await known(t, null, async () => {
        if (model === 'fake-claude') return rejects400(client.chat.completions.create({ model, messages: user('Hi'), logprobs: true, top_logprobs: 2 }), 'logprobs');
        const r = await client.chat.completions.create({ model, messages: user('Say hello.'), logprobs: true, top_logprobs: 2 });
        const content = r.choices[0].logprobs?.content;
        assert.ok(content?.length, `logprobs ${JSON.stringify(r.choices[0].logprobs)}`);
        for (const tok of content) assert.ok(typeof tok.token === 'string' && tok.logprob <= 0 && tok.top_logprobs.length === 2, JSON.stringify(tok));
        const chunks = await collect(await client.chat.completions.create({ model, messages: user('Say hello.'), logprobs: true, top_logprobs: 2, stream: true }));
        assert.ok(chunks.some((c) => c.choices[0]?.logprobs?.content?.length), 'no logprobs streamed');
      });
    });

    test('n=2: two choices (Anthropic without fan-out: a 400 naming n)', async (t) => {
      await known(t, null, async () => {
        if (model === 'fake-claude') return rejects400(client.chat.completions.create({ model, messages: user('Hi'), n: 2 }), '"param":"n"');
        const m = marker();
        const r = await client.chat.completions.create({ model, messages: user(`${m} Hi`), n: 2 });
        assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
        assert.ok(r.choices.every((c) => c.message.content));
        const [rec] = await upstream(model, m);
        assert.ok(rec.json.n === 2 || rec.json.generationConfig?.candidateCount === 2, JSON.stringify(rec.json));
      });
    });

    test('files: a PDF file part reaches the upstream as the target\'s file part', async () => {
      const m = marker();
      const content = [
        { type: 'text', text: `${m} Summarise this document.` },
        { type: 'file', file: { filename: 'note.pdf', file_data: `data:application/pdf;base64,${PDF_B64}` } },
      ];
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] });
      assert.ok(r.choices[0].message.content);
      checkPdfUpstream(model, (await upstream(model, m))[0].json);
    });

    test('embeddings: text (Anthropic: a 400, it has none)', async () => {
      if (model === 'fake-claude') return rejects400(client.embeddings.create({ model, input: 'hello' }), 'embeddings');
      const r = await client.embeddings.create({ model, input: ['hello world', 'goodbye'] });
      assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
      assert.ok(r.data.every((d) => d.embedding.length > 0));
      assert.notDeepEqual(r.data[0].embedding, r.data[1].embedding);
    });

    test('embeddings: token arrays (non-OpenAI targets: a 400 naming input)', async (t) => {
      await known(t, null, async () => {
        if (model !== 'fake-gpt') {
          const err = await client.embeddings.create({ model, input: [[15339, 1917]] }).then(() => assert.fail('no error'), (e) => e);
          assert.ok(err instanceof OpenAI.BadRequestError, String(err));
          assert.ok(err.param === 'input' || /embeddings/.test(String(err)), String(err));
          return;
        }
        const input = [[15339, 1917], [12199]];
        const r = await client.embeddings.create({ model, input });
        assert.equal(r.data.length, 2);
        const recs = await records({ path: '/v1/embeddings', limit: '10' });
        assert.ok(recs.some((x) => JSON.stringify(x.json.input) === JSON.stringify(input)), 'the token arrays did not reach the upstream');
      });
    });

    for (const status of STATUSES) {
      test(`errors: upstream ${status} → ${ERROR_CLASS[status].name}, unary and streamed`, async () => {
        const fm = faultModel(model, status);
        const err = await client.chat.completions.create({ model: fm, messages: user(faultPrompt(status)) }).then(() => assert.fail('no error'), (e) => e);
        assert.ok(err instanceof ERROR_CLASS[status], `${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, status);
        await assert.rejects(
          (async () => collect(await client.chat.completions.create({ model: fm, messages: user(faultPrompt(status)), stream: true })))(),
          (e) => e instanceof ERROR_CLASS[status] && e.status === status,
        );
      });
    }
  });
}

describe('chat features → fake-claude-fanout', { skip }, () => {
  test('n=2 by fan-out on an Anthropic route (fan_out_n): two choices, each call billed, unary and streamed', async () => {
    const m = marker();
    const r = await client.chat.completions.create({ model: 'fake-claude-fanout', messages: user(`${m} Hi there`), n: 2 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
    assert.ok(r.choices.every((c) => c.message.content && c.finish_reason === 'stop'));
    assert.equal(r.usage.prompt_tokens, 2 * 3);
    const recs = await upstream('fake-claude', m);
    assert.equal(recs.length, 2);
    const chunks = await collect(await client.chat.completions.create({ model: 'fake-claude-fanout', messages: user('Hi there'), n: 2, stream: true }));
    const text = ['', ''];
    for (const c of chunks) for (const ch of c.choices) text[ch.index] += ch.delta.content ?? '';
    assert.ok(text[0] && text[1], JSON.stringify(text));
  });
});
