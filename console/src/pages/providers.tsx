import { TargetState } from "@switchyard/sdk/web";
import type { SwitchyardClient } from "@switchyard/sdk/web";
import { useState } from "preact/hooks";

import { errorText } from "../api";
import { date, ms, num, pct, time } from "../format";
import { Notice, Panel, useLoad } from "../state";

const STATE: Record<number, string> = {
  [TargetState.UNSPECIFIED]: "unknown",
  [TargetState.HEALTHY]: "healthy",
  [TargetState.OPEN]: "open",
  [TargetState.HALF_OPEN]: "half-open",
  [TargetState.COOLING]: "cooling",
};

export function stateName(s: TargetState): string {
  return STATE[s] ?? "unknown";
}

/** ProviderHealth is every provider key's breaker state and live figures; Overview shows it too. */
export function ProviderHealth({ c, editable = false }: { c: SwitchyardClient; editable?: boolean }) {
  const list = useLoad(() => c.services.providers.listProviders({}), [c], 5_000);
  const [msg, setMsg] = useState<{ kind: "ok" | "error"; text: string }>();
  const remove = async (provider: string, keyId: string) => {
    if (!confirm(`Remove key ${keyId} from ${provider}?`)) return;
    try {
      await c.services.providers.removeProviderKey({ provider, keyId });
      setMsg({ kind: "ok", text: `Removed ${keyId} from ${provider}.` });
    } catch (e) {
      setMsg({ kind: "error", text: errorText(e) });
    }
    list.reload();
  };
  return (
    <Panel title="Provider health" state={list} empty={(d) => d.providers.length === 0} emptyText="No providers configured.">
      {(d) => (
        <div>
          {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
          <div class="table-wrap">
            <table data-testid="provider-table">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Key</th>
                  <th scope="col">State</th>
                  <th scope="col" class="n">EWMA latency</th>
                  <th scope="col" class="n">Error rate</th>
                  <th scope="col" class="n">In flight</th>
                  <th scope="col">Models</th>
                  {editable && <th scope="col"><span class="sr">Actions</span></th>}
                </tr>
              </thead>
              <tbody>
                {d.providers.flatMap((p) =>
                  (p.keys.length ? p.keys : [undefined]).map((k) => (
                    <tr data-provider={p.name}>
                      <th scope="row">
                        {p.name} <span class="muted">{p.type}</span>
                      </th>
                      <td>
                        {k ? (
                          <span>
                            <code>{k.maskedKey}</code> {k.label && <span class="muted">{k.label}</span>}{" "}
                            <span class="muted">{k.source}</span>
                          </span>
                        ) : (
                          <span class="muted">no key</span>
                        )}
                      </td>
                      <td>
                        {k ? (
                          <span class={`badge s-${stateName(k.state)}`}>
                            {stateName(k.state)}
                            {k.state === TargetState.COOLING && k.cooldownUntil && ` until ${time(date(k.cooldownUntil))}`}
                          </span>
                        ) : (
                          <span class={`badge ${p.healthy ? "s-healthy" : "s-open"}`}>{p.healthy ? "healthy" : "unavailable"}</span>
                        )}
                      </td>
                      <td class="n">{k ? ms(k.ewmaLatencyMs) : "–"}</td>
                      <td class="n">{k ? pct(k.errorRate) : "–"}</td>
                      <td class="n">{k ? num(k.inFlight) : "–"}</td>
                      <td class="models">{p.models.join(", ")}</td>
                      {editable && (
                        <td>
                          {k && k.source !== "config" && (
                            <button type="button" class="danger" onClick={() => remove(p.name, k.id)} aria-label={`Remove key ${k.id} of ${p.name}`}>
                              Remove
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
          {editable && <AddKey c={c} providers={d.providers.map((p) => p.name)} onAdded={list.reload} />}
        </div>
      )}
    </Panel>
  );
}

function AddKey({ c, providers, onAdded }: { c: SwitchyardClient; providers: string[]; onAdded: () => void }) {
  const [provider, setProvider] = useState(providers[0] ?? "");
  const [apiKey, setApiKey] = useState("");
  const [label, setLabel] = useState("");
  const [weight, setWeight] = useState("1");
  const [msg, setMsg] = useState<{ kind: "ok" | "error"; text: string }>();
  return (
    <form
      class="form"
      aria-label="Add a provider key"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const res = await c.services.providers.addProviderKey({ provider, apiKey, label, weight: Number(weight) || 0 });
          setMsg({ kind: "ok", text: `Added ${res.key?.maskedKey ?? "key"} (${res.key?.id}) to ${provider}.` });
          setApiKey("");
          setLabel("");
          onAdded();
        } catch (err) {
          setMsg({ kind: "error", text: errorText(err) });
        }
      }}
    >
      <h3>Add a provider key</h3>
      <label>
        Provider
        <select name="provider" value={provider} onChange={(e) => setProvider((e.target as HTMLSelectElement).value)}>
          {providers.map((p) => (
            <option value={p}>{p}</option>
          ))}
        </select>
      </label>
      <label>
        API key
        <input name="api_key" type="password" autoComplete="off" required value={apiKey} onInput={(e) => setApiKey((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Label
        <input name="label" value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Weight
        <input name="weight" type="number" min="0" value={weight} onInput={(e) => setWeight((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Add key</button>
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
    </form>
  );
}

export function Providers({ c }: { c: SwitchyardClient }) {
  return (
    <div class="page" data-page="providers">
      <ProviderHealth c={c} editable />
    </div>
  );
}
