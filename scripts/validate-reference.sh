#!/usr/bin/env bash
# Reproduces reference results with `halve measure` and compares every expected row:
#  - ../shared/validation (mpitb / mpitbR results on OPHI's toy and syn_cdta data), when that
#    folder exists (override with HALVE_VALIDATION_DIR); it is not part of this repository;
#  - the project's own generated fixture (crates/measure/tests/fixtures), always.
# Point estimates must agree within 1e-9, changes within 1e-7 (they are printed to 8 decimals).
# Exits non-zero on any mismatch. HALVE_BIN may name a halve binary to use instead of
# `cargo run -q -p halve --`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
compare="$root/scripts/validate-reference.py"
fixtures="$root/crates/measure/tests/fixtures"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

halve() {
    if [ -n "${HALVE_BIN:-}" ]; then
        "$HALVE_BIN" "$@"
    else
        (cd "$root" && cargo run -q -p halve -- "$@")
    fi
}

status=0
check() { # label, then the command
    local label="$1"
    shift
    if "$@"; then
        echo "ok: $label"
    else
        echo "MISMATCH: $label"
        status=1
    fi
}

# The project's own fixture (expected values from mpitb 0.2; see fixtures/README.md).
halve measure --data "$fixtures/gen_households.csv" --spec "$fixtures/gen.toml" \
    --year year --by district,zone --format json >"$tmp/gen.json"
check "generated fixture, results" python3 "$compare" results "$tmp/gen.json" "$fixtures/gen_expected.csv" 1e-9
check "generated fixture, changes" python3 "$compare" changes "$tmp/gen.json" "$fixtures/gen_changes_expected.csv" 1e-9

dir="${HALVE_VALIDATION_DIR:-$root/../shared/validation}"
if [ -d "$dir" ]; then
    halve measure --data "$dir/toy.csv" --spec "$root/specs/toy.toml" --k 50 --by region \
        --format csv >"$tmp/toy.csv"
    check "toy (mpitbR vignette)" python3 "$compare" results "$tmp/toy.csv" "$dir/toy_expected.csv" 1e-9

    halve measure --data "$dir/syn_cdta.csv" --spec "$root/specs/syn_cdta.toml" --k 20,33 \
        --year year --weight weight --by area --format csv >"$tmp/syn.csv"
    check "syn_cdta results" python3 "$compare" results "$tmp/syn.csv" "$dir/syn_cdta_expected.csv" 1e-9
    halve measure --data "$dir/syn_cdta.csv" --spec "$root/specs/syn_cdta.toml" --k 20,33 \
        --year year --weight weight --by area --format json >"$tmp/syn.json"
    check "syn_cdta changes" python3 "$compare" changes "$tmp/syn.json" "$dir/syn_cdta_changes_expected.csv" 1e-7
else
    echo "note: $dir not found (set HALVE_VALIDATION_DIR); shared references skipped"
fi
exit "$status"
