"""The follower's frame features in NumPy: a second implementation of `src/features`, used to check
(tests/model_parity.rs) that Rust and Python mean the same thing by "semitone spectrogram" and "chroma".
Training itself reads the frames Rust wrote (`segno dataset`), so what the network learns on is exactly
what it sees at run time.

Conventions (see src/features/mod.rs): 22 050 Hz, 1024-sample Hamming window, hop 512; frame k is the
window that ends at sample k*512 (zeros before the signal).
"""

import numpy as np

SAMPLE_RATE = 22050
WINDOW = 1024
HOP = 512
LOWEST_PITCH = 21
BANDS = 88
GAMMA = 1e4
RELATIVE_GAMMA = 100.0
LOUDNESS_FLOOR = 1e-4
CHROMA_NORM_FLOOR = 1.0


def _filterbank():
    """(bins, lower band, weight of the lower band), as SemitoneFilterbank::new."""
    bins, lower, weight = [], [], []
    for b in range(1, WINDOW // 2 + 1):
        f = b * SAMPLE_RATE / WINDOW
        band = 69.0 + 12.0 * np.log2(f / 440.0) - LOWEST_PITCH
        lo = np.floor(band)
        if 0 <= lo < BANDS:
            bins.append(b)
            lower.append(int(lo))
            weight.append(np.float32(1.0 - (band - lo)))
    return np.array(bins), np.array(lower), np.array(weight, dtype=np.float32)


def frames(audio):
    """Semitone (frames x 88, log-compressed) and chroma (frames x 12) of mono float32 audio at 22 050 Hz."""
    x = np.concatenate([np.zeros(WINDOW, np.float32), np.asarray(audio, np.float32)])
    n_frames = len(audio) // HOP + 1
    i = np.arange(WINDOW, dtype=np.float32)
    window = (0.54 - 0.46 * np.cos(2 * np.float32(np.pi) * i / np.float32(WINDOW - 1))).astype(np.float32)
    gain = window.sum(dtype=np.float32) / np.float32(2.0)
    scale = np.float32(1.0) / (gain * gain)
    idx = np.arange(n_frames)[:, None] * HOP + np.arange(WINDOW)[None, :]
    spectrum = np.fft.rfft(x[idx] * window, axis=1)
    power = (np.abs(spectrum) ** 2).astype(np.float32) * scale
    bins, lower, weight = _filterbank()
    bands = np.zeros((n_frames, BANDS), np.float32)
    p = power[:, bins]
    np.add.at(bands.T, lower, (weight * p).T)
    upper = lower + 1
    keep = upper < BANDS
    np.add.at(bands.T, upper[keep], ((1 - weight[keep]) * p[:, keep]).T)
    peak = np.maximum(bands.max(axis=1, keepdims=True), LOUDNESS_FLOOR)
    rel = np.log10(1 + RELATIVE_GAMMA * bands / peak)
    chroma = np.zeros((n_frames, 12), np.float32)
    for k in range(BANDS):
        chroma[:, (k + LOWEST_PITCH) % 12] += rel[:, k]
    norm = np.maximum(np.sqrt((chroma ** 2).sum(axis=1, keepdims=True)), CHROMA_NORM_FLOOR)
    chroma = chroma / norm
    semitone = np.log10(1 + GAMMA * bands)
    return semitone.astype(np.float32), chroma.astype(np.float32)


def snippet(frames, start, length, snippet_frames=42, hops_per_frame=2):
    """Seed 003's snippet reader (`segno::identify::crossmodal::snippet`): `length` hops of `frames`
    from hop `start` (fractional), read by linear interpolation (silence outside the frames) at
    snippet_frames * hops_per_frame points and pooled in groups of hops_per_frame."""
    hops = snippet_frames * hops_per_frame
    n = len(frames)
    t = start + (np.arange(hops) + 0.5) * (length / hops) - 0.5
    i0 = np.floor(t).astype(np.int64)
    w = (t - i0)[:, None].astype(np.float32)
    silence = np.zeros((1, frames.shape[1]), np.float32)
    padded = np.concatenate([silence, frames.astype(np.float32), silence])
    get = lambda i: padded[np.clip(i, -1, n) + 1]
    x = (1 - w) * get(i0) + w * get(i0 + 1)
    return x.reshape(snippet_frames, hops_per_frame, -1).mean(axis=1)
