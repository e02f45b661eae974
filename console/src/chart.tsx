// A uPlot line chart that follows its container's width. uPlot draws on a
// canvas, so colours come from a fixed palette readable on both themes.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6", "#84cc16"];

export interface Series {
  label: string;
  values: (number | null)[];
}

interface ChartProps {
  title: string;
  x: number[]; // unix seconds
  series: Series[];
  fmt: (v: number) => string;
  height?: number;
  /** A fixed y range, e.g. [0, 1] for rates; otherwise it follows the data. */
  range?: [number, number];
}

export function Chart({ title, x, series, fmt, height = 180, range }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisColor = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#888";
    const grid = { stroke: "rgba(128,128,128,0.15)", width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: range ? { range: () => range } : { range: (_u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.1 : 1] } },
      axes: [
        { stroke: axisColor, grid, ticks: grid },
        { stroke: axisColor, grid, ticks: grid, size: 64, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          // A series with gaps (latency, rates: no value without requests) may
          // be a few lone steps, which draw no line: mark its points.
          points: { show: s.values.some((v) => v == null) },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v == null ? "–" : fmt(v)),
        })),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, fmt, height, range]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} chart`} />
    </figure>
  );
}
