"""How long a host takes to instantiate Segno (a plugin scan), and what Segno prints meanwhile.

usage: python instantiation_time.py PATH/Segno.vst3 [N]

Loads the VST3 N times (default 20) in pedalboard, as a host scanning its plugins would, and
prints the median and worst load time and the lines written to stderr during the loads.
"""

import os
import statistics
import sys
import tempfile
import time

import pedalboard

bundle = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20

# Capture what the plugin writes to the host's stderr (fd 2) during the loads.
saved = os.dup(2)
with tempfile.TemporaryFile() as log:
    os.dup2(log.fileno(), 2)
    times = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            plugin = pedalboard.load_plugin(bundle)
            times.append(time.perf_counter() - start)
            del plugin
    finally:
        os.dup2(saved, 2)
    log.seek(0)
    lines = log.read().decode(errors="replace").splitlines()

print(f"{bundle}: {n} loads, median {statistics.median(times) * 1e3:.1f} ms, "
      f"worst {max(times) * 1e3:.1f} ms, first {times[0] * 1e3:.1f} ms; "
      f"{len(lines)} lines on stderr ({len(lines) / n:.1f} per load)")
for line in lines[:5]:
    print("  stderr:", line[:160])
