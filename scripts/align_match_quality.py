"""How honest `segno align` is about whether a recording is the piece (issue 11).

Every 10th dev case is rendered from its performance MIDI (TimGM6mb, 22.05 kHz, no room or
noise) and aligned twice: to its own score, and, as "another piece", the next case of a
different piece aligned to this score. Prints, per case and in total: the share of rows called
`following`, how many of those are within 0.5 s of the truth, the share of another piece's rows
called `following`, and how often the whole-recording warning fires.

Run from the repository root after `cargo build --release -p segno`:
    python3 scripts/align_match_quality.py [SPLIT [EVERY]] [--room]
SPLIT is dev (default) or train, where thresholds may be chosen; EVERY the step through its
cases (default 10). --room plays every rendering in a reverberant room (an impulse response of
exponentially decaying noise, RT60 1.6 s, half as loud as the dry sound) through a microphone
30 dB above its noise; it needs numpy (e.g. target/onnxenv/bin/python).
"""
import bisect
import concurrent.futures as cf
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = os.path.join(ROOT, "target/release/segno")
ROOM = "--room" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--room"]
SPLIT = ARGS[0] if ARGS else "dev"
EVERY = int(ARGS[1]) if len(ARGS) > 1 else 10
D = os.path.join(ROOT, "../shared/benchmark", SPLIT)
TMP = os.path.join(ROOT, "target/tmp/match-quality", SPLIT + ("-room" if ROOM else ""))
os.makedirs(TMP, exist_ok=True)
if not os.path.isdir(D):
    raise SystemExit(f'no benchmark data at {D}: nothing to measure')
# A case without its truth (some train cases) cannot say whether a row is right.
cases=[c for c in sorted(os.listdir(D)) if os.path.exists(f'{D}/{c}/{c}.truth.csv')][::EVERY]
def piece(c): return c.rsplit('_',1)[0]
def render(c):
    out=f'{TMP}/{c}.wav'
    if not os.path.exists(out):
        subprocess.run([S,'render','--score',f'{D}/{c}/{c}.perf.mid','--out',out,'--soundfont','/usr/share/sounds/sf2/TimGM6mb.sf2','--sample-rate','22050'],capture_output=True,check=True)
        if ROOM: in_a_room(out, c)
    return out
def in_a_room(path, name):
    import wave, zlib
    import numpy as np
    with wave.open(path) as w:
        sr, ch = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    x = x.reshape(-1, ch).mean(1)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    t = np.arange(int(1.6 * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-6.91 * t / 1.6)
    ir = np.concatenate([np.zeros(int(0.01 * sr)), 0.5 * ir / np.sqrt((ir**2).sum())])
    n = 1 << (len(x) + len(ir) - 2).bit_length()
    y = x + np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(ir, n), n)[:len(x)]
    y += rng.standard_normal(len(y)) * np.sqrt((y**2).mean()) * 10 ** (-30 / 20)
    y = (y / np.abs(y).max() * 0.9 * 32767).astype(np.int16)
    with wave.open(path, 'wb') as o:
        o.setnchannels(1); o.setsampwidth(2); o.setframerate(sr); o.writeframes(y.tobytes())
def align(score_case, wav, tag):
    out=f'{TMP}/{score_case}.{tag}.csv'
    r=subprocess.run([S,'align','--score',f'{D}/{score_case}/{score_case}.score.mid','--audio',wav,'--out',out],capture_output=True,text=True)
    q=[l for l in r.stderr.splitlines() if 'match quality' in l and 'aligned' in l]
    return list(csv.DictReader(open(out))), ('poorly' in r.stderr), q
def truth(c):
    rows=[(float(r['perf_time_s']),float(r['score_time_s'])) for r in csv.DictReader(open(f'{D}/{c}/{c}.truth.csv'))]
    rows.sort(); return rows
def interp(tr,t):
    i=bisect.bisect_left([x[0] for x in tr],t)
    if i<=0 or i>=len(tr): return None
    (a,sa),(b,sb)=tr[i-1],tr[i]
    return sa+(sb-sa)*(t-a)/(b-a) if b>a else sa
def one(k):
    c=cases[k]; other=next(cases[(k+j)%len(cases)] for j in range(1,len(cases)) if piece(cases[(k+j)%len(cases)])!=piece(c))
    wav=render(c); owav=render(other)
    rows,warn,q=align(c,wav,'own')
    tr=truth(c)
    fol=[r for r in rows if r['state']=='following']
    ok=0;n=0
    for r in fol:
        s=interp(tr,float(r['perf_time_s']))
        if s is None: continue
        n+=1; ok+= abs(float(r['score_time_s'])-s)<=0.5
    orows,owarn,oq=align(c,owav,'other')
    of=sum(r['state']=='following' for r in orows)
    return c, len(rows), len(fol), n, ok, warn, len(orows), of, owarn, q, oq
with cf.ThreadPoolExecutor(2) as ex:
    res=list(ex.map(one, range(len(cases))))
T=[0]*6
for c,nr,nf,n,ok,warn,onr,of,owarn,q,oq in res:
    print(f"{c}: own rows {nr}, following {nf} ({100*nf/nr:.1f}%), within 0.5 s {ok}/{n} ({100*ok/max(n,1):.1f}%), warned {warn} | other rows {onr}, following {of} ({100*of/onr:.1f}%), warned {owarn}")
    print('   ', q[0].split('(')[1].split(';')[0] if q else '', '|', oq[0].split('(')[1].split(';')[0] if oq else '')
    T[0]+=nr;T[1]+=nf;T[2]+=n;T[3]+=ok;T[4]+=onr;T[5]+=of
print(f"TOTAL own following {100*T[1]/T[0]:.1f}% of rows; following within 0.5 s {100*T[3]/T[2]:.2f}%; other-piece rows following {100*T[5]/T[4]:.2f}%; own warned {sum(r[5] for r in res)}/{len(res)}; other warned {sum(r[8] for r in res)}/{len(res)}")
