#!/usr/bin/env python3
"""Writes the small files Segno's tests and fuzz targets start from, all our own, generated here
(run it again to rebuild them byte for byte):

- tiny.sf2: the smallest SoundFont: one looped 441 Hz sine sample (22 050 Hz), one instrument
  over the whole keyboard, one preset (bank 0, program 0);
- blip.wav: 0.09 s of a 441 Hz sine, 16-bit mono at 22 050 Hz;
- session.json: a plugin state holding the bundled example's performance MIDI as its score.
"""
import base64
import json
import math
import struct
import wave
from pathlib import Path

HERE = Path(__file__).parent


def chunk(tag, body):
    pad = b"\0" if len(body) % 2 else b""
    return tag + struct.pack("<I", len(body)) + body + pad


def lst(kind, *chunks):
    return chunk(b"LIST", kind + b"".join(chunks))


def name(text, size=20):
    return text.encode().ljust(size, b"\0")


RATE, LENGTH, LOOP = 22050, 2000, (1000, 2000)
sine = [round(12000 * math.sin(2 * math.pi * 441 * i / RATE)) for i in range(LENGTH)]
smpl = struct.pack(f"<{LENGTH + 46}h", *(sine + [0] * 46))

info = lst(b"INFO", chunk(b"ifil", struct.pack("<HH", 2, 1)), chunk(b"isng", b"EMU8000\0"),
           chunk(b"INAM", b"Segno tiny\0\0"))
sdta = lst(b"sdta", chunk(b"smpl", smpl))
phdr = (name("Sine") + struct.pack("<HHHIII", 0, 0, 0, 0, 0, 0)
        + name("EOP") + struct.pack("<HHHIII", 0, 0, 1, 0, 0, 0))
pbag = struct.pack("<HHHH", 0, 0, 1, 0)
pmod = b"\0" * 10
pgen = struct.pack("<HH", 41, 0) + struct.pack("<HH", 0, 0)
inst = name("Sine") + struct.pack("<H", 0) + name("EOI") + struct.pack("<H", 1)
ibag = struct.pack("<HHHH", 0, 0, 3, 0)
imod = b"\0" * 10
igen = (struct.pack("<HBB", 43, 0, 127) + struct.pack("<HH", 54, 1) + struct.pack("<HH", 53, 0)
        + struct.pack("<HH", 0, 0))
shdr = (name("sine") + struct.pack("<IIIIIBbHH", 0, LENGTH, *LOOP, RATE, 69, 0, 0, 1)
        + name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0))
pdta = lst(b"pdta", chunk(b"phdr", phdr), chunk(b"pbag", pbag), chunk(b"pmod", pmod),
           chunk(b"pgen", pgen), chunk(b"inst", inst), chunk(b"ibag", ibag),
           chunk(b"imod", imod), chunk(b"igen", igen), chunk(b"shdr", shdr))
body = b"sfbk" + info + sdta + pdta
(HERE / "tiny.sf2").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)

with wave.open(str(HERE / "blip.wav"), "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(struct.pack(f"<{LENGTH}h", *sine))

midi = (HERE / "../../assets/example/minuet-performance.mid").read_bytes()
session = {
    "format": "segno-session",
    "version": 1,
    "score": {"name": "minuet-performance.mid", "bytes": base64.b64encode(midi).decode()},
    "soundfont": None,
    "last_measure": "3",
    "analysis": {"similarity": "classical", "device": "cpu"},
}
(HERE / "session.json").write_text(json.dumps(session, indent=1) + "\n")
