"""The synctoolbox anchor of issue 12: MrMsDTW with chroma and DLNCO onset features at 50 Hz
(Ewert, Müller & Grosche 2009; synctoolbox's own score-to-audio tutorial settings) on the very
audio `segno eval` renders, scored against the same truth as Segno's offline rows.

The audio comes from `segno eval --dump DIR` (one `<case>.wav` per case, the degraded rendering
at 22.05 kHz); the score is each case's `score.mid`, whose time axis the truth is measured on.

`cargo xtask bench synctoolbox` does all of it (and `cargo xtask bench` with the rest): the
environment from PyPI (scripts/synctoolbox-requirements.txt) in target/synctoolbox, the dump of
`segno eval --every 5 --no-offline`, this script, its table in target/bench/synctoolbox.md. By
hand, from the repository root:
    python3 -m venv target/synctoolbox
    target/synctoolbox/bin/pip install -r scripts/synctoolbox-requirements.txt
    target/release/segno eval --every 5 --no-offline --dump target/dump5
    target/synctoolbox/bin/python scripts/synctoolbox_anchor.py target/dump5
Prints the share of truth rows within 25 / 50 / 100 ms and the median signed error (ms) for all
rows, ASAP's beats and Vienna's notes, in the layout of `segno eval`'s offline table.
"""
import contextlib
import csv
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pretty_midi
import soundfile
from synctoolbox.dtw.mrmsdtw import sync_via_mrmsdtw
from synctoolbox.dtw.utils import (compute_optimal_chroma_shift,
                                   make_path_strictly_monotonic,
                                   shift_chroma_vectors)
from synctoolbox.feature.chroma import (pitch_to_chroma, quantize_chroma,
                                        quantized_chroma_to_CENS)
from synctoolbox.feature.csv_tools import (df_to_pitch_features,
                                           df_to_pitch_onset_features)
from synctoolbox.feature.dlnco import pitch_onset_features_to_DLNCO
from synctoolbox.feature.pitch import audio_to_pitch_features
from synctoolbox.feature.pitch_onset import audio_to_pitch_onset_features
from synctoolbox.feature.utils import estimate_tuning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "../shared/benchmark/dev")
FS = 22050
RATE = 50
STEP_WEIGHTS = np.array([1.5, 1.5, 2.0])


def score_frame(case):
    midi = pretty_midi.PrettyMIDI(os.path.join(CASES, case, f"{case}.score.mid"))
    rows = [(n.start, n.end - n.start, n.pitch, n.velocity, "piano")
            for inst in midi.instruments for n in inst.notes]
    return pd.DataFrame(rows, columns=["start", "duration", "pitch", "velocity", "instrument"])


def features_of_audio(audio):
    tuning = estimate_tuning(audio, FS)
    pitch = audio_to_pitch_features(f_audio=audio, Fs=FS, tuning_offset=tuning,
                                    feature_rate=RATE, verbose=False)
    chroma = quantize_chroma(f_chroma=pitch_to_chroma(f_pitch=pitch))
    onsets = audio_to_pitch_onset_features(f_audio=audio, Fs=FS, tuning_offset=tuning,
                                           verbose=False)
    dlnco = pitch_onset_features_to_DLNCO(f_peaks=onsets, feature_rate=RATE,
                                          feature_sequence_length=chroma.shape[1],
                                          visualize=False)
    return chroma, dlnco


def features_of_score(df):
    pitch = df_to_pitch_features(df, feature_rate=RATE)
    chroma = quantize_chroma(f_chroma=pitch_to_chroma(f_pitch=pitch))
    onsets = df_to_pitch_onset_features(df)
    dlnco = pitch_onset_features_to_DLNCO(f_peaks=onsets, feature_rate=RATE,
                                          feature_sequence_length=chroma.shape[1],
                                          visualize=False)
    return chroma, dlnco


def align(task):
    case, wav = task
    audio, fs = soundfile.read(wav, dtype="float32")
    assert fs == FS, f"{wav}: {fs} Hz, expected {FS}"
    start = time.time()
    # synctoolbox 1.4.2 prints a dot per pitch even with verbose=False; the table is on stdout.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        chroma_a, dlnco_a = features_of_audio(audio)
    chroma_s, dlnco_s = features_of_score(score_frame(case))
    cens_a = quantized_chroma_to_CENS(chroma_a, 201, 50, RATE)[0]
    cens_s = quantized_chroma_to_CENS(chroma_s, 201, 50, RATE)[0]
    shift = compute_optimal_chroma_shift(cens_a, cens_s)
    chroma_s = shift_chroma_vectors(chroma_s, shift)
    dlnco_s = shift_chroma_vectors(dlnco_s, shift)
    wp = sync_via_mrmsdtw(f_chroma1=chroma_a, f_onset1=dlnco_a, f_chroma2=chroma_s,
                          f_onset2=dlnco_s, input_feature_rate=RATE,
                          step_weights=STEP_WEIGHTS, threshold_rec=10 ** 6, verbose=False)
    wp = make_path_strictly_monotonic(wp)
    seconds = time.time() - start
    perf_s, score_s = wp[0] / RATE, wp[1] / RATE
    with open(os.path.join(CASES, case, f"{case}.truth.csv")) as f:
        truth = [(float(r["score_time_s"]), float(r["perf_time_s"])) for r in csv.DictReader(f)]
    errors = [float(np.interp(s, score_s, perf_s)) - p for s, p in truth]
    return case, errors, len(audio) / FS, seconds


def summary(name, errors):
    e = np.array(errors)
    within = [100 * np.mean(np.abs(e) <= t) for t in (0.025, 0.05, 0.1)]
    return (f"| {name} | {len(e)} | {within[0]:.1f} | {within[1]:.1f} | {within[2]:.1f} | "
            f"{1e3 * np.median(e):+.0f} |")


def main():
    dump = sys.argv[1]
    tasks = sorted((f[:-4], os.path.join(dump, f)) for f in os.listdir(dump)
                   if f.endswith(".wav") and os.path.isdir(os.path.join(CASES, f[:-4])))
    if not tasks:
        sys.exit(f"no <case>.wav of a dev case in {dump}: run segno eval --dump {dump} first")
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(align, tasks))
    rows = {"all": [], "ASAP (beats)": [], "Vienna 4x22 (notes)": []}
    for case, errors, _, _ in results:
        rows["all"] += errors
        rows["ASAP (beats)" if case.startswith("asap") else "Vienna 4x22 (notes)"] += errors
    print(f"synctoolbox MrMsDTW (chroma + DLNCO, 50 Hz), {len(results)} cases")
    print("| rows | n | ≤25 ms % | ≤50 ms % | ≤100 ms % | median signed ms |")
    print("|---|---|---|---|---|---|")
    for name, errors in rows.items():
        if errors:
            print(summary(name, errors))
    audio_s = sum(r[2] for r in results)
    compute_s = sum(r[3] for r in results)
    print(f"- {audio_s / compute_s:.0f}× real time overall (features + MrMsDTW)")


if __name__ == "__main__":
    main()
