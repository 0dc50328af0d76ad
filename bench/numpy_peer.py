#!/usr/bin/env python3
"""The numpy peer: Alkire-Foster by subdistrict, vectorised as an analyst would write it.

    python numpy_peer.py DIR [RUNS]            time on the raw arrays written by `national gen`
    python numpy_peer.py --csv FILE [RUNS]     end to end: read the CSV with pandas, then measure

The analyst has a 0/1 deprivation matrix G (households x 17), household sizes and a
subdistrict index. Unpacking the bit-packed file into G is data loading and is not timed
(as building halve's snapshot is not timed); everything from G to the finished figures is.
The score is computed as the weights vector dot the deprivation matrix, with the weights in
integer sixtieths (1/15 = 4/60, 1/20 = 3/60) so that identification at k is exact, as halve's
(mpitb's float dot product can land on either side of k = 20 when a score is exactly 0.2;
exact units are what a careful analyst writes, and they are faster, which only favours numpy).

Computed, for the nation and each of the 7,436 subdistricts: n, hd (17), and for k = 20 and
k = 33: H, A, M0, hdk (17), actb (17), pctb (17) -- the same records as halve's engine, in the
layout of `national`'s results file, against which this script checks its own numbers.
"""

import json
import os
import statistics
import sys
import time

import numpy as np

NIND = 17
SIZES = [3, 3, 3, 4, 4]
UNITS = np.array([60 // (5 * s) for s in SIZES for _ in range(s)], dtype=np.int16)  # sixtieths
W = UNITS / 60.0
KS = [20, 33]
RECORD = 2 + NIND + 2 * (3 + 3 * NIND)


def measure(G, members, sub, ngroups):
    """All measures by subdistrict; returns the records (nation first) as an array."""
    m = members.astype(np.float64)
    units = G @ UNITS  # score in sixtieths: weights vector dot deprivation matrix
    pop = np.bincount(sub, weights=m, minlength=ngroups)
    # Uncensored headcounts: persons deprived in j, by subdistrict.
    dep = np.stack([np.bincount(sub, weights=m * G[:, j], minlength=ngroups) for j in range(NIND)], axis=1)
    cols = [pop[:, None], dep]
    per_k = []
    for k in KS:
        poor = units >= int(np.ceil(k * 60 / 100))  # c >= k, exactly
        wp = m * poor
        q = np.bincount(sub, weights=wp, minlength=ngroups)
        cs = np.bincount(sub, weights=wp * units, minlength=ngroups) / 60.0
        cen = np.stack([np.bincount(sub, weights=wp * G[:, j], minlength=ngroups) for j in range(NIND)], axis=1)
        per_k.append((q, cs, cen))
    # The nation is the sum of its subdistricts.
    pop_all = np.concatenate([[pop.sum()], pop])
    out = np.empty((ngroups + 1, RECORD))
    out[:, 0] = np.arange(-1, ngroups)
    out[:, 1] = pop_all
    out[:, 2:2 + NIND] = np.vstack([dep.sum(0), dep]) / pop_all[:, None]
    at = 2 + NIND
    with np.errstate(invalid="ignore", divide="ignore"):
        for q, cs, cen in per_k:
            q = np.concatenate([[q.sum()], q])
            cs = np.concatenate([[cs.sum()], cs])
            cen = np.vstack([cen.sum(0), cen])
            H = q / pop_all
            A = np.where(q > 0, cs / q, 0.0)
            M0 = cs / pop_all
            hdk = cen / pop_all[:, None]
            actb = hdk * W
            pctb = np.where(M0[:, None] > 0, actb / M0[:, None], 0.0)
            out[:, at] = H
            out[:, at + 1] = A
            out[:, at + 2] = M0
            out[:, at + 3:at + 3 + NIND] = hdk
            out[:, at + 3 + NIND:at + 3 + 2 * NIND] = actb
            out[:, at + 3 + 2 * NIND:at + 3 + 3 * NIND] = pctb
            at += 3 + 3 * NIND
    return out


def unpack(bits):
    """Bit-packed profiles to a households x 17 matrix of 0/1 (uint8)."""
    return ((bits[:, None] >> np.arange(NIND, dtype=np.uint32)) & 1).astype(np.uint8)


def compare(mine, theirs, label):
    """Max absolute difference over all records and figures (same groups, same order)."""
    if mine.shape != theirs.shape:
        raise SystemExit(f"{label}: shapes differ {mine.shape} vs {theirs.shape}")
    diff = float(np.nanmax(np.abs(mine - theirs)))
    return diff


def main():
    args = sys.argv[1:]
    if args and args[0] == "--csv":
        import pandas as pd

        path = args[1]
        runs = int(args[2]) if len(args) > 2 else 5
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            df = pd.read_csv(path)
            inds = [f"i{j + 1:02d}" for j in range(NIND)]
            G = df[inds].to_numpy(dtype=np.uint8)
            codes, sub = np.unique(df["subdistrict"].to_numpy(), return_inverse=True)
            out = measure(G, df["members"].to_numpy(), sub, len(codes))
            times.append(time.perf_counter() - t)
        print(f"RESULT numpy_csv_median_ms {statistics.median(times) * 1e3:.1f}")
        print(f"RESULT numpy_csv_runs {runs}")
        return

    d = args[0]
    runs = int(args[1]) if len(args) > 1 else 5
    bits = np.fromfile(os.path.join(d, "bits.u32"), dtype="<u4")
    members = np.fromfile(os.path.join(d, "members.u8"), dtype=np.uint8)
    sub = np.fromfile(os.path.join(d, "sub.u16"), dtype="<u2").astype(np.intp)
    ngroups = int(sub.max()) + 1
    G = unpack(bits)
    del bits
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = measure(G, members, sub, ngroups)
        times.append(time.perf_counter() - t)
        print(f"numpy: {times[-1] * 1e3:.0f} ms", file=sys.stderr)
    print(f"RESULT numpy_median_ms {statistics.median(times) * 1e3:.1f}")
    print(f"RESULT numpy_min_ms {min(times) * 1e3:.1f}")
    print(f"RESULT numpy_runs {runs}")
    ref = os.path.join(d, "halve_results.f64")
    if os.path.exists(ref):
        halve = np.fromfile(ref, dtype="<f8").reshape(-1, RECORD)
        print(f"RESULT numpy_vs_halve_maxdiff {compare(out, halve, 'numpy vs halve'):.3e}")


if __name__ == "__main__":
    main()
