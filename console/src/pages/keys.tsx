import { BudgetPeriod } from "@switchyard/sdk/web";
import type { ClientKey, SwitchyardClient } from "@switchyard/sdk/web";
import { useState } from "preact/hooks";

import { errorText } from "../api";
import { date, num, time, ts, usd } from "../format";
import { Notice, Panel, useLoad } from "../state";

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

function periodStart(p: BudgetPeriod, now: Date): Date {
  if (p === BudgetPeriod.DAY) return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function Keys({ c }: { c: SwitchyardClient }) {
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useLoad(async () => {
    const res = await c.services.keys.listKeys({ includeRevoked: showRevoked });
    const now = new Date();
    // Spend per key over the current day and month: the two budget periods.
    const [day, month] = await Promise.all(
      [BudgetPeriod.DAY, BudgetPeriod.MONTH].map((p) =>
        c.services.usage.getUsage({ startTime: ts(periodStart(p, now)), endTime: ts(now), groupBy: ["key"] }),
      ),
    );
    const spend = (k: ClientKey) => {
      const rows = k.budget?.period === BudgetPeriod.DAY ? day.rows : month.rows;
      return rows.find((r) => r.keyId === k.id)?.costUsd ?? 0;
    };
    return res.keys.map((k) => ({ key: k, spend: spend(k) }));
  }, [c, showRevoked]);
  const [secret, setSecret] = useState<{ id: string; secret: string; what: string }>();
  const [msg, setMsg] = useState<{ kind: "ok" | "error"; text: string }>();
  const [editing, setEditing] = useState<ClientKey>();
  const act = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      setMsg({ kind: "error", text: errorText(e) });
    }
    keys.reload();
  };
  return (
    <div class="page" data-page="keys">
      {secret && (
        <div class="secret" role="alert" data-testid="secret">
          <p>
            {secret.what} <code>{secret.id}</code>. Copy the secret now: it is shown once and the gateway keeps only its hash.
          </p>
          <code class="secret-value">{secret.secret}</code>{" "}
          <button type="button" onClick={() => navigator.clipboard?.writeText(secret.secret)}>
            Copy
          </button>{" "}
          <button type="button" onClick={() => setSecret(undefined)}>
            Done
          </button>
        </div>
      )}
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <Panel
        title="Client keys"
        state={keys}
        empty={(d) => d.length === 0}
        emptyText="No client keys: the gateway is in keyless loopback mode until you create one."
        actions={
          <label>
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked((e.target as HTMLInputElement).checked)} /> Show revoked
          </label>
        }
      >
        {(d) => (
          <div class="table-wrap">
            <table data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Allowlists</th>
                  <th scope="col">Budget</th>
                  <th scope="col">Created</th>
                  <th scope="col"><span class="sr">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {d.map(({ key: k, spend }) => (
                  <tr data-key={k.id} class={k.revokedAt ? "revoked" : ""}>
                    <th scope="row">
                      {k.name || k.id} <span class="muted">{k.id}</span>
                      {k.revokedAt && <span class="badge s-open">revoked</span>}
                    </th>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>
                      {k.rpmLimit ? `${num(k.rpmLimit)} rpm` : "–"} / {k.tpmLimit ? `${num(k.tpmLimit)} tpm` : "–"}
                    </td>
                    <td class="models">
                      {k.allowedModels.length > 0 && <div>models: {k.allowedModels.join(", ")}</div>}
                      {k.allowedRoutes.length > 0 && <div>routes: {k.allowedRoutes.join(", ")}</div>}
                      {k.ipAllowlist.length > 0 && <div>IPs: {k.ipAllowlist.join(", ")}</div>}
                      {!k.allowedModels.length && !k.allowedRoutes.length && !k.ipAllowlist.length && "any"}
                    </td>
                    <td>{k.budget && k.budget.amountUsd > 0 ? <BudgetBar spent={spend} budget={k.budget.amountUsd} period={k.budget.period} /> : <span class="muted">{usd(spend)}, no budget</span>}</td>
                    <td>{time(date(k.createdAt))}</td>
                    <td class="row">
                      {!k.revokedAt && (
                        <>
                          <button type="button" aria-label={`Edit ${k.name || k.id}`} onClick={() => setEditing(k)}>
                            Edit
                          </button>
                          <button
                            type="button"
                            aria-label={`Rotate ${k.name || k.id}`}
                            onClick={() =>
                              act(async () => {
                                const res = await c.services.keys.rotateKey({ id: k.id, graceSeconds: 0 });
                                setSecret({ id: k.id, secret: res.secret, what: "Rotated" });
                              })
                            }
                          >
                            Rotate
                          </button>
                          <button
                            type="button"
                            class="danger"
                            aria-label={`Revoke ${k.name || k.id}`}
                            onClick={() =>
                              confirm(`Revoke ${k.name || k.id}? Requests with it fail at once.`) &&
                              act(async () => {
                                await c.services.keys.revokeKey({ id: k.id });
                                setMsg({ kind: "ok", text: `Revoked ${k.id}.` });
                              })
                            }
                          >
                            Revoke
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      {editing && (
        <KeyForm
          key={editing.id}
          c={c}
          initial={editing}
          onSaved={(id) => {
            setEditing(undefined);
            setMsg({ kind: "ok", text: `Saved ${id}.` });
            keys.reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      )}
      <KeyForm
        c={c}
        onCreated={(id, s) => {
          setSecret({ id, secret: s, what: "Created" });
          keys.reload();
        }}
      />
    </div>
  );
}

export function BudgetBar({ spent, budget, period }: { spent: number; budget: number; period: BudgetPeriod }) {
  const f = budget > 0 ? spent / budget : 0;
  const cls = f >= 1 ? "over" : f >= 0.8 ? "warn" : "";
  return (
    <div class="budget" title={`${usd(spent)} of ${usd(budget)}`}>
      <div class="bar" role="progressbar" aria-valuemin={0} aria-valuemax={budget} aria-valuenow={spent} aria-label="Spend against budget">
        <div class={`fill ${cls}`} style={{ width: `${Math.min(f, 1) * 100}%` }} />
      </div>
      <span>
        {usd(spent)} / {usd(budget)} {period === BudgetPeriod.DAY ? "today" : "this month"}
      </span>
    </div>
  );
}

interface FormFields {
  name: string;
  rpm: string;
  tpm: string;
  budget: string;
  period: string;
  models: string;
  routes: string;
  ips: string;
}

function fieldsOf(k?: ClientKey): FormFields {
  if (!k) return { name: "", rpm: "", tpm: "", budget: "", period: "month", models: "", routes: "", ips: "" };
  return {
    name: k.name,
    rpm: k.rpmLimit ? String(k.rpmLimit) : "",
    tpm: k.tpmLimit ? String(k.tpmLimit) : "",
    budget: k.budget && k.budget.amountUsd > 0 ? String(k.budget.amountUsd) : "",
    period: k.budget?.period === BudgetPeriod.DAY ? "day" : "month",
    models: k.allowedModels.join(", "),
    routes: k.allowedRoutes.join(", "),
    ips: k.ipAllowlist.join(", "),
  };
}

/** KeyForm creates a key, or with initial set edits that key's limits, budget and allowlists. */
function KeyForm({ c, initial, onCreated, onSaved, onCancel }: { c: SwitchyardClient; initial?: ClientKey; onCreated?: (id: string, secret: string) => void; onSaved?: (id: string) => void; onCancel?: () => void }) {
  const [f, setF] = useState<FormFields>(fieldsOf(initial));
  const [err, setErr] = useState("");
  const label = initial ? `Edit ${initial.name || initial.id}` : "Create a key";
  const field = (k: keyof FormFields, text: string, type: "text" | "number" = "text", hint = "") => (
    <label>
      {text}
      {type === "number" ? (
        <input name={k} type="number" min="0" step="any" value={f[k]} onInput={(e) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} />
      ) : (
        <input name={k} type="text" value={f[k]} placeholder={hint} onInput={(e) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} />
      )}
    </label>
  );
  return (
    <section class="panel">
      <header>
        <h2>{label}</h2>
      </header>
      <form
        class="form"
        aria-label={label}
        data-testid={initial ? "edit-key" : "create-key"}
        onSubmit={async (e) => {
          e.preventDefault();
          setErr("");
          const budget = Number(f.budget);
          const fields = {
            name: f.name,
            rpmLimit: Number(f.rpm) || 0,
            tpmLimit: Number(f.tpm) || 0,
            allowedModels: list(f.models),
            allowedRoutes: list(f.routes),
            ipAllowlist: list(f.ips),
            budget: budget > 0 ? { amountUsd: budget, period: f.period === "day" ? BudgetPeriod.DAY : BudgetPeriod.MONTH } : undefined,
          };
          try {
            if (initial) {
              // UpdateKey replaces the key's settings: labels and expiry travel as they were.
              await c.services.keys.updateKey({ id: initial.id, key: { id: initial.id, labels: initial.labels, expiresAt: initial.expiresAt, ...fields } });
              onSaved?.(initial.id);
            } else {
              const res = await c.services.keys.createKey({ key: fields });
              onCreated?.(res.key?.id ?? "", res.secret);
              setF(fieldsOf());
            }
          } catch (e2) {
            setErr(errorText(e2));
          }
        }}
      >
        {field("name", "Name")}
        {field("rpm", "Requests/min", "number")}
        {field("tpm", "Tokens/min", "number")}
        {field("budget", "Budget (USD)", "number")}
        <label>
          Budget period
          <select name="period" value={f.period} onChange={(e) => setF({ ...f, period: (e.target as HTMLSelectElement).value })}>
            <option value="month">month</option>
            <option value="day">day</option>
          </select>
        </label>
        {field("models", "Allowed models", "text", "comma-separated")}
        {field("routes", "Allowed routes", "text", "comma-separated")}
        {field("ips", "IP allowlist", "text", "CIDRs, comma-separated")}
        <button type="submit" class="primary">
          {initial ? "Save" : "Create key"}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        {err && <Notice kind="error">{err}</Notice>}
      </form>
    </section>
  );
}
