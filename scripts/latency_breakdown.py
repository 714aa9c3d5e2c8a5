"""Where the online follower's latency comes from (issue 12): for every truth row of the dev cases
dumped by `segno eval --no-offline --dump DIR`, the first report that reached its score time, and
whether that report came at a 23 ms frame or between frames (an onset crossed at its attack).

A crossing on the fine hop that ends with a frame has a frame's time and counts as a frame's here.

Run from the repository root (NumPy needed: the synctoolbox environment of
`scripts/synctoolbox_anchor.py` has it):
    target/release/segno eval --every 5 --no-offline --dump target/latency
    python3 scripts/latency_breakdown.py target/latency
"""
import bisect
import csv
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "../shared/benchmark/dev")
HOP_S = 512 / 22050


def first_reach_errors(dump, case):
    """(error s, reached at a frame) per truth row the follower reached."""
    times, reached, furthest = [], [], float("-inf")
    with open(os.path.join(dump, f"{case}.positions.csv")) as f:
        for r in csv.DictReader(f):
            if r["state"] != "waiting":
                furthest = max(furthest, float(r["score_time_s"]))
            times.append(float(r["perf_time_s"]))
            reached.append(furthest)
    out = []
    with open(os.path.join(CASES, case, f"{case}.truth.csv")) as f:
        for r in csv.DictReader(f):
            k = bisect.bisect_left(reached, float(r["score_time_s"]) - 1e-9)
            if k < len(times):
                frames = times[k] / HOP_S
                out.append((times[k] - float(r["perf_time_s"]), abs(frames - round(frames)) < 1e-3))
    return out


def main():
    dump = sys.argv[1]
    rows = []
    for name in sorted(os.listdir(dump)):
        if name.endswith(".positions.csv"):
            rows += first_reach_errors(dump, name[: -len(".positions.csv")])
    if not rows:
        sys.exit(f"no <case>.positions.csv in {dump}: run segno eval --no-offline --dump {dump}")
    for label, at_frame in (("at an attack, between frames", False), ("at a frame", True)):
        e = np.array([err for err, frame in rows if frame == at_frame])
        if len(e) == 0:
            print(f"{label}: none")
            continue
        print(f"{label}: {100 * len(e) / len(rows):.1f} % of {len(rows)} rows; "
              f"within 25 ms {100 * np.mean(np.abs(e) <= 0.025):.1f} %, "
              f"50 ms {100 * np.mean(np.abs(e) <= 0.05):.1f} %, "
              f"median signed {1e3 * np.median(e):+.1f} ms; "
              f"25-100 ms late {100 * np.mean((e > 0.025) & (e <= 0.1)):.1f} %, "
              f"more than 25 ms early {100 * np.mean(e < -0.025):.1f} %")


if __name__ == "__main__":
    main()
