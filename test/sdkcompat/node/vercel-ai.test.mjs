// The Vercel AI SDK (ai + @ai-sdk/openai) against Switchyard.
//
// scripts/test-sdkcompat.sh starts the gateway and sets SWITCHYARD_BASE_URL.
// The provider's default model, openai(id), speaks the Responses API; the
// ledger must show these requests in the "responses" dialect. The tool test
// uses `agents-sim` (test/sdkcompat/switchyard.yaml), a simulator with
// auto_tool: get_weather, which calls the tool unasked and answers the
// result, so two steps are one round trip.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? ''; // the gateway's /v1
const skip = BASE_URL ? false : 'SWITCHYARD_BASE_URL is not set; run scripts/test-sdkcompat.sh';
const openai = BASE_URL ? createOpenAI({ baseURL: BASE_URL, apiKey: 'sk-test' }) : null;

// responsesRequests is the ledger's count of Responses-dialect requests for
// model (keyless mode serves /v1/usage to loopback callers).
async function responsesRequests(model) {
  const res = await fetch(`${BASE_URL}/usage?group_by=dialect&group_by=model`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  const { rows } = await res.json();
  return rows.filter((r) => r.dialect === 'responses' && r.model === model).reduce((n, r) => n + Number(r.requests), 0);
}

// waitForRequests polls the ledger, which is written after the answer.
async function waitForRequests(model, want) {
  let got = 0;
  for (let i = 0; i < 50; i++) {
    got = await responsesRequests(model);
    if (got >= want) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

describe('vercel ai sdk (@ai-sdk/openai responses)', { skip }, () => {
  test('generateText', async () => {
    const before = await responsesRequests('sim-small');
    const r = await generateText({ model: openai('auto'), system: 'Be terse.', prompt: 'Name three prime numbers.', maxRetries: 0 });
    assert.ok(r.text.trim());
    assert.equal(r.finishReason, 'stop');
    assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, JSON.stringify(r.usage));
    assert.match(r.response.id, /^resp_/);
    // Routed by "auto" to sim-small; the ledger names the dialect.
    assert.equal(await waitForRequests('sim-small', before + 1), before + 1);
  });

  test('streamText', async () => {
    const r = streamText({ model: openai('auto'), prompt: 'Count to five.', maxRetries: 0 });
    let text = '';
    for await (const delta of r.textStream) text += delta;
    assert.ok(text.trim());
    assert.equal(await r.text, text);
    assert.equal(await r.finishReason, 'stop');
    const usage = await r.usage;
    assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0, JSON.stringify(usage));
  });

  test('tool round trip over two steps', async () => {
    const before = await responsesRequests('agents-sim');
    const cities = [];
    const r = await generateText({
      model: openai('agents-sim'),
      prompt: 'What is the weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city.',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            cities.push(city);
            return { city, sky: 'sunny', celsius: 21 };
          },
        }),
      },
      stopWhen: stepCountIs(2),
      maxRetries: 0,
    });
    assert.equal(cities.length, 1, JSON.stringify(cities));
    assert.equal(r.steps.length, 2);
    assert.equal(r.steps[0].finishReason, 'tool-calls');
    assert.equal(r.steps[0].toolCalls[0].toolName, 'get_weather');
    assert.equal(r.steps[0].toolResults[0].output.sky, 'sunny');
    assert.equal(r.finishReason, 'stop');
    assert.ok(r.text.trim());
    assert.equal(await waitForRequests('agents-sim', before + 2), before + 2);
  });

  test('streamText tool round trip', async () => {
    const r = streamText({
      model: openai('agents-sim'),
      prompt: 'Weather in Oslo?',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city.',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, sky: 'cloudy' }),
        }),
      },
      stopWhen: stepCountIs(2),
      maxRetries: 0,
    });
    const kinds = new Set();
    for await (const part of r.fullStream) kinds.add(part.type);
    assert.ok(kinds.has('tool-call') && kinds.has('tool-result') && kinds.has('text-delta'), [...kinds].join(','));
    assert.equal((await r.steps).length, 2);
    assert.ok((await r.text).trim());
  });

  test('a second turn from response.messages (item_reference)', async () => {
    // With store on (the default) the SDK sends the turns it got back as
    // item_reference by id; the gateway reads them out of its store.
    const history = [{ role: 'user', content: 'one two three' }];
    const first = await generateText({ model: openai('auto'), messages: history, maxRetries: 0 });
    history.push(...first.response.messages, { role: 'user', content: 'and more' });
    const second = await generateText({ model: openai('auto'), messages: history, maxRetries: 0 });
    assert.ok(JSON.stringify(second.request.body).includes('item_reference'), 'the SDK sent no item_reference');
    assert.ok(second.text.trim());
    assert.ok(second.usage.inputTokens >= first.usage.inputTokens + first.usage.outputTokens,
      `prompt ${second.usage.inputTokens} tokens: the referenced answer was not carried`);
  });

  test('unknown model is an APICallError with status 404', async () => {
    await assert.rejects(
      generateText({ model: openai('no-such-model'), prompt: 'hi', maxRetries: 0 }),
      (err) => APICallError.isInstance(err) && err.statusCode === 404,
    );
  });
});
