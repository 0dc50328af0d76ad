#!/usr/bin/env bash
# Import benchmark: builds halve in release, makes a demo province, exports it, then times
# `halve import` of the export into a fresh SQLite file and into a fresh PostgreSQL database,
# several runs each, and prints a Markdown report (median of the runs) on stdout.
#
#   bench/import.sh                      # 500,000 households, 3 runs per backend
#   HOUSEHOLDS=100000 RUNS=5 bench/import.sh
#
# Settings (environment): HOUSEHOLDS (500000), RUNS (3), PG_RUNS (RUNS), WORK (scratch folder,
# /tmp/halve-bench-import; the demo and its export are kept there and reused),
# PG_URL (server URL without database, postgres://postgres:halve@localhost:5432; empty to skip
# PostgreSQL), PG_PERSONS (1; 0 skips the persons-only PostgreSQL runs), CARGO_TARGET_DIR (target-import in the repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOUSEHOLDS=${HOUSEHOLDS:-500000}
RUNS=${RUNS:-3}
PG_RUNS=${PG_RUNS:-$RUNS}
WORK=${WORK:-/tmp/halve-bench-import}
PG_URL=${PG_URL-postgres://postgres:halve@localhost:5432}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-import}
BIN=$CARGO_TARGET_DIR/release/halve
PG_DB=halve_bench_import

log() { echo "$@" >&2; }

log "building release…"
(cd "$ROOT" && cargo build --release -q -p halve)

mkdir -p "$WORK"
DEMO_DB=$WORK/demo-$HOUSEHOLDS.db
EXPORT=$WORK/export-$HOUSEHOLDS
if [ ! -f "$EXPORT/persons.csv" ]; then
  log "building the demo ($HOUSEHOLDS households) and exporting it…"
  rm -rf "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm" "$EXPORT"
  "$BIN" --database "sqlite://$DEMO_DB" demo --households "$HOUSEHOLDS" --no-serve >&2
  "$BIN" --database "sqlite://$DEMO_DB" export --out "$EXPORT" >&2
fi
PERSON_FILES=("$EXPORT/villages.csv" "$EXPORT/households.csv" "$EXPORT/persons.csv")

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Sum of the "N rows" counts of an import summary.
rows_of() { grep -o '([a-z_]* [0-9]* rows' | awk '{s+=$2} END {print s+0}'; }

fresh_sqlite() {
  rm -f "$WORK/bench.db" "$WORK/bench.db-wal" "$WORK/bench.db-shm"
  "$BIN" --database "sqlite://$WORK/bench.db" init >/dev/null
  echo "sqlite://$WORK/bench.db"
}
fresh_pg() {
  psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
  psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
  "$BIN" --database "$PG_URL/$PG_DB" init >/dev/null
  echo "$PG_URL/$PG_DB"
}

# time_import FRESH_FN LABEL PATHS… : RUNS timed imports into fresh databases, then one timed
# re-import of the same files into the last one (which must write nothing).
# Prints "label|rows|median|min|max|reimport seconds".
time_import() {
  local fresh=$1 label=$2 runs=$3; shift 3
  local times=() rows=0 url out t0 t1
  for run in $(seq 1 "$runs"); do
    url=$($fresh)
    sync
    t0=$(now)
    out=$("$BIN" --database "$url" import "$@" 2>/dev/null)
    t1=$(now)
    rows=$(echo "$out" | rows_of)
    times+=("$(echo "$t1 - $t0" | bc -l)")
    log "  $label run $run: ${times[-1]} s, $rows rows"
  done
  t0=$(now)
  out=$("$BIN" --database "$url" import "$@" 2>/dev/null)
  t1=$(now)
  local again written
  again=$(echo "$t1 - $t0" | bc -l)
  written=$(echo "$out" | grep -o '[0-9]* new or changed' | awk '{s+=$1} END {print s+0}')
  log "  $label re-import: $again s, $written rows written"
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  echo "$label|$rows|$(printf '%s\n' "${times[@]}" | median)|$(echo "$sorted" | head -1)|$(echo "$sorted" | tail -1)|$again|$written"
}

machine() {
  echo "- nproc: $(nproc)"
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "- memory: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
  echo "- load average $1: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- kernel: $(uname -r); rustc: $(rustc --version)"
  echo "- PostgreSQL: $(psql -tA "$PG_URL/postgres" -c 'SHOW server_version' 2>/dev/null || echo n/a)"
}

BEFORE=$(machine "before")
results=()
log "SQLite…"
results+=("$(time_import fresh_sqlite "SQLite, all files" "$RUNS" "$EXPORT")")
results+=("$(time_import fresh_sqlite "SQLite, persons (villages, households, persons)" "$RUNS" "${PERSON_FILES[@]}")")
if [ -n "$PG_URL" ]; then
  log "PostgreSQL…"
  results+=("$(time_import fresh_pg "PostgreSQL, all files" "$PG_RUNS" "$EXPORT")")
  if [ "${PG_PERSONS:-1}" = 1 ]; then
    results+=("$(time_import fresh_pg "PostgreSQL, persons (villages, households, persons)" "$PG_RUNS" "${PERSON_FILES[@]}")")
  fi
  psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
fi

persons=$(($(wc -l <"$EXPORT/persons.csv") - 1))
echo "## Import benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Demo of $HOUSEHOLDS households ($persons persons); export in \`$EXPORT\`."
echo "Command: \`HOUSEHOLDS=$HOUSEHOLDS RUNS=$RUNS PG_RUNS=$PG_RUNS bench/import.sh\`; each timing is \`halve --database URL import PATHS\` into a fresh, migrated database (\`halve init\`), wall clock, median of the runs (SQLite $RUNS, PostgreSQL $PG_RUNS); the re-import is one more run into the last database."
echo
echo "| import | rows | median s | min s | max s | rows/s (median) | re-import s | re-import rows written |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for r in "${results[@]}"; do
  IFS='|' read -r label rows med min max again written <<<"$r"
  echo "| $label | $rows | $(printf %.2f "$med") | $(printf %.2f "$min") | $(printf %.2f "$max") | $(echo "$rows / $med" | bc) | $(printf %.2f "$again") | $written |"
done
echo
echo "Machine:"
echo
echo "$BEFORE"
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
