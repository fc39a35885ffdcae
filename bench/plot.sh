#!/usr/bin/env bash
# Plots the 64 B round-trip latency percentiles (median, p99, p99.9) per contender from a JSON file written
# by `tofu-bench --json FILE`, as a grouped bar chart with a logarithmic y axis in microseconds.
#   bench/plot.sh BENCH.json [OUT.png] [JOB]
# OUT.png defaults to docs/benchmarks-rtt64.png (relative to the repository root), JOB to "rtt 64B".
# Needs python3 (standard library only) and gnuplot with the pngcairo or png terminal.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    echo "usage: $0 BENCH.json [OUT.png] [JOB]" >&2
    exit 2
fi
json=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${2:-$root/docs/benchmarks-rtt64.png}
job=${3:-rtt 64B}
command -v gnuplot >/dev/null || { echo "$0: gnuplot not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "$0: python3 not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One line per contender: name median p99 p99.9 (µs), in the order of the JSON file; the y axis starts at
# the decade below half the smallest median.
python3 - "$json" "$job" "$tmp/floor.txt" >"$tmp/data.txt" <<'PY'
import json, math, sys
data = json.load(open(sys.argv[1]))
data = data["rows"] if isinstance(data, dict) else data  # {"run": ..., "rows": [...]} or the older bare list
rows = [r for r in data if r.get("job") == sys.argv[2]]
if not rows:
    sys.exit(f"no rows for job '{sys.argv[2]}' in {sys.argv[1]}")
floor = 10.0 ** math.floor(math.log10(max(0.01, min(max(float(r["median_us"]), 0.01) for r in rows) / 2)))
open(sys.argv[3], "w").write("%g\n" % floor)
for r in rows:
    # gnuplot cannot draw non-positive values on a log axis: clamp failed runs (0) to a visible floor.
    vals = [max(float(r[k]), 0.01) for k in ("median_us", "p99_us", "p999_us")]
    print('"%s" %.2f %.2f %.2f' % (r["contender"], *vals))
PY

if gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo; then
    term='pngcairo size 1100,600 enhanced font "Sans,10"'
else
    term='png size 1100,600'
fi
mkdir -p "$(dirname "$out")"
gnuplot <<GP
set terminal $term
set output "$out"
set title "tofu-bench: $job round-trip latency (lower is better)"
set ylabel "latency, µs (log scale)"
set logscale y
set yrange [$(cat "$tmp/floor.txt"):*]
set grid ytics mytics
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 30 right nomirror
set key top left
plot "$tmp/data.txt" using 2:xtic(1) title "median", \
     '' using 3 title "p99", \
     '' using 4 title "p99.9"
GP
echo "$out"
