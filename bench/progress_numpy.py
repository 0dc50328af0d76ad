"""The numpy peer of the target engine's national benchmark (BENCHMARKS.md, "Progress").

    python progress_numpy.py DIR [RUNS] [DUMP]

Reads the panel written by `progress_national gen DIR` (area.u32, states.u8, weights.u16,
meta.txt), and computes what `progress_national bench` times, vectorised as an analyst would
write it: every household classified in every round (still in, re-entered, exited once,
graduated after two out-assessments in a row, unassessed, died, moved, merged, corrected,
newcomers new or already registered, others), counted per subdistrict in households and
persons, with the transition matrices between consecutive rounds; rolled up to districts,
provinces and the nation; and per area and round the stock against the geometric milestone,
the projection to the horizon and the status. Prints RESULT lines (median of RUNS); with
DUMP (the output of `progress_national dump`), checks every subdistrict count against
halve's.
"""

import sys
import time

import numpy as np

# State bytes, as halve_measure::panel::State.
NOT_YET, IN, OUT, UNASSESSED, DIED, MOVED, MERGED, CORRECTED = range(8)
# Classes, as halve_measure::panel::Class.
(STILL_IN, REENTERED, EXITED_ONCE, GRADUATED, COHORT_UNASSESSED, C_DIED, C_MOVED, C_MERGED,
 C_CORRECTED, NEW_NEW, NEW_EXISTING, OTHER_OUT, OTHER_UNASSESSED) = range(13)
CLASSES = 13
FLOWS = 5
K = 2  # out-assessments in a row that make a graduate
DISTRICTS, PROVINCES = 928, 77
HORIZON, KEEP, MARGIN = 5.0, 0.5, 1.1


def load(d):
    n, rounds, subs, _seed = (int(x) for x in open(f"{d}/meta.txt").read().split())
    area = np.fromfile(f"{d}/area.u32", dtype="<u4")
    states = np.fromfile(f"{d}/states.u8", dtype=np.uint8).reshape(n, rounds)
    weights = np.fromfile(f"{d}/weights.u16", dtype="<u2").reshape(n, rounds)
    return n, rounds, subs, area, states, weights


def classify(rounds, subs, area, states, weights):
    """Counts per subdistrict: units[a, t, c], persons[a, t, c], moves[a, t, 2, 5, 5]."""
    n = area.shape[0]
    first = states[:, 0]
    cohort = first == IN
    present0 = (first >= IN) & (first <= UNASSESSED)
    other = ~cohort
    area64 = area.astype(np.int64)
    units = np.zeros((subs, rounds, CLASSES), dtype=np.int64)
    persons = np.zeros((subs, rounds, CLASSES), dtype=np.int64)
    moves = np.zeros((subs, rounds, 2, FLOWS, FLOWS), dtype=np.int64)
    left = np.zeros(n, dtype=bool)
    run = np.zeros(n, dtype=np.int16)
    # Gone causes as cohort classes; "not yet" after the baseline is a correction.
    cause = np.full(8, -1, dtype=np.int8)
    cause[[NOT_YET, DIED, MOVED, MERGED, CORRECTED]] = [C_CORRECTED, C_DIED, C_MOVED, C_MERGED,
                                                        C_CORRECTED]
    flow = np.minimum(states, 4).astype(np.int64)
    for t in range(rounds):
        s = states[:, t]
        w = weights[:, t]
        cls = np.full(n, -1, dtype=np.int8)
        if t == 0:
            cls[cohort] = STILL_IN
        else:
            is_in, is_out, unas = s == IN, s == OUT, s == UNASSESSED
            gone = ~(is_in | is_out | unas)
            c_in, c_out, c_gone = cohort & is_in, cohort & is_out, cohort & gone
            cls[c_in] = np.where(left[c_in], REENTERED, STILL_IN)
            run[c_in] = 0
            run[c_out] += 1
            cls[c_out] = np.where(run[c_out] >= K, GRADUATED, EXITED_ONCE)
            cls[cohort & unas] = COHORT_UNASSESSED
            cls[c_gone] = cause[s[c_gone]]
            run[c_gone] = 0
            left |= c_out | c_gone
        o_in = other & (s == IN)
        cls[o_in] = np.where(present0[o_in], NEW_EXISTING, NEW_NEW)
        cls[other & (s == OUT)] = OTHER_OUT
        cls[other & (s == UNASSESSED)] = OTHER_UNASSESSED
        # Persons now while in the target population, at the baseline for the cohort's others.
        wt = np.where((s == IN) | other, w, weights[:, 0]).astype(np.float64)
        ok = cls >= 0
        idx = area64[ok] * CLASSES + cls[ok]
        units[:, t, :] = np.bincount(idx, minlength=subs * CLASSES).reshape(subs, CLASSES)
        persons[:, t, :] = np.bincount(idx, weights=wt[ok], minlength=subs * CLASSES).reshape(
            subs, CLASSES).astype(np.int64)
        if t > 0:
            cell = ((area64 * 2 + other) * FLOWS + flow[:, t - 1]) * FLOWS + flow[:, t]
            moves[:, t] = np.bincount(cell, minlength=subs * 2 * FLOWS * FLOWS).reshape(
                subs, 2, FLOWS, FLOWS)
    return units, persons, moves


def rollup(x, group_of, groups):
    out = np.zeros((groups,) + x.shape[1:], dtype=x.dtype)
    np.add.at(out, group_of, x)
    return out


IN_CLASSES = [STILL_IN, REENTERED, NEW_NEW, NEW_EXISTING]


def figures(units, persons, rounds):
    """Stock, baseline, milestone, projection and status per area and round (persons and
    households), and the cohort's equivalent count."""
    out = {}
    years = np.arange(rounds, dtype=np.float64)
    for name, x in (("households", units), ("persons", persons)):
        stock = x[:, :, IN_CLASSES].sum(axis=2).astype(np.float64)
        base = x[:, 0, STILL_IN].astype(np.float64)[:, None]
        target = base * KEEP
        milestone = base * KEEP ** (np.minimum(years, HORIZON) / HORIZON)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = stock / base
            projection = np.where(years >= HORIZON, stock,
                                  base * ratio ** (HORIZON / np.maximum(years, 1e-9)))
            met_year = 2566 + years * np.log(KEEP) / np.log(ratio)
            inside = x[:, :, [STILL_IN, REENTERED]].sum(axis=2)
            known = inside + x[:, :, [EXITED_ONCE, GRADUATED]].sum(axis=2)
            equivalent = np.where(known > 0, base * inside / known, np.nan)
        status = np.where(projection < target, 0, np.where(projection <= target * MARGIN, 1, 2))
        status[:, 0] = 3
        status[base[:, 0] == 0] = 4
        out[name] = (stock, milestone, projection, met_year, status, equivalent)
    return out


def progress(rounds, subs, area, states, weights, maps):
    units, persons, moves = classify(rounds, subs, area, states, weights)
    levels = [(units, persons, moves)]
    for group_of, groups in maps:
        u, p, m = levels[-1]
        levels.append((rollup(u, group_of, groups), rollup(p, group_of, groups),
                       rollup(m, group_of, groups)))
    u, p, m = levels[-1]
    levels.append((u.sum(axis=0, keepdims=True), p.sum(axis=0, keepdims=True),
                   m.sum(axis=0, keepdims=True)))
    return levels, [figures(u, p, rounds) for u, p, _ in levels]


def main():
    d = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    dump = sys.argv[3] if len(sys.argv) > 3 else None
    n, rounds, subs, area, states, weights = load(d)
    maps = [(np.arange(subs) * DISTRICTS // subs, DISTRICTS),
            (np.arange(DISTRICTS) * PROVINCES // DISTRICTS, PROVINCES)]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        levels, figs = progress(rounds, subs, area, states, weights, maps)
        times.append(time.perf_counter() - t0)
    print(f"RESULT numpy_full_ms {np.median(times) * 1e3:.0f} (min {min(times) * 1e3:.0f})")
    status = figs[0]["persons"][4][:, -1]
    print("RESULT numpy_subdistrict_status_last_round",
          {k: int((status == i).sum()) for i, k in enumerate(["on_track", "at_risk", "off_track"])})
    if dump:
        units, persons, moves = levels[0]
        halve = np.fromfile(dump, dtype="<u8").reshape(subs, rounds, 2 * CLASSES + 2 * 25)
        same = (np.array_equal(halve[:, :, :CLASSES], units)
                and np.array_equal(halve[:, :, CLASSES:2 * CLASSES], persons)
                and np.array_equal(halve[:, :, 2 * CLASSES:].reshape(moves.shape), moves))
        print(f"RESULT numpy_agrees_with_halve {same} ({halve.size} counts compared)")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
