"""Loads Segno's VST3 bundle in a third-party host (Spotify's pedalboard, from PyPI) and checks that
audio passes through bit for bit at several sample rates and block sizes, and that loading,
processing, unloading and reloading never crash.

usage: python pedalboard_vst3.py path/to/Segno.vst3 performance.wav
"""

import gc
import sys
import wave

import numpy as np
import pedalboard

RATES = [44100, 48000, 96000]
BLOCKS = [64, 512, 4096]


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2, "expects 16-bit PCM"
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return data.reshape(-1, w.getnchannels()).T.copy(), w.getframerate()


def main():
    bundle, wav = sys.argv[1], sys.argv[2]
    audio, _ = read_wav(wav)
    # Stereo, with different channels so a swap or a downmix leaking into the output would show.
    stereo = np.stack([audio[0], audio[0][::-1].copy()]).astype(np.float32)
    checked = 0
    for round_ in range(2):  # load, use, unload, and load again
        plugin = pedalboard.load_plugin(bundle)
        assert plugin.name == "Segno", plugin.name
        for rate in RATES:
            for block in BLOCKS:
                out = plugin.process(stereo, sample_rate=rate, buffer_size=block, reset=True)
                assert out.shape == stereo.shape, (out.shape, stereo.shape)
                if not np.array_equal(out, stereo):
                    diff = np.abs(out - stereo).max()
                    sys.exit(f"FAIL: output differs from input at {rate} Hz, block {block} (max diff {diff})")
                checked += 1
        # Mono too.
        mono = stereo[:1].copy()
        out = plugin.process(mono, sample_rate=48000, buffer_size=256, reset=True)
        assert np.array_equal(out[: mono.shape[0]], mono), "mono pass-through differs"
        del plugin
        gc.collect()
    print(f"pedalboard {pedalboard.__version__}: VST3 loaded twice, {checked} rate/block runs bit-exact, mono bit-exact")


if __name__ == "__main__":
    main()
