#!/usr/bin/env python3
"""Compares `halve measure` output with an expected long-format CSV (standard library only).

  validate-reference.py results GOT.(csv|json) EXPECTED.csv TOL
  validate-reference.py changes GOT.json EXPECTED.csv TOL

Every expected row must be present in the output and agree within TOL. Keys are compared
numerically where numeric (k, year, from, to), so 2010 and 2010.0 are the same year.
Prints each mismatch and a summary; exits 1 on any mismatch.
"""

import csv
import json
import math
import sys


# Mismatches printed per file; the count covers all of them.
SHOW = 20


def num(s):
    if s is None or s == "":
        return ""
    return repr(float(s))


def text(s):
    return "" if s is None else str(s)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        print(f"  {path}: `halve measure` printed no JSON ({e}; {len(text)} bytes)")
        sys.exit(1)


def results_of(path):
    got = {}
    if path.endswith(".json"):
        doc = load_json(path)
        if "spec" not in doc or "spec_version" not in doc:
            sys.exit(f"{path}: output does not name its spec")
        rows = doc["results"]
    else:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        if rows and ("spec" not in rows[0] or "spec_version" not in rows[0]):
            sys.exit(f"{path}: output does not name its spec")
    for r in rows:
        key = (r["measure"], num(r["k"]), num(r["year"]), text(r["by"]), text(r["group"]),
               text(r["indicator"]))
        got[key] = r["value"]
    return got


def changes_of(path):
    doc = load_json(path)
    got = {}
    for r in doc["changes"]:
        key = (r["measure"], num(r["k"]), num(r["from"]), num(r["to"]), r["kind"],
               str(r["annualised"]).lower())
        got[key] = r["value"]
    return got


def main():
    mode, got_path, expected_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    got = results_of(got_path) if mode == "results" else changes_of(got_path)
    bad = 0
    n = 0
    with open(expected_path, encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            n += 1
            if mode == "results":
                key = (row["measure"], num(row["k"]), num(row["year"]), row["by"], row["group"],
                       row["indicator"])
            else:
                key = (row["measure"], num(row["k"]), num(row["from"]), num(row["to"]),
                       row["kind"], row["annualised"].lower())
            want = float(row["value"])
            value = got.get(key)
            if value is None or value == "":
                problem = "missing from output"
            elif math.isnan(float(value)) or abs(float(value) - want) > tol:
                problem = f"got {float(value)!r}, want {want!r}"
            else:
                continue
            bad += 1
            if bad <= SHOW:
                print(f"  {expected_path}:{line}: {key}: {problem}")
    print(f"  {n} expected rows, {bad} mismatches (tolerance {tol})")
    if n == 0:
        print("  no expected rows: nothing was checked")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
