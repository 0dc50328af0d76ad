#!/usr/bin/env python3
"""Prints the benchmark table (markdown) from the RESULT lines of measure-national.sh."""
import sys


def main():
    r = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        if line.startswith("RESULT "):
            _, key, value = line.rstrip("\n").split(" ", 2)
            r[key] = value
    f = lambda k: float(r[k])
    rows = []

    def row(figure, halve, peer, ratio, target, met):
        rows.append(f"| {figure} | {halve} | {peer} | {ratio} | {target} | {met} |")

    hh = int(r["households"])
    eng = f("engine_t2_median_ms")
    row(f"full recompute, {hh:,} households, 2 threads (median of {r['engine_t2_runs']})",
        f"{eng:.1f} ms", "-", "-", "< 200 ms", "yes" if eng < 200 else "NO")
    row("same, 1 thread", f"{f('engine_t1_median_ms'):.1f} ms", "-", "-", "-", "-")
    if "rows_t2_median_ms" in r:
        rows_ms = f("rows_t2_median_ms")
        row(f"vs halve's row layout (u32 profile + f64 weight per household, {f('rows_bytes') / 1e6:.0f} MB), 2 threads",
            f"{eng:.1f} ms", f"rows {rows_ms:.1f} ms", f"{rows_ms / eng:.1f}x", "-", "-")
    if "numpy_median_ms" in r:
        npy = f("numpy_median_ms")
        row(f"vs numpy, same data (median of {r['numpy_runs']})", f"{eng:.1f} ms", f"numpy {npy:.0f} ms",
            f"{npy / eng:.1f}x", ">= 10x", "yes" if npy / eng >= 10 else "NO")
    sizes = sorted(int(k.split("_")[1]) for k in r if k.startswith("mpitb_") and k.endswith("_median_s"))
    if sizes:
        n = sizes[-1]
        per_hh = f(f"mpitb_{n}_median_s") / n
        extra = per_hh * hh
        row(f"vs mpitb, extrapolated linearly from {n:,} households", f"{eng:.1f} ms",
            f"mpitb ~{extra:,.0f} s", f"~{extra * 1e3 / eng:,.0f}x", ">= 100x",
            "yes" if extra * 1e3 / eng >= 100 else "NO")
        for n in sizes:
            row(f"  mpitb on {n:,} households ({r[f'mpitb_{n}_populations']} populations, median of {r[f'mpitb_{n}_runs']})",
                "-", f"{f(f'mpitb_{n}_median_s'):.2f} s ({f(f'mpitb_{n}_median_s') / n * 1e6:.1f} us/household)",
                "-", "-", f"max diff vs halve {r[f'mpitb_{n}_maxdiff']}")
    for label, name in [("2gib", "2 GiB array"), ("engine_size", "array of the engine's size")]:
        key = f"bw_{label}_t2_best_gbs"
        if key in r:
            bw = f(key)
            bound = f("engine_bytes") / bw / 1e6
            ratio = eng / bound
            row(f"vs read bandwidth ({name}, 2 threads, best {bw:.1f} GB/s): bound = {f('engine_bytes') / 1e6:.0f} MB / bw",
                f"{eng:.1f} ms", f"bound {bound:.1f} ms", f"{ratio:.2f}x the bound", "<= 3x",
                "yes" if ratio <= 3 else "NO")
    if "halve_e2e_median_ms" in r:
        e2e = f("halve_e2e_median_ms")
        peer = f("numpy_csv_median_ms") if "numpy_csv_median_ms" in r else None
        row("end to end `halve measure`, 1M-row CSV", f"{e2e:.0f} ms",
            f"pandas read_csv + numpy {peer:.0f} ms" if peer else "-",
            f"{peer / e2e:.1f}x" if peer else "-", "(report)", "-")
    if "numpy_vs_halve_maxdiff" in r:
        row("agreement numpy vs halve, all figures, all 7,437 populations", "-", "-", "-", "-",
            f"max diff {r['numpy_vs_halve_maxdiff']}")
    print("| figure | halve | peer | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print()
    print("machine:", r.get("nproc"), "cores,", r.get("cpu"), ",", r.get("mem_gib"), "GiB, L3", r.get("l3"))
    print("load averages (1,5,15 min) at each stage:",
          "; ".join(f"{k[5:]} {v}" for k, v in r.items() if k.startswith("load_")))


if __name__ == "__main__":
    main()
