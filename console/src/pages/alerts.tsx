import type { SwitchyardClient } from "@switchyard/sdk/web";
import { useState } from "preact/hooks";

import { errorText } from "../api";
import { date, ms, pct, time, usd } from "../format";
import { Notice, Panel, useLoad } from "../state";

const TYPES = ["budget_threshold", "error_rate", "p95_latency", "provider_share"] as const;

// How many firings the history shows: the latest, newest first.
const HISTORY = 50;

function threshold(type: string, v: number): string {
  if (type === "budget_threshold") return usd(v);
  if (type === "p95_latency") return ms(v);
  return pct(v);
}

// Delivery shows a firing's webhook outcome; a failure's reason is in its title.
function Delivery({ outcome }: { outcome: string }) {
  if (outcome === "delivered") return <span class="badge s-healthy">delivered</span>;
  if (outcome === "pending") return <span class="badge s-cooling">pending</span>;
  if (outcome === "none" || outcome === "") return <span class="muted">none</span>;
  const kind = outcome.split(":", 1)[0];
  return (
    <span class="badge s-open" title={outcome}>
      {kind}
    </span>
  );
}

export function Alerts({ c }: { c: SwitchyardClient }) {
  const alerts = useLoad(() => c.services.billing.listAlerts({}), [c], 15_000);
  const firings = useLoad(() => c.services.billing.listAlertFirings({ limit: HISTORY }), [c], 15_000);
  const reload = () => {
    alerts.reload();
    firings.reload();
  };
  const [msg, setMsg] = useState<{ kind: "ok" | "error"; text: string }>();
  const [f, setF] = useState({ type: "budget_threshold", threshold: "", period: "monthly", window: "5m", keyId: "", webhook: "", provider: "", measure: "requests" });
  return (
    <div class="page" data-page="alerts">
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <Panel title="Alerts" state={alerts} empty={(d) => d.alerts.length === 0} emptyText="No alerts yet.">
        {(d) => (
          <div class="table-wrap">
            <table data-testid="alerts-table">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">Period / window</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Notifies</th>
                  <th scope="col">Last fired</th>
                  <th scope="col"><span class="sr">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {d.alerts.map((a) => (
                  <tr data-alert={a.id}>
                    <th scope="row">
                      {a.type} <span class="muted">{a.id}</span>
                    </th>
                    <td>{threshold(a.type, a.threshold)}</td>
                    <td>{a.type === "budget_threshold" ? a.period : a.window}</td>
                    <td>{[a.keyId && `key ${a.keyId}`, a.provider && `provider ${a.provider}`, a.measure].filter(Boolean).join(", ") || "gateway"}</td>
                    <td class="models">{a.webhookUrl || a.notifyEmail || "–"}</td>
                    <td>{a.lastFiredAt ? <span class="badge s-open">{time(date(a.lastFiredAt))}</span> : <span class="muted">never</span>}</td>
                    <td>
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Delete alert ${a.id}`}
                        onClick={async () => {
                          if (!confirm(`Delete alert ${a.id}?`)) return;
                          try {
                            await c.services.billing.deleteAlert({ id: a.id });
                            setMsg({ kind: "ok", text: `Deleted ${a.id}.` });
                          } catch (e) {
                            setMsg({ kind: "error", text: errorText(e) });
                          }
                          reload();
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <Panel title="Firing history" state={firings} empty={(d) => d.firings.length === 0} emptyText="No alert has fired.">
        {(d) => (
          <div class="table-wrap">
            <table data-testid="firings-table">
              <thead>
                <tr>
                  <th scope="col">Fired</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Type</th>
                  <th scope="col">Value / threshold</th>
                  <th scope="col">Message</th>
                  <th scope="col">Webhook</th>
                </tr>
              </thead>
              <tbody>
                {d.firings.map((x) => (
                  <tr data-firing={x.alertId}>
                    <th scope="row">
                      <time dateTime={date(x.firedAt)?.toISOString()}>{time(date(x.firedAt))}</time>
                    </th>
                    <td>
                      {x.alertId}
                      {x.keyId && <span class="muted"> key {x.keyId}</span>}
                    </td>
                    <td>{x.type}</td>
                    <td>
                      {threshold(x.type, x.value)} <span class="muted">/ {threshold(x.type, x.threshold)}</span>
                    </td>
                    <td class="models" style={{ minWidth: "16em" }}>
                      {x.message || "–"}
                    </td>
                    <td>
                      <Delivery outcome={x.delivery} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <section class="panel">
        <header>
          <h2>Create an alert</h2>
        </header>
        <form
          class="form"
          aria-label="Create an alert"
          onSubmit={async (e) => {
            e.preventDefault();
            const budget = f.type === "budget_threshold";
            try {
              const res = await c.services.billing.createAlert({
                alert: {
                  type: f.type,
                  threshold: Number(f.threshold),
                  period: budget ? f.period : "",
                  window: budget ? "" : f.window,
                  keyId: f.keyId,
                  webhookUrl: f.webhook,
                  provider: f.type === "provider_share" ? f.provider : "",
                  measure: f.type === "provider_share" ? f.measure : "",
                  currency: budget ? "USD" : "",
                },
              });
              setMsg({ kind: "ok", text: `Created ${res.alert?.id}.` });
              reload();
            } catch (err) {
              setMsg({ kind: "error", text: errorText(err) });
            }
          }}
        >
          <label>
            Type
            <select name="type" value={f.type} onChange={(e) => setF({ ...f, type: (e.target as HTMLSelectElement).value })}>
              {TYPES.map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Threshold {f.type === "budget_threshold" ? "(USD)" : f.type === "p95_latency" ? "(ms)" : "(ratio, 0.05 = 5%)"}
            <input name="threshold" type="number" step="any" min="0" required value={f.threshold} onInput={(e) => setF({ ...f, threshold: (e.target as HTMLInputElement).value })} />
          </label>
          {f.type === "budget_threshold" ? (
            <label>
              Period
              <select name="period" value={f.period} onChange={(e) => setF({ ...f, period: (e.target as HTMLSelectElement).value })}>
                <option value="monthly">monthly</option>
                <option value="daily">daily</option>
              </select>
            </label>
          ) : (
            <label>
              Window
              <input name="window" value={f.window} onInput={(e) => setF({ ...f, window: (e.target as HTMLInputElement).value })} />
            </label>
          )}
          {f.type === "provider_share" && (
            <>
              <label>
                Share of
                <select name="measure" value={f.measure} onChange={(e) => setF({ ...f, measure: (e.target as HTMLSelectElement).value })}>
                  <option value="requests">requests</option>
                  <option value="cost">cost</option>
                </select>
              </label>
              <label>
                Provider
                <input name="provider" value={f.provider} placeholder="any" onInput={(e) => setF({ ...f, provider: (e.target as HTMLInputElement).value })} />
              </label>
            </>
          )}
          <label>
            Key id
            <input name="key_id" value={f.keyId} placeholder="whole gateway" onInput={(e) => setF({ ...f, keyId: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Webhook URL
            <input name="webhook" type="url" value={f.webhook} onInput={(e) => setF({ ...f, webhook: (e.target as HTMLInputElement).value })} />
          </label>
          <button type="submit" class="primary">
            Create alert
          </button>
        </form>
      </section>
    </div>
  );
}
