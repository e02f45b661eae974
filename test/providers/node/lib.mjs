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
