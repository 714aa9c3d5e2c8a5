"""Trains seed 004's deep chroma on weakly aligned passages, and exports it to ONNX.

    python train_deep_chroma.py --data ../../target/melody_dataset --out ../deep_chroma.onnx

A sample is a passage of 4-12 consecutive notes of a train performance's top voice: its HCQT, from
a little before the first note's onset to a little after the last note's end, and the sequence of
the notes' pitch classes. Augmentation: the passage transposed by up to a minor third either way
(the HCQT shifted by three bins a semitone, the labels with it), as seed 004 does.

Two losses (`--loss`):
- `ce` (the default): frame-wise cross-entropy on labels stretched linearly over the passage by the
  notes' written lengths, no blank target: seed 004's Table 5 ablation. It is what ships, because it
  measured better here, and CTC fell further behind the longer it trained (BENCHMARKS.md, "Theme
  search", has the figures).
- `ctc`: seed 004's method. Only the passage's start and end are used (weak alignment); CTC learns
  where in it each note lies.

`--members N` (3 by default) trains N networks alike but for their seeds; the model exported is
the mean of their probabilities.

Validation on train pieces held out by piece. The learning rate is halved when the validation loss
has not improved for --patience evaluations, from the best model so far (seed 004's annealing);
each network's best model is kept. Writes the model, a model card, and parity vectors that
tests/model_parity.rs checks ONNX Runtime against.

`--checkpoint F` saves each network's whole training state beside F (F.0.pt, F.1.pt, ... for F.pt)
at every evaluation; `--resume` goes on from them (to a larger --steps, or with --steps at the
checkpoints' step to export what they hold); a network without a checkpoint starts afresh.
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

from deep_chroma import BLANK, INPUT_SCALE, WIDTHS, DeepChroma, Ensemble, parameters
from hcqt import BINS, BINS_PER_SEMITONE, RATE_HZ, hcqt
from train import piece_of, repo_relative, split_by_piece

NOTES = (4, 12)
# Seconds kept before the first onset and after the last note's end.
MARGIN_S = 0.1
MAX_PASSAGE_S = 6.0
MAX_SHIFT = 3


def load_cases(data):
    cases = []
    for case_id in sorted(os.listdir(data)):
        d = os.path.join(data, case_id)
        if not os.path.isfile(os.path.join(d, "melody.npy")):
            continue
        cached = os.path.join(d, "hcqt.npy")
        if not os.path.isfile(cached):
            # Written whole and then renamed: another training started beside this one reads a
            # complete file or none.
            partial = f"{cached}.{os.getpid()}.npy"
            np.save(partial, hcqt(np.load(os.path.join(d, "audio.npy"))).astype(np.float16))
            os.replace(partial, cached)
        cases.append({"id": case_id, "hcqt": np.load(cached), "melody": np.load(os.path.join(d, "melody.npy"))})
    return cases


def passage(case, rng):
    """(HCQT frames, pitch classes, per-frame stretched labels) of one random passage, or None."""
    mel = case["melody"]
    k = int(rng.integers(NOTES[0], NOTES[1] + 1))
    if len(mel) < k:
        return None
    i = int(rng.integers(0, len(mel) - k + 1))
    notes = mel[i:i + k]
    t0, t1 = notes[0, 0] - MARGIN_S, notes[-1, 1] + MARGIN_S
    if t0 < 0 or not 1.0 <= t1 - t0 <= MAX_PASSAGE_S or np.any(np.diff(notes[:, 0]) <= 0):
        return None
    a, b = int(t0 * RATE_HZ), int(np.ceil(t1 * RATE_HZ))
    x = case["hcqt"][a:b].astype(np.float32)
    if len(x) < b - a:
        return None
    pitches = notes[:, 2].astype(int)
    shift = int(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1))
    if shift:
        x = np.roll(x, shift * BINS_PER_SEMITONE, axis=2)
        if shift > 0:
            x[:, :, :shift * BINS_PER_SEMITONE] = 0
        else:
            x[:, :, BINS + shift * BINS_PER_SEMITONE:] = 0
    labels = (pitches + shift) % 12
    # CTC needs a frame for every label and a blank between repeated ones.
    if len(x) < len(labels) + int(np.sum(labels[1:] == labels[:-1])):
        return None
    written = np.cumsum(np.concatenate([[0.0], notes[:, 3]]))
    edges = np.round(written / written[-1] * len(x)).astype(int)
    stretched = np.repeat(labels, np.diff(edges))
    return x, labels, stretched


def batch(cases, size, rng):
    items = []
    while len(items) < size:
        p = passage(cases[int(rng.integers(len(cases)))], rng)
        if p is not None:
            items.append(p)
    frames = max(len(x) for x, _, _ in items)
    xs = np.zeros((size, frames, *items[0][0].shape[1:]), dtype=np.float32)
    stretched = np.full((size, frames), -100, dtype=np.int64)
    for j, (x, _, s) in enumerate(items):
        xs[j, :len(x)] = x
        stretched[j, :len(s)] = s
    return {
        "x": torch.from_numpy(xs),
        "lengths": torch.tensor([len(x) for x, _, _ in items]),
        "labels": torch.from_numpy(np.concatenate([l for _, l, _ in items])),
        "label_lengths": torch.tensor([len(l) for _, l, _ in items]),
        "stretched": torch.from_numpy(stretched),
    }


def loss_of(model, b, kind):
    logp = model.log_probs(b["x"])
    if kind == "ctc":
        return F.ctc_loss(logp.transpose(0, 1), b["labels"], b["lengths"], b["label_lengths"],
                          blank=BLANK, zero_infinity=True)
    return F.nll_loss(logp.reshape(-1, logp.shape[-1]), b["stretched"].reshape(-1), ignore_index=-100)


def evaluate(model, batches, kind):
    model.eval()
    with torch.no_grad():
        loss = float(np.mean([loss_of(model, b, kind).item() for b in batches]))
    model.train()
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--loss", choices=["ctc", "ce"], default="ce")
    ap.add_argument("--members", type=int, default=3,
                    help="networks trained alike with seeds --seed, --seed + 1, ...; the model is the mean of their probabilities")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", help="save each network's training state beside this path (F.0.pt, F.1.pt, ...) at every evaluation")
    ap.add_argument("--resume", action="store_true", help="go on from the --checkpoint files; a network without one starts afresh")
    args = ap.parse_args()
    if args.resume and not args.checkpoint:
        raise SystemExit("--resume needs --checkpoint")

    torch.set_num_threads(args.threads)
    start = time.time()
    cases = load_cases(args.data)
    train, val = split_by_piece(cases)
    if not train or not val:
        raise SystemExit(f"{args.data}: not enough cases ({len(cases)}); run `segno melody-dataset` first")
    print(f"{len(train)} training and {len(val)} validation performances "
          f"({len({piece_of(c['id']) for c in train})} / {len({piece_of(c['id']) for c in val})} pieces); "
          f"features in {time.time() - start:.0f} s", flush=True)
    val_rng = np.random.default_rng(1234)
    val_batches = [batch(val, 16, val_rng) for _ in range(8)]
    members = [train_member(args, k, train, val_batches) for k in range(args.members)]
    model = Ensemble([m for m, _ in members])
    model.eval()
    loss = evaluate(model, val_batches, args.loss)
    print(f"the {args.members} networks together: validation loss {loss:.4f}", flush=True)
    export(model, args, val)
    records = [r for _, r in members]
    # Members resumed from a checkpoint count the time they took to train, not to load.
    write_card(args, records, loss, parameters(model), len(train), len(val), 60 * sum(r["minutes"] for r in records))


def member_checkpoint(path, k):
    root, ext = os.path.splitext(path)
    return f"{root}.{k}{ext}"


def train_member(args, k, train, val_batches):
    """Trains the k-th network (seed args.seed + k): its best model by validation loss, and a
    record of its training for the card."""
    seed = args.seed + k
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    start = time.time()
    checkpoint = member_checkpoint(args.checkpoint, k) if args.checkpoint else None
    model = DeepChroma()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    best, best_state, stale, lr = float("inf"), None, 0, args.lr
    history, losses, done, earlier_s = [], [], 0, 0.0
    if args.resume and os.path.isfile(checkpoint):
        c = torch.load(checkpoint, weights_only=False)
        if c.get("loss", args.loss) != args.loss:
            # Both losses train the same network, so nothing else would notice the mix.
            raise SystemExit(f"--resume: {checkpoint} was trained with --loss {c['loss']}; "
                             f"pass --loss {c['loss']}, or start afresh without --resume")
        model.load_state_dict(c["model"])
        lr = c["lr"]
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        opt.load_state_dict(c["optimiser"])
        best, best_state, stale, history = c["best"], c["best_state"], c["stale"], c["history"]
        done, earlier_s = c["step"], c["seconds"]
        rng.bit_generator.state = c["rng"]
        torch.set_rng_state(c["torch_rng"])
        print(f"network {k}: resumed at batch {done} (best validation loss {best:.4f})", flush=True)
    start -= earlier_s
    for step in range(done + 1, args.steps + 1):
        loss = loss_of(model, batch(train, args.batch, rng), args.loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % args.eval_every:
            continue
        val_loss = evaluate(model, val_batches, args.loss)
        history.append({"step": step, "train_loss": round(float(np.mean(losses)), 4),
                        "val_loss": round(val_loss, 4), "lr": lr,
                        "minutes": round((time.time() - start) / 60, 1)})
        print(f"network {k}: {json.dumps(history[-1])}", flush=True)
        losses = []
        if val_loss < best:
            best, best_state, stale = val_loss, {name: v.clone() for name, v in model.state_dict().items()}, 0
        else:
            stale += 1
        if stale >= args.patience:
            # Seed 004's annealing: halve the rate and go on from the best model so far.
            lr /= 2
            model.load_state_dict(best_state)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            stale = 0
        if checkpoint:
            torch.save({"step": step, "loss": args.loss, "model": model.state_dict(), "optimiser": opt.state_dict(),
                        "lr": lr, "best": best, "best_state": best_state, "stale": stale,
                        "history": history, "seconds": time.time() - start,
                        "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()},
                       checkpoint)
    model.load_state_dict(best_state)
    return model, {"seed": seed, "best": best, "minutes": round((time.time() - start) / 60, 1), "history": history}


def export(model, args, val):
    example = torch.zeros(1, 50, 6, BINS)
    torch.onnx.export(model, (example,), args.out, input_names=["hcqt"], output_names=["probabilities"],
                      dynamic_axes={"hcqt": {0: "batch", 1: "frames"},
                                    "probabilities": {0: "batch", 1: "frames"}},
                      opset_version=17, dynamo=False)
    x = val[0]["hcqt"][:120].astype(np.float32)[None]
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    stem = os.path.splitext(args.out)[0]
    np.save(stem + ".parity-input.npy", x)
    np.save(stem + ".parity-output.npy", y.astype(np.float32))


def write_card(args, members, loss_together, params, n_train, n_val, seconds):
    name = os.path.basename(os.path.splitext(args.out)[0])
    loss = {"ctc": "the CTC loss (blank last)", "ce": "frame-wise cross-entropy on linearly stretched labels (seed 004's Table 5 ablation; no blank target), chosen over seed 004's CTC loss because it found themes better here (BENCHMARKS.md, \"Theme search\")"}[args.loss]
    together = "" if len(members) == 1 else f"""{len(members)} networks of seed 004's Table 2, trained alike but for their seeds; the model's
probabilities are the mean of theirs (seed 004 has one network: BENCHMARKS.md, "Theme search", has
what the mean gains). """
    card = f"""# {name}

Seed 004's deep chroma: from the harmonic CQT of a recording, per frame a probability over the twelve
pitch classes and a blank, trained so that a melody's notes stand out of their accompaniment.
`segno themes --chroma deep` matches themes against it (the blank dropped, each frame scaled to unit
length, as seed 004 does).

## Input and output
- input `hcqt`: float32 `(batch, frames, 6, 216)`, `segno::features::hcqt` (= `models/train/hcqt.py`):
  harmonics 0.5, 1, 2, 3, 4, 5 of 216 bins a third of a semitone apart from C1 (32.7 Hz; bin 3k+1 is
  MIDI 24+k), 25 frames a second at 22 050 Hz, ln(1 + 100 |X|), each frame of unit length.
- output `probabilities`: float32 `(batch, frames, 13)`: the twelve pitch classes (C first) and the blank.

## Architecture and size (against seed 004)
{together}Each network is Table 2 unchanged: convolutions of {WIDTHS[0]}, {WIDTHS[1]}, {WIDTHS[2]}, {WIDTHS[3]} channels (3x3) and {WIDTHS[4]}
(3 frames x 42 bins), leaky ReLU, no batch normalisation, a 1x1 convolution to a sigmoid salience over
the 216 bins; the twelve classes summed from it (fixed pooling), a dense layer for the blank, softmax.
{params // len(members)} parameters a network, {params} in all (the paper: 72 970). One addition: the input is multiplied by {INPUT_SCALE:.0f} inside the
model, so that a frame has unit RMS rather than unit length; unscaled, a value is about 1/36, the first
layers' outputs are mostly their biases, and the validation loss fell only 6 % in 250 batches.
What 2 CPU cores changed is the training, not the network:
seed 004 trains on 5 h of 2048 themes in batches of 8 until ten halvings of the learning rate have
stopped improving; here {args.steps} batches of {args.batch} ({args.steps * args.batch} passages) a network, {seconds / 60:.0f} min in all.

## Training
- data: `segno melody-dataset --cases ../shared/benchmark/train --every 2` (the benchmark's train split
  only, and none of its pieces by a composer the theme benchmark tests on: seed 004 splits by composer).
  Each performance is rendered on FluidR3's or TimGM6mb's grand (program 0 or 1; never csound's, which
  the benchmark's recordings use), +-30 cents, random tone, reverb and noise.
- samples: passages of {NOTES[0]}-{NOTES[1]} consecutive notes of the score's top voice, 1-{MAX_PASSAGE_S:.0f} s, from
  {MARGIN_S} s before the first onset to {MARGIN_S} s after the last note's end; target: the notes' pitch classes,
  transposed with the HCQT by up to {MAX_SHIFT} semitones either way.
- loss: {loss}.
- Adam from a learning rate of {args.lr}, halved from the best model when the validation loss has not
  improved for {args.patience} evaluations (every {args.eval_every} batches); seeds {", ".join(str(m["seed"]) for m in members)}. {n_train} training /
  {n_val} validation performances, split by piece; best validation losses {", ".join(f'{m["best"]:.4f}' for m in members)};
  the mean of the networks' probabilities, {loss_together:.4f}.
- command: `cargo xtask models deep_chroma` (or `python models/train/train_deep_chroma.py --data target/melody_dataset --out {repo_relative(args.out)}`);
  {seconds / 60:.0f} min on {platform.machine()} with {args.threads} threads, {datetime.date.today()}.
  Exact arguments: `{" ".join(repo_relative(a) for a in sys.argv[1:])}`.

Validation, each network: {json.dumps(members)}

Retrieval figures (themes of held-out composers, dev performances on another piano) are in
BENCHMARKS.md, "Theme search" (`segno eval --themes`).
"""
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
