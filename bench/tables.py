#!/usr/bin/env python3
"""Markdown tables for docs/benchmarks.md from `tofu-bench --json` files.

    bench/tables.py RUN.json [RUN.json ...]
    bench/tables.py --goals NAME=RUN.json [NAME=RUN.json ...]

Per run: a header line (load, regime, per-repeat probes) and one table: tofu's figure, its ratio to ZeroMQ of
the same topology (with the range of the per-repeat ratios: repeat i of tofu against repeat i of ZeroMQ, run
side by side) and to raw sockets, the one-engine ratios, and the others' raw figures. Round trips: time ratios
(lower is better); the rest: rate ratios (higher is better). With --goals: one table, a column per run (named
NAME, with its load and raw/tcp round trip), a row per goal of issue #14, tcp / uds, each cell marked when the
goal is not met. Standard library only.
"""
import json
import sys


def fmt_value(row):
    if row is None:
        return "-"
    if row["kind"] == "latency":
        return f'{row["median_us"]:.1f} µs'
    v = row["msgs_per_s"]
    rate = f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"
    return rate + (f' ({row["median_us"]:.0f} µs)' if row["kind"] == "reqresp" else "")


def ratio(a, b, latency):
    if a is None or b is None:
        return None
    if not (a["median_us"] if latency else a["msgs_per_s"]):
        return None
    x, y = (a["median_us"], b["median_us"]) if latency else (a["msgs_per_s"], b["msgs_per_s"])
    return x / y if y else None


def spread(a, b):
    if a is None or b is None or not a.get("each_repeat") or not b.get("each_repeat"):
        return ""
    rs = [x / y for x, y in zip(a["each_repeat"], b["each_repeat"]) if x and y]  # None: a failed repeat
    return f" ({min(rs):.2f}-{max(rs):.2f})" if rs else ""


def cell(r):
    return "-" if r is None else f"{r:.2f}×"


def table(path):
    data = json.load(open(path))
    run, rows = data["run"], data["rows"]
    by = {(r["job"], r["contender"]): r for r in rows}
    jobs = list(dict.fromkeys(r["job"] for r in rows))
    probes = ", ".join(f"{p:.1f}" for p in run.get("repeat_probe_rtt_us", []))
    print(f'Run: load {run["load_start"]:.2f} at the start, {run["load_end"]:.2f} at the end; raw/tcp 64 B round '
          f'trip {run["raw_tcp_rtt_us"]:.1f} µs (probed before each repeat: {probes} µs); regime {run["regime"]}'
          f'{"; `--awake`" if run.get("cpu_dma_latency_0") else ""}; median of {run["repeat"]} repeats\n')
    print("Ratios: round trips as time (lower is better), the rest as rate (higher is better); in brackets the "
          "range of the per-repeat ratios (repeat i against repeat i); reqresp16 with its median per request.\n")
    print("| job | tofu/tcp | vs zmq/tcp (repeats) | vs raw | tofu/uds | vs zmq/ipc (repeats) | vs raw "
          "| tofu-1/tcp vs zmq-1 | tofu-1/uds vs zmq-1 | zmq/tcp | zmq/ipc | raw/tcp | raw/uds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for job in jobs:
        g = lambda who: by.get((job, who))  # noqa: E731
        first = next((g(w) for w in ("tofu/tcp", "tofu/uds", "tofu-1/tcp", "tofu-1/uds") if g(w)), None)
        if first is None:
            continue
        lat = first["kind"] == "latency"
        cells = [job]
        for t, z, raw in (("tofu/tcp", "zmq/tcp", "raw/tcp"), ("tofu/uds", "zmq/ipc", "raw/uds")):
            cells += [fmt_value(g(t)), cell(ratio(g(t), g(z), lat)) + spread(g(t), g(z)),
                      cell(ratio(g(t), g(raw), lat))]
        cells += [cell(ratio(g(t), g(z), lat)) + spread(g(t), g(z))
                  for t, z in (("tofu-1/tcp", "zmq-1/tcp"), ("tofu-1/uds", "zmq-1/ipc"))]
        cells += [fmt_value(g(w)) for w in ("zmq/tcp", "zmq/ipc", "raw/tcp", "raw/uds")]
        print("| " + " | ".join(cells) + " |")
    print()


# (label, job, tofu side, other side, latency, goal test on the ratio)
GOALS = [
    ("pipelined 64 B ≥ 1.2× ZeroMQ", "pipelined 64B", "zmq", False, lambda r: r >= 1.2),
    ("reqresp16 64 B ≥ 1.2× ZeroMQ", "reqresp16 64B", "zmq", False, lambda r: r >= 1.2),
    ("rtt 64 B ≤ 0.8× ZeroMQ", "rtt 64B", "zmq", True, lambda r: r <= 0.8),
    ("rtt 64 B ≤ 2.5× raw", "rtt 64B", "raw", True, lambda r: r <= 2.5),
    ("pipelined 1 KiB ≥ 1.5× ZeroMQ", "pipelined 1KiB", "zmq", False, lambda r: r >= 1.5),
    ("fan-in ≥ 2× ZeroMQ", "fanin64 64B", "zmq", False, lambda r: r >= 2.0),
]


def goals(named):
    runs = []
    for arg in named:
        name, path = arg.split("=", 1)
        data = json.load(open(path))
        runs.append((name, data["run"], {(r["job"], r["contender"]): r for r in data["rows"]}))
    print("| goal | " + " | ".join(f'{n} (load {run["load_start"]:.2f}, raw/tcp {run["raw_tcp_rtt_us"]:.1f} µs)'
                                   for n, run, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for label, job, other, lat, ok in GOALS:
        cells = [label]
        for _, _, by in runs:
            parts = []
            for side, zmq in (("tcp", "zmq/tcp"), ("uds", "zmq/ipc")):
                peer = zmq if other == "zmq" else f"raw/{side}"
                r = ratio(by.get((job, f"tofu/{side}")), by.get((job, peer)), lat)
                parts.append("-" if r is None else (f"{r:.2f}×" if ok(r) else f"**{r:.2f}×**"))
            cells.append(" / ".join(parts))
        print("| " + " | ".join(cells) + " |")
    print("\nBold: not met.")


if len(sys.argv) > 1 and sys.argv[1] == "--goals":
    goals(sys.argv[2:])
else:
    for p in sys.argv[1:]:
        table(p)
