#!/usr/bin/env python3
"""Deterministic test data for the measurement engine, and its expected values.

Two steps, so that the data needs nothing but the standard library while the expected values
come from an independent reference implementation (OPHI's method as coded in the PyPI package
`mpitb` 0.2):

  python3 scripts/gen-measure-fixtures.py data      # writes gen_households.csv
  /tmp/mpitb-venv/bin/python scripts/gen-measure-fixtures.py expected
                                                     # writes gen_expected.csv, gen_changes_expected.csv

Both write into crates/measure/tests/fixtures/ (see the README there for the exact setup).
The data: households in three rounds (years 2566, 2568.5, 2571, one fractional), subgroups
`district` and `zone` (Thai names, to exercise UTF-8), sample weights and household sizes
(persons are the unit of analysis, so the analysis weight is weight x hh_size), flags with
blanks (missing, dropped as complete case) and NA (not applicable = not deprived), and one
indicator judged by a rule on a raw value (income_per_person_year < 38000).
"""

import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "crates", "measure", "tests", "fixtures")
DATA = os.path.join(FIXTURES, "gen_households.csv")
EXPECTED = os.path.join(FIXTURES, "gen_expected.csv")
CHANGES = os.path.join(FIXTURES, "gen_changes_expected.csv")

YEARS = [2566, 2568.5, 2571]
DISTRICTS = ["8001", "8002", "8003", "8011", "8016"]
ZONES = ["ชายฝั่ง", "ภูเขา", "ที่ราบ"]
FLAGS = ["d_nutr", "d_cm", "d_satt", "d_educ", "d_wtr", "d_hsg"]
# Must match gen.toml: weights in twelfths, so no score falls exactly on k = 20, 33, 40
# (mpitb identifies in floats; halve identifies exactly, and both agree off the boundary).
WEIGHTS = {
    "d_nutr": 1 / 6,
    "d_cm": 1 / 6,
    "d_satt": 1 / 6,
    "d_educ": 1 / 6,
    "d_wtr": 1 / 12,
    "d_hsg": 1 / 12,
    "low_income": 1 / 6,
}
DIMENSIONS = [
    (["d_nutr", "d_cm"], "health"),
    (["d_satt", "d_educ"], "education"),
    (["d_wtr", "d_hsg", "low_income"], "living"),
]
KS = [20, 33, 40]
PER_ROUND = 400


def generate():
    rng = random.Random(20260529)
    header = ["hh_id", "year", "district", "zone", "weight", "hh_size"] + FLAGS + [
        "income_per_person_year"
    ]
    rows = []
    for r, year in enumerate(YEARS):
        for h in range(PER_ROUND):
            district = rng.choice(DISTRICTS)
            zone = ZONES[(DISTRICTS.index(district) + rng.randrange(2)) % len(ZONES)]
            # Deprivation falls over the rounds and is higher in the hills.
            base = 0.32 - 0.06 * r + (0.08 if zone == "ภูเขา" else 0.0)
            row = {
                "hh_id": f"{r}{h:04d}",
                "year": str(year),
                "district": district,
                "zone": zone,
                "weight": str(rng.choice([0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3])),
                "hh_size": str(rng.randint(1, 7)),
            }
            for j, name in enumerate(FLAGS):
                p = base * (0.6 + 0.15 * j)
                value = "1" if rng.random() < p else "0"
                if name == "d_satt" and rng.random() < 0.3:
                    value = "NA"  # no school-age child: not deprived
                if rng.random() < 0.012:
                    value = ""  # missing: the household is dropped
                row[name] = value
            income = int(rng.lognormvariate(10.9 + 0.05 * r, 0.55))
            row["income_per_person_year"] = "" if rng.random() < 0.01 else str(income)
            rows.append(row)
    os.makedirs(FIXTURES, exist_ok=True)
    with open(DATA, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} households to {os.path.relpath(DATA)}")


def expected():
    import pandas as pd
    from mpitb.core import MPIToolbox

    df = pd.read_csv(DATA, dtype={"district": str, "zone": str}, keep_default_na=False)
    for name in FLAGS:
        col = df[name].astype(str)
        df[name] = col.map(lambda v: float("nan") if v == "" else (0.0 if v == "NA" else float(v)))
    inc = pd.to_numeric(df["income_per_person_year"].replace("", float("nan")))
    df["low_income"] = (inc < 38000).astype(float).where(inc.notna())
    inds = [i for d, _ in DIMENSIONS for i in d]
    df = df.dropna(subset=inds).copy()  # complete case, as OPHI
    df["aw"] = df["weight"].astype(float) * df["hh_size"].astype(float)

    mpi = MPIToolbox()
    mpi.set(name="gen", dimensions=DIMENSIONS)
    mpi.svyset(weight="aw")

    out = []
    levels = {}
    for year in sorted(df["year"].unique()):
        sub = df[df["year"] == year].copy()
        recs = mpi.est(sub, "gen", KS, weights=WEIGHTS, svy=True, over=["district", "zone"])
        for rec in recs:
            by = "" if rec["loa"] == "nat" else rec["loa"]
            group = "" if by == "" else str(rec["subg"])
            out.append(
                [rec["measure"], rec["k"], repr(float(year)), by, group,
                 rec.get("indicator") or "", repr(float(rec["b"]))]
            )
            if by == "" and rec["measure"] in ("H", "A", "M0"):
                levels[(rec["measure"], rec["k"], float(year))] = float(rec["b"])
    with open(EXPECTED, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["measure", "k", "year", "by", "group", "indicator", "value"])
        w.writerows(out)

    # Absolute changes from mpitb's est_cot; relative ones (which mpitb 0.2 does not compute)
    # from its point estimates by OPHI's formulas.
    # est_cot takes a named weight profile; without one it silently uses equal weights.
    mpi.mpi_specs["gen"].setdefault("weights", {})["gen"] = WEIGHTS
    cot = mpi.est_cot(df, "gen", "year", KS, svy=True, total=True, insequence=True, wgts="gen")
    changes = []
    for rec in cot:
        m, k, t0, t1 = rec["measure"], rec["k"], float(rec["t0"]), float(rec["t1"])
        changes.append([m, k, repr(t0), repr(t1), "abs", "false", repr(float(rec["raw"]))])
        changes.append([m, k, repr(t0), repr(t1), "abs", "true", repr(float(rec["ann"]))])
        x1, x2 = levels[(m, k, t0)], levels[(m, k, t1)]
        # The two mpitb routines must agree, or the expected values would be inconsistent.
        assert abs((x2 - x1) - rec["raw"]) < 1e-12, (m, k, t0, t1)
        rel = (x2 / x1 - 1) * 100
        ann = ((x2 / x1) ** (1 / (t1 - t0)) - 1) * 100
        changes.append([m, k, repr(t0), repr(t1), "rel", "false", repr(rel)])
        changes.append([m, k, repr(t0), repr(t1), "rel", "true", repr(ann)])
    with open(CHANGES, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["measure", "k", "from", "to", "kind", "annualised", "value"])
        w.writerows(changes)
    print(f"wrote {len(out)} results and {len(changes)} changes")


if __name__ == "__main__":
    step = sys.argv[1] if len(sys.argv) > 1 else "data"
    if step == "data":
        generate()
    elif step == "expected":
        expected()
    else:
        sys.exit("usage: gen-measure-fixtures.py data|expected")
