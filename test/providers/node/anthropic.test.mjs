// The official Anthropic TypeScript SDK (@anthropic-ai/sdk) through
// Switchyard's Messages ingress to each provider format: `fake-claude` gets
// the client's body as written, `fake-gpt` and `fake-gemini` a translation.
//
// The fake upstream thinks in the Anthropic format (a fixed, signed thinking
// block when thinking is enabled) and the Gemini format (a thought part when
// includeThoughts is set), not in OpenAI Chat Completions; every test also
// checks the thinking setting reached the upstream in its own shape.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '../../sdkcompat/node/node_modules/@anthropic-ai/sdk/index.mjs';
import { MODELS, ROOT_URL, STATUSES, TIMEOUT_MS, faultModel, faultPrompt, marker, skip, upstream, words } from './lib.mjs';

// The SDK appends /v1/messages itself: its base URL is the gateway root.
const client = skip ? null : new Anthropic({ baseURL: ROOT_URL, apiKey: 'sk-test', timeout: TIMEOUT_MS, maxRetries: 0 });

const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const THINKING = { type: 'enabled', budget_tokens: 1024 };
const TOOL_RESULT_SHAPE = { 'fake-gpt': '"role":"tool"', 'fake-claude': 'tool_result', 'fake-gemini': 'functionResponse' };
// How the thinking setting looks upstream.
const THINKING_UPSTREAM = {
  'fake-gpt': (body) => assert.ok(body.reasoning_effort, `no reasoning_effort: ${JSON.stringify(body)}`),
  'fake-claude': (body) => assert.deepEqual(body.thinking, THINKING),
  'fake-gemini': (body) => assert.equal(body.generationConfig?.thinkingConfig?.thinkingBudget, 1024, JSON.stringify(body)),
};
const ERROR_CLASS = { 400: Anthropic.BadRequestError, 429: Anthropic.RateLimitError, 503: Anthropic.InternalServerError };

for (const model of MODELS) {
  describe(`anthropic → ${model}`, { skip }, () => {
    test('messages.create', async () => {
      const m = marker();
      const msg = await client.messages.create({ model, max_tokens: 64, system: 'Be terse.', messages: [{ role: 'user', content: `${m} Name three primes.` }] });
      assert.match(msg.id, /^msg_/);
      assert.equal(msg.type, 'message');
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.model, model);
      assert.deepEqual(msg.content.map((b) => b.type), ['text']);
      assert.ok(msg.content[0].text.trim());
      assert.equal(msg.stop_reason, 'end_turn');
      // The fake's counts: system and message words in, words written out.
      assert.equal(msg.usage.input_tokens, 2 + 4, JSON.stringify(msg.usage));
      assert.equal(msg.usage.output_tokens, words(msg.content[0].text));
      const [rec] = await upstream(model, m);
      assert.ok(JSON.stringify(rec.json).includes('Be terse.'));
    });

    test('messages.stream: text events add up to the unary answer; raw event order', async () => {
      const messages = [{ role: 'user', content: 'Count to five.' }];
      const unary = await client.messages.create({ model, max_tokens: 64, messages });
      const s = client.messages.stream({ model, max_tokens: 64, messages });
      let text = '';
      s.on('text', (t) => { text += t; });
      const final = await s.finalMessage();
      assert.equal(text, unary.content[0].text);
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, unary.usage.output_tokens);
      assert.equal(final.usage.input_tokens, unary.usage.input_tokens);
      const types = [];
      for await (const ev of await client.messages.create({ model, max_tokens: 64, messages, stream: true })) types.push(ev.type);
      assert.equal(types[0], 'message_start');
      assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
      assert.equal(types.filter((t) => t === 'content_block_start').length, 1, types.join(','));
      assert.ok(types.includes('content_block_delta') && types.includes('content_block_stop'), types.join(','));
    });

    test('messages.countTokens', async () => {
      const short = await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'one two three' }] });
      const long = await client.messages.countTokens({
        model,
        system: 'Be terse.',
        tools: [WEATHER],
        messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve' }],
      });
      assert.ok(Number.isInteger(short.input_tokens) && short.input_tokens > 0, JSON.stringify(short));
      assert.ok(long.input_tokens > short.input_tokens, `${long.input_tokens} <= ${short.input_tokens}`);
    });

    test('tool use round trip, unary and streamed', async () => {
      const question = { role: 'user', content: 'Weather in Paris?' };
      const req = { model, max_tokens: 64, tools: [WEATHER], tool_choice: { type: 'any' }, messages: [question] };
      const msg = await client.messages.create(req);
      assert.equal(msg.stop_reason, 'tool_use');
      const uses = msg.content.filter((b) => b.type === 'tool_use');
      assert.equal(uses.length, 1, JSON.stringify(msg.content));
      assert.equal(uses[0].name, 'get_weather');
      assert.ok(uses[0].id);
      assert.equal(typeof uses[0].input.city, 'string');
      const streamed = await client.messages.stream(req).finalMessage();
      assert.equal(streamed.stop_reason, 'tool_use');
      const su = streamed.content.find((b) => b.type === 'tool_use');
      assert.equal(su.name, 'get_weather');
      assert.deepEqual(su.input, uses[0].input);
      const m = marker();
      const answer = await client.messages.create({
        model,
        max_tokens: 64,
        tools: [WEATHER],
        messages: [question, { role: 'assistant', content: msg.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: `${m} sunny` }] }],
      });
      assert.equal(answer.stop_reason, 'end_turn');
      assert.equal(answer.content[0].type, 'text');
      assert.ok(answer.content[0].text.trim());
      const [rec] = await upstream(model, m);
      const body = JSON.stringify(rec.json);
      assert.ok(body.includes('get_weather') && body.includes(TOOL_RESULT_SHAPE[model]), body);
    });

    test('thinking: the setting reaches the upstream; a thinking block comes back and goes back', async () => {
      const m = marker();
      const messages = [{ role: 'user', content: `${m} Name three primes.` }];
      const msg = await client.messages.create({ model, max_tokens: 2048, thinking: THINKING, messages });
      const [rec] = await upstream(model, m);
      THINKING_UPSTREAM[model](rec.json);
      if (model === 'fake-claude') {
        // The Anthropic format's fake: a signed block before the text.
        assert.deepEqual(msg.content.map((b) => b.type), ['thinking', 'text']);
        assert.equal(msg.content[0].thinking, 'Fake thinking before the answer.');
        assert.equal(msg.content[0].signature, 'fakesig_0123456789abcdef');
      } else if (model === 'fake-gemini') {
        // Gemini's thought part comes back as a thinking block.
        assert.deepEqual(msg.content.map((b) => b.type), ['thinking', 'text']);
        assert.ok(msg.content[0].thinking.trim());
      } else {
        assert.deepEqual(msg.content.map((b) => b.type), ['text']);
      }
      assert.ok(msg.content.at(-1).text.trim());
      // A signed thinking block from an earlier Claude turn goes back to any target.
      const m2 = marker();
      const prior = [
        { type: 'thinking', thinking: 'Fake thinking before the answer.', signature: 'fakesig_0123456789abcdef' },
        { type: 'text', text: 'Two, three, five.' },
      ];
      const follow = await client.messages.create({
        model,
        max_tokens: 2048,
        thinking: THINKING,
        messages: [...messages, { role: 'assistant', content: prior }, { role: 'user', content: `${m2} And the next three?` }],
      });
      assert.equal(follow.content.at(-1).type, 'text');
      const [rec2] = await upstream(model, m2);
      if (model === 'fake-claude') {
        // Same dialect: the block travels intact, signature included.
        assert.ok(JSON.stringify(rec2.json).includes('fakesig_0123456789abcdef'), JSON.stringify(rec2.json));
      }
    });

    test('thinking streamed', async () => {
      const s = client.messages.stream({ model, max_tokens: 2048, thinking: THINKING, messages: [{ role: 'user', content: 'Name three primes.' }] });
      let thinking = '';
      let signature = '';
      let text = '';
      s.on('thinking', (d) => { thinking += d; });
      s.on('signature', (sig) => { signature = sig; });
      s.on('text', (t) => { text += t; });
      const final = await s.finalMessage();
      assert.equal(final.stop_reason, 'end_turn');
      assert.ok(text.trim());
      if (model === 'fake-claude') {
        assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
        assert.equal(thinking, 'Fake thinking before the answer.');
        assert.equal(signature, 'fakesig_0123456789abcdef');
      } else if (model === 'fake-gemini') {
        assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
        assert.ok(thinking.trim() && thinking === final.content[0].thinking);
      } else {
        assert.deepEqual(final.content.map((b) => b.type), ['text']);
      }
      assert.equal(final.content.at(-1).text, text);
    });

    for (const status of STATUSES) {
      test(`upstream ${status} → ${ERROR_CLASS[status].name}, unary and streamed`, async () => {
        const req = { model: faultModel(model, status), max_tokens: 16, messages: [{ role: 'user', content: faultPrompt(status) }] };
        const err = await client.messages.create(req).then(() => assert.fail('no error'), (e) => e);
        assert.ok(err instanceof ERROR_CLASS[status], `${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, status);
        assert.equal(err.error?.type, 'error', JSON.stringify(err.error));
        if (status === 429) assert.ok(Number(err.headers?.get('retry-after')) >= 1, 'no retry-after');
        await assert.rejects(client.messages.stream(req).finalMessage(), (e) => e instanceof ERROR_CLASS[status] && e.status === status);
        await assert.rejects(
          (async () => { for await (const _ of await client.messages.create({ ...req, stream: true })); })(),
          (e) => e instanceof ERROR_CLASS[status] && e.status === status,
        );
      });
    }
  });
}
