#!/usr/bin/env bash
# Load benchmark of the web app on loopback (BENCHMARKS.md, "Web app"): the dashboard, the
# household page and the name search of the demo province, signed in as the provincial coordinator, at CONNS
# concurrent connections, with wrk; the peer, in the same run and the same server, is the
# stylesheet route (the same access layer, no database, no template).
#
#   HOUSEHOLDS=500000 bench/web-load.sh
#
# Environment (defaults in brackets): HALVE_WEB_BENCH_DIR [/tmp/halve-web-bench] (the demo
# database; never commit it), HOUSEHOLDS [500000], CONNS [50], DURATION [20s], PORT [18080],
# CARGO_TARGET_DIR [<repo>/target-bench].
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${HALVE_WEB_BENCH_DIR:-/tmp/halve-web-bench}
HOUSEHOLDS=${HOUSEHOLDS:-500000}
CONNS=${CONNS:-50}
DURATION=${DURATION:-20s}
PORT=${PORT:-18080}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }

(cd "$ROOT" && cargo build --release -q -p halve)
HALVE=$CARGO_TARGET_DIR/release/halve
mkdir -p "$DATA"
DB="sqlite://$DATA/halve-$HOUSEHOLDS.db"
if [ ! -f "$DATA/halve-$HOUSEHOLDS.db" ]; then
    echo "== building the demo ($HOUSEHOLDS households)" >&2
    "$HALVE" --database "$DB" demo --households "$HOUSEHOLDS" --no-serve >&2
fi

# `demo --no-serve` makes no accounts; the coordinator is the one this benchmark signs in as.
HALVE_PASSWORD=halve-demo-2566 "$HALVE" --database "$DB" user add coordinator --role coordinator \
    > /dev/null 2>&1 || true

echo "RESULT date $(date -u +%Y-%m-%dT%H:%MZ)"
echo "RESULT nproc $(nproc)"
echo "RESULT households $HOUSEHOLDS"
echo "RESULT conns $CONNS"

echo "== serving" >&2
start=$(date +%s%N)
"$HALVE" --database "$DB" serve --bind "127.0.0.1:$PORT" --secure-cookies never > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$PORT/login"; do sleep 0.2; done
echo "RESULT startup_ms $(( ($(date +%s%N) - start) / 1000000 ))"

# Sign in as the provincial coordinator (sees every household; IDs masked).
JAR=$(mktemp)
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" \
    | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -c "$JAR" -b "$JAR" -o /dev/null \
    --data-urlencode "csrf=$TOKEN" --data-urlencode "next=/" \
    --data-urlencode "username=coordinator" --data-urlencode "password=halve-demo-2566" \
    "http://127.0.0.1:$PORT/login"
COOKIE=$(awk '$6 == "halve_session" {print "halve_session=" $7}' "$JAR")
[ -n "$COOKIE" ] || { echo "sign-in failed" >&2; exit 1; }
# Let the dashboard's background target panel finish before timing.
until curl -s -b "$COOKIE" "http://127.0.0.1:$PORT/" | grep -q 'class="status-'; do sleep 1; done

# 2,000 household pages picked at random from the registry.
python3 - "$DATA/halve-$HOUSEHOLDS.db" > "$DATA/paths.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (code,) in db.execute("SELECT house_code FROM household ORDER BY random() LIMIT 2000"):
    print("/households/" + code)
PY

# 2,000 name searches: a whole first name, a two-letter prefix, a first and a last name, and
# a name nobody has, in turn (each must come back in one index walk).
python3 - "$DATA/halve-$HOUSEHOLDS.db" > "$DATA/search-paths.txt" <<'PY'
import sqlite3, sys, urllib.parse
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT first_name, last_name FROM person ORDER BY random() LIMIT 500").fetchall()
for first, last in rows:
    for q in (first, first[:2], first + " " + last, first + "ฮฮฮ"):
        print("/search?q=" + urllib.parse.quote(q))
PY

run() { # tag, url, [paths file]
    echo "== $1" >&2
    echo "RESULT load_$1 $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ',')"
    HALVE_TAG=$1 HALVE_PATHS=${3:-} wrk -t2 -c"$CONNS" -d"$DURATION" -s "$ROOT/bench/wrk-halve.lua" \
        -H "Cookie: $COOKIE" "$2" | grep '^RESULT'
}
run dashboard "http://127.0.0.1:$PORT/"
run household "http://127.0.0.1:$PORT/" "$DATA/paths.txt"
run search "http://127.0.0.1:$PORT/" "$DATA/search-paths.txt"
run static "http://127.0.0.1:$PORT/static/style.css"
