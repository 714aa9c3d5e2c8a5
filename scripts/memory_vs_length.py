"""Peak memory of `segno follow` and `segno align` against the length of the piece (issue 11).

For each length it writes a score of that many minutes (a seeded piano texture of our own: a
melody in eighth notes over a bass, 120 quarter notes a minute, 4/4) and a performance of it
played 5 % slower with a slow tempo swing, renders the performance with `segno render`, then
follows and aligns it and reads each command's peak resident memory (the kernel's maximum RSS
of that process). It also aligns silent recordings of a few lengths against the bundled minuet.

Run from the repository root after `cargo build --release -p segno`:
    python3 scripts/memory_vs_length.py [MINUTES ...]     (default: 5 15 30 60)
Prints a Markdown table. Set SEGNO_SIMILARITY to pass `--similarity` (default: the commands'
own default, which is what a user gets), SEGNO_BIN to measure another build of `segno` (it finds
its models beside itself, so keep it in target/release).
"""
import math
import os
import random
import struct
import subprocess
import sys
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = os.environ.get("SEGNO_BIN", os.path.join(ROOT, "target/release/segno"))
TMP = os.path.join(ROOT, "target/tmp/memory")
MINUET = os.path.join(ROOT, "assets/example/minuet.musicxml")
sys.path.insert(0, os.path.join(ROOT, "assets/example"))
from make_example import vlq  # noqa: E402  (the bundled example's MIDI writer)
QPM = 120.0
TPQ = 480


def notes(minutes):
    """(beat, length in beats, pitch, velocity): a melody's random walk over a bass."""
    rng = random.Random(11)
    scale = [0, 2, 4, 5, 7, 9, 11]
    out, degree = [], 14
    for bar in range(int(minutes * QPM / 4)):
        root = [0, 5, 7, 9][bar % 4]
        out.append((bar * 4.0, 1.9, 36 + root, 60))
        out.append((bar * 4.0 + 2, 1.9, 43 + root, 56))
        for e in range(8):
            degree = min(max(degree + rng.choice([-2, -1, -1, 1, 1, 2]), 7), 24)
            pitch = 48 + 12 * (degree // 7) + scale[degree % 7]
            out.append((bar * 4.0 + e / 2, 0.45, pitch, 64 + rng.randrange(16)))
    return out


def midi(path, events_s):
    """A type-0 MIDI file at 120 qpm from (seconds, status, pitch, velocity) events."""
    track, last = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20\x00\xff\x58\x04\x04\x02\x18\x08"), 0
    for t, status, pitch, vel in sorted(events_s, key=lambda e: (e[0], e[1] == 0x90)):
        tick = round(t * 2 * TPQ)
        track += vlq(tick - last) + bytes([status, pitch, vel])
        last = tick
    track += b"\x00\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, TPQ))
        f.write(b"MTrk" + struct.pack(">I", len(track)) + bytes(track))


def score_and_performance(minutes):
    score = os.path.join(TMP, f"score-{minutes:g}min.mid")
    perf = os.path.join(TMP, f"perf-{minutes:g}min.mid")
    spb = 60.0 / QPM
    # the performance: 5 % slower, with a tempo swing of ±8 % over 40 beats
    def perf_s(beat):
        return 0.5 + 1.05 * spb * (beat + 40 * 0.08 / (2 * math.pi) * math.sin(2 * math.pi * beat / 40))
    for path, at in ((score, lambda b: b * spb), (perf, perf_s)):
        events = []
        for beat, length, pitch, vel in notes(minutes):
            events.append((at(beat), 0x90, pitch, vel))
            events.append((at(beat + length), 0x80, pitch, 0))
        midi(path, events)
    return score, perf


def peak_mb(args):
    """Runs a segno command and returns (its peak resident memory in MB, wall seconds)."""
    start = time.time()
    proc = subprocess.Popen([S] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"segno {' '.join(args)} failed: {proc.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, time.time() - start


def silent_wav(path, minutes, rate=22050):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        chunk = bytes(2 * rate * 60)
        for _ in range(int(minutes)):
            w.writeframes(chunk)


def main():
    os.makedirs(TMP, exist_ok=True)
    lengths = [float(a) for a in sys.argv[1:]] or [5, 15, 30, 60]
    similarity = os.environ.get("SEGNO_SIMILARITY")
    extra = ["--similarity", similarity] if similarity else []
    print("| piece | recording | follow: peak MB (s) | align: peak MB (s) |")
    print("|---|---|---|---|")
    for minutes in lengths:
        score, perf = score_and_performance(minutes)
        wav = os.path.join(TMP, f"perf-{minutes:g}min.wav")
        if not os.path.exists(wav):
            subprocess.run([S, "render", "--score", perf, "--out", wav, "--sample-rate", "22050"],
                           check=True, capture_output=True)
        f_mb, f_s = peak_mb(["follow", "--score", score, "--audio", wav,
                             "--out", os.path.join(TMP, "positions.csv")] + extra)
        a_mb, a_s = peak_mb(["align", "--score", score, "--audio", wav,
                             "--out", os.path.join(TMP, "alignment.csv")] + extra)
        print(f"| {minutes:g} min generated score | its performance, {minutes * 1.05:.0f} min "
              f"| {f_mb:.0f} ({f_s:.0f}) | {a_mb:.0f} ({a_s:.0f}) |", flush=True)
    for minutes in (30, 120):
        wav = os.path.join(TMP, f"silence-{minutes}min.wav")
        if not os.path.exists(wav):
            silent_wav(wav, minutes)
        a_mb, a_s = peak_mb(["align", "--score", MINUET, "--audio", wav,
                             "--out", os.path.join(TMP, "alignment.csv")] + extra)
        print(f"| bundled minuet (1 min) | silence, {minutes} min | | {a_mb:.0f} ({a_s:.0f}) |",
              flush=True)


if __name__ == "__main__":
    main()
