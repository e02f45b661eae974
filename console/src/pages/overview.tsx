import type { SwitchyardClient } from "@switchyard/sdk/web";
import { useEffect, useMemo, useState } from "preact/hooks";

import { Chart } from "../chart";
import { ms, num, pct, perSec, ts, usd } from "../format";
import { columns } from "../series";
import { Panel, useLoad } from "../state";
import { ProviderHealth } from "./providers";

const RANGES: Record<string, { secs: number; step: number }> = {
  "15m": { secs: 900, step: 15 },
  "1h": { secs: 3600, step: 60 },
  "6h": { secs: 6 * 3600, step: 300 },
  "24h": { secs: 86400, step: 900 },
};

function startOfUTCDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

export function Overview({ c }: { c: SwitchyardClient }) {
  const [range, setRange] = useState("1h");
  const r = RANGES[range];
  const series = useLoad(async () => {
    const end = new Date();
    const start = new Date(end.getTime() - r.secs * 1000);
    const req = { startTime: ts(start), endTime: ts(end), stepSeconds: BigInt(r.step) };
    const [all, byProvider, byModel] = await Promise.all([
      c.services.usage.getUsageSeries(req),
      c.services.usage.getUsageSeries({ ...req, groupBy: "provider" }),
      c.services.usage.getUsageSeries({ ...req, groupBy: "model" }),
    ]);
    return { all, byProvider, byModel };
  }, [c, range], 10_000);
  const kpis = useLoad(async () => {
    const now = new Date();
    const day = startOfUTCDay(now);
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const hourAgo = new Date(now.getTime() - 3600_000);
    const [m5, m1h, hour, today, thisMonth] = await Promise.all([
      c.services.usage.getMetrics({ period: "5m" }),
      c.services.usage.getMetrics({ period: "1h" }),
      // One bucket over the hour: its nearest-rank p50 and p95.
      c.services.usage.getUsageSeries({ startTime: ts(hourAgo), endTime: ts(now), stepSeconds: 3600n }),
      c.services.usage.getUsage({ startTime: ts(day), endTime: ts(now) }),
      c.services.usage.getUsage({ startTime: ts(month), endTime: ts(now) }),
    ]);
    return { m5: m5.metrics, m1h: m1h.metrics, hour: hour.buckets[0], today: today.total, month: thisMonth.total };
  }, [c], 10_000);

  const charts = useMemo(() => {
    const d = series.data;
    if (!d) return undefined;
    const all = columns(d.all);
    const step = Number(d.all.stepSeconds) || r.step;
    const prov = columns(d.byProvider);
    const model = columns(d.byModel);
    return {
      empty: d.all.buckets.length === 0,
      x: all.x,
      rps: [{ label: "requests/s", values: all.col("", (b) => Number(b.requests) / step) }],
      latency: [
        { label: "p50", values: all.col("", (b) => b.p50LatencyMs, true) },
        { label: "p95", values: all.col("", (b) => b.p95LatencyMs, true) },
      ],
      errors: [{ label: "error rate", values: all.col("", (b) => Number(b.errors) / Number(b.requests), true) }],
      cache: [{ label: "cache hit rate", values: all.col("", (b) => Number(b.cacheHits) / Number(b.requests), true) }],
      cost: [{ label: "cost", values: all.col("", (b) => b.costUsd) }],
      provX: prov.x,
      byProvider: prov.groups.map((g) => ({ label: g || "(none)", values: prov.col(g, (b) => Number(b.requests) / step) })),
      modelX: model.x,
      byModel: model.groups.map((g) => ({ label: g || "(none)", values: model.col(g, (b) => b.costUsd) })),
    };
  }, [series.data]);

  const ready = kpis.data !== undefined && series.data !== undefined;
  useEffect(() => {
    // The browser suite reads this mark: time to the first overview with data.
    if (ready && performance.getEntriesByName("console:overview-rendered").length === 0) performance.mark("console:overview-rendered");
  }, [ready]);
  return (
    <div class="page" data-page="overview">
      <Panel title="Now" state={kpis}>
        {(k) => (
          <dl class="kpis" data-testid="kpis">
            <Kpi label="Requests/s (5 min)" value={perSec(Number(k.m5?.requestsTotal ?? 0n) / 300)} />
            <Kpi label="p50 latency (1 h)" value={ms(k.hour?.p50LatencyMs ?? 0)} />
            <Kpi label="p95 latency (1 h)" value={ms(k.hour?.p95LatencyMs ?? 0)} />
            <Kpi label="Error rate (1 h)" value={pct(k.m1h?.errorRate ?? 0)} />
            <Kpi label="Cache hit rate (1 h)" value={pct(k.m1h?.cacheHitRate ?? 0)} />
            <Kpi label="Cost today (UTC)" value={usd(k.today?.costUsd ?? 0)} />
            <Kpi label="Cost this month" value={usd(k.month?.costUsd ?? 0)} />
            <Kpi label="Requests today" value={num(k.today?.requests ?? 0n)} />
          </dl>
        )}
      </Panel>
      <Panel
        title="Traffic"
        state={series}
        empty={() => !!charts?.empty}
        emptyText={<TryIt c={c} onDone={series.reload} />}
        actions={
          <label>
            Range{" "}
            <select value={range} onChange={(e) => setRange((e.target as HTMLSelectElement).value)} aria-label="Time range">
              {Object.keys(RANGES).map((k) => (
                <option value={k}>{k}</option>
              ))}
            </select>
          </label>
        }
      >
        {() =>
          charts && (
            <div class="charts">
              <Chart title="Requests per second" x={charts.x} series={charts.rps} fmt={(v) => num(Math.round(v * 100) / 100)} />
              <Chart title="Latency p50 / p95" x={charts.x} series={charts.latency} fmt={ms} />
              <Chart title="Error rate" x={charts.x} series={charts.errors} fmt={pct} range={[0, 1]} />
              <Chart title="Cache hit rate" x={charts.x} series={charts.cache} fmt={pct} range={[0, 1]} />
              <Chart title="Cost per step" x={charts.x} series={charts.cost} fmt={usd} />
              <Chart title="Requests/s by provider" x={charts.provX} series={charts.byProvider} fmt={(v) => num(Math.round(v * 100) / 100)} />
              <Chart title="Cost by model" x={charts.modelX} series={charts.byModel} fmt={usd} />
            </div>
          )
        }
      </Panel>
      <ProviderHealth c={c} />
    </div>
  );
}

function Kpi({ label, value }: { label: string; value: string }) {
  return (
    <div class="kpi">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** TryIt sends a few requests to the "auto" route (the simulator on a fresh install) so the charts have data. */
function TryIt({ c, onDone }: { c: SwitchyardClient; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  return (
    <span>
      No requests in this window.{" "}
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setErr("");
          try {
            await Promise.all(
              Array.from({ length: 5 }, (_, i) => c.chat({ model: "auto", messages: [{ role: "user", content: `console sample ${i}` }] })),
            );
          } catch (e) {
            setErr(String(e));
          }
          setBusy(false);
          onDone();
        }}
      >
        {busy ? "Sending…" : "Send 5 sample requests to route auto"}
      </button>
      {err && <span class="error"> {err}</span>}
    </span>
  );
}
