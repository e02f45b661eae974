// The Vercel AI SDK (ai + @ai-sdk/openai) through Switchyard to each
// provider format: structured output (generateObject / streamObject, over
// the Responses API that openai(id) speaks and over Chat Completions with
// openai.chat(id)), reasoning effort, logprobs, a PDF file part and
// embeddings. Known gaps go through known() (lib.mjs).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '../../sdkcompat/node/node_modules/@ai-sdk/openai/dist/index.mjs';
import { embedMany, generateObject, generateText, streamObject } from '../../sdkcompat/node/node_modules/ai/dist/index.mjs';
import { z } from '../../sdkcompat/node/node_modules/zod/index.js';
import { BASE_URL, MODELS, PDF_BYTES, checkPdfUpstream, checkReasoningUpstream, forwardedSchema, known, marker, skip, upstream } from './lib.mjs';

const openai = skip ? null : createOpenAI({ baseURL: BASE_URL, apiKey: 'sk-test' });
const City = z.object({ city: z.string(), celsius: z.number().int() });
const API = { responses: (id) => openai(id), chat: (id) => openai.chat(id) };

function checkCityObject(obj) {
  assert.ok(obj && typeof obj.city === 'string' && Number.isInteger(obj.celsius), JSON.stringify(obj));
  assert.deepEqual(Object.keys(obj).sort(), ['celsius', 'city']);
}

for (const model of MODELS) {
  describe(`vercel ai features → ${model}`, { skip }, () => {
    for (const [api, lm] of Object.entries(API)) {
      test(`structured output (${api}): generateObject's schema reaches the upstream translated`, async () => {
        const m = marker();
        await generateObject({ model: lm(model), schema: City, schemaName: 'city', prompt: `${m} Weather in Paris?`, maxRetries: 0 }).catch(() => {});
        const [rec] = await upstream(model, m);
        const schema = forwardedSchema(model, rec.json);
        assert.deepEqual(Object.keys(schema.properties).sort(), ['celsius', 'city'], JSON.stringify(schema));
        assert.deepEqual([...schema.required].sort(), ['celsius', 'city']);
      });

      test(`structured output (${api}): generateObject and streamObject return the object`, async (t) => {
        await known(t, null, async () => {
          const r = await generateObject({ model: lm(model), schema: City, schemaName: 'city', prompt: 'Weather in Paris?', maxRetries: 0 });
          checkCityObject(r.object);
          assert.equal(r.finishReason, 'stop');
          const s = streamObject({ model: lm(model), schema: City, schemaName: 'city', prompt: 'Weather in Paris?', maxRetries: 0, onError: () => {} });
          for await (const _ of s.partialObjectStream);
          checkCityObject(await s.object);
        });
      });
    }

    test('reasoning: providerOptions.openai.reasoningEffort reaches the upstream in its form', async () => {
      const m = marker();
      const r = await generateText({
        model: openai.chat(model), prompt: `${m} Think, then answer.`, maxOutputTokens: 4000, maxRetries: 0,
        providerOptions: { openai: { reasoningEffort: 'high' } },
      });
      assert.ok(r.text.trim());
      checkReasoningUpstream(model, (await upstream(model, m))[0].json);
    });

    test('logprobs: providerOptions.openai.logprobs come back (Anthropic: a 400 naming logprobs)', async (t) => {
      await known(t, null, async () => {
        const call = generateText({ model: openai.chat(model), prompt: 'Say hello.', maxRetries: 0, providerOptions: { openai: { logprobs: 2 } } });
        if (model === 'fake-claude') {
          await assert.rejects(call, (e) => e.statusCode === 400 && /logprobs/.test(e.responseBody ?? e.message));
          return;
        }
        const r = await call;
        const lp = r.providerMetadata?.openai?.logprobs;
        assert.ok(Array.isArray(lp) && lp.length > 0, JSON.stringify(r.providerMetadata));
      });
    });

    test('files: a PDF file part reaches the upstream as the target\'s file part', async () => {
      const m = marker();
      const r = await generateText({
        model: openai.chat(model), maxRetries: 0,
        messages: [{ role: 'user', content: [{ type: 'text', text: `${m} Summarise this document.` }, { type: 'file', data: PDF_BYTES, mediaType: 'application/pdf', filename: 'note.pdf' }] }],
      });
      assert.ok(r.text.trim());
      checkPdfUpstream(model, (await upstream(model, m))[0].json);
    });

    test('embeddings: embedMany (Anthropic: a 400, it has none)', async () => {
      const call = embedMany({ model: openai.embedding(model), values: ['hello world', 'goodbye'], maxRetries: 0 });
      if (model === 'fake-claude') {
        await assert.rejects(call, (e) => e.statusCode === 400 && /embeddings/.test(e.responseBody ?? e.message));
        return;
      }
      const r = await call;
      assert.equal(r.embeddings.length, 2);
      assert.ok(r.embeddings.every((v) => v.length > 0));
      assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
    });
  });
}
