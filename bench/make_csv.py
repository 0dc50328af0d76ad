#!/usr/bin/env python3
"""Writes the first N households of the national data set as a CSV for `halve measure`:
hh_id, subdistrict, members, i01..i17 (0/1).

    python make_csv.py DIR N OUT.csv
"""
import os
import sys

import numpy as np

d, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bits = np.fromfile(os.path.join(d, "bits.u32"), dtype="<u4", count=n)
members = np.fromfile(os.path.join(d, "members.u8"), dtype=np.uint8, count=n)
sub = np.fromfile(os.path.join(d, "sub.u16"), dtype="<u2", count=n)
cols = [np.arange(1, n + 1), sub.astype(np.int64) + 100_000, members.astype(np.int64)]
cols += [((bits >> j) & 1).astype(np.int64) for j in range(17)]
header = "hh_id,subdistrict,members," + ",".join(f"i{j + 1:02d}" for j in range(17))
np.savetxt(out, np.column_stack(cols), fmt="%d", delimiter=",", header=header, comments="")
print(f"wrote {n} households to {out}", file=sys.stderr)
