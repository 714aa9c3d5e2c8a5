"""Trains the dual-stack localiser of seed 001 on `segno dataset` output and exports it to ONNX.

    python train_localiser.py --data ../../target/dataset --out ../localiser.onnx

A sample is a performance frame k and a 12 s window of the reference: the snippet is the 1.35 s of
the rendered, degraded performance ending at k (another piano, room and noise than the reference's,
as seed 001 auralises references and snippets with different instruments), the window is placed at
random around the reference frame k plays (from the note-level anchors of `segno dataset`), so the
true frame lies anywhere in it. Target: a soft 2-hot-like vector on the true model frame and its
neighbours (0.2, 0.6, 0.2; seed 001's 2-hot spreads the label over the frame and a neighbour);
cross-entropy against the softmax. Validation on pieces held out of training (by piece), as for the
Siamese models. Writes the model, a model card, and parity vectors that tests/model_parity.rs checks
ONNX Runtime against.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

from dual_stack import POOL, REFERENCE_FRAMES, SNIPPET_FRAMES, DualStack, Exported
from train import piece_of, repo_relative, split_by_piece

HOP_MS = 512 / 22050 * 1000
MODEL_FRAME_MS = POOL * HOP_MS
MODEL_FRAMES = REFERENCE_FRAMES // POOL
TARGET = np.array([0.2, 0.6, 0.2], dtype=np.float32)


def load_cases(data):
    cases = []
    for case_id in sorted(os.listdir(data)):
        d = os.path.join(data, case_id)
        if not os.path.isfile(os.path.join(d, "anchors.npy")):
            continue
        ref = np.load(os.path.join(d, "ref_semitone.npy"))
        perf = np.load(os.path.join(d, "perf_semitone.npy"))
        match = np.load(os.path.join(d, "match.npy"))
        k = np.nonzero((match >= 0) & (np.arange(len(match)) >= SNIPPET_FRAMES - 1))[0]
        if len(k) < 100:
            continue
        # Silence around the reference, so that a window may hang over either end of it.
        pad = np.zeros((REFERENCE_FRAMES, ref.shape[1]), dtype=np.float32)
        cases.append({"id": case_id, "ref": np.concatenate([pad, ref, pad]), "perf": perf,
                      "match": match, "valid": k})
    return cases


def sample(case, n, rng):
    """n (reference window, snippet, true model frame) triples from one case."""
    k = rng.choice(case["valid"], n)
    m = case["match"][k] + REFERENCE_FRAMES  # in the padded reference
    at = rng.integers(0, REFERENCE_FRAMES, n)  # where in the window the true frame is
    start = m - at
    ref = case["ref"][start[:, None] + np.arange(REFERENCE_FRAMES)[None, :]]
    snip = case["perf"][k[:, None] + np.arange(-SNIPPET_FRAMES + 1, 1)[None, :]]
    return ref, snip, at // POOL


def batch(cases, weights, size, rng, cases_per_batch=8):
    chosen = rng.choice(len(cases), cases_per_batch, p=weights)
    parts = [sample(cases[c], size // cases_per_batch, rng) for c in chosen]
    ref, snip, at = (np.concatenate(p) for p in zip(*parts))
    return torch.from_numpy(ref), torch.from_numpy(snip), torch.from_numpy(at)


def soft_targets(at):
    t = torch.zeros(len(at), MODEL_FRAMES + 2)
    for offset, w in enumerate(TARGET):
        t[torch.arange(len(at)), at + offset] = float(w)
    t = t[:, 1:-1]
    return t / t.sum(dim=1, keepdim=True)


def loss_of(logits, at):
    return -(soft_targets(at) * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def buckets(pred, at):
    """Seed 001's bucket hit rates: exact model frame, within one, within 250 ms."""
    err = np.abs(pred - at)
    return {"exact": float((err == 0).mean()), "within_1": float((err <= 1).mean()),
            "within_250ms": float((err * MODEL_FRAME_MS <= 250).mean())}


def evaluate(model, batches):
    model.eval()
    losses, preds, truth = [], [], []
    with torch.no_grad():
        for ref, snip, at in batches:
            logits = model(ref, snip)
            losses.append(loss_of(logits, at).item())
            preds.append(logits.argmax(dim=1).numpy())
            truth.append(at.numpy())
    return float(np.mean(losses)), buckets(np.concatenate(preds), np.concatenate(truth))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--steps-per-epoch", type=int, default=150)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    cases = load_cases(args.data)
    train, val = split_by_piece(cases)
    if not train or not val:
        raise SystemExit(f"{args.data}: not enough cases ({len(cases)}); run `segno dataset` first")
    weights = np.array([len(c["valid"]) for c in train], dtype=float)
    weights /= weights.sum()
    print(f"{len(train)} training and {len(val)} validation performances "
          f"({len({piece_of(c['id']) for c in train})} / {len({piece_of(c['id']) for c in val})} pieces)")

    model = DualStack()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    total = args.epochs * args.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    val_rng = np.random.default_rng(1234)
    val_batches = [batch(val, np.full(len(val), 1 / len(val)), 64, val_rng) for _ in range(16)]

    history = []
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for _ in range(args.steps_per_epoch):
            ref, snip, at = batch(train, weights, args.batch, rng)
            loss = loss_of(model(ref, snip), at)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        val_loss, hits = evaluate(model, val_batches)
        history.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "val_loss": val_loss,
                        **hits, "minutes": round((time.time() - start) / 60, 1)})
        print(json.dumps(history[-1]), flush=True)

    model.eval()
    export(model, args, val)
    write_card(args, history, params, len(train), len(val), time.time() - start)


def export(model, args, val):
    exported = Exported(model).eval()
    ref = torch.zeros(1, REFERENCE_FRAMES, 88)
    snip = torch.zeros(1, SNIPPET_FRAMES, 88)
    torch.onnx.export(exported, (ref, snip), args.out, input_names=["reference", "snippet"],
                      output_names=["probabilities", "logits"],
                      dynamic_axes={"reference": {0: "batch", 1: "frames"}, "snippet": {0: "batch"},
                                    "probabilities": {0: "batch", 1: "model_frames"},
                                    "logits": {0: "batch", 1: "model_frames"}},
                      opset_version=17, dynamo=False)
    ref, snip, _ = sample(val[0], 2, np.random.default_rng(7))
    with torch.no_grad():
        y, logits = (t.numpy() for t in exported(torch.from_numpy(ref), torch.from_numpy(snip)))
    stem = os.path.splitext(args.out)[0]
    np.save(stem + ".parity-reference.npy", ref.astype(np.float32))
    np.save(stem + ".parity-snippet.npy", snip.astype(np.float32))
    np.save(stem + ".parity-output.npy", y.astype(np.float32))
    np.save(stem + ".parity-logits.npy", logits.astype(np.float32))


def write_card(args, history, params, n_train, n_val, seconds):
    name = os.path.basename(os.path.splitext(args.out)[0])
    last = history[-1]
    card = f"""# {name}

The dual-stack localiser of seed 001: given about 12 s of the rendered score and the last 1.35 s of
live audio, where in those 12 s the live audio is now. `segno::locate` uses it to check and place
the candidates its global search proposes when the pianist restarts, skips or starts anywhere.

## Input and output
- input `reference`: float32 `(batch, frames, 88)`, frames of the score rendered as the reference
  ({REFERENCE_FRAMES} frames, 12.0 s, in training; any even number works);
- input `snippet`: float32 `(batch, {SNIPPET_FRAMES}, 88)`, the last {SNIPPET_FRAMES} live frames (1.35 s), the newest last.
- Both are Segno's log-compressed 88-band semitone spectrogram (A0..C8; `log10(1 + 1e4 * power)`), as
  `segno::features` computes it: 22 050 Hz, frames every 512 samples (23.2 ms), 1024-sample Hamming window.
  Scaling (x 0.25) and pooling of frame pairs are inside the model.
- output `probabilities`: float32 `(batch, frames / {POOL})`: a softmax over the reference's model frames
  ({MODEL_FRAME_MS:.1f} ms each): the probability that the snippet's last frame plays that frame;
- output `logits`: the same shape, what the softmax is taken of. A logit depends only on the snippet and
  the 1.4 s of reference up to its frame, not on the window, so logits of different windows compare:
  Segno's relocation weighs two places 30 s apart by a softmax over both windows' logits.

## Architecture and size (against seed 001)
Seed 001 (Table II) has two stacks of four 3x3 convolutions with batch norm, ReLU, max-pooling and
dropout, a dense layer on each, concatenation, two dense layers with batch norm, ReLU and dropout, and
a softmax over the reference's frames: over 10 M parameters, trained for 500 epochs. Ours keeps the
two convolutional stacks, the concatenation, the dense layers with batch norm, ReLU and dropout and
the softmax over the reference's frames, and changes four things for 2 CPU cores:
- the reference stack keeps its time axis: two 3x3 convolutions (8, 16 channels, pooling along
  frequency only), then four causal dilated convolutions along time (dilations 1, 2, 4, 8;
  {64} channels), so each model frame's vector describes the 1.4 s up to it (and 90 ms after), as the snippet ends now;
- the snippet stack is three 3x3 convolutions (8, 16, 32 channels) with pooling, then a dense layer;
- the dense layers after the concatenation are shared by all reference frames (1x1 convolutions on
  [frame, snippet, frame x snippet]): the same at every offset, any window length, and
  {params / 1e6:.2f} M parameters instead of over 10 M. One 12 s window costs about 30 M
  multiply-adds.
- frames are pooled in pairs, so the softmax is over {MODEL_FRAME_MS:.1f} ms model frames
  ({REFERENCE_FRAMES // POOL} per window).

## Training
- data: `segno dataset --cases ../shared/benchmark/train --every 2` (the benchmark's train split only;
  research, non-commercial licence of the benchmark). Reference: score MIDI on FluidR3's grand piano;
  snippet: performance MIDI on TimGM6mb (program 0 or 1), +-30 cents, random tone, reverb and noise.
- samples: a performance frame, the 1.35 s ending there, and a 12 s reference window placed at
  random so the true frame may be anywhere in it (silence beyond the score's ends); soft target
  {[round(float(t), 2) for t in TARGET]} on the true model frame and its neighbours, cross-entropy.
- Adam, one-cycle learning rate up to {args.lr}; {args.epochs} epochs of {args.steps_per_epoch} batches of {args.batch};
  seed {args.seed}. {n_train} training / {n_val} validation performances, split by piece.
- command: `cargo xtask models` (or `python models/train/train_localiser.py --data target/dataset --out {repo_relative(args.out)}`);
  {seconds / 60:.0f} min on {platform.machine()} with {args.threads} threads, {datetime.date.today()}.
  Exact arguments: `{" ".join(repo_relative(a) for a in sys.argv[1:])}`.

## Validation (held-out train pieces, seed 001's buckets)
| measure | value |
|---|---|
| cross-entropy | {last["val_loss"]:.3f} |
| exact model frame ({MODEL_FRAME_MS:.0f} ms) | {last["exact"]:.3f} |
| within one model frame | {last["within_1"]:.3f} |
| within 250 ms | {last["within_250ms"]:.3f} |

Per epoch: {json.dumps(history)}

The same buckets on dev snippets, through Segno's ONNX Runtime, are in BENCHMARKS.md
(`segno eval --localiser-buckets`).
"""
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
