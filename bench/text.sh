#!/usr/bin/env bash
# Text normalization benchmark: lines per second on one core (taskset -c 0) for ITN and TN over
# a transcript-like corpus, and, when NEMO_PYTHON points at a Python with nemo-text-processing,
# NVIDIA NeMo's Vietnamese grammars on the same lines side by side (and how often the two agree).
#
# Corpus: the spoken (ITN) and written (TN) inputs of crates/text/tests/cases plus the six vieneu
# transcripts, shuffled with a fixed seed and repeated to LINES lines (default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
LINES="${LINES:-20000}"
RUNS="${RUNS:-5}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

python3 - "$out" "$LINES" "$SOKUJI_TESTDATA" <<'PY'
import glob, os, random, sys
out, n, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def inputs(mode):
    lines = []
    for f in sorted(glob.glob(f"crates/text/tests/cases/{mode}/*.txt")):
        for l in open(f, encoding="utf-8"):
            if "~" in l and not l.startswith("#"):
                lines.append(l.split("~")[0])
    return lines
prose = [open(f, encoding="utf-8").read().strip() for f in sorted(glob.glob(os.path.join(data, "vieneu", "*.txt")))]
rng = random.Random(7)
for mode in ("itn", "tn"):
    base = inputs(mode) + [p.lower() if mode == "itn" else p for p in prose]
    lines = [rng.choice(base) for _ in range(n)]
    open(os.path.join(out, mode + ".txt"), "w", encoding="utf-8").write("\n".join(lines) + "\n")
    open(os.path.join(out, mode + "-cases.txt"), "w", encoding="utf-8").write("\n".join(inputs(mode)) + "\n")
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "corpus: $LINES lines per mode; $RUNS runs; one core (taskset -c 0); medians"
echo
echo "| engine | mode | lines/s | ms/line |"
echo "|---|---|---|---|"
for mode in itn tn; do
  for r in $(seq 1 "$RUNS"); do
    /usr/bin/time -f "%e" -o "$out/t" taskset -c 0 "$SOKUJI" text "$mode" < "$out/$mode.txt" > /dev/null
    cat "$out/t"
  done | median > "$out/m"
  python3 -c "import sys; s=float(open(sys.argv[1]).read()); n=int(sys.argv[2]); print(f'| sokuji | {sys.argv[3]} | {n/s:,.0f} | {s/n*1000:.4f} |')" "$out/m" "$LINES" "$mode"
done

if [ -n "${NEMO_PYTHON:-}" ]; then
  for mode in itn tn; do
    taskset -c 0 "$NEMO_PYTHON" - "$out" "$mode" "$SOKUJI" <<'PY'
import subprocess, sys, time
out, mode, sokuji = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "itn":
    from nemo_text_processing.inverse_text_normalization.inverse_normalize import InverseNormalizer
    eng = InverseNormalizer(lang="vi")
    f = lambda l: eng.inverse_normalize(l, verbose=False)
else:
    from nemo_text_processing.text_normalization.normalize import Normalizer
    eng = Normalizer(input_case="cased", lang="vi")
    f = lambda l: eng.normalize(l, verbose=False)
def safe(l):
    try:
        return f(l)
    except Exception:
        return None
lines = open(f"{out}/{mode}.txt", encoding="utf-8").read().splitlines()[:1000]
safe(lines[0])  # grammars loaded and cached before timing
t = time.perf_counter()
failed = sum(1 for l in lines if safe(l) is None)
s = time.perf_counter() - t
print(f"| NeMo | {mode} | {len(lines)/s:,.0f} | {s/len(lines)*1000:.4f} |" + (f" ({failed} lines raised)" if failed else ""))
cases = open(f"{out}/{mode}-cases.txt", encoding="utf-8").read().splitlines()
ours = subprocess.run([sokuji, "text", mode], input="\n".join(cases) + "\n", capture_output=True, text=True).stdout.splitlines()
import re
# NeMo detaches punctuation from the words ("ngày 15 tháng 10 ."): a tokenizer's artifact, not a
# convention, so agreement is also counted with it closed up again.
closed = lambda t: re.sub(r"([(\[“‘«])\s+", r"\1", re.sub(r"\s+([.,;:!?)\]”’»…])", r"\1", t.strip()))
theirs = [safe(c) for c in cases]
same = sum(1 for t, o in zip(theirs, ours) if (t or "").strip() == o.strip())
near = sum(1 for t, o in zip(theirs, ours) if closed(t or "") == closed(o))
print(f"|   | {mode}: NeMo and Sokuji agree on {same} of {len(cases)} case inputs ({near} with punctuation closed up) | | |")
# Where NeMo's convention applies: without the inputs it raises on and those listed (with the
# reason) in bench/data/text-nemo-excluded.tsv. A listed input that is not a case, or on which
# the two now agree, is reported: the list must stay true.
excluded = {}
for l in open("bench/data/text-nemo-excluded.tsv", encoding="utf-8"):
    if l.strip() and not l.startswith("#"):
        m, kind, text, _why = l.rstrip("\n").split("\t")
        if m == mode:
            excluded[text] = kind
for text in excluded:
    if text not in cases:
        print(f"|   | {mode}: excluded input is not a case: {text!r} | | |")
kinds, agree, total = {}, 0, 0
for c, t, o in zip(cases, theirs, ours):
    kind = "raises" if t is None else excluded.get(c)
    if kind and t is not None and closed(t) == closed(o):
        print(f"|   | {mode}: excluded input on which they agree: {c!r} | | |")
    if kind:
        kinds[kind] = kinds.get(kind, 0) + 1
        continue
    total += 1
    agree += closed(t) == closed(o)
left = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
print(f"|   | {mode}: where NeMo's convention applies, they agree on {agree} of {total} ({100 * agree / max(total, 1):.1f}%; left out: {left}) | | |")
PY
  done
fi
