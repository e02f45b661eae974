// Shared by the provider suite's Node files (not a test file itself: node
// --test picks *.test.mjs). The SDKs are the ones test/sdkcompat/node pins,
// imported by path so both suites use one lockfile and one install.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

export const BASE_URL = process.env.SWITCHYARD_BASE_URL ?? ''; // the gateway's /v1
export const ROOT_URL = BASE_URL.replace(/\/v1$/, ''); // Anthropic's SDK adds /v1 itself
export const FAKE_URL = process.env.FAKE_UPSTREAM_URL ?? '';
export const skip = BASE_URL && FAKE_URL ? false : 'SWITCHYARD_BASE_URL / FAKE_UPSTREAM_URL not set; run scripts/test-providers.sh';

// One provider per wire format (test/providers/switchyard.yaml), reached by model name.
export const MODELS = ['fake-gpt', 'fake-claude', 'fake-gemini'];
export const FORMAT = { 'fake-gpt': 'openai', 'fake-claude': 'anthropic', 'fake-gemini': 'gemini' };
// fault-<fmt>-<status>: a target of its own per format and status, so the
// cooling and breaker trips injected errors cause stay out of the other tests.
export const FAULT_FMT = { 'fake-gpt': 'gpt', 'fake-claude': 'claude', 'fake-gemini': 'gemini' };
export const STATUSES = [400, 429, 503];
export const faultModel = (model, status) => `fault-${FAULT_FMT[model]}-${status}`;
export const faultPrompt = (status) => (status === 429 ? `[[fake:status=${status},retry_after=1]] Hello` : `[[fake:status=${status}]] Hello`);

// Bounded: a hung gateway fails the test instead of hanging the suite.
export const TIMEOUT_MS = 20_000;

export const words = (s) => s.split(/\s+/).filter(Boolean).length;
export const marker = () => 'm' + randomUUID().replaceAll('-', '');

// records asks the fake upstream what it was sent.
export async function records(params) {
  const r = await fetch(`${FAKE_URL}/_control/records?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  assert.equal(r.status, 200);
  return (await r.json()).records;
}

// upstream is the requests with marker m that reached model's provider,
// checked to be in that provider's format.
const UPSTREAM_PATH = { 'fake-gpt': '/v1/', 'fake-claude': '/v1/messages', 'fake-gemini': '/v1beta/models/fake-gemini:' };
export async function upstream(model, m) {
  const recs = await records({ format: FORMAT[model], contains: m });
  assert.ok(recs.length > 0, `no ${FORMAT[model]} upstream request contains ${m}`);
  for (const r of recs) assert.ok(r.path.startsWith(UPSTREAM_PATH[model]), r.path);
  return recs;
}

// --- the feature matrix -----------------------------------------------------
//
// A cell that cannot pass yet names its gap: known(t, key, fn) runs the
// cell; a failure is reported as a todo with the gap's reason, and a pass is
// an error (XPASS), so the mark must go the day the piece lands. The keys
// and reasons are test/providers/python/plib.py's GAPS.
export const GAPS = {
};

export async function known(t, key, fn) {
  const keys = [key ?? []].flat();
  if (keys.length === 0) return fn();
  const reason = keys.map((k) => GAPS[k] ?? assert.fail(`unknown gap ${k}`)).join('; ');
  try {
    await fn();
  } catch (e) {
    t.todo(`${reason} || got: ${String(e?.message ?? e).split('\n')[0].slice(0, 160)}`);
    return;
  }
  throw new Error(`XPASS: the cell passes now; remove its gap mark: ${reason}`);
}

// A city and its temperature: what every structured-output cell asks for.
export const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, celsius: { type: 'integer' } },
  required: ['city', 'celsius'],
  additionalProperties: false,
};

// checkCity: text is one JSON object valid against CITY_SCHEMA.
export function checkCity(text) {
  assert.ok(typeof text === 'string' && text.trim(), 'empty answer');
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    assert.fail(`answer is not JSON: ${text.slice(0, 200)}`);
  }
  assert.deepEqual(Object.keys(obj).sort(), ['celsius', 'city'], text);
  assert.equal(typeof obj.city, 'string');
  assert.ok(Number.isInteger(obj.celsius), text);
  return obj;
}

// forwardedSchema: the JSON schema the upstream body asks for, in the
// target's form (OpenAI response_format or text.format, Anthropic
// output_config / output_format or a forced tool, Gemini responseJsonSchema).
export function forwardedSchema(model, body) {
  if (model === 'fake-gpt') {
    const f = body.response_format ?? body.text?.format;
    assert.equal(f?.type, 'json_schema', JSON.stringify(body));
    return f.json_schema?.schema ?? f.schema;
  }
  if (model === 'fake-claude') {
    const native = body.output_config?.format ?? body.output_format;
    if (native) return native.schema;
    assert.equal(body.tool_choice?.type, 'tool', `neither output_config.format nor a forced tool: ${JSON.stringify(body)}`);
    return body.tools?.find((t) => t.name === body.tool_choice.name)?.input_schema;
  }
  assert.equal(body.generationConfig?.responseMimeType, 'application/json', JSON.stringify(body));
  return body.generationConfig.responseJsonSchema ?? body.generationConfig.responseSchema;
}

export function checkReasoningUpstream(model, body, effort = 'high') {
  if (model === 'fake-gpt') assert.ok(body.reasoning_effort === effort || body.reasoning?.effort === effort, JSON.stringify(body));
  else if (model === 'fake-claude') {
    assert.ok(['enabled', 'adaptive'].includes(body.thinking?.type), `no thinking: ${JSON.stringify(body)}`);
    if (body.thinking.type === 'enabled') assert.ok(body.thinking.budget_tokens >= 1024 && body.thinking.budget_tokens < body.max_tokens, JSON.stringify(body));
  } else {
    const tc = body.generationConfig?.thinkingConfig ?? {};
    assert.ok(tc.thinkingBudget > 0 || tc.thinkingLevel, `no thinkingConfig: ${JSON.stringify(body)}`);
  }
}

// A small, valid one-page PDF.
export const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
export const PDF_B64 = PDF_BYTES.toString('base64');

// checkPdfUpstream: the PDF reached the upstream as the target's file part.
export function checkPdfUpstream(model, body) {
  const s = JSON.stringify(body);
  assert.ok(s.includes(PDF_B64), "the PDF's bytes did not reach the upstream in standard base64");
  if (model === 'fake-gpt') {
    // Chat Completions file part, or a Responses input_file.
    const parts = (body.messages ?? body.input ?? []).flatMap((m) => (Array.isArray(m.content) ? m.content : []));
    const file = parts.find((p) => p.type === 'file' || p.type === 'input_file');
    assert.ok(file, JSON.stringify(parts).slice(0, 300));
    assert.ok((file.file?.file_data ?? file.file_data).includes(PDF_B64));
  } else if (model === 'fake-claude') {
    const doc = body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === 'document');
    assert.ok(doc, s.slice(0, 300));
    assert.deepEqual(doc.source, { type: 'base64', media_type: 'application/pdf', data: PDF_B64 });
  } else {
    const inline = body.contents.flatMap((c) => c.parts ?? []).find((p) => p.inlineData)?.inlineData;
    assert.ok(inline, s.slice(0, 300));
    assert.equal(inline.mimeType, 'application/pdf');
    assert.equal(inline.data, PDF_B64);
  }
}
