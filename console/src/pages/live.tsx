import type { RequestEvent, SwitchyardClient } from "@switchyard/sdk/web";
import { useEffect, useState } from "preact/hooks";

import { errorText } from "../api";
import { clock, date, ms, num, usd } from "../format";

const MAX_ROWS = 200;

interface Filters {
  route: string;
  provider: string;
  status: string;
  keyId: string;
  dialect: string;
}

/** Live streams TailRequests; changing a filter restarts the stream, leaving the page ends it. */
export function Live({ c, labels }: { c: SwitchyardClient; labels: Map<string, string> }) {
  const [filters, setFilters] = useState<Filters>({ route: "", provider: "", status: "", keyId: "", dialect: "" });
  const [events, setEvents] = useState<RequestEvent[]>([]);
  const [state, setState] = useState<{ s: "connecting" | "live" | "ended" | "error"; text?: string }>({ s: "connecting" });
  const [dropped, setDropped] = useState(0);
  const [paused, setPaused] = useState(false);
  useEffect(() => {
    if (paused) return;
    const abort = new AbortController();
    setEvents([]);
    setState({ s: "connecting" });
    (async () => {
      try {
        const stream = c.services.usage.tailRequests({ backlog: 100, ...filters }, { signal: abort.signal, timeoutMs: 0 });
        setState({ s: "live" });
        for await (const m of stream) {
          if (!m.event) continue;
          const ev = m.event;
          if (m.dropped) setDropped((d) => d + Number(m.dropped));
          setEvents((prev) => [ev, ...prev].slice(0, MAX_ROWS));
        }
        setState({ s: "ended", text: "The gateway ended the stream (draining?)." });
      } catch (e) {
        if (!abort.signal.aborted) setState({ s: "error", text: errorText(e) });
      }
    })();
    return () => abort.abort();
  }, [c, filters, paused]);
  const input = (k: keyof Filters, label: string) => (
    <label>
      {label}
      <input name={k} value={filters[k]} onChange={(e) => setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value.trim() })} />
    </label>
  );
  return (
    <div class="page" data-page="live">
      <section class="panel" data-panel="Live requests" aria-busy={state.s === "connecting"}>
        <header>
          <h2>Live requests</h2>
          <div class="actions">
            <span class={`badge ${state.s === "live" ? "s-healthy" : state.s === "error" ? "s-open" : "s-half-open"}`} data-testid="live-state">
              {paused ? "paused" : state.s}
            </span>
            <button type="button" onClick={() => setPaused(!paused)}>
              {paused ? "Resume" : "Pause"}
            </button>
          </div>
        </header>
        <form class="form filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
          {input("route", "Route")}
          {input("provider", "Provider")}
          {input("keyId", "Key id")}
          {input("dialect", "Dialect")}
          <label>
            Status
            <select name="status" value={filters.status} onChange={(e) => setFilters({ ...filters, status: (e.target as HTMLSelectElement).value })}>
              <option value="">any</option>
              <option value="ok">ok</option>
              <option value="error">errors</option>
            </select>
          </label>
        </form>
        {dropped > 0 && <div class="notice error">{num(dropped)} events skipped: this tab read more slowly than requests finished.</div>}
        {state.s === "error" && (
          <div class="state error" role="alert">
            Stream failed: {state.text}
          </div>
        )}
        {state.s === "ended" && <div class="state">{state.text}</div>}
        {events.length === 0 && state.s !== "error" ? (
          <div class="state empty">{state.s === "connecting" ? "Connecting…" : "Waiting for requests… (prompts and answers are never shown)"}</div>
        ) : (
          <div class="table-wrap">
            <table data-testid="live-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Key</th>
                  <th scope="col">Dialect</th>
                  <th scope="col">Route</th>
                  <th scope="col">Provider / model</th>
                  <th scope="col" class="n">Attempts</th>
                  <th scope="col">Cache</th>
                  <th scope="col" class="n">Tokens</th>
                  <th scope="col" class="n">Cost</th>
                  <th scope="col" class="n">Latency</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr data-request={e.requestId}>
                    <td>{clock(date(e.time))}</td>
                    <td>{e.keyId ? labels.get(e.keyId) || e.keyId : <span class="muted">keyless</span>}</td>
                    <td>{e.dialect}</td>
                    <td>{e.route}</td>
                    <td>
                      {e.provider}
                      <span class="muted">/{e.model}</span>
                    </td>
                    <td class="n">{e.attempts}</td>
                    <td>{e.cache || "–"}</td>
                    <td class="n">
                      {num(e.promptTokens)}/{num(e.completionTokens)}
                    </td>
                    <td class="n">{usd(e.costUsd)}</td>
                    <td class="n">{ms(e.latencyMs)}</td>
                    <td>
                      <span class={`badge ${e.status === "ok" ? "s-healthy" : "s-open"}`}>{e.status}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
