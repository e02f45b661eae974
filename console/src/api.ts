// The console's one client: the project's TypeScript SDK over Connect-Web
// (JSON), same origin, so no CORS entry is needed. The admin key lives in
// sessionStorage only: no cookies, so no CSRF, and it is gone with the tab.
import { Code, ConnectError, createSwitchyardClient } from "@switchyard/sdk/web";
import type { SwitchyardClient } from "@switchyard/sdk/web";

const STORAGE_KEY = "switchyard.console.key";

export type Mode = "admin" | "client" | "login";

export function storedKey(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? "";
}

export function storeKey(key: string): void {
  if (key) sessionStorage.setItem(STORAGE_KEY, key);
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function makeClient(key: string): SwitchyardClient {
  return createSwitchyardClient({
    baseUrl: location.origin,
    apiKey: key || undefined,
    defaultTimeoutMs: 15_000,
  });
}

/** isAuthError is true for a missing, wrong or too weak key. */
export function isAuthError(e: unknown): boolean {
  const c = ConnectError.from(e).code;
  return c === Code.Unauthenticated || c === Code.PermissionDenied;
}

export function errorText(e: unknown): string {
  const ce = ConnectError.from(e);
  return ce.rawMessage || ce.message;
}

/**
 * detectMode asks an admin API first: it answers with the admin key, or
 * without one in keyless loopback mode. A key it refuses may still be a
 * client key, which reads its own usage.
 */
export async function detectMode(c: SwitchyardClient, key: string): Promise<Mode> {
  try {
    await c.services.providers.listProviders({});
    return "admin";
  } catch (e) {
    if (!isAuthError(e)) throw e;
  }
  if (!key) return "login";
  try {
    await c.services.usage.getUsage({});
    return "client";
  } catch (e) {
    if (isAuthError(e)) return "login";
    throw e;
  }
}
