"""Trains one Siamese CNN of seed 000 on `segno dataset` output and exports its branch to ONNX.

    python train.py --data ../../target/dataset --input semitone --out ../scnn_semitone.onnx

Pairs (seed 000): for a performance frame, the reference frame it plays (match, y=0; from the
note-level anchors `segno dataset` derives from the performance MIDI), or, with equal probability, a
reference frame of the same piece whose sounding pitch classes differ (non-match, y=1; chosen with the
score's MIDI information) or, for a share --near of the non-matches, one 3-10 frames from the match. Each side is the causal patch of the last
CONTEXT frames. Contrastive loss (eq. 1), margin 1. Validation on pieces held out of training (by
piece, not by performance). Writes the model, a model card, and parity vectors (inputs and PyTorch's
outputs) that tests/model_parity.rs checks ONNX Runtime against.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
import zlib

import numpy as np
import torch

from model import CONTEXT, EMBEDDING, Branch, contrastive_loss

NEAR_FRAMES = (3, 10)

BANDS = {"semitone": 88, "chroma": 12, "salience": 88}
# Fixed input scaling, part of the exported model: log-compressed semitone energy runs to about 4;
# chroma and salience lie in 0..1.
SCALE = {"semitone": 0.25, "chroma": 1.0, "salience": 1.0}
# The input's name tells Segno what to feed (src/nn/embed.rs): salience and the semitone spectrogram
# have the same shape.
INPUT_NAME = {"semitone": "patch", "chroma": "patch", "salience": "salience"}
DESCRIPTION = {
    "semitone": "log-compressed 88-band semitone spectrogram (A0..C8; `log10(1 + 1e4 * power)`)",
    "chroma": "12-bin chroma (loudness-normalised)",
    "salience": "88-semitone pitch salience (A0..C8, 0..1): basic-pitch's `contour` output (3 bins per semitone, "
                "model hop 256) pooled by `segno::nn::salience` to the frame grid (max over each semitone's 3 bins "
                "and the 2 model frames of a Segno frame)",
}


class Scaled(torch.nn.Module):
    def __init__(self, branch, scale):
        super().__init__()
        self.branch = branch
        self.scale = scale

    def forward(self, x):
        return self.branch(x * self.scale)


def piece_of(case_id):
    """asap_<composer>_<piece...>_<performer>: performances of one piece share everything but the last part."""
    return case_id.rsplit("_", 1)[0]


def split_by_piece(cases):
    """(training, validation) cases: a tenth of the pieces, all their performances, held out."""
    held_out = lambda c: zlib.crc32(piece_of(c["id"]).encode()) % 10 == 0
    return [c for c in cases if not held_out(c)], [c for c in cases if held_out(c)]


def load_cases(data, rep):
    cases = []
    for case_id in sorted(os.listdir(data)):
        d = os.path.join(data, case_id)
        if not os.path.isfile(os.path.join(d, "match.npy")):
            continue
        ref = np.load(os.path.join(d, f"ref_{rep}.npy"))
        perf = np.load(os.path.join(d, f"perf_{rep}.npy"))
        match = np.load(os.path.join(d, "match.npy"))
        pcs = np.load(os.path.join(d, "ref_pitch_classes.npy"))
        k = np.nonzero((match >= CONTEXT - 1) & (np.arange(len(match)) >= CONTEXT - 1))[0]
        if len(k) < 100 or len(ref) < 4 * CONTEXT:
            continue
        cases.append({"id": case_id, "ref": ref, "perf": perf, "match": match, "pcs": pcs, "valid": k})
    return cases


def patches(frames, ends):
    """(n, 1, bands, CONTEXT) patches of the CONTEXT frames ending at each index of `ends`."""
    idx = ends[:, None] + np.arange(-CONTEXT + 1, 1)[None, :]
    return frames[idx].transpose(0, 2, 1)[:, None, :, :]


def sample_pairs(case, n, rng, near=0.0):
    k = rng.choice(case["valid"], n)
    m = case["match"][k]
    y = (rng.random(n) < 0.5).astype(np.float32)
    j = m.copy()
    neg = np.nonzero(y == 1)[0]
    n_ref = len(case["ref"])
    # A share `near` of the non-matches lie NEAR_FRAMES from the match whatever they sound: the
    # network must tell a moment from the one just before or after it, which is the precision
    # DTW needs at 25-50 ms.
    close = neg[rng.random(len(neg)) < near]
    offset = rng.integers(NEAR_FRAMES[0], NEAR_FRAMES[1] + 1, len(close)) * rng.choice([-1, 1], len(close))
    j[close] = np.clip(m[close] + offset, CONTEXT - 1, n_ref - 1)
    neg = np.setdiff1d(neg, close)
    for t in range(10):  # redraw until the pitch classes differ and the frame is not next door
        cand = rng.integers(CONTEXT - 1, n_ref, len(neg))
        ok = (case["pcs"][cand] != case["pcs"][m[neg]]) & (np.abs(cand - m[neg]) > 4)
        if t == 9:
            ok[:] = True
        j[neg[ok]] = cand[ok]
        neg = neg[~ok]
        if len(neg) == 0:
            break
    return patches(case["perf"], k), patches(case["ref"], j), y


def batch(cases, weights, size, rng, near=0.0, cases_per_batch=8):
    chosen = rng.choice(len(cases), cases_per_batch, p=weights)
    parts = [sample_pairs(cases[c], size // cases_per_batch, rng, near) for c in chosen]
    a, b, y = (np.concatenate(p) for p in zip(*parts))
    return torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(y)


def retrieval_accuracy(embed, cases, rng, n=400, radius=86, tolerance=2):
    """Share of performance frames whose nearest reference frame, within ±2 s of the true one, is within
    `tolerance` frames (46 ms) of it: what the local cost has to get right for DTW to align."""
    hits = total = 0
    for _ in range(n):
        c = cases[rng.integers(len(cases))]
        k = rng.choice(c["valid"])
        m = c["match"][k]
        lo, hi = max(CONTEXT - 1, m - radius), min(len(c["ref"]) - 1, m + radius)
        cand = np.arange(lo, hi + 1)
        q = embed(patches(c["perf"], np.array([k])))
        r = embed(patches(c["ref"], cand))
        best = cand[np.argmin(((r - q) ** 2).sum(axis=1))]
        hits += abs(best - m) <= tolerance
        total += 1
    return hits / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--input", choices=sorted(BANDS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--steps-per-epoch", type=int, default=400)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--margin", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--near", type=float, default=0.85,
                    help="share of non-matching pairs taken 3-10 frames from the match (0.85: best of 0, 0.3, 0.6, 0.85 on every 5th dev case)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    cases = load_cases(args.data, args.input)
    train, val = split_by_piece(cases)
    if not train or not val:
        raise SystemExit(f"{args.data}: not enough cases ({len(cases)}); run `segno dataset` first")
    weights = np.array([len(c["valid"]) for c in train], dtype=float)
    weights /= weights.sum()
    print(f"{len(train)} training and {len(val)} validation performances "
          f"({len({piece_of(c['id']) for c in train})} / {len({piece_of(c['id']) for c in val})} pieces)")

    branch = Branch(BANDS[args.input])
    model = Scaled(branch, SCALE[args.input])
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    total_steps = args.epochs * args.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps)
    val_rng = np.random.default_rng(1234)
    val_batches = [batch(val, np.full(len(val), 1 / len(val)), args.batch, val_rng) for _ in range(20)]

    def embed(x):
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    history = []
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for _ in range(args.steps_per_epoch):
            a, b, y = batch(train, weights, args.batch, rng, args.near)
            loss, _ = contrastive_loss(model(a), model(b), y, args.margin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            v = [contrastive_loss(model(a), model(b), y, args.margin) + (y,) for a, b, y in val_batches]
        val_loss = float(np.mean([l.item() for l, _, _ in v]))
        d = torch.cat([d for _, d, _ in v]).numpy()
        y = torch.cat([y for _, _, y in v]).numpy()
        acc = float(((d < args.margin / 2) == (y == 0)).mean())
        history.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "val_loss": val_loss,
                        "val_pair_accuracy": acc, "val_match_distance": float(d[y == 0].mean()),
                        "val_nonmatch_distance": float(d[y == 1].mean()), "minutes": (time.time() - start) / 60})
        print(json.dumps(history[-1]))

    model.eval()
    retrieval = retrieval_accuracy(embed, val, np.random.default_rng(99))
    baseline = retrieval_accuracy(lambda x: x[:, 0, :, -1], val, np.random.default_rng(99))
    print(f"retrieval within 46 ms: SCNN {retrieval:.3f}, the input frame itself (Euclidean) {baseline:.3f}")

    export(model, args, val)
    write_card(args, history, retrieval, baseline, len(train), len(val), time.time() - start)


def export(model, args, val):
    bands = BANDS[args.input]
    dummy = torch.zeros(1, 1, bands, CONTEXT)
    name = INPUT_NAME[args.input]
    torch.onnx.export(model, (dummy,), args.out, input_names=[name], output_names=["embedding"],
                      dynamic_axes={name: {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    rng = np.random.default_rng(7)
    c = val[0]
    x = patches(c["perf"], rng.choice(c["valid"], 16)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    stem = os.path.splitext(args.out)[0]
    np.save(stem + ".parity-input.npy", x)
    np.save(stem + ".parity-output.npy", y.astype(np.float32))


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def repo_relative(arg):
    """Paths inside the repository as the card's reader has them: relative to its root."""
    full = os.path.abspath(arg)
    return os.path.relpath(full, REPO) if os.sep in arg and full.startswith(REPO) else arg


SALIENCE_NOTE = """

The salience front end itself (basic-pitch's `nmp.onnx`, Apache-2.0, taken from its PyPI wheel and
cut to its salience output by `cargo xtask setup`; 20 ms per 2 s window on one core) looks about a
second ahead, so this model aligns
recordings offline only; Segno refuses it for live following and says so."""


def write_card(args, history, retrieval, baseline, n_train, n_val, seconds):
    name = os.path.basename(os.path.splitext(args.out)[0])
    bands = BANDS[args.input]
    last = history[-1]
    near_text = f"; {args.near:.0%} of them 3-10 frames from the match whatever they sound" if args.near else ""
    card = f"""# {name}

Siamese CNN branch (seed 000, Agrawal & Dixon) that embeds a short causal patch of
{args.input} frames; the Euclidean distance between two embeddings is the DTW local cost
(seed 000's "distance matrix" variant).

## Input and output
- input `{INPUT_NAME[args.input]}`: float32 `(batch, 1, {bands}, {CONTEXT})`: the last {CONTEXT} frames (the newest last) of the
  {DESCRIPTION[args.input]},
  exactly as `segno::{"nn::salience" if args.input == "salience" else "features"}` computes it: 22 050 Hz, frames every 512 samples (23.2 ms){"" if args.input == "salience" else ", 1024-sample Hamming window"}.
  Scaling (x {SCALE[args.input]}) is inside the model.
- output `embedding`: float32 `(batch, {EMBEDDING})`.

## Architecture and size
Four convolutions (5x3, 5x3, 3x3, 3x3 kernels; 8, 16, 32, 32 channels), ReLU and batch norm after each,
max-pooling after the first three, one dense layer to {EMBEDDING} values. Seed 000's Table I has the same
stack with 64-512 channels on a 128x128x3 patch (about 2 G multiply-adds); this one needs about 1.4 M,
so the follower embeds a live frame in well under a millisecond on one CPU core and a score in seconds,
and one training run fits in under an hour on 2 cores. The causal {CONTEXT}-frame patch (186 ms) replaces
seed 000's centred patch because a live follower cannot look ahead.{SALIENCE_NOTE if args.input == "salience" else ""}

## Training
- data: `segno dataset --cases ../shared/benchmark/train --every 2` (the benchmark's train split: ASAP
  performances of pieces that are in neither dev nor held-out; research, non-commercial licence of the
  benchmark). Reference: score MIDI on FluidR3's grand piano in a 0.8 s room; performance: performance MIDI
  on TimGM6mb (program 0 or 1) with +-30 cent detuning (seed 000's augmentation), random tone tilt,
  0.3-1.5 s reverb and 20-40 dB SNR noise. First 90 s of each performance.
- labels: each performance frame matches the reference frame of the score time it plays, read between
  note-level anchors (each score onset matched to the performed notes of its pitches within 150 ms of where
  the beat truth puts it; `segno::eval::anchors`), not the beat-level truth read as linear.
- pairs: balanced matching / non-matching (different sounding pitch classes, from the score{near_text}), contrastive
  loss (eq. 1), margin {args.margin}; Adam, one-cycle learning rate up to {args.lr}; {args.epochs} epochs of
  {args.steps_per_epoch} batches of {args.batch}; seed {args.seed}.
- split: {n_train} training / {n_val} validation performances, split by piece.
- command: `cargo xtask models` (or `python models/train/train.py --data target/dataset --input {args.input} --out {repo_relative(args.out)}`);
  {seconds / 60:.0f} min on {platform.machine()} with {args.threads} threads, {datetime.date.today()}.
  Exact arguments: `{" ".join(repo_relative(a) for a in sys.argv[1:])}`.

## Validation (held-out train pieces)
| measure | value |
|---|---|
| contrastive loss | {last["val_loss"]:.4f} |
| pair accuracy (distance < margin/2) | {last["val_pair_accuracy"]:.3f} |
| mean distance, matching / non-matching | {last["val_match_distance"]:.3f} / {last["val_nonmatch_distance"]:.3f} |
| nearest reference frame within 46 ms of the truth (search +-2 s) | {retrieval:.3f} |
| the same with the raw input frame (Euclidean) | {baseline:.3f} |

Per epoch: {json.dumps(history)}

Alignment accuracy on the benchmark (dev) is in BENCHMARKS.md.
"""
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
