#!/usr/bin/env python3
"""Writes the small score library Segno bundles for its theme search and piece identification
examples: two well-known public-domain melodies, each with a simple left hand of our own, engraved
by us as MusicXML. The third piece of the library, minuet.musicxml, is a link to the minuet in
../example/.

- "Ode to Joy": the theme of the finale of Beethoven's Ninth Symphony (1824), public domain.
- "Ah! vous dirai-je, maman": French folk melody (first printed 1761), public domain.

Run from this folder: python3 make_library.py  (standard library only)
"""

STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
KIND = {1: "quarter", 2: "half", 3: "half", 4: "whole"}

# (pitch, quarters) per measure, 4/4
ODE_RH = [
    [("F#4", 1), ("F#4", 1), ("G4", 1), ("A4", 1)],
    [("A4", 1), ("G4", 1), ("F#4", 1), ("E4", 1)],
    [("D4", 1), ("D4", 1), ("E4", 1), ("F#4", 1)],
    [("F#4", 1.5), ("E4", 0.5), ("E4", 2)],
    [("F#4", 1), ("F#4", 1), ("G4", 1), ("A4", 1)],
    [("A4", 1), ("G4", 1), ("F#4", 1), ("E4", 1)],
    [("D4", 1), ("D4", 1), ("E4", 1), ("F#4", 1)],
    [("E4", 1.5), ("D4", 0.5), ("D4", 2)],
]
ODE_LH = [
    [("D3", 2), ("A2", 2)], [("D3", 2), ("A2", 2)], [("B2", 2), ("G2", 2)], [("A2", 2), ("A2", 2)],
    [("D3", 2), ("A2", 2)], [("D3", 2), ("A2", 2)], [("B2", 2), ("G2", 2)], [("A2", 2), ("D3", 2)],
]
TWINKLE_RH = [
    [("C5", 1), ("C5", 1), ("G5", 1), ("G5", 1)],
    [("A5", 1), ("A5", 1), ("G5", 2)],
    [("F5", 1), ("F5", 1), ("E5", 1), ("E5", 1)],
    [("D5", 1), ("D5", 1), ("C5", 2)],
    [("G5", 1), ("G5", 1), ("F5", 1), ("F5", 1)],
    [("E5", 1), ("E5", 1), ("D5", 2)],
    [("G5", 1), ("G5", 1), ("F5", 1), ("F5", 1)],
    [("E5", 1), ("E5", 1), ("D5", 2)],
    [("C5", 1), ("C5", 1), ("G5", 1), ("G5", 1)],
    [("A5", 1), ("A5", 1), ("G5", 2)],
    [("F5", 1), ("F5", 1), ("E5", 1), ("E5", 1)],
    [("D5", 1), ("D5", 1), ("C5", 2)],
]
TWINKLE_LH = [
    [("C3", 2), ("E3", 2)], [("F3", 2), ("E3", 2)], [("D3", 2), ("C3", 2)], [("G2", 2), ("C3", 2)],
    [("E3", 2), ("D3", 2)], [("C3", 2), ("G2", 2)], [("E3", 2), ("D3", 2)], [("C3", 2), ("G2", 2)],
    [("C3", 2), ("E3", 2)], [("F3", 2), ("E3", 2)], [("D3", 2), ("C3", 2)], [("G2", 2), ("C3", 2)],
]


def note(name, quarters, staff, divisions):
    step, octave = name[0], name[-1]
    alter = "<alter>1</alter>" if "#" in name else ""
    kind = KIND.get(int(quarters), "quarter") if quarters >= 1 else "eighth"
    dot = "<dot/>" if quarters in (1.5, 3) else ""
    return (f'      <note><pitch><step>{step}</step>{alter}<octave>{octave}</octave></pitch>'
            f'<duration>{int(quarters * divisions)}</duration><voice>{staff}</voice>'
            f'<type>{kind}</type>{dot}<staff>{staff}</staff></note>')


def musicxml(title, composer, rights, fifths, tempo, rh, lh):
    divisions = 2
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">',
           '<score-partwise version="4.0">',
           f'  <work><work-title>{title}</work-title></work>',
           f'  <identification><creator type="composer">{composer}</creator><rights>{rights}</rights></identification>',
           '  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>',
           '  <part id="P1">']
    for m, (right, left) in enumerate(zip(rh, lh)):
        out.append(f'    <measure number="{m + 1}">')
        if m == 0:
            out.append(f'      <attributes><divisions>{divisions}</divisions><key><fifths>{fifths}</fifths></key>'
                       '<time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves>'
                       '<clef number="1"><sign>G</sign><line>2</line></clef><clef number="2"><sign>F</sign><line>4</line></clef></attributes>')
            out.append(f'      <direction placement="above"><direction-type><dynamics><mf/></dynamics></direction-type><sound tempo="{tempo}"/></direction>')
        out += [note(n, q, 1, divisions) for n, q in right]
        out.append(f'      <backup><duration>{4 * divisions}</duration></backup>')
        out += [note(n, q, 2, divisions) for n, q in left]
        out.append('    </measure>')
    out += ['  </part>', '</score-partwise>', '']
    return "\n".join(out)


if __name__ == "__main__":
    rights = "Public domain melody. Left hand and engraving: Segno project, MIT OR Apache-2.0"
    with open("ode-to-joy.musicxml", "w") as f:
        f.write(musicxml("Ode to Joy (theme)", "Ludwig van Beethoven", rights, 2, 108, ODE_RH, ODE_LH))
    with open("twinkle.musicxml", "w") as f:
        f.write(musicxml("Ah! vous dirai-je, maman", "Traditional (French)", rights, 0, 100,
                         TWINKLE_RH, TWINKLE_LH))
