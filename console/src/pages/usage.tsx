import type { SwitchyardClient, UsageRow } from "@switchyard/sdk/web";
import { useMemo, useState } from "preact/hooks";

import { Chart } from "../chart";
import { num, pct, ts, usd } from "../format";
import { columns } from "../series";
import { Panel, useLoad } from "../state";

const GROUPS = ["key", "model", "provider", "route", "day"] as const;
type Group = (typeof GROUPS)[number];
const RANGES: Record<string, number> = { "24h": 1, "7d": 7, "30d": 30 };

const label = (r: UsageRow, g: Group) => ({ key: r.keyId, model: r.model, provider: r.provider, route: r.route, day: r.day })[g] || "(none)";

/** csv quotes every field that needs it (RFC 4180). */
export function csv(rows: string[][]): string {
  return rows.map((r) => r.map((v) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(",")).join("\r\n") + "\r\n";
}

export function Usage({ c, readOnly = false }: { c: SwitchyardClient; readOnly?: boolean }) {
  const [group, setGroup] = useState<Group>(readOnly ? "model" : "key");
  const [range, setRange] = useState("7d");
  const data = useLoad(async () => {
    const end = new Date();
    const start = new Date(end.getTime() - RANGES[range] * 86400_000);
    const usage = await c.services.usage.getUsage({ startTime: ts(start), endTime: ts(end), groupBy: [group] });
    // The chart's steps: hours for a day, days beyond.
    const step = RANGES[range] === 1 ? 3600 : 86400;
    let series;
    try {
      series = await c.services.usage.getUsageSeries({ startTime: ts(start), endTime: ts(end), stepSeconds: BigInt(step), groupBy: group === "day" ? "" : group });
    } catch {
      series = undefined; // a client key may not read series: the table still answers
    }
    return { usage, series };
  }, [c, group, range]);
  const chart = useMemo(() => {
    const s = data.data?.series;
    if (!s) return undefined;
    const col = columns(s);
    return { x: col.x, series: col.groups.map((g) => ({ label: g || "all", values: col.col(g, (b) => b.costUsd) })) };
  }, [data.data]);
  const exportCsv = () => {
    const rows = data.data?.usage.rows ?? [];
    const text = csv([
      [group, "requests", "errors", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_hits", "cost_usd"],
      ...rows.map((r) => [label(r, group), String(r.requests), String(r.errors), String(r.promptTokens), String(r.completionTokens), String(r.cachedTokens), String(r.cacheHits), r.cost]),
    ]);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = `switchyard-usage-by-${group}-${range}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <div class="page" data-page="usage">
      <Panel
        title={readOnly ? "Your usage" : "Usage"}
        state={data}
        empty={(d) => d.usage.rows.length === 0}
        emptyText="No requests in this range."
        actions={
          <>
            <label>
              Group by{" "}
              <select name="group" value={group} onChange={(e) => setGroup((e.target as HTMLSelectElement).value as Group)}>
                {GROUPS.filter((g) => !readOnly || g !== "key").map((g) => (
                  <option value={g}>{g}</option>
                ))}
              </select>
            </label>
            <label>
              Range{" "}
              <select name="range" value={range} onChange={(e) => setRange((e.target as HTMLSelectElement).value)}>
                {Object.keys(RANGES).map((r) => (
                  <option value={r}>{r}</option>
                ))}
              </select>
            </label>
            <button type="button" onClick={exportCsv} disabled={!data.data?.usage.rows.length}>
              Export CSV
            </button>
          </>
        }
      >
        {(d) => {
          const max = Math.max(...d.usage.rows.map((r) => r.costUsd), 1e-12);
          return (
            <div>
              {chart && chart.series.length > 0 && <Chart title={`Cost per ${RANGES[range] === 1 ? "hour" : "day"} by ${group === "day" ? "day" : group}`} x={chart.x} series={chart.series} fmt={usd} />}
              <div class="table-wrap">
                <table data-testid="usage-table">
                  <thead>
                    <tr>
                      <th scope="col">{group}</th>
                      <th scope="col" class="n">Requests</th>
                      <th scope="col" class="n">Errors</th>
                      <th scope="col" class="n">Tokens in / out</th>
                      <th scope="col" class="n">Cache hits</th>
                      <th scope="col" class="n">Cost</th>
                      <th scope="col">Share</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.usage.rows.map((r) => (
                      <tr>
                        <th scope="row">{label(r, group)}</th>
                        <td class="n">{num(r.requests)}</td>
                        <td class="n">{num(r.errors)}</td>
                        <td class="n">
                          {num(r.promptTokens)} / {num(r.completionTokens)}
                        </td>
                        <td class="n">{Number(r.requests) ? pct(Number(r.cacheHits) / Number(r.requests)) : "–"}</td>
                        <td class="n">{usd(r.costUsd)}</td>
                        <td>
                          <div class="bar" aria-hidden="true">
                            <div class="fill" style={{ width: `${(r.costUsd / max) * 100}%` }} />
                          </div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                  {d.usage.total && (
                    <tfoot>
                      <tr>
                        <th scope="row">Total</th>
                        <td class="n">{num(d.usage.total.requests)}</td>
                        <td class="n">{num(d.usage.total.errors)}</td>
                        <td class="n">
                          {num(d.usage.total.promptTokens)} / {num(d.usage.total.completionTokens)}
                        </td>
                        <td class="n">{Number(d.usage.total.requests) ? pct(Number(d.usage.total.cacheHits) / Number(d.usage.total.requests)) : "–"}</td>
                        <td class="n">{usd(d.usage.total.costUsd)}</td>
                        <td />
                      </tr>
                    </tfoot>
                  )}
                </table>
              </div>
            </div>
          );
        }}
      </Panel>
    </div>
  );
}
