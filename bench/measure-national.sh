#!/usr/bin/env bash
# The national-scale benchmark of the measurement engine, all peers in one run on the same
# generated data (see bench/README.md). Prints a table at the end; raw results go to
# $HALVE_BENCH_DIR/results.txt.
#
#   bench/measure-national.sh
#
# Environment (defaults in brackets):
#   HALVE_BENCH_DIR  data and results [/tmp/halve-bench]   (never commit the data)
#   PYTHON           a python with numpy, pandas and mpitb==0.2 [/tmp/mpitb-venv/bin/python]
#   CARGO_TARGET_DIR [<repo>/target-bench]
#   RUNS             timed runs of the engine [11]; numpy gets NUMPY_RUNS [5]
#   MPITB_SIZES      prefixes (households) given to mpitb ["10000 100000 1000000"]
#   MPITB_RUNS       timed runs per mpitb prefix [3]
#   CSV_ROWS         rows of the end-to-end CSV [1000000]
#   HALVE_BIN        a prebuilt `halve` binary [built here with cargo build --release -p halve]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${HALVE_BENCH_DIR:-/tmp/halve-bench}
PY=${PYTHON:-/tmp/mpitb-venv/bin/python}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
RUNS=${RUNS:-11}
NUMPY_RUNS=${NUMPY_RUNS:-5}
MPITB_SIZES=${MPITB_SIZES:-"10000 100000 1000000"}
MPITB_RUNS=${MPITB_RUNS:-3}
CSV_ROWS=${CSV_ROWS:-1000000}

mkdir -p "$DATA"
OUT=$DATA/results.txt
: > "$OUT"
record() { echo "RESULT $*" | tee -a "$OUT"; }
load() { record "load_$1" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')"; }

echo "== build" >&2
(cd "$ROOT" && cargo build --release -q -p halve-measure --example national)
NATIONAL=$CARGO_TARGET_DIR/release/examples/national
if [ -z "${HALVE_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p halve)
fi
HALVE=${HALVE_BIN:-$CARGO_TARGET_DIR/release/halve}

record date "$(date -u +%Y-%m-%dT%H:%MZ)"
record nproc "$(nproc)"
record cpu "\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\""
record mem_gib "$(free -g | awk '/^Mem:/ {print $2}')"
record l3 "\"$(lscpu | sed -n 's/^L3 cache: *//p' | head -1)\""
record rustc "\"$(rustc --version)\""
record python "\"$("$PY" -c 'import sys, numpy, pandas; print(sys.version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__)')\""

if [ ! -f "$DATA/meta.json" ]; then
    echo "== generate" >&2
    "$NATIONAL" gen "$DATA"
fi
record data "\"$(cat "$DATA/meta.json")\""

echo "== halve engine + read bandwidth" >&2
load engine
"$NATIONAL" bench "$DATA" "$RUNS" | tee -a "$OUT"

echo "== numpy" >&2
load numpy
"$PY" "$ROOT/bench/numpy_peer.py" "$DATA" "$NUMPY_RUNS" | tee -a "$OUT"

echo "== mpitb" >&2
load mpitb
for n in $MPITB_SIZES; do
    "$NATIONAL" dump "$DATA" "$n" "$DATA/halve_prefix_$n.f64"
    "$PY" "$ROOT/bench/mpitb_peer.py" "$DATA" "$n" "$DATA/halve_prefix_$n.f64" "$MPITB_RUNS" | tee -a "$OUT"
done

echo "== end to end on a ${CSV_ROWS}-row CSV" >&2
CSV=$DATA/national_$CSV_ROWS.csv
[ -f "$CSV" ] || "$PY" "$ROOT/bench/make_csv.py" "$DATA" "$CSV_ROWS" "$CSV"
record csv_bytes "$(stat -c %s "$CSV")"
load e2e
CMD="$HALVE measure --data $CSV --spec $ROOT/bench/national.toml --by subdistrict --k 20,33 --format csv"
record csv_output_lines "$($CMD | wc -l)"
if command -v hyperfine > /dev/null; then
    hyperfine --warmup 1 --runs 7 --export-json "$DATA/e2e.json" "$CMD > /dev/null" >&2
    record halve_e2e_median_ms "$("$PY" -c "import json, sys; r = json.load(open(sys.argv[1]))['results'][0]; print(round(r['median'] * 1e3, 1))" "$DATA/e2e.json")"
    record halve_e2e_runs 7
else
    "$PY" - "$CMD" >> "$OUT" <<'EOF'
import statistics, subprocess, sys, time
t = []
for _ in range(7):
    s = time.perf_counter()
    subprocess.run(sys.argv[1] + " > /dev/null", shell=True, check=True)
    t.append(time.perf_counter() - s)
print(f"RESULT halve_e2e_median_ms {statistics.median(t[1:]) * 1e3:.1f}")
print("RESULT halve_e2e_runs 6")
EOF
fi
"$PY" "$ROOT/bench/numpy_peer.py" --csv "$CSV" 5 | tee -a "$OUT"
load end

"$PY" "$ROOT/bench/table.py" "$OUT"
