"""Seed 004's deep chroma network (its Table 2): five convolutions over the HCQT with leaky ReLU and
no batch normalisation, a sigmoid salience over the 216 bins, then per frame the twelve pitch
classes summed from the salience (fixed pooling) and a dense layer for the blank, softmax over 13.

WIDTHS scales the channel counts; (64, 32, 32, 32, 8) is the paper's 72 970 parameters. An
Ensemble averages several such networks.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hcqt import BINS, HARMONICS, pitch_classes

WIDTHS = (64, 32, 32, 32, 8)
# Each HCQT frame has unit length over its 1296 values, so a value is about 1/36: scaled up by
# 36 here, a frame has unit RMS instead, and the first convolutions start with activations that
# carry the input rather than their biases (unscaled, the validation loss fell 6 % in 250 batches).
INPUT_SCALE = float(np.sqrt(BINS * len(HARMONICS)))
# The fifth convolution spans 42 bins (14 semitones) of frequency and 3 frames of time.
WIDE_BINS = 42
BLANK = 12


class DeepChroma(nn.Module):
    def __init__(self, widths=WIDTHS):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.convs = nn.ModuleList([
            nn.Conv2d(len(HARMONICS), c1, 3, padding=1),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.Conv2d(c3, c4, 3, padding=1),
        ])
        self.wide = nn.Conv2d(c4, c5, (3, WIDE_BINS))
        self.salience = nn.Conv2d(c5, 1, 1)
        self.blank = nn.Linear(BINS, 1)
        pool = np.zeros((BINS, 12), dtype=np.float32)
        pool[np.arange(BINS), pitch_classes()] = 1.0
        self.register_buffer("pool", torch.from_numpy(pool))

    def log_probs(self, hcqt):
        """hcqt: (batch, frames, harmonics, bins) -> (batch, frames, 13) log-probabilities."""
        x = INPUT_SCALE * hcqt.permute(0, 2, 1, 3)  # (batch, harmonics, frames, bins)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.01)
        # 'same' padding for an even kernel: 20 bins below, 21 above; a frame either side.
        x = F.leaky_relu(self.wide(F.pad(x, (WIDE_BINS // 2 - 1, WIDE_BINS // 2, 1, 1))), 0.01)
        s = torch.sigmoid(self.salience(x))[:, 0]  # (batch, frames, bins)
        logits = torch.cat([s @ self.pool, self.blank(s)], dim=-1)
        return F.log_softmax(logits, dim=-1)

    def forward(self, hcqt):
        return self.log_probs(hcqt).exp()


class Ensemble(nn.Module):
    """Several DeepChroma networks trained alike but for their seeds, and the mean of their
    probabilities: each is off in its own places, which the mean evens out (one network's
    retraining moves retrieval by about a point of MRR)."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def log_probs(self, hcqt):
        logps = torch.stack([m.log_probs(hcqt) for m in self.members])
        return torch.logsumexp(logps, dim=0) - math.log(len(self.members))

    def forward(self, hcqt):
        return self.log_probs(hcqt).exp()


def parameters(model):
    return sum(p.numel() for p in model.parameters())
