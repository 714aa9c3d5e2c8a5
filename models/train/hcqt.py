"""The harmonic constant-Q transform the deep chroma reads: the training code's definition.

Rust computes the same transform in `src/features/hcqt.rs`; `tests/model_parity.rs` checks the two
agree within 1e-4 on the vectors `train_deep_chroma.py` writes. See the Rust module's documentation
for the design: per harmonic h in HARMONICS, BINS bins a third of a semitone apart from h * F_MIN,
each the magnitude of a Hann-windowed complex sinusoid of Q cycles, computed on the signal halved
as often as the bin's frequency allows; ln(1 + 100 |X|), each frame scaled to unit length.
"""

import numpy as np

SAMPLE_RATE = 22050
HARMONICS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
BINS = 216
BINS_PER_SEMITONE = 3
F_MIN = 32.70319566257483
LOWEST_PITCH = 24
RATE_HZ = 25.0
HOP = int(SAMPLE_RATE / RATE_HZ)
Q = 1.0 / (2.0 ** (1.0 / 36.0) - 1.0)
GAMMA = 100.0
NORM_FLOOR = 1e-3
MAX_RELATIVE_FREQUENCY = 0.2
MAX_LEVEL = 8
TAPS = 31


def bin_frequency(h, b):
    return h * F_MIN * 2.0 ** ((b - 1.0) / 36.0)


def pitch_classes():
    """The pitch class of each bin of a harmonic's grid."""
    return (LOWEST_PITCH + np.arange(BINS) // BINS_PER_SEMITONE) % 12


def level_of(f):
    for d in range(MAX_LEVEL, -1, -1):
        if f <= MAX_RELATIVE_FREQUENCY * SAMPLE_RATE / 2 ** d:
            return d
    return 0


def kernel(f):
    level = level_of(f)
    rate = SAMPLE_RATE / 2 ** level
    n = max(int(np.floor(Q * rate / f + 0.5)), 1)
    j = np.arange(n, dtype=np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * (j + 0.5) / n)
    phase = -2 * np.pi * f * (j - (n - 1) / 2) / rate
    return level, window * np.exp(1j * phase) / window.sum()


def lowpass():
    half = TAPS // 2
    t = np.arange(TAPS, dtype=np.float64) - half
    sinc = np.where(t == 0, 0.5, np.sin(np.pi * t / 2) / (np.pi * np.where(t == 0, 1, t)))
    h = sinc * (0.5 + 0.5 * np.cos(np.pi * t / (half + 1)))
    return h / h.sum()


def halve(x, h):
    """Low-pass and keep every second sample: sample n is centred on sample 2n."""
    y = np.convolve(x, h)[TAPS // 2:TAPS // 2 + len(x)]
    return y[::2]


def hcqt(samples):
    """(frames, len(HARMONICS), BINS) float32, frame m centred on sample m * HOP."""
    x = np.asarray(samples, dtype=np.float64)
    n_frames = -(-len(x) // HOP)
    kernels = [kernel(bin_frequency(h, b)) for h in HARMONICS for b in range(BINS)]
    levels = [x]
    for _ in range(max(k[0] for k in kernels)):
        levels.append(halve(levels[-1], lowpass()))
    out = np.zeros((n_frames, len(kernels)))
    m = np.arange(n_frames)
    for level in sorted({k[0] for k in kernels}):
        idx = [i for i, k in enumerate(kernels) if k[0] == level]
        width = max(len(kernels[i][1]) for i in idx)
        # Every kernel of this level padded to one width, centred as it would be alone.
        bank = np.zeros((width, len(idx)), dtype=np.complex128)
        offset = width // 2
        for c, i in enumerate(idx):
            k = kernels[i][1]
            start = offset - len(k) // 2
            bank[start:start + len(k), c] = k
        scale = 2 ** level
        centres = (m * HOP + scale // 2) // scale
        sig = np.concatenate([np.zeros(width), levels[level], np.zeros(width)])
        rows = centres[:, None] - offset + np.arange(width)[None, :] + width
        out[:, idx] = np.abs(sig[rows] @ bank)
    out = np.log1p(GAMMA * out)
    norm = np.maximum(np.sqrt((out ** 2).sum(axis=1, keepdims=True)), NORM_FLOOR)
    return (out / norm).astype(np.float32).reshape(n_frames, len(HARMONICS), BINS)
