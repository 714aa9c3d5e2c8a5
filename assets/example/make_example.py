#!/usr/bin/env python3
"""Writes Segno's bundled example: a Minuet in G (BWV Anh. 114, attributed to Christian Petzold,
c. 1725; public domain) engraved by us as MusicXML with its repeat, and a "performance" of it as a
MIDI file with an expressive tempo curve, plus the exact truth table that curve implies.

Run from this folder: python3 make_example.py  (standard library only)
"""
import math
import struct

TEMPO_QPM = 120.0
# (pitch name, duration in eighths) per measure; right hand
RH = [
    [("D5", 2), ("G4", 1), ("A4", 1), ("B4", 1), ("C5", 1)],
    [("D5", 2), ("G4", 2), ("G4", 2)],
    [("E5", 2), ("C5", 1), ("D5", 1), ("E5", 1), ("F#5", 1)],
    [("G5", 2), ("G4", 2), ("G4", 2)],
    [("C5", 2), ("D5", 1), ("C5", 1), ("B4", 1), ("A4", 1)],
    [("B4", 2), ("C5", 1), ("B4", 1), ("A4", 1), ("G4", 1)],
    [("F#4", 2), ("G4", 1), ("A4", 1), ("B4", 1), ("G4", 1)],
    [("A4", 6)],
    [("D5", 2), ("G4", 1), ("A4", 1), ("B4", 1), ("C5", 1)],
    [("D5", 2), ("G4", 2), ("G4", 2)],
    [("E5", 2), ("C5", 1), ("D5", 1), ("E5", 1), ("F#5", 1)],
    [("G5", 2), ("G4", 2), ("G4", 2)],
    [("C5", 2), ("D5", 1), ("C5", 1), ("B4", 1), ("A4", 1)],
    [("B4", 2), ("C5", 1), ("B4", 1), ("A4", 1), ("G4", 1)],
    [("A4", 2), ("B4", 1), ("A4", 1), ("G4", 1), ("F#4", 1)],
    [("G4", 6)],
]
# left hand, a simple bass line of our own
LH = [
    [("G3", 4), ("A3", 2)], [("B3", 6)], [("C4", 6)], [("B3", 6)],
    [("A3", 6)], [("G3", 6)], [("D4", 2), ("B3", 2), ("G3", 2)], [("D4", 2), ("D3", 2), ("C4", 2)],
    [("B3", 4), ("A3", 2)], [("B3", 6)], [("C4", 6)], [("B3", 6)],
    [("A3", 6)], [("G3", 6)], [("D4", 2), ("D3", 2)  , ("D3", 2)], [("G3", 4), ("G2", 2)],
]
STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_pitch(name):
    step, alter, octave = name[0], (1 if "#" in name else 0), int(name[-1])
    return (octave + 1) * 12 + STEPS[step] + alter


def musicxml():
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">',
           '<score-partwise version="4.0">',
           '  <work><work-title>Minuet in G (BWV Anh. 114)</work-title></work>',
           '  <identification><creator type="composer">attr. Christian Petzold</creator>'
           '<rights>Public domain. Engraving: Segno project, MIT OR Apache-2.0</rights></identification>',
           '  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>',
           '  <part id="P1">']
    for m in range(16):
        out.append(f'    <measure number="{m + 1}">')
        if m == 8:
            out.append('      <barline location="left"><bar-style>heavy-light</bar-style><repeat direction="forward"/></barline>')
        if m == 0:
            out.append('      <attributes><divisions>2</divisions><key><fifths>1</fifths></key>'
                       '<time><beats>3</beats><beat-type>4</beat-type></time><staves>2</staves>'
                       '<clef number="1"><sign>G</sign><line>2</line></clef><clef number="2"><sign>F</sign><line>4</line></clef></attributes>')
            out.append(f'      <direction placement="above"><direction-type><dynamics><mf/></dynamics></direction-type><sound tempo="{TEMPO_QPM:g}"/></direction>')
        for staff, voice in ((1, RH[m]), (2, LH[m])):
            for name, eighths in voice:
                step, alter, octave = name[0], ("<alter>1</alter>" if "#" in name else ""), name[-1]
                kind = {1: "eighth", 2: "quarter", 4: "half", 6: "half"}[eighths]
                dot = "<dot/>" if eighths == 6 else ""
                out.append(f'      <note><pitch><step>{step}</step>{alter}<octave>{octave}</octave></pitch>'
                           f'<duration>{eighths}</duration><voice>{staff}</voice><type>{kind}</type>{dot}<staff>{staff}</staff></note>')
            if staff == 1:
                out.append('      <backup><duration>6</duration></backup>')
        if m == 7:
            out.append('      <barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/></barline>')
        if m == 15:
            out.append('      <barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/></barline>')
        out.append('    </measure>')
    out += ['  </part>', '</score-partwise>', '']
    return "\n".join(out)


def played_measures():
    return list(range(8)) * 2 + list(range(8, 16)) * 2


def tempo_factor(beat):
    """Performed tempo relative to the score: a slow start, a push in the middle, a ritardando."""
    total = 32 * 3
    x = beat / total
    return 0.85 + 0.3 * math.sin(math.pi * x) - 0.25 * max(0.0, x - 0.85) / 0.15


def perf_time(beat, step=1 / 64):
    """Seconds of performance at score beat `beat` (integral of the tempo curve)."""
    t, b = 0.0, 0.0
    while b < beat - 1e-12:
        db = min(step, beat - b)
        t += db * 60.0 / (TEMPO_QPM * tempo_factor(b + db / 2))
        b += db
    return t


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def performance():
    notes, onsets = [], set()
    for k, m in enumerate(played_measures()):
        start = k * 3.0
        for voice, vel in ((RH[m], 72), (LH[m], 58)):
            b = start
            for name, eighths in voice:
                dur = eighths / 2.0
                notes.append((b, b + dur * 0.95, midi_pitch(name), vel + (6 if b == start else 0)))
                onsets.add(round(b, 6))
                b += dur
    lead_in = 0.5  # the pianist starts half a second into the recording
    tpq = 480
    events = []
    for on, off, pitch, vel in notes:
        events.append((lead_in + perf_time(on), 0x90, pitch, vel))
        events.append((lead_in + perf_time(off), 0x80, pitch, 0))
    events.sort(key=lambda e: (e[0], e[1] == 0x90))
    # 120 qpm in the file: one tick = 1/960 s
    track, last = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20"), 0
    for t, status, pitch, vel in events:
        tick = round(t * 960)
        track += vlq(tick - last) + bytes([status, pitch, vel])
        last = tick
    track += b"\x00\xff\x2f\x00"
    midi = b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
    spb = 60.0 / TEMPO_QPM
    truth = ["score_time_s,perf_time_s,kind"]
    for b in sorted(onsets):
        truth.append(f"{b * spb:.6f},{lead_in + perf_time(b):.6f},note")
    return midi, "\n".join(truth) + "\n"


if __name__ == "__main__":
    with open("minuet.musicxml", "w") as f:
        f.write(musicxml())
    midi, truth = performance()
    with open("minuet-performance.mid", "wb") as f:
        f.write(midi)
    with open("minuet-performance.truth.csv", "w") as f:
        f.write(truth)
