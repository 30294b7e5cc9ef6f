"""The energy gate's measure (crates/audio/src/gate.rs) on real speech and on noise.

For each signal: frames of 20 ms at 16 kHz, those above -60 dBFS, and the spread in dB between
their 90th and 10th percentile of energy. The gate refuses audio with fewer than 8 such frames
(quiet) or a spread under 6 dB (steady). Pure Python, no dependencies beyond the standard
library; deterministic noise. usage: python3 bench/gate.py TESTDATA_DIR
"""
import glob
import math
import random
import struct
import sys
import wave

RATE, FRAME = 16000, 320


def read(path):
    """16-bit mono WAV at 16 kHz (linear interpolation from other rates: enough for energies)."""
    w = wave.open(path)
    assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
    d = w.readframes(w.getnframes())
    x = [v / 32768 for v in struct.unpack("<%dh" % (len(d) // 2), d)]
    step = w.getframerate() / RATE
    out = []
    for i in range(int((len(x) - 1) / step)):
        p = i * step
        k = int(p)
        out.append(x[k] + (x[k + 1] - x[k]) * (p - k))
    return out


def spread(x):
    dbs = []
    for i in range(0, len(x), FRAME):
        f = x[i : i + FRAME]
        if len(f) >= FRAME // 2:
            dbs.append(10 * math.log10(sum(v * v for v in f) / len(f) + 1e-12))
    active = sorted(d for d in dbs if d > -60)
    if not active:
        return 0, 0.0
    pct = lambda q: active[(len(active) - 1) * q // 100]
    return len(active), pct(90) - pct(10)


def rms_db(x):
    return 10 * math.log10(sum(v * v for v in x) / len(x) + 1e-12)


def at_db(x, db):
    g = 10 ** ((db - rms_db(x)) / 20)
    return [v * g for v in x]


def noises(n):
    rnd = random.Random(1)
    white = [rnd.uniform(-1, 1) for _ in range(n)]
    b, pink = [0.0] * 7, []
    for w in white:
        b[0] = 0.99886 * b[0] + w * 0.0555179
        b[1] = 0.99332 * b[1] + w * 0.0750759
        b[2] = 0.96900 * b[2] + w * 0.1538520
        b[3] = 0.86650 * b[3] + w * 0.3104856
        b[4] = 0.55000 * b[4] + w * 0.5329522
        b[5] = -0.7616 * b[5] - w * 0.0168980
        pink.append(sum(b[:6]) + b[6] + w * 0.5362)
        b[6] = w * 0.115926
    brown, acc = [], 0.0
    for w in white:
        acc = (acc + w * 0.02) * 0.998
        brown.append(acc)
    t = lambda i, f: math.sin(2 * math.pi * f * i / RATE)
    hum = [0.5 * t(i, 50) + 0.3 * t(i, 100) + 0.2 * t(i, 150) for i in range(n)]
    return {"white": white, "pink": pink, "brown": brown, "hum": hum}


def main(testdata):
    n = RATE * 3
    kinds = noises(n)
    print("| noise | -50 dBFS | -35 dBFS | -20 dBFS |")
    print("|---|---|---|---|")
    for name, x in kinds.items():
        cells = ["%.1f dB" % spread(at_db(x, db))[1] for db in (-50, -35, -20)]
        print("| %s | %s |" % (name, " | ".join(cells)))
    print()
    print("| recording | whole | first second | white noise at 10 / 5 / 0 dB SNR |")
    print("|---|---|---|---|")
    white = kinds["white"]
    for path in sorted(glob.glob(testdata + "/vieneu/*.wav")) + sorted(glob.glob(testdata + "/en/*.wav")):
        x = read(path)
        noisy = []
        for snr in (10, 5, 0):
            nz = at_db((white * (len(x) // n + 1))[: len(x)], rms_db(x) - snr)
            noisy.append("%.1f" % spread([a + b for a, b in zip(x, nz)])[1])
        name = path.split("/")[-2] + "/" + path.split("/")[-1]
        print("| %s | %.1f dB | %.1f dB | %s |" % (name, spread(x)[1], spread(x[:RATE])[1], " / ".join(noisy)))


if __name__ == "__main__":
    main(sys.argv[1])
