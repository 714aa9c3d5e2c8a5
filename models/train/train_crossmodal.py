"""Trains seed 003's cross-modal snippet embedding on `segno dataset` output and exports its two
pathways to ONNX.

    python train_crossmodal.py --data ../../target/dataset --out ../crossmodal

A sample is about 2 s of a train piece's score (84 hops of its piano roll at the written tempo,
pooled to 42 frames) and the audio that plays the same music: the rendered, degraded performance
between the times the note-level anchors give for the window's ends (so a slow passage gives a
longer stretch of audio, resampled to the same 42 frames), or now and then the score's own
reference rendering (another piano). The audio window's length is jittered by up to 20 %, the
spacing of the tempo scales Segno describes a query at (`identify::TEMPO_SCALES`). Loss: seed 003's
pairwise ranking loss (cosine similarity, margin 0.7), the rest of the batch as contrastive
snippets, both ways. Validation on pieces held out of training (by piece), as for the other models:
two-way snippet retrieval among 512 pairs (seed 003's section 5.1). Writes
`<out>_audio.onnx`, `<out>_score.onnx`, a model card `<out>.md`, and parity vectors that
tests/model_parity.rs checks ONNX Runtime against.
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

from crossmodal import (AUDIO_BANDS, CHANNELS, CONTEXT_FRAMES, semitone_shifted, EMBEDDING_DIM, HOPS_PER_FRAME,
                        ROLL_PITCHES, SNIPPET_FRAMES, CrossModal, ranking_loss)
from features import snippet
from train import piece_of, repo_relative, split_by_piece

HOP_S = 512 / 22050
HOPS = SNIPPET_FRAMES * HOPS_PER_FRAME
HALF = HOPS // 2
JITTER = 0.18
REFERENCE_SHARE = 0.25


def load_cases(data):
    cases = []
    for case_id in sorted(os.listdir(data)):
        d = os.path.join(data, case_id)
        if not os.path.isfile(os.path.join(d, "ref_roll.npy")):
            continue
        roll = np.load(os.path.join(d, "ref_roll.npy"))
        anchors = np.load(os.path.join(d, "anchors.npy")).astype(np.float64)
        lo = int(np.ceil(anchors[0, 0] / HOP_S)) + HALF
        hi = min(int(anchors[-1, 0] / HOP_S) - HALF, len(roll) - HALF)
        if hi - lo < 100:
            continue
        cases.append({"id": case_id, "roll": roll, "anchors": anchors, "lo": lo, "hi": hi,
                      "ref": np.load(os.path.join(d, "ref_semitone.npy")),
                      "perf": np.load(os.path.join(d, "perf_semitone.npy"))})
    return cases


def resample(frames, start, length, snippet_frames=SNIPPET_FRAMES):
    return snippet(frames, start, length, snippet_frames, HOPS_PER_FRAME)


def sample(case, rng, reference_share=REFERENCE_SHARE, jitter=JITTER, context=1):
    """One (audio snippet, score snippet) pair of the same music; the audio `context` times as long
    as the music the score snippet holds, centred on it (2 with attention)."""
    r = int(rng.integers(case["lo"], case["hi"]))
    score = resample(case["roll"], r - HALF, HOPS)
    j = np.exp(rng.uniform(-jitter, jitter))
    if rng.uniform() < reference_share:
        frames, centre, length = case["ref"], r, j * HOPS
    else:
        a = case["anchors"]
        p0, p1 = (np.interp((r + d) * HOP_S, a[:, 0], a[:, 1]) / HOP_S for d in (-HALF, HALF))
        frames, centre, length = case["perf"], (p0 + p1) / 2, max(p1 - p0, 8.0) * j
    audio = resample(frames, centre - context * length / 2, context * length, context * SNIPPET_FRAMES)
    return audio, score


def batch(cases, weights, size, rng, **kw):
    chosen = rng.choice(len(cases), size, p=weights)
    audio, score = zip(*(sample(cases[c], rng, **kw) for c in chosen))
    return torch.from_numpy(np.stack(audio)), torch.from_numpy(np.stack(score))


def retrieval(model, pairs):
    """Two-way snippet retrieval (seed 003, section 5.1): the rank of each snippet's counterpart
    among all of the other modality, as R@1 and MRR, audio to score and score to audio.
    Also how often an audio snippet is nearer its score snippet than that snippet a semitone up and
    down (`key_r1`), and the mean of 1 - similarity / the nearer transposition's (`key_margin`):
    what a confidence against the piece in another key rests on."""
    model.eval()
    with torch.no_grad():
        a = torch.cat([model.audio(x) for x, _ in pairs])
        s = torch.cat([model.score(y) for _, y in pairs])
        moved = [torch.cat([model.score(semitone_shifted(y, torch.full((len(y),), k))) for _, y in pairs])
                 for k in (-1, 1)]
    sim = (a @ s.t()).numpy()
    out = {}
    for name, m in (("a2s", sim), ("s2a", sim.T)):
        rank = (m > m.diagonal()[:, None]).sum(axis=1) + 1
        out[f"{name}_r1"] = float((rank == 1).mean())
        out[f"{name}_mrr"] = float((1 / rank).mean())
    own = (a * s).sum(1)
    rival = torch.maximum(*((a * m).sum(1) for m in moved))
    out["key_r1"] = float((own > rival).float().mean())
    out["key_margin"] = float((1 - (1 - own) / (1 - rival).clamp(min=1e-6)).mean())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="path stem: writes <out>_audio.onnx, <out>_score.onnx, <out>.md")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--steps-per-epoch", type=int, default=200)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--transposed-negatives", action="store_true",
                    help="also rank each audio snippet above the score snippets a semitone away")
    ap.add_argument("--channels", type=lambda v: tuple(int(c) for c in v.split(",")), default=CHANNELS,
                    help="the four convolutions' channels, comma-separated")
    ap.add_argument("--attention", action="store_true",
                    help="seed 002's soft attention: the audio pathway weighs a context twice a snippet's length "
                         "(tried, not shipped: the card's last section)")
    args = ap.parse_args()
    context = CONTEXT_FRAMES // SNIPPET_FRAMES if args.attention else 1

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    cases = load_cases(args.data)
    train, val = split_by_piece(cases)
    if not train or not val:
        raise SystemExit(f"{args.data}: not enough cases ({len(cases)}); run `segno dataset` first")
    weights = np.array([c["hi"] - c["lo"] for c in train], dtype=float)
    weights /= weights.sum()
    print(f"{len(train)} training and {len(val)} validation performances "
          f"({len({piece_of(c['id']) for c in train})} / {len({piece_of(c['id']) for c in val})} pieces)")

    model = CrossModal(args.channels, args.attention)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-5)
    total = args.epochs * args.steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    val_rng = np.random.default_rng(1234)
    val_w = np.array([c["hi"] - c["lo"] for c in val], dtype=float)
    # Performance audio only, no jitter: what a recording's snippet at the right scale is.
    val_pairs = [batch(val, val_w / val_w.sum(), 64, val_rng, reference_share=0.0, jitter=0.0, context=context)
                 for _ in range(8)]

    history, best, best_state = [], -1.0, None
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for _ in range(args.steps_per_epoch):
            audio, score = batch(train, weights, args.batch, rng, context=context)
            moved = None
            if args.transposed_negatives:
                shifts = torch.from_numpy(rng.choice([-1, 1], size=len(score)))
                moved = model.score(semitone_shifted(score, shifts))
            loss = ranking_loss(model.audio(audio), model.score(score), moved=moved)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        hits = retrieval(model, val_pairs)
        history.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)), **hits,
                        "minutes": round((time.time() - start) / 60, 1)})
        print(json.dumps(history[-1]), flush=True)
        if hits["a2s_mrr"] > best:
            best, best_state = hits["a2s_mrr"], {k: v.clone() for k, v in model.state_dict().items()}

    # Seed 003 keeps the epoch before validation turns (its figure 10); so do we, by audio-to-score MRR.
    model.load_state_dict(best_state)
    model.eval()
    export(model, args, val, context)
    write_card(args, history, model, len(train), len(val), time.time() - start)


def export(model, args, val, context):
    pairs = [sample(val[0], np.random.default_rng(7), reference_share=0.0, context=context) for _ in range(2)]
    for name, path, bins, x in (("audio", model.audio, AUDIO_BANDS, [p[0] for p in pairs]),
                                ("score", model.score, ROLL_PITCHES, [p[1] for p in pairs])):
        out = f"{args.out}_{name}.onnx"
        frames = model.audio_frames if name == "audio" else SNIPPET_FRAMES
        torch.onnx.export(path, (torch.zeros(1, frames, bins),), out, input_names=[name],
                          output_names=["embedding"],
                          dynamic_axes={name: {0: "batch"}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
        x = np.stack(x).astype(np.float32)
        with torch.no_grad():
            y = path(torch.from_numpy(x)).numpy()
        np.save(f"{args.out}_{name}.parity-input.npy", x)
        np.save(f"{args.out}_{name}.parity-output.npy", y.astype(np.float32))


def write_card(args, history, model, n_train, n_val, seconds):
    params = sum(p.numel() for p in model.parameters())
    name = os.path.basename(args.out)
    best = max(history, key=lambda h: h["a2s_mrr"])
    card = f"""# {name}

Seed 003's cross-modal snippet embedding: two convolutional pathways map about 2 s of a recording
and the piano roll of the same 2 s of a score into one {EMBEDDING_DIM}-dimensional space, where a
recording's snippet lies near the score snippet it plays. `segno::identify::crossmodal` uses it
to describe pieces and recordings for identification (seed 002's use of seed 003).

## Input and output
- `{name}_audio.onnx`: input `audio`, float32 `(batch, {model.audio_frames}, {AUDIO_BANDS})`: {model.audio_frames} frames of Segno's
  log-compressed 88-band semitone spectrogram (`log10(1 + 1e4 * power)`, 22 050 Hz, 512-sample
  hops), each frame the mean of {HOPS_PER_FRAME} hops: {model.audio_frames * HOPS_PER_FRAME * HOP_S:.2f} s at the written tempo (a recording played
  s times as slowly is read over s times as many hops, by linear interpolation).
- `{name}_score.onnx`: input `score`, float32 `(batch, {SNIPPET_FRAMES}, {ROLL_PITCHES})`: the score's piano roll
  (the share of each hop during which each MIDI pitch sounds), pooled the same way.
- output `embedding`: float32 `(batch, {EMBEDDING_DIM})`, unit length; cosine similarity compares them.

## Architecture and size (against seed 003)
Seed 003 (after Dorfer et al. 2018) has a VGG-style convolutional pathway per modality (sheet image
or piano roll, and a 92-bin log-frequency spectrogram of 42 frames), dense layers to 32
dimensions, and the pairwise ranking loss with margin 0.7, Adam at 0.002 with weight decay 1e-5,
batch 64, best validation epoch kept. Ours keeps the pathways' form, the 42-frame snippets, the
32 dimensions, the loss and its margin, the optimiser and the batch, with four changes:
- the audio input is Segno's 88-band semitone spectrogram (one band per piano key), not a 92-bin
  one, so that one extractor serves the follower and the embedding;
- each pathway is four 3x3 convolutions ({", ".join(map(str, args.channels))} channels) with batch norm and
  three max-poolings, then one dense layer: {params / 1e6:.2f} M parameters for both,
  {model.audio.multiply_adds() / 1e6:.1f} M multiply-adds per audio snippet and
  {model.score.multiply_adds() / 1e6:.1f} M per score snippet, sized for a query's time on one core
  (a library is embedded once, a query every time);
- ReLU after each convolution instead of ELU: ONNX Runtime fuses a ReLU into its convolution,
  while ELU's exponential took half of the audio pathway's time on one core (62 against 31 ms
  for 300 snippets, this 2-core x86_64 machine);
- the loss runs both ways (each audio snippet against the batch's other score snippets and each score
  snippet against its other audio snippets), which seed 003's "Improvements" proposes.

## Training
- data: `segno dataset --cases ../shared/benchmark/train --every 2` (the benchmark's train split only;
  research, non-commercial licence of the benchmark): score MIDI and its reference rendering
  (FluidR3's grand), performance MIDI on TimGM6mb (program 0 or 1), +-30 cents, random tone,
  reverb and noise, and the note-level anchors between them.
- samples: 84 hops of the score's roll at a random place, and the performance audio between the
  anchors' times for the window's ends (a {REFERENCE_SHARE:.0%} share: the reference rendering instead), its length
  jittered by up to {JITTER * 100:.0f} %, the spacing of the tempo scales a query is described at.
- loss: the ranking loss both ways{", and each audio snippet against the batch's score snippets a semitone away (`--transposed-negatives`)" if getattr(args, "transposed_negatives", False) else ""}.
- Adam, one-cycle learning rate up to {args.lr}, weight decay 1e-5; {args.epochs} epochs of {args.steps_per_epoch} batches of
  {args.batch}; seed {args.seed}. {n_train} training / {n_val} validation performances, split by piece.
- command: `cargo xtask models` (or `python models/train/train_crossmodal.py --data target/dataset --out models/crossmodal`);
  {seconds / 60:.0f} min on {platform.machine()} with {args.threads} threads, {datetime.date.today()}.
  Exact arguments: `{" ".join(repo_relative(a) for a in sys.argv[1:])}`.

## Validation (held-out train pieces): two-way snippet retrieval among 512 pairs
Kept: epoch {best["epoch"]} of {len(history)}, the best audio-to-score MRR.

| direction | R@1 | MRR |
|---|---|---|
| audio to score | {best["a2s_r1"]:.3f} | {best["a2s_mrr"]:.3f} |
| score to audio | {best["s2a_r1"]:.3f} | {best["s2a_mrr"]:.3f} |

Its own score snippet against the same snippet a semitone up and down (what the confidence's
transposed rival rests on): the audio snippet nearer its own for {best.get("key_r1", float("nan")):.1%}; mean
1 - cost / the transposition's cost {best.get("key_margin", float("nan")):.3f}.

Per epoch: {json.dumps(history)}

Piece identification with it on dev is in BENCHMARKS.md ("Piece identification").

## Earlier versions (2026-12-04, same data, loss and schedule)
| channels | activation | multiply-adds per audio snippet | audio to score R@1 / MRR | a 30 s query embedded (five tempo scales, one core) |
|---|---|---|---|---|
| 16, 32, 64, 64 | ELU | 11.0 M | 0.930 / 0.952 | 116 ms |
| 8, 16, 32, 64 | ELU | 3.5 M | 0.920 / 0.949 | 57 ms |

This version's query time is in BENCHMARKS.md ("Piece identification").

## Seed 002's soft attention (tried 2026-12-04, not shipped)
`--attention`: the audio pathway reads 84 frames, twice the music of the score snippet and
centred on it (3.9 s at the written tempo; seed 002: 4 s, 84 frames), and an attention branch
(4, 8, 16, 16 channels, the same form, then a dense layer to one logit per frame) weighs the
frames by a softmax over time before the pathway embeds them (seed 002's section III-B, after
Balke et al. 2019). Seed 002 reads a context fixed in seconds, so that the attention copes with
the recording's tempo; Segno already reads a query at five tempo scales, so the context is
scaled with them and the attention has what is left: rubato within a window, and up to 18 %
between two scales. 0.59 M parameters, 8.8 M multiply-adds per audio snippet.

Trained as the shipped model (`--data target/dataset --out target/models/crossmodal_att
--attention`, 23 min on this 2-core x86_64 machine), kept at epoch 20: audio to score R@1 / MRR
0.914 / 0.944, score to audio 0.898 / 0.935, key sense 79.7 % (margin 0.200). Every difference
from the shipped model is within one standard error of 512 pairs. A 30 s query embedded at the
five tempo scales in 124 ms on one core, against 31 ms, which puts a query at 1000 pieces past
the 100 ms the identification issue allows. Identification with it on dev is in BENCHMARKS.md
("Seed 002's soft attention").
"""
    with open(args.out + ".md", "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
