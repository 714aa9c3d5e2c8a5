"""The dual-stack localiser of seed 001, sized for a 2-core CPU.

Seed 001 (Table II): a reference stack (about 12 s of spectrogram) and a snippet stack (about 1.35 s
ending at the onset of interest), each of 3x3 convolutions with batch norm, ReLU and max-pooling,
concatenated, then dense layers with batch norm, ReLU and dropout, and a softmax over the reference
window's frames; trained on 2-hot targets. Over 10 M parameters.

Ours keeps the two convolutional stacks, the concatenation, the dense layers and the softmax over
the reference's frames, with three changes, each for the 2-core budget or for following:
- The dense layers after the concatenation are shared by every reference frame (1x1 convolutions):
  the reference stack keeps its time axis and gives one vector per frame, the snippet stack one vector,
  and the head scores [frame, snippet, frame * snippet] for each frame. Seed 001's flatten-then-dense
  learns a separate weight for every frame of the window; sharing them makes the network the same at
  every offset, works for any window length and needs about 0.2 M parameters instead of over 10 M.
- The reference stack sees time causally (each frame's vector describes the 1.4 s up to it, as the
  snippet ends now), with dilated convolutions along time after two 3x3 convolutions.
- Frames are pooled in pairs (46 ms) inside the network: the softmax is over 46 ms model frames.
"""

import torch
from torch import nn
from torch.nn import functional as F

BANDS = 88
# Segno frames (23.2 ms) per model frame.
POOL = 2
REFERENCE_FRAMES = 518  # 12.0 s
SNIPPET_FRAMES = 58  # 1.35 s
WIDTH = 64
# log10(1 + 1e4 * power) runs to about 4; as for scnn_semitone.
SCALE = 0.25


def conv_bn(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class CausalTime(nn.Module):
    """A 3-tap dilated convolution along time that looks only backwards, with batch norm and ReLU."""

    def __init__(self, c_in, c_out, dilation):
        super().__init__()
        self.pad = 2 * dilation
        self.conv = nn.Conv1d(c_in, c_out, 3, dilation=dilation)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(F.pad(x, (self.pad, 0)))))


class ReferenceStack(nn.Module):
    """(batch, 1, bands, time) -> (batch, WIDTH, time)."""

    def __init__(self):
        super().__init__()
        self.spectral = nn.Sequential(
            conv_bn(1, 8), nn.MaxPool2d((4, 1)),
            conv_bn(8, 16), nn.MaxPool2d((2, 1)),
        )
        self.temporal = nn.Sequential(
            CausalTime(16 * (BANDS // 8), WIDTH, 1),
            CausalTime(WIDTH, WIDTH, 2),
            CausalTime(WIDTH, WIDTH, 4),
            CausalTime(WIDTH, WIDTH, 8),
        )

    def forward(self, x):
        h = self.spectral(x)
        return self.temporal(h.flatten(1, 2))


class SnippetStack(nn.Module):
    """(batch, 1, bands, SNIPPET_FRAMES // POOL) -> (batch, WIDTH)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(1, 8), nn.MaxPool2d((4, 1)),
            conv_bn(8, 16), nn.MaxPool2d(2),
            conv_bn(16, 32), nn.MaxPool2d(2), nn.Dropout(0.15),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.net(torch.zeros(1, 1, BANDS, SNIPPET_FRAMES // POOL)).shape[1]
        self.dense = nn.Sequential(nn.Linear(flat, WIDTH), nn.BatchNorm1d(WIDTH), nn.ReLU(), nn.Dropout(0.3))

    def forward(self, x):
        return self.dense(self.net(x))


class DualStack(nn.Module):
    """reference (batch, frames, 88) and snippet (batch, SNIPPET_FRAMES, 88) Segno semitone frames in;
    a logit for each of the reference's frames // POOL model frames out: where in the reference the
    snippet's last frame is (softmax over them)."""

    def __init__(self):
        super().__init__()
        self.reference = ReferenceStack()
        self.snippet = SnippetStack()
        self.head = nn.Sequential(
            nn.Conv1d(3 * WIDTH, WIDTH, 1), nn.BatchNorm1d(WIDTH), nn.ReLU(), nn.Dropout(0.3),
            nn.Conv1d(WIDTH, WIDTH, 1), nn.BatchNorm1d(WIDTH), nn.ReLU(), nn.Dropout(0.3),
            nn.Conv1d(WIDTH, 1, 1),
        )

    @staticmethod
    def pooled(frames):
        """(batch, time, bands) -> (batch, 1, bands, time // POOL), scaled."""
        x = frames.transpose(1, 2) * SCALE
        return F.avg_pool1d(x, POOL).unsqueeze(1)

    def forward(self, reference, snippet):
        r = self.reference(self.pooled(reference))
        s = self.snippet(self.pooled(snippet)).unsqueeze(2).expand(-1, -1, r.shape[2])
        return self.head(torch.cat([r, s, r * s], dim=1)).squeeze(1)


class Exported(nn.Module):
    """What is exported: the softmax over the reference's model frames, and the logits it is taken
    of. Each logit depends only on the snippet and the 1.4 s of reference up to its frame, not on
    the window, so logits of different windows compare: a softmax over several windows' logits is
    the softmax of one window holding them all."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, reference, snippet):
        logits = self.model(reference, snippet)
        return F.softmax(logits, dim=1), logits
