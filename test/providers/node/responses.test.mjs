// The official `openai` Node SDK's Responses API (client.responses) through
// Switchyard to each provider format: `fake-gpt` goes to the fake's
// /v1/responses, `fake-claude` and `fake-gemini` are translated to Messages
// and generateContent and back. Mirrors test_providers_responses.py.
//
// The fake upstream answers a fixed word list whatever the request asks,
// so a json_schema text.format is checked for what the gateway forwards
// and what the SDK gets back, not for JSON in the answer (the fake writes none).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from '../../sdkcompat/node/node_modules/openai/index.mjs';
import { BASE_URL, MODELS, STATUSES, TIMEOUT_MS, faultModel, faultPrompt, marker, skip, upstream, words } from './lib.mjs';

const client = skip ? null : new OpenAI({ baseURL: BASE_URL, apiKey: 'sk-test', timeout: TIMEOUT_MS, maxRetries: 0 });

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};
const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, population: { type: 'integer' } },
  required: ['city', 'population'],
  additionalProperties: false,
};
const CITY_FORMAT = { type: 'json_schema', name: 'city', schema: CITY_SCHEMA, strict: true };

// Where each format carries the schema upstream.
const FORWARDED_SCHEMA = {
  'fake-gpt': (body) => body.text?.format?.schema,
  // Anthropic: native structured outputs (output_format beta, output_config GA),
  // or a forced tool whose input is the schema.
  'fake-claude': (body) =>
    body.output_format?.schema ??
    body.output_config?.format?.schema ??
    body.tools?.find((t) => body.tool_choice?.type === 'tool' && t.name === body.tool_choice.name)?.input_schema,
  'fake-gemini': (body) => body.generationConfig?.responseJsonSchema ?? body.generationConfig?.responseSchema,
};

const TOOL_RESULT_SHAPE = { 'fake-gpt': 'function_call_output', 'fake-claude': 'tool_result', 'fake-gemini': 'functionResponse' };
const ERROR_CLASS = { 400: OpenAI.BadRequestError, 429: OpenAI.RateLimitError, 503: OpenAI.InternalServerError };

const outputText = (resp) =>
  resp.output.filter((o) => o.type === 'message').flatMap((o) => o.content).filter((c) => c.type === 'output_text').map((c) => c.text).join('');

async function collect(stream) {
  const events = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

for (const model of MODELS) {
  describe(`responses → ${model}`, { skip }, () => {
    test('unary', async () => {
      const m = marker();
      const r = await client.responses.create({ model, instructions: 'Be terse.', input: `${m} Name three prime numbers.` });
      assert.match(r.id, /^resp_/);
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.equal(r.model, model);
      assert.deepEqual(r.output.map((o) => o.type), ['message']);
      assert.ok(r.output_text.trim());
      // The fake's own counts: instructions and input words in, words written out.
      assert.equal(r.usage.input_tokens, 2 + 5, JSON.stringify(r.usage));
      assert.equal(r.usage.output_tokens, words(r.output_text));
      assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
      const [rec] = await upstream(model, m);
      assert.ok(JSON.stringify(rec.json).includes('Be terse.'), 'instructions did not reach the upstream');
    });

    test('stream: event sequence, deltas add up to the final text', async () => {
      const events = await collect(await client.responses.create({ model, input: 'Count to five.', stream: true }));
      const types = events.map((e) => e.type);
      assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
      assert.equal(types.at(-1), 'response.completed');
      assert.deepEqual(events.map((e) => e.sequence_number), [...events.keys()]);
      const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      assert.ok(text.trim());
      const final = events.at(-1).response;
      assert.equal(final.status, 'completed');
      // Raw events carry no output_text convenience (create() adds it to unary answers only).
      assert.equal(outputText(final), text);
      assert.equal(final.id, events[0].response.id);
      assert.equal(final.usage.input_tokens, 3);
      assert.equal(final.usage.output_tokens, words(text));
      // The SDK's stream helper agrees.
      const s = client.responses.stream({ model, input: 'Count to five.' });
      let helperText = '';
      s.on('response.output_text.delta', (e) => { helperText += e.delta; });
      const done = await s.finalResponse();
      assert.equal(done.output_text, helperText);
      assert.equal(helperText, text);
    });

    test('function tool round trip over previous_response_id', async () => {
      const r = await client.responses.create({ model, input: 'What is the weather in Paris?', tools: [WEATHER], tool_choice: 'required' });
      const calls = r.output.filter((o) => o.type === 'function_call');
      assert.equal(calls.length, 1, JSON.stringify(r.output));
      assert.equal(calls[0].name, 'get_weather');
      assert.ok(calls[0].call_id);
      assert.match(calls[0].id, /^fc_/);
      const args = JSON.parse(calls[0].arguments);
      assert.equal(typeof args.city, 'string');
      const m = marker();
      const answer = await client.responses.create({
        model,
        previous_response_id: r.id,
        input: [{ type: 'function_call_output', call_id: calls[0].call_id, output: `${m} sunny` }],
        tools: [WEATHER],
      });
      assert.equal(answer.status, 'completed');
      assert.ok(answer.output_text.trim());
      assert.equal(answer.previous_response_id, r.id);
      // The upstream saw the whole chain: the question, the call, its result.
      const [rec] = await upstream(model, m);
      const body = JSON.stringify(rec.json);
      assert.ok(body.includes('What is the weather in Paris?') && body.includes('get_weather'), body);
      assert.ok(body.includes(TOOL_RESULT_SHAPE[model]), body);
    });

    test('function call streamed: argument deltas add up', async () => {
      const events = await collect(await client.responses.create({ model, input: 'Weather in Oslo?', tools: [WEATHER], tool_choice: 'required', stream: true }));
      const types = events.map((e) => e.type);
      assert.equal(types.at(-1), 'response.completed');
      const done = events.find((e) => e.type === 'response.function_call_arguments.done');
      assert.ok(done, types.join(','));
      const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
      assert.equal(deltas, done.arguments);
      assert.equal(typeof JSON.parse(done.arguments), 'object');
      const call = events.at(-1).response.output.find((o) => o.type === 'function_call');
      assert.equal(call.name, 'get_weather');
      assert.equal(call.arguments, done.arguments);
    });

    test('previous_response_id: a three-turn chain reaches the upstream whole', async () => {
      const m = marker();
      const first = await client.responses.create({ model, input: `${m} one two three` });
      const second = await client.responses.create({ model, input: `${m} four five`, previous_response_id: first.id });
      const third = await client.responses.create({ model, input: `${m} six`, previous_response_id: second.id });
      assert.equal(second.previous_response_id, first.id);
      assert.equal(third.previous_response_id, second.id);
      assert.ok(third.output_text.trim());
      // Every earlier turn is in the prompt the fake counted: 4 + 3 + 2 input
      // words and both answers.
      assert.equal(third.usage.input_tokens, 4 + 3 + 2 + first.usage.output_tokens + second.usage.output_tokens, JSON.stringify(third.usage));
      const recs = await upstream(model, `${m} six`);
      assert.equal(recs.length, 1);
      const body = recs[0].json;
      assert.ok(!('previous_response_id' in body), 'the upstream was sent previous_response_id (it stores nothing)');
      const s = JSON.stringify(body);
      for (const part of [`${m} one two three`, `${m} four five`, first.output_text, second.output_text]) assert.ok(s.includes(part), `upstream lacks ${part}`);
      assert.equal((await client.responses.retrieve(third.id)).id, third.id);
    });

    test('json_schema text.format: forwarded in the target format, echoed back', async () => {
      const m = marker();
      const r = await client.responses.create({ model, input: `${m} Name a city and its population.`, text: { format: CITY_FORMAT } });
      assert.equal(r.status, 'completed');
      assert.equal(r.text?.format?.type, 'json_schema');
      assert.equal(r.text.format.name, 'city');
      assert.deepEqual(r.text.format.schema, CITY_SCHEMA);
      assert.equal(typeof r.output_text, 'string');
      assert.ok(r.output_text.trim());
      // The fake writes JSON only when the schema reaches it as a forced
      // tool (it fills a tool's arguments from its schema); text answers are
      // its fixed words, whatever the format asks.
      if (r.output_text.trim().startsWith('{')) {
        const city = JSON.parse(r.output_text);
        assert.equal(typeof city.city, 'string');
        assert.ok(Number.isInteger(city.population));
      }
      const events = await collect(await client.responses.create({ model, input: `${m} Again, streamed.`, text: { format: CITY_FORMAT }, stream: true }));
      assert.equal(events.at(-1).type, 'response.completed');
      assert.equal(events.at(-1).response.text?.format?.type, 'json_schema');
      const recs = await upstream(model, m);
      assert.equal(recs.length, 2);
      for (const rec of recs) assert.deepEqual(FORWARDED_SCHEMA[model](rec.json), CITY_SCHEMA, `${rec.path}: ${JSON.stringify(rec.json)}`);
      if (model === 'fake-gemini') for (const rec of recs) assert.equal(rec.json.generationConfig.responseMimeType, 'application/json');
    });

    for (const status of STATUSES) {
      test(`upstream ${status} → ${ERROR_CLASS[status].name}, unary and streamed`, async () => {
        const fm = faultModel(model, status);
        const err = await client.responses.create({ model: fm, input: faultPrompt(status) }).then(
          () => assert.fail('no error'),
          (e) => e,
        );
        assert.ok(err instanceof ERROR_CLASS[status], `${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, status);
        if (status === 429) assert.ok(Number(err.headers?.get('retry-after')) >= 1, 'no retry-after');
        // A stream that fails before its first event is the same error.
        await assert.rejects(
          (async () => collect(await client.responses.create({ model: fm, input: faultPrompt(status), stream: true })))(),
          (e) => e instanceof ERROR_CLASS[status] && e.status === status,
        );
      });
    }
  });
}
