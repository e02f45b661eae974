// Number formatting shared by every page: currency, milliseconds, k/M.

const usd2 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** usd shows cents, and two significant digits below a cent (model calls cost fractions of one). */
export function usd(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n !== 0 && Math.abs(n) < 0.01) return `$${n.toPrecision(2).replace(/\.?0+e/, "e")}`;
  return usd2.format(n);
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  if (n >= 10 || n === 0) return `${Math.round(n)} ms`;
  return `${n.toFixed(1)} ms`;
}

export function num(n: number | bigint): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}B`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toFixed(2);
}

export function pct(r: number): string {
  if (!Number.isFinite(r)) return "–";
  if (r !== 0 && r < 0.001) return "<0.1%";
  return `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;
}

export function perSec(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n >= 10 ? `${Math.round(n)}/s` : `${n.toFixed(2)}/s`;
}

export function time(d: Date | undefined): string {
  if (!d) return "–";
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function clock(d: Date | undefined): string {
  if (!d) return "–";
  return d.toISOString().slice(11, 23);
}

/** ts is a Date as a protobuf Timestamp init ({seconds, nanos}). */
export function ts(d: Date): { seconds: bigint; nanos: number } {
  const m = d.getTime();
  return { seconds: BigInt(Math.floor(m / 1000)), nanos: (((m % 1000) + 1000) % 1000) * 1e6 };
}

/** date is a protobuf Timestamp as a Date. */
export function date(t: { seconds: bigint; nanos: number } | undefined): Date | undefined {
  if (!t) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
}
