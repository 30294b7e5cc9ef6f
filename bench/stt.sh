#!/usr/bin/env bash
# Speech-to-text benchmark: `sokuji transcribe` with its Vietnamese Conformer and with Whisper,
# side by side with whisper.cpp's own CLI on the same ggml model file (when WHISPER_CLI is set),
# the same audio and the same thread count, runs interleaved so that machine noise hits all alike.
# Reports the median wall time (model loading included), real-time factor and peak RSS of each
# configuration on ~70 s of mixed Vietnamese/English speech and on ~140 s of Vietnamese alone,
# and the word error rate on the six Vietnamese recordings. Whisper base runs as fetched (Q8_0),
# and with f16 matrices beside it once `sokuji models fetch whisper-base-f16` has made that file.
#
# Usage: [WHISPER_CLI=/path/to/whisper-cli] bash bench/stt.sh   (RUNS=3 THREADS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR SOKUJI_TESTDATA
RUNS="${RUNS:-3}"
THREADS="${THREADS:-2}"
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
MODEL="$SOKUJI_MODEL_DIR/ggml-whisper-base-q8_0.bin"
# The same model with f16 matrices, timed beside it when fetched (`sokuji models fetch whisper-base-f16`).
F16="$SOKUJI_MODEL_DIR/ggml-whisper-base.bin"
AUDIO="$SOKUJI_TESTDATA/mixed-60s.wav"
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }

# whisper.cpp's own CLI, built by you from whisper.cpp's release source (see bench/README.md);
# without it only Sokuji's configurations run.
WCLI="${WHISPER_CLI:-}"
[ -x "$SOKUJI" ] || cargo build --release --locked
"$SOKUJI" models fetch vi-conformer onnxruntime >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# ~140 s of Vietnamese: the six recordings, six times over, 0.5 s apart.
VI_AUDIO="$out/vi-140s.wav"
parts=()
for k in 1 2 3 4 5 6; do
  for f in "$SOKUJI_TESTDATA"/vieneu/*.wav; do
    sox "$f" -r 16000 -c 1 -b 16 "$out/p-$k-$(basename "$f")" pad 0 0.5
    parts+=("$out/p-$k-$(basename "$f")")
  done
done
sox "${parts[@]}" "$VI_AUDIO"

# name|audio|command (the audio path is appended)
W="env SOKUJI_STT_VI=whisper"
configs=(
  "sokuji, vi, Conformer|$AUDIO|$SOKUJI transcribe -l vi"
  "sokuji, vi, Whisper|$AUDIO|$W $SOKUJI transcribe -l vi"
  "sokuji, auto (per utterance)|$AUDIO|$SOKUJI transcribe"
  "sokuji, auto, Whisper only|$AUDIO|$W $SOKUJI transcribe"
  "sokuji, vi, Conformer, 140 s Vietnamese|$VI_AUDIO|$SOKUJI transcribe -l vi"
  "sokuji, vi, Whisper, 140 s Vietnamese|$VI_AUDIO|$W $SOKUJI transcribe -l vi"
)
if [ -f "$F16" ]; then
  configs+=(
    "sokuji, vi, Whisper f16|$AUDIO|$W SOKUJI_STT_MODEL=$F16 $SOKUJI transcribe -l vi"
    "sokuji, vi, Whisper f16, 140 s Vietnamese|$VI_AUDIO|$W SOKUJI_STT_MODEL=$F16 $SOKUJI transcribe -l vi"
  )
fi
if [ -x "$WCLI" ]; then
  v=$("$WCLI" --version 2>&1 | grep -o '[0-9][0-9.]*[0-9]' | head -1)
  configs+=(
    "whisper.cpp CLI $v, vi|$AUDIO|$WCLI -m $MODEL -t $THREADS -l vi -bs 1 -bo 1 -np -nt -f"
    "whisper.cpp CLI, auto|$AUDIO|$WCLI -m $MODEL -t $THREADS -l auto -bs 1 -bo 1 -np -nt -f"
  )
fi
# Optionally whisper.cpp's CLI at the version whisper-rs-sys vendors (what Sokuji links).
if [ -x "${WHISPER_CLI_LINKED:-}" ]; then
  configs+=("whisper.cpp CLI as linked, vi|$AUDIO|$WHISPER_CLI_LINKED -m $MODEL -t $THREADS -l vi -bs 1 -bo 1 -np -nt -f")
fi
# Batch transcription alone, as a server that only transcribes runs it (and as results before
# 2026-12-03 were measured): ONNX Runtime's threads spin (SOKUJI_ONNX_SPIN=false: the default's).
export SOKUJI_STT_THREADS="$THREADS" SOKUJI_LOG=warn SOKUJI_ONNX_SPIN="${SOKUJI_ONNX_SPIN:-true}"
secs() { python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print(w.getnframes()/w.getframerate())" "$1"; }
for run in $(seq 1 "$RUNS"); do
  for i in "${!configs[@]}"; do
    rest="${configs[$i]#*|}"
    audio="${rest%%|*}"
    cmd="${rest#*|}"
    /usr/bin/time -f "%e %M" -o "$out/time" $cmd "$audio" > "$out/text-$i-$run" 2>/dev/null
    echo "$i $(cat "$out/time") $(secs "$audio")" >> "$out/times"
  done
done

# Word error rate on the six Vietnamese recordings, language given.
for f in "$SOKUJI_TESTDATA"/vieneu/*.wav; do
  b=$(basename "$f" .wav)
  if [ -x "$WCLI" ]; then
    "$WCLI" -m "$MODEL" -t "$THREADS" -l vi -bs 1 -bo 1 -np -nt -f "$f" 2>/dev/null | tr '\n' ' ' > "$out/wer-cpp-$b"
  fi
  "$SOKUJI" transcribe -l vi "$f" 2>/dev/null > "$out/wer-conformer-$b"
  SOKUJI_STT_VI=whisper "$SOKUJI" transcribe -l vi "$f" 2>/dev/null > "$out/wer-whisper-$b"
  if [ -f "$F16" ]; then
    SOKUJI_STT_VI=whisper SOKUJI_STT_MODEL="$F16" "$SOKUJI" transcribe -l vi "$f" 2>/dev/null > "$out/wer-whisper-f16-$b"
  fi
done

python3 - "$out" "$RUNS" "$THREADS" "$SOKUJI_TESTDATA" "${configs[@]}" <<'PY'
import glob, os, re, statistics, sys
out, runs, threads, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
names = [c.split("|")[0] for c in sys.argv[5:]]
times, durs = {}, {}
for line in open(os.path.join(out, "times")):
    i, wall, rss, dur = line.split()
    times.setdefault(int(i), []).append((float(wall), int(rss)))
    durs[int(i)] = float(dur)
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))
from wer import distance as dist, words  # noqa: E402
def corpus_wer(kind):
    e = n = 0
    for ref in sorted(glob.glob(os.path.join(data, "vieneu", "*.txt"))):
        b = os.path.basename(ref)[:-4]
        r = words(open(ref).read())
        path = os.path.join(out, f"wer-{kind}-{b}")
        if not os.path.exists(path):
            return None
        h = words(open(path).read())
        e += dist(r, h); n += len(r)
    return e / n
print(f"audio: mixed-60s.wav ({durs[0]:.1f} s) and the six vieneu recordings six times over; {runs} runs each, interleaved; {threads} threads; medians; wall time includes loading the models")
print()
print("| configuration | audio (s) | wall (s) | real-time factor | peak RSS (MB) |")
print("|---|---|---|---|---|")
for i, name in enumerate(names):
    w = statistics.median(t[0] for t in times[i]); m = statistics.median(t[1] for t in times[i]) / 1024
    print(f"| {name} | {durs[i]:.1f} | {w:.2f} | {w / durs[i]:.3f} | {m:.0f} |")
print()
fmt = lambda x: "n/a" if x is None else f"{x:.1%}"
print(f"Vietnamese WER, six vieneu recordings, language vi: Conformer {fmt(corpus_wer('conformer'))}, "
      f"Whisper base (sokuji, Q8_0) {fmt(corpus_wer('whisper'))}, Whisper base f16 {fmt(corpus_wer('whisper-f16'))}, "
      f"whisper.cpp CLI {fmt(corpus_wer('cpp'))}")
PY
