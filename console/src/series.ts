// Turns GetUsageSeries buckets into chart columns: one x per step of the
// range (empty steps become 0 or a gap), one column per group.
import type { GetUsageSeriesResponse, UsageBucket } from "@switchyard/sdk/web";

export interface Columns {
  x: number[];
  groups: string[];
  col: (group: string, f: (b: UsageBucket) => number, gap?: boolean) => (number | null)[];
}

export function columns(res: GetUsageSeriesResponse): Columns {
  const step = Number(res.stepSeconds) || 60;
  const from = Math.floor(secs(res.startTime));
  const to = secs(res.endTime);
  const x: number[] = [];
  for (let t = from; t < to; t += step) x.push(t);
  const byKey = new Map<string, UsageBucket>();
  const groups: string[] = [];
  for (const b of res.buckets) {
    const i = Math.round((secs(b.startTime) - from) / step);
    byKey.set(`${i}\u0000${b.group}`, b);
    if (!groups.includes(b.group)) groups.push(b.group);
  }
  return {
    x,
    groups,
    col: (group, f, gap = false) =>
      x.map((_, i) => {
        const b = byKey.get(`${i}\u0000${group}`);
        return b ? f(b) : gap ? null : 0;
      }),
  };
}

function secs(t: { seconds: bigint; nanos: number } | undefined): number {
  return t ? Number(t.seconds) + t.nanos / 1e9 : 0;
}
