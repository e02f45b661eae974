// The Vercel AI SDK (ai + @ai-sdk/openai) through Switchyard to each
// provider format. The provider's default model, openai(id), speaks the
// Responses API. The fake upstream calls a tool unasked when the last user
// message carries [[fake:auto_tool=NAME]] (and answers in text once the
// tool's result is back), which plays the model of a multi-step tool loop.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '../../sdkcompat/node/node_modules/@ai-sdk/openai/dist/index.mjs';
import { APICallError, generateText, stepCountIs, streamText, tool } from '../../sdkcompat/node/node_modules/ai/dist/index.mjs';
import { z } from '../../sdkcompat/node/node_modules/zod/index.js';
import { BASE_URL, MODELS, STATUSES, faultModel, faultPrompt, marker, skip, upstream, words } from './lib.mjs';

const openai = skip ? null : createOpenAI({ baseURL: BASE_URL, apiKey: 'sk-test' });
const TOOL_RESULT_SHAPE = { 'fake-gpt': 'function_call_output', 'fake-claude': 'tool_result', 'fake-gemini': 'functionResponse' };

function weatherTool(calls, result) {
  return tool({
    description: 'Current weather for a city.',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return { city, ...result };
    },
  });
}

for (const model of MODELS) {
  describe(`vercel ai → ${model}`, { skip }, () => {
    test('generateText', async () => {
      const m = marker();
      const r = await generateText({ model: openai(model), system: 'Be terse.', prompt: `${m} Name three prime numbers.`, maxRetries: 0 });
      assert.ok(r.text.trim());
      assert.equal(r.finishReason, 'stop');
      assert.match(r.response.id, /^resp_/);
      assert.equal(r.usage.inputTokens, 2 + 5, JSON.stringify(r.usage));
      assert.equal(r.usage.outputTokens, words(r.text), JSON.stringify(r.usage));
      const recs = await upstream(model, m);
      assert.equal(recs.length, 1);
      assert.ok(JSON.stringify(recs[0].json).includes('Be terse.'));
    });

    test('streamText', async () => {
      const r = streamText({ model: openai(model), prompt: 'Count to five.', maxRetries: 0 });
      let text = '';
      for await (const delta of r.textStream) text += delta;
      assert.ok(text.trim());
      assert.equal(await r.text, text);
      assert.equal(await r.finishReason, 'stop');
      const usage = await r.usage;
      assert.equal(usage.inputTokens, 3, JSON.stringify(usage));
      assert.equal(usage.outputTokens, words(text), JSON.stringify(usage));
    });

    test('generateText tool round trip over two steps', async () => {
      const m = marker();
      const cities = [];
      const r = await generateText({
        model: openai(model),
        prompt: `[[fake:auto_tool=get_weather]] ${m} What is the weather in Paris?`,
        tools: { get_weather: weatherTool(cities, { sky: 'sunny', celsius: 21 }) },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      assert.equal(cities.length, 1, JSON.stringify(cities));
      assert.equal(r.steps.length, 2);
      assert.equal(r.steps[0].finishReason, 'tool-calls');
      assert.equal(r.steps[0].toolCalls[0].toolName, 'get_weather');
      assert.equal(r.steps[0].toolResults[0].output.sky, 'sunny');
      assert.equal(r.finishReason, 'stop');
      assert.ok(r.text.trim());
      // Step two carried the call and its result to the upstream.
      const recs = await upstream(model, m);
      assert.equal(recs.length, 2);
      const second = JSON.stringify(recs[1].json);
      assert.ok(second.includes('sunny') && second.includes(TOOL_RESULT_SHAPE[model]), second);
    });

    test('streamText tool round trip over two steps', async () => {
      const cities = [];
      const r = streamText({
        model: openai(model),
        prompt: '[[fake:auto_tool=get_weather]] Weather in Oslo?',
        tools: { get_weather: weatherTool(cities, { sky: 'cloudy' }) },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      const kinds = new Set();
      for await (const part of r.fullStream) {
        assert.notEqual(part.type, 'error', String(part.error));
        kinds.add(part.type);
      }
      assert.ok(kinds.has('tool-call') && kinds.has('tool-result') && kinds.has('text-delta'), [...kinds].join(','));
      assert.equal(cities.length, 1);
      assert.equal((await r.steps).length, 2);
      assert.equal(await r.finishReason, 'stop');
      assert.ok((await r.text).trim());
    });

    for (const status of STATUSES) {
      test(`upstream ${status} → APICallError ${status}, generateText and streamText`, async () => {
        const fm = faultModel(model, status);
        await assert.rejects(
          generateText({ model: openai(fm), prompt: faultPrompt(status), maxRetries: 0 }),
          (err) => APICallError.isInstance(err) && err.statusCode === status && err.isRetryable === (status !== 400),
        );
        // streamText reports the failure as an error part, not a throw.
        const errors = [];
        const r = streamText({ model: openai(fm), prompt: faultPrompt(status), maxRetries: 0, onError: () => {} });
        for await (const part of r.fullStream) if (part.type === 'error') errors.push(part.error);
        assert.equal(errors.length, 1, errors.map(String).join('; '));
        assert.ok(APICallError.isInstance(errors[0]) && errors[0].statusCode === status, String(errors[0]));
      });
    }
  });
}
