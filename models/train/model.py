"""The Siamese CNN branch (seed 000, Table I), sized for a 2-core CPU.

Table I: 4 convolutions (64, 128, 256, 512 kernels; 5x5, 5x5, 3x3, 3x3), 2x2 max-pooling after the
first three, ReLU + batch norm, a fully connected layer, on a 128x128x3 patch. Ours keeps the shape of
that stack (4 convolutions, 5/5/3/3 kernels, pooling after the first three, ReLU + batch norm, one
dense layer) with 8/16/32/32 kernels on a causal patch of the last 8 frames (186 ms; the follower
cannot look ahead) of one input representation, and a 32-d embedding. About 1.4 M multiply-adds per
frame instead of about 2 G: what lets a follower embed every live frame in well under a millisecond
and a whole score in seconds. The cost is capacity; MODEL cards report what it reaches.
"""

import torch
from torch import nn

CONTEXT = 8
EMBEDDING = 32
CHANNELS = (8, 16, 32, 32)


class Branch(nn.Module):
    """One twin: a (batch, 1, bands, CONTEXT) patch in, an EMBEDDING-d vector out."""

    def __init__(self, bands):
        super().__init__()
        c1, c2, c3, c4 = CHANNELS
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, (5, 3), padding=(2, 1)), nn.ReLU(), nn.BatchNorm2d(c1),
            nn.MaxPool2d((2, 1), ceil_mode=True),
            nn.Conv2d(c1, c2, (5, 3), padding=(2, 1)), nn.ReLU(), nn.BatchNorm2d(c2),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(c3),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(c4),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.net(torch.zeros(1, 1, bands, CONTEXT)).shape[1]
        self.dense = nn.Linear(flat, EMBEDDING)

    def forward(self, x):
        return self.dense(self.net(x))


def contrastive_loss(a, b, y, margin):
    """Seed 000 eq. 1: y = 0 for matching pairs, 1 for non-matching; D the Euclidean distance (eq. 2)."""
    d = torch.sqrt(((a - b) ** 2).sum(dim=1) + 1e-9)
    return ((1 - y) * 0.5 * d ** 2 + y * 0.5 * torch.clamp(margin - d, min=0) ** 2).mean(), d
