import { RoutingConfigSchema } from "@switchyard/sdk/web";
import type { RoutingConfig, SwitchyardClient } from "@switchyard/sdk/web";
import { useState } from "preact/hooks";

import { errorText } from "../api";
import { diffLines } from "../diff";
import { fromJson, toJson } from "../protobuf";
import type { JsonValue } from "../protobuf";
import type { DiffLine } from "../diff";
import { date, time } from "../format";
import { Notice, Panel, useLoad } from "../state";

const pretty = (cfg: RoutingConfig | undefined) => JSON.stringify(cfg ? toJson(RoutingConfigSchema, cfg) : {}, null, 2);

export function Routes({ c }: { c: SwitchyardClient }) {
  const current = useLoad(() => c.services.routing.getRoutingConfig({}), [c]);
  const history = useLoad(() => c.services.routing.listRoutingConfigHistory({ limit: 20 }), [c]);
  const reloadAll = () => {
    current.reload();
    history.reload();
  };
  return (
    <div class="page" data-page="routes">
      <Panel title="Routes" state={current} empty={(d) => !d.config || d.config.routes.length === 0} emptyText="No routes: every model name goes to the default strategy.">
        {(d) => (
          <div>
            <p class="muted">
              Version {String(d.version)}, updated {time(date(d.updatedAt))}. Default strategy {d.config?.strategy || "–"}, fallback{" "}
              {d.config?.fallbackStrategy || "–"}.
            </p>
            <div class="table-wrap">
              <table data-testid="routes-table">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Strategy</th>
                    <th scope="col">Targets</th>
                    <th scope="col">Cache</th>
                    <th scope="col">Rules</th>
                  </tr>
                </thead>
                <tbody>
                  {d.config?.routes.map((r) => (
                    <tr>
                      <th scope="row">{r.model}</th>
                      <td>
                        {r.strategy || d.config?.strategy}
                        {r.fallbackStrategy && <span class="muted"> / {r.fallbackStrategy}</span>}
                      </td>
                      <td>
                        {r.targets.map((t) => (
                          <div>
                            {t.provider}/{t.model}
                            <span class="muted">
                              {t.priority ? ` p${t.priority}` : ""}
                              {t.weight ? ` w${t.weight}` : ""}
                            </span>
                          </div>
                        ))}
                      </td>
                      <td>{r.cache?.mode || "–"}</td>
                      <td>{r.rules.length ? r.rules.map((x) => x.name).join(", ") : "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Editor c={c} base={d.config} onApplied={reloadAll} key={String(d.version)} />
          </div>
        )}
      </Panel>
      <Panel title="History" state={history} empty={(d) => d.versions.length === 0} emptyText="No changes through the API yet.">
        {(d) => (
          <div class="table-wrap">
            <table data-testid="history-table">
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">When</th>
                  <th scope="col">By</th>
                  <th scope="col">Routes</th>
                  <th scope="col"><span class="sr">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {d.versions.map((v) => (
                  <tr data-version={String(v.version)}>
                    <th scope="row">
                      v{String(v.version)}
                      {v.rollbackOf ? <span class="muted"> (rollback to v{String(v.rollbackOf)})</span> : null}
                    </th>
                    <td>{time(date(v.updatedAt))}</td>
                    <td>{v.updatedBy || "–"}</td>
                    <td>{v.config?.routes.map((r) => r.model).join(", ")}</td>
                    <td>
                      <Rollback c={c} version={v.version} current={current.data?.version} onDone={reloadAll} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

function Rollback({ c, version, current, onDone }: { c: SwitchyardClient; version: bigint; current?: bigint; onDone: () => void }) {
  const [err, setErr] = useState("");
  if (version === current) return <span class="badge s-healthy">current</span>;
  return (
    <span>
      <button
        type="button"
        aria-label={`Roll back to version ${version}`}
        onClick={async () => {
          if (!confirm(`Roll the routing back to version ${version}?`)) return;
          try {
            await c.services.routing.rollbackRoutingConfig({ version });
            setErr("");
            onDone();
          } catch (e) {
            setErr(errorText(e));
          }
        }}
      >
        Roll back
      </button>
      {err && <span class="error"> {err}</span>}
    </span>
  );
}

function Editor({ c, base, onApplied }: { c: SwitchyardClient; base?: RoutingConfig; onApplied: () => void }) {
  const original = pretty(base);
  const [text, setText] = useState(original);
  const [open, setOpen] = useState(false);
  const [review, setReview] = useState<{ diff: DiffLine[]; cfg: RoutingConfig }>();
  const [msg, setMsg] = useState<{ kind: "ok" | "error"; text: string; list?: string[] }>();
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Edit routing
      </button>
    );
  const check = async () => {
    setReview(undefined);
    let cfg: RoutingConfig;
    try {
      cfg = fromJson(RoutingConfigSchema, JSON.parse(text) as JsonValue);
    } catch (e) {
      setMsg({ kind: "error", text: `Not a routing config: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    try {
      const v = await c.services.routing.validateRoutingConfig({ config: cfg });
      if (!v.valid) {
        setMsg({ kind: "error", text: "The gateway refuses this config:", list: v.violations.map((x) => `${x.field}: ${x.description}`) });
        return;
      }
    } catch (e) {
      setMsg({ kind: "error", text: errorText(e) });
      return;
    }
    setMsg({ kind: "ok", text: "Valid. Review the change, then apply it." });
    setReview({ diff: diffLines(original, pretty(cfg)), cfg });
  };
  return (
    <div class="editor">
      <label for="routing-json">Routing config (JSON, as the API takes it)</label>
      <textarea id="routing-json" spellcheck={false} rows={18} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="row">
        <button type="button" onClick={check}>
          Validate and review
        </button>
        <button
          type="button"
          onClick={() => {
            setText(original);
            setReview(undefined);
            setMsg(undefined);
            setOpen(false);
          }}
        >
          Cancel
        </button>
      </div>
      {msg && (
        <Notice kind={msg.kind}>
          {msg.text}
          {msg.list && (
            <ul>
              {msg.list.map((l) => (
                <li>{l}</li>
              ))}
            </ul>
          )}
        </Notice>
      )}
      {review && (
        <div>
          <pre class="diff" data-testid="diff" aria-label="Changes">
            {review.diff.some((l) => l.op !== " ")
              ? review.diff.map((l) => <div class={l.op === "+" ? "add" : l.op === "-" ? "del" : ""}>{`${l.op} ${l.text}`}</div>)
              : "No changes."}
          </pre>
          <button
            type="button"
            class="primary"
            disabled={!review.diff.some((l) => l.op !== " ")}
            onClick={async () => {
              try {
                const res = await c.services.routing.updateRoutingConfig({ config: review.cfg });
                setMsg({ kind: "ok", text: `Applied as version ${res.version}.` });
                setReview(undefined);
                onApplied();
              } catch (e) {
                setMsg({ kind: "error", text: errorText(e) });
              }
            }}
          >
            Apply
          </button>
        </div>
      )}
    </div>
  );
}
