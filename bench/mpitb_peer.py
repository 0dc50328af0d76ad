#!/usr/bin/env python3
"""The mpitb peer: OPHI's method as coded in the PyPI package `mpitb` 0.2, on a prefix of the
national data set (it cannot finish 27M households in reasonable time), timed and checked
against halve's figures for the same prefix.

    python mpitb_peer.py DIR HOUSEHOLDS HALVE_RESULTS.f64 [RUNS]

The prefix is the first HOUSEHOLDS households of the data written by `national gen` (sorted by
subdistrict, so it holds whole subdistricts at the national density, plus one partial one).
mpitb gets a pandas DataFrame of 0/1 indicator columns, the subdistrict and the analysis weight
(= household members; households identify, persons count), and computes, for the nation and
each subdistrict, at k = 20 and 33: H, A, M0, hdk, actb, pctb and hd (plus its standard
errors, which it always computes). Timed: the `est` call only (building the DataFrame is not).
"""

import os
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
from mpitb.core import MPIToolbox

warnings.filterwarnings("ignore")

NIND = 17
SIZES = [3, 3, 3, 4, 4]
RECORD = 2 + NIND + 2 * (3 + 3 * NIND)
KS = [20, 33]
LABEL_BASE = 100_000


def main():
    d, n, ref = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    bits = np.fromfile(os.path.join(d, "bits.u32"), dtype="<u4", count=n)
    members = np.fromfile(os.path.join(d, "members.u8"), dtype=np.uint8, count=n)
    sub = np.fromfile(os.path.join(d, "sub.u16"), dtype="<u2", count=n)
    inds = [f"i{j + 1:02d}" for j in range(NIND)]
    df = pd.DataFrame({name: ((bits >> j) & 1).astype(np.int64) for j, name in enumerate(inds)})
    df["subdistrict"] = sub.astype(np.int64) + LABEL_BASE
    df["aw"] = members.astype(np.float64)

    dims, weights, start = [], {}, 0
    for i, s in enumerate(SIZES):
        names = inds[start:start + s]
        dims.append((names, f"d{i + 1}"))
        for name in names:
            weights[name] = 1 / 5 / s
        start += s
    mpi = MPIToolbox()
    mpi.set(name="nat", dimensions=dims)
    mpi.svyset(weight="aw")

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        recs = mpi.est(df, "nat", KS, weights=weights, svy=True, over=["subdistrict"])
        times.append(time.perf_counter() - t)
        print(f"mpitb {n}: {times[-1]:.2f} s", file=sys.stderr)

    # Compare every figure with halve's records for the same prefix.
    halve = np.fromfile(ref, dtype="<f8").reshape(-1, RECORD)
    row_of = {int(r[0]): r for r in halve}
    at = {"H": 0, "A": 1, "M0": 2}
    worst, compared, boundary = 0.0, 0, 0
    for rec in recs:
        g = -1 if rec["loa"] == "nat" else int(rec["subg"]) - LABEL_BASE
        r = row_of[g]
        m, k, ind = rec["measure"], rec["k"], rec.get("indicator")
        base = 2 + NIND + KS.index(k) * (3 + 3 * NIND)
        if ind is None:
            mine = r[base + at[m]]
        else:
            j = inds.index(ind)
            if m == "hd":
                mine = r[2 + j]
            else:
                off = {"hdk": 3, "actb": 3 + NIND, "pctb": 3 + 2 * NIND}[m]
                mine = r[base + off + j]
        worst = max(worst, abs(float(rec["b"]) - mine))
        compared += 1
    groups = len({int(r[0]) for r in halve})
    med = statistics.median(times)
    print(f"RESULT mpitb_{n}_median_s {med:.3f}")
    print(f"RESULT mpitb_{n}_runs {runs}")
    print(f"RESULT mpitb_{n}_populations {groups}")
    print(f"RESULT mpitb_{n}_figures_compared {compared}")
    print(f"RESULT mpitb_{n}_maxdiff {worst:.3e}")


if __name__ == "__main__":
    main()
