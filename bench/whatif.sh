#!/usr/bin/env bash
# The what-if benchmark (BENCHMARKS.md, "What-if"): a whole-province what-if on the demo
# province of 500,000 households, end to end over HTTP on loopback against the release
# `halve serve`, and the computation itself (the API's `Server-Timing` header: choosing the
# households, then computing the figures now, under the what-if and for the target). The peer,
# in the same run and the same server, is the plain read of the live figures (`/api/measures`).
#
#   RUNS=21 bench/whatif.sh
#
# Environment (defaults in brackets): HALVE_WEB_BENCH_DIR [/tmp/halve-web-bench] (the demo
# database, as bench/web-load.sh builds it; never commit it), HOUSEHOLDS [500000], RUNS [21],
# PORT [18090], CARGO_TARGET_DIR [<repo>/target-bench].
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${HALVE_WEB_BENCH_DIR:-/tmp/halve-web-bench}
HOUSEHOLDS=${HOUSEHOLDS:-500000}
RUNS=${RUNS:-21}
PORT=${PORT:-18090}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}

(cd "$ROOT" && cargo build --release -q -p halve)
HALVE=$CARGO_TARGET_DIR/release/halve
DB="sqlite://$DATA/halve-$HOUSEHOLDS.db"
if [ ! -f "$DATA/halve-$HOUSEHOLDS.db" ]; then
    mkdir -p "$DATA"
    echo "== building the demo ($HOUSEHOLDS households)" >&2
    "$HALVE" --database "$DB" demo --households "$HOUSEHOLDS" --no-serve >&2
fi
HALVE_PASSWORD=halve-demo-2566 "$HALVE" --database "$DB" user add coordinator --role coordinator \
    > /dev/null 2>&1 || true

echo "RESULT date $(date -u +%Y-%m-%dT%H:%MZ)"
echo "RESULT nproc $(nproc)"
echo "RESULT households $HOUSEHOLDS"

"$HALVE" --database "$DB" serve --bind "127.0.0.1:$PORT" --secure-cookies never > "$DATA/whatif-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$PORT/login"; do sleep 0.5; done

JAR=$(mktemp)
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" \
    | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -c "$JAR" -b "$JAR" -o /dev/null \
    --data-urlencode "csrf=$TOKEN" --data-urlencode "next=/" \
    --data-urlencode "username=coordinator" --data-urlencode "password=halve-demo-2566" \
    "http://127.0.0.1:$PORT/login"
COOKIE=$(awk '$6 == "halve_session" {print "halve_session=" $7}' "$JAR")
[ -n "$COOKIE" ] || { echo "sign-in failed" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

# The first what-if builds the what-if's own snapshot and household index (read once, then
# kept current by the change feed); it is timed apart. Then wait for the target panel.
start=$(date +%s%N)
curl -s -b "$COOKIE" -o /dev/null "$BASE/api/what-if"
echo "RESULT first_whatif_ms $(( ($(date +%s%N) - start) / 1000000 ))"
until curl -s -b "$COOKIE" "$BASE/api/what-if" | grep -q '"state":"ready"'; do sleep 1; done

# The most common deprivation of the latest round (uncensored headcount, from the what-if's
# own "now"), and a weights change: the first indicator doubled, the rest scaled to fit.
INFO=$(curl -s -b "$COOKIE" "$BASE/api/what-if")
read -r SOLVE WEIGHTS < <(python3 -c '
import json, sys
from fractions import Fraction as F
a = json.loads(sys.argv[1])
names = [w["indicator"] for w in a["weights"]]
hd = a["rounds"][-1]["now"]["hd"]
solve = names[max(range(len(hd)), key=lambda j: hd[j])]
w = [F(x["now"]) * 100 for x in a["weights"]]
first = 2 * w[0]
rest = [x * (100 - first) / (100 - w[0]) for x in w[1:]]
q = "&".join("w.%s=%s" % (n, str(x).replace("/", "%2F")) for n, x in zip(names, [first] + rest))
print(solve, q)
' "$INFO")
echo "RESULT solve $SOLVE"

# Times one URL RUNS times: end to end (curl), and the server's own timings when given.
timed() { # tag, url
    local tag=$1 url=$2 out=$DATA/whatif-$1.txt
    : > "$out"
    curl -s -b "$COOKIE" -o /dev/null "$url"  # warm
    for _ in $(seq "$RUNS"); do
        curl -s -b "$COOKIE" -o /dev/null -D "$DATA/whatif-headers.txt" -w '%{time_total}' "$url" >> "$out"
        timing=$(tr -d '\r' < "$DATA/whatif-headers.txt" | sed -n 's/^server-timing: //Ip')
        echo " $timing" >> "$out"
    done
    echo "RESULT load_$tag $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')"
    python3 - "$tag" "$out" <<'PY'
import re, statistics, sys
tag, path = sys.argv[1], sys.argv[2]
total, select, compute = [], [], []
for line in open(path):
    parts = line.split(" ", 1)
    total.append(float(parts[0]) * 1000)
    m = re.search(r"select;dur=([\d.]+)", line)
    if m:
        select.append(float(m.group(1)))
        compute.append(float(re.search(r"compute;dur=([\d.]+)", line).group(1)))
med = lambda xs: "%.1f" % statistics.median(xs)
print("RESULT %s_http_ms median %s min %.1f max %.1f" % (tag, med(total), min(total), max(total)))
if select:
    print("RESULT %s_select_ms median %s" % (tag, med(select)))
    print("RESULT %s_compute_ms median %s" % (tag, med(compute)))
PY
}

timed lift "$BASE/api/what-if?solve=$SOLVE"
timed weights "$BASE/api/what-if?$WEIGHTS"
timed both "$BASE/api/what-if?k_other=40&solve=$SOLVE&$WEIGHTS"
timed measures "$BASE/api/measures"
curl -s -b "$COOKIE" "$BASE/api/what-if?solve=$SOLVE" | python3 -c '
import json, sys
a = json.load(sys.stdin)
r = a["rounds"][-1]
print("RESULT lift_selected", a["selection"]["households"], "changed", a["selection"]["households_changed"])
print("RESULT lift_poor_households now", r["now"]["poor_households"], "what_if", r["what_if"]["poor_households"])
'
