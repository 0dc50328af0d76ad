#!/usr/bin/env bash
# The national-scale benchmark of the target engine (BENCHMARKS.md, "Progress (target
# engine)"): halve and the numpy peer, one after the other, on the same generated panel.
#
#   bench/progress-national.sh
#
# Environment (defaults in brackets):
#   HALVE_PROGRESS_DIR  data [/tmp/halve-progress-bench]   (about 515 MB; never commit it)
#   PYTHON              a python with numpy [/tmp/mpitb-venv/bin/python]
#   CARGO_TARGET_DIR    [<repo>/target-bench]
#   RUNS                timed runs of halve per thread count [11]; numpy gets NUMPY_RUNS [3]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${HALVE_PROGRESS_DIR:-/tmp/halve-progress-bench}
PY=${PYTHON:-/tmp/mpitb-venv/bin/python}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
RUNS=${RUNS:-11}
NUMPY_RUNS=${NUMPY_RUNS:-3}

(cd "$ROOT" && cargo build --release -q -p halve-measure --example progress_national)
BIN=$CARGO_TARGET_DIR/release/examples/progress_national

echo "RESULT date $(date -u +%Y-%m-%dT%H:%MZ)"
echo "RESULT nproc $(nproc)"
echo "RESULT cpu \"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\""
echo "RESULT mem_gib $(free -g | awk '/^Mem:/ {print $2}')"
echo "RESULT rustc \"$(rustc --version)\""
echo "RESULT python \"$("$PY" -c 'import sys, numpy; print(sys.version.split()[0], "numpy", numpy.__version__)')\""

if [ ! -f "$DATA/meta.txt" ]; then
    "$BIN" gen "$DATA"
fi
echo "RESULT load_halve $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')"
"$BIN" bench "$DATA" "$RUNS"
"$BIN" dump "$DATA" "$DATA/halve-counts.u64"
echo "RESULT load_numpy $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')"
"$PY" "$ROOT/bench/progress_numpy.py" "$DATA" "$NUMPY_RUNS" "$DATA/halve-counts.u64"
