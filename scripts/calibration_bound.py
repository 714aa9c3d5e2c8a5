"""How far a check of the follower's pace could lift the precision of `following` (issue 11).

For every dev case dumped by `segno eval --no-offline --dump DIR`: the share of reports said
`following` (within the truth's span) that are within 0.5 s of the truth, and what it would be if
`following` were withheld wherever the follower's advance through the score over the last W
seconds differed from the truth's by more than a factor (when the truth advanced more than
0.5 s). The truth's advance is an oracle no follower has: a live check of pace (attacks heard
against onsets passed) can at best match it, so this bounds what such a check could gain.

Run from the repository root (NumPy needed, e.g. target/onnxenv/bin/python):
    target/release/segno eval --every 5 --no-offline --dump target/calibration
    target/onnxenv/bin/python scripts/calibration_bound.py target/calibration
"""
import csv
import glob
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "../shared/benchmark/dev")
ON_TARGET_S = 0.5


def truth(case):
    with open(f"{CASES}/{case}/{case}.truth.csv") as f:
        rows = sorted((float(r["perf_time_s"]), float(r["score_time_s"])) for r in csv.DictReader(f))
    return np.array(rows)


def reports(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    t = np.array([float(r["perf_time_s"]) for r in rows])
    s = np.array([float(r["score_time_s"]) for r in rows])
    following = np.array([r["state"] == "following" for r in rows])
    return t, s, following


def bound(dump, window_s, factor):
    said = right = kept = kept_right = 0
    for path in sorted(glob.glob(f"{dump}/*.positions.csv")):
        case = os.path.basename(path).split(".")[0]
        tr = truth(case)
        t, s, following = reports(path)
        following &= (t >= tr[0, 0] + window_s) & (t <= tr[-1, 0])
        true_s = np.interp(t, tr[:, 0], tr[:, 1])
        on_target = np.abs(s - true_s) <= ON_TARGET_S
        advance = s - np.interp(t - window_s, t, s)
        true_advance = true_s - np.interp(t - window_s, tr[:, 0], tr[:, 1])
        ratio = advance / np.maximum(true_advance, 1e-3)
        off_pace = (true_advance > 0.5) & ((ratio < 1 / factor) | (ratio > factor))
        keep = following & ~off_pace
        said += following.sum()
        right += (following & on_target).sum()
        kept += keep.sum()
        kept_right += (keep & on_target).sum()
    print(
        f"| {window_s:.0f} s | {factor:g}× | {100 * right / said:.2f} | "
        f"{100 * kept / said:.1f} | {100 * kept_right / kept:.2f} |"
    )


if __name__ == "__main__":
    print("| window | pace off by more than | precision % | `following` kept % | precision then % |")
    print("|---|---|---|---|---|")
    for window_s in (4.0, 8.0):
        for factor in (2.0, 3.0):
            bound(sys.argv[1], window_s, factor)
