"""Seed 003's cross-modal snippet embedding (Dorfer et al.'s two pathways), sized for a 2-core CPU.

Two convolutional pathways map an audio snippet (42 frames of Segno's 88-band semitone
spectrogram, each frame two 23.2 ms hops pooled) and a score snippet (42 frames of the score's
128-pitch piano roll over the same music) into one 32-dimensional space, unit length, where a
recording's snippet lies near the score snippet it plays (cosine similarity).

Each pathway: four 3x3 convolutions (8, 16, 32, 64 channels) with batch norm and ReLU, max-pooling
by 2 after the first three, then a dense layer on the flattened map to 32 dimensions.

With `attention` (seed 002's section III-B, after Balke et al. 2019), the audio pathway reads a
context twice as long (84 frames) and a small attention branch weighs its frames (a softmax over
time) before the pathway embeds it: the network decides which part of the context plays the
score snippet. Tried and not shipped (models/crossmodal.md).
"""

import torch
from torch import nn
from torch.nn import functional as F

SNIPPET_FRAMES = 42
HOPS_PER_FRAME = 2
AUDIO_BANDS = 88
ROLL_PITCHES = 128
EMBEDDING_DIM = 32
# log10(1 + 1e4 * power) runs to about 4; as for the other models.
AUDIO_SCALE = 0.25
# The first sizes (16, 32, 64, 64) embedded a 30 s query in 116 ms on one core; these take about a
# third of the multiply-adds (models/crossmodal.md).
CHANNELS = (8, 16, 32, 64)
# The audio context with attention: twice a snippet, seed 002's 4 s (84 frames).
CONTEXT_FRAMES = 2 * SNIPPET_FRAMES
# The attention branch's convolutions: it only has to say where the music is, so it is a quarter of
# a pathway's width (its cost adds to every query's).
ATTENTION_CHANNELS = (4, 8, 16, 16)


def conv_stack(channels):
    """3x3 convolutions with batch norm and ReLU, max-pooling by 2 after all but the last."""
    layers, c_in = [], 1
    for k, c in enumerate(channels):
        layers.append(conv_bn(c_in, c))
        if k < len(channels) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    return nn.Sequential(*layers)


def stack_multiply_adds(channels, t, f):
    """Multiply-adds of `conv_stack(channels)` on a (t, f) map, and its output's flattened size."""
    total, c_in = 0, 1
    for k, c in enumerate(channels):
        total += t * f * c * c_in * 9
        if k < len(channels) - 1:
            t, f = t // 2, f // 2
        c_in = c
    return total, channels[-1] * t * f


def conv_bn(c_in, c_out):
    # ReLU, not seed 003's ELU: ONNX Runtime fuses it into the convolution, where ELU's exponential
    # took half of a query's embedding time on one core (models/crossmodal.md).
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class Pathway(nn.Module):
    """(batch, frames, bins) -> (batch, 32), unit length."""

    def __init__(self, bins, scale, channels=CHANNELS, frames=SNIPPET_FRAMES):
        super().__init__()
        self.scale = scale
        self.convs = conv_stack(channels)
        self.shape = (frames, bins)
        self.channels = channels
        self.dense = nn.Linear(stack_multiply_adds(channels, frames, bins)[1], EMBEDDING_DIM)

    def multiply_adds(self):
        """Per snippet: the convolutions at their maps' sizes, and the dense layer."""
        return stack_multiply_adds(self.channels, *self.shape)[0] + self.dense.in_features * EMBEDDING_DIM

    def forward(self, x):
        h = self.convs(x.unsqueeze(1) * self.scale)
        return F.normalize(self.dense(h.flatten(1)), dim=1)


class AttentivePathway(nn.Module):
    """Seed 002's audio pathway with soft attention: (batch, 84, 88) -> (batch, 32). A branch of
    its own reads the context and gives each frame a weight (softmax over time, times the frames,
    so that even weights leave the input as it was); the pathway embeds the weighted context."""

    def __init__(self, channels=CHANNELS, attention_channels=ATTENTION_CHANNELS, frames=CONTEXT_FRAMES):
        super().__init__()
        self.pathway = Pathway(AUDIO_BANDS, AUDIO_SCALE, channels, frames)
        self.attention = conv_stack(attention_channels)
        self.attention_channels = attention_channels
        self.weights = nn.Linear(stack_multiply_adds(attention_channels, frames, AUDIO_BANDS)[1], frames)
        self.frames = frames

    def multiply_adds(self):
        convs = stack_multiply_adds(self.attention_channels, self.frames, AUDIO_BANDS)[0]
        return self.pathway.multiply_adds() + convs + self.weights.in_features * self.frames

    def attend(self, x):
        """Each frame's weight, (batch, frames), summing to 1."""
        h = self.attention(x.unsqueeze(1) * AUDIO_SCALE)
        return torch.softmax(self.weights(h.flatten(1)), dim=1)

    def forward(self, x):
        return self.pathway(x * (self.attend(x) * self.frames).unsqueeze(2))


class CrossModal(nn.Module):
    def __init__(self, channels=CHANNELS, attention=False):
        super().__init__()
        self.audio = AttentivePathway(channels) if attention else Pathway(AUDIO_BANDS, AUDIO_SCALE, channels)
        self.audio_frames = CONTEXT_FRAMES if attention else SNIPPET_FRAMES
        self.score = Pathway(ROLL_PITCHES, 1.0, channels)


def semitone_shifted(roll, shifts):
    """Each piano roll of the batch (batch, frames, pitches) moved `shifts[i]` semitones (±1),
    silence where notes leave the range."""
    up = torch.zeros_like(roll)
    up[..., 1:] = roll[..., :-1]
    down = torch.zeros_like(roll)
    down[..., :-1] = roll[..., 1:]
    return torch.where((shifts > 0)[:, None, None], up, down)


def ranking_loss(a, s, margin=0.7, moved=None):
    """Seed 003's pairwise ranking loss on cosine similarity, both ways: each audio snippet against
    the other score snippets of the batch, and each score snippet against the other audio ones."""
    sim = a @ s.t()
    pos = sim.diag()
    off = ~torch.eye(len(a), dtype=torch.bool)
    by_audio = F.relu(margin - pos[:, None] + sim)[off]
    by_score = F.relu(margin - pos[None, :] + sim)[off]
    loss = by_audio.sum() + by_score.sum()
    if moved is not None:
        # Each audio snippet also against the batch's score snippets a semitone away, its own
        # among them: the same music in another key is not a match.
        loss = loss + F.relu(margin - pos[:, None] + a @ moved.t()).sum()
    return loss / len(a)
