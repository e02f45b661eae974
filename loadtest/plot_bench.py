"""Chart of the benchmark summary written by cmd/benchreport.

usage: python plot_bench.py results/bench.json results/bench.png
(run by scripts/bench.sh with matplotlib from its pinned venv)
"""

import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {
    "direct": "#9e9e9e",
    "switchyard-rest": "#1565c0",
    "switchyard-rest-baseline": "#90a4ae",
    "switchyard-grpc": "#42a5f5",
    "nethttp-floor": "#bdbdbd",
    "portkey": "#ef6c00",
    "litellm": "#2e7d32",
}


def num(v):
    return v if isinstance(v, (int, float)) and not math.isnan(v) else None


def tick(r):
    """x label: a baseline (an older build, BASELINE_REV) says which."""
    if r.get("baseline_of"):
        label = r.get("label") or r["name"]
        rev = label[label.find("(") + 1 : label.rfind(")")] if "(" in label else "baseline"
        return r["baseline_of"].replace("switchyard-", "") + "\n" + rev.replace(" ", "\n")
    return r["name"].replace("switchyard-", "switchyard\n").replace("nethttp-", "nethttp\n")


def panel(ax, rows, key, title, unit, fmt="{:.2f}", gateways_only=False, lower_better=True):
    names, vals, colors = [], [], []
    for r in rows:
        if gateways_only and not r["gateway"]:
            continue
        names.append(tick(r))
        v = num(r.get(key)) if r["status"] == "ok" else None
        vals.append(v)
        colors.append(COLORS.get(r["name"], "#607d8b"))
    xs = range(len(names))
    ax.bar(xs, [v or 0 for v in vals], color=colors)
    top = max([v for v in vals if v] or [1])
    for x, v in zip(xs, vals):
        label = "not\nmeasured" if v is None else fmt.format(v)
        ax.text(x, (v or 0) + top * 0.02, label, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, fontsize=8 if len(names) < 7 else 7)
    ax.set_title(title + ("  (lower is better)" if lower_better else "  (higher is better)"), fontsize=10)
    ax.set_ylabel(unit, fontsize=9)
    ax.set_ylim(0, top * 1.25)
    ax.grid(axis="y", alpha=0.3)


def main(src, dst):
    with open(src) as f:
        s = json.load(f)
    rows = s["rows"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panel(axes[0][0], rows, "added_p50_ms", "Added latency p50, c=1", "ms", "{:.3f}", gateways_only=True)
    panel(axes[0][1], rows, "added_p99_ms", "Added latency p99, c=1", "ms", "{:.3f}", gateways_only=True)
    panel(axes[0][2], rows, "rps_c32", "Requests/s at c=32", "req/s", "{:.0f}", lower_better=False)
    panel(axes[1][0], rows, "ttft_p50_ms", "SSE time to first token p50, c=1", "ms", "{:.3f}")
    panel(axes[1][1], rows, "cpu_ms_per_1k", "Gateway CPU per 1,000 requests", "CPU ms", "{:.0f}", gateways_only=True)
    panel(axes[1][2], rows, "peak_rss_mb", "Peak RSS (VmHWM)", "MB", "{:.0f}", gateways_only=True)
    m = s["meta"]
    fig.suptitle("Switchyard beside its peers — " + m["date"], fontsize=13)
    vers = "; ".join(f"{k} {v}" for k, v in sorted(m["versions"].items()))
    fig.text(0.5, 0.005, m["machine"] + "\n" + vers, ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
