#!/usr/bin/env bash
# Speech-to-text benchmark: `sokuji transcribe` side by side with whisper.cpp's own CLI on the same
# ggml model file, the same audio and the same thread count, runs interleaved so that machine
# noise hits both alike. Reports the median wall time, real-time factor and peak RSS of each
# configuration, and the word error rate on the six Vietnamese recordings.
#
# Usage: WHISPER_CLI=/path/to/whisper-cli bash bench/stt.sh   (RUNS=3 THREADS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR SOKUJI_TESTDATA
RUNS="${RUNS:-3}"
THREADS="${THREADS:-2}"
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
MODEL="$SOKUJI_MODEL_DIR/ggml-whisper-base.bin"
AUDIO="$SOKUJI_TESTDATA/mixed-60s.wav"
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }

# whisper.cpp's own CLI, built by you from whisper.cpp's release source (see bench/README.md).
WCLI="${WHISPER_CLI:-}"
if [ ! -x "$WCLI" ]; then
  echo "set WHISPER_CLI to whisper.cpp's whisper-cli binary (see bench/README.md)" >&2
  exit 2
fi
[ -x "$SOKUJI" ] || cargo build --release --locked
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# name|command (the audio path is appended)
configs=(
  "whisper.cpp CLI $("$WCLI" --version 2>&1 | grep -o '[0-9][0-9.]*[0-9]' | head -1), vi|$WCLI -m $MODEL -t $THREADS -l vi -bs 1 -bo 1 -np -nt -f"
  "sokuji, vi, no VAD|$SOKUJI transcribe -l vi --no-vad"
  "sokuji, vi, VAD|$SOKUJI transcribe -l vi"
  "whisper.cpp CLI, auto|$WCLI -m $MODEL -t $THREADS -l auto -bs 1 -bo 1 -np -nt -f"
  "sokuji, auto, VAD|$SOKUJI transcribe"
)
# Optionally whisper.cpp's CLI at the version whisper-rs-sys vendors (what Sokuji links).
if [ -x "${WHISPER_CLI_LINKED:-}" ]; then
  configs+=("whisper.cpp CLI as linked, vi|$WHISPER_CLI_LINKED -m $MODEL -t $THREADS -l vi -bs 1 -bo 1 -np -nt -f")
fi
export SOKUJI_STT_THREADS="$THREADS" SOKUJI_LOG=warn
dur=$(python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print(w.getnframes()/w.getframerate())" "$AUDIO")
for run in $(seq 1 "$RUNS"); do
  for i in "${!configs[@]}"; do
    cmd="${configs[$i]#*|}"
    /usr/bin/time -f "%e %M" -o "$out/time" $cmd "$AUDIO" > "$out/text-$i-$run" 2>/dev/null
    echo "$i $(cat "$out/time")" >> "$out/times"
  done
done

# Word error rate on the six Vietnamese recordings, language given.
for f in "$SOKUJI_TESTDATA"/vieneu/*.wav; do
  b=$(basename "$f" .wav)
  "$WCLI" -m "$MODEL" -t "$THREADS" -l vi -bs 1 -bo 1 -np -nt -f "$f" 2>/dev/null | tr '\n' ' ' > "$out/wer-cpp-$b"
  "$SOKUJI" transcribe -l vi "$f" 2>/dev/null > "$out/wer-sokuji-$b"
done

python3 - "$out" "$dur" "$RUNS" "$THREADS" "$SOKUJI_TESTDATA" "${configs[@]}" <<'PY'
import glob, os, re, statistics, sys
out, dur, runs, threads, data = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
names = [c.split("|")[0] for c in sys.argv[6:]]
times = {}
for line in open(os.path.join(out, "times")):
    i, wall, rss = line.split()
    times.setdefault(int(i), []).append((float(wall), int(rss)))
def words(t):
    return [w for w in re.sub(r"[^\w\s']", " ", t.lower()).split() if w]
def dist(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a):
        cur = [i + 1]
        for j, y in enumerate(b):
            cur.append(min(prev[j] + (x != y), prev[j + 1] + 1, cur[j] + 1))
        prev = cur
    return prev[-1]
def corpus_wer(kind):
    e = n = 0
    for ref in sorted(glob.glob(os.path.join(data, "vieneu", "*.txt"))):
        b = os.path.basename(ref)[:-4]
        r = words(open(ref).read())
        h = words(open(os.path.join(out, f"wer-{kind}-{b}")).read())
        e += dist(r, h); n += len(r)
    return e / n
print(f"audio: mixed-60s.wav, {dur:.1f} s; {runs} runs each, interleaved; {threads} threads; medians")
print()
print("| configuration | wall (s) | real-time factor | peak RSS (MB) |")
print("|---|---|---|---|")
for i, name in enumerate(names):
    w = statistics.median(t[0] for t in times[i]); m = statistics.median(t[1] for t in times[i]) / 1024
    print(f"| {name} | {w:.2f} | {w / dur:.3f} | {m:.0f} |")
print()
print(f"Vietnamese WER, six vieneu recordings, language vi: whisper.cpp CLI {corpus_wer('cpp'):.1%}, sokuji {corpus_wer('sokuji'):.1%}")
PY
