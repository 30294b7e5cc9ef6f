#!/usr/bin/env bash
# Live speech-to-text latency, Vietnamese: each vieneu recording streamed in real time through
# `sokuji live --json` (the WebSocket protocol) into an all-in-one server with translation and
# speech off; per utterance, the time from the arrival of the audio that ended it to its final
# transcript (the server's e2e_ms: it includes the endpointer's wait for 640 ms of silence, less
# the 200 ms of post-roll) and the decode of the final alone (stt_ms), with Vietnamese on the
# Conformer (fed as a stream) and on Whisper (re-decoded), the two servers taking turns per
# recording. Also the WER of the finals.
#
# Usage: bash bench/live_stt.sh   (RUNS=3: passes over the recordings)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
RUNS="${RUNS:-3}"
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
[ -x "$SOKUJI" ] || cargo build --release --locked
out=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A URL
for engine in conformer whisper; do
  p=$(port)
  # Each its own archive: two servers cannot share one search index.
  SOKUJI_LOG=error SOKUJI_STT_VI=$engine TRANSLATION_PROVIDER=none TTS_PROVIDER=none SOKUJI_DATA_DIR="$out/$engine" \
    "$SOKUJI" serve --listen "127.0.0.1:$p" --grpc-listen off & pids+=($!)
  URL[$engine]="http://127.0.0.1:$p"
done
for engine in conformer whisper; do
  for _ in $(seq 1 300); do curl -sf "${URL[$engine]}/health" | grep -q '"status":"healthy"' && break; sleep 0.2; done
done
for run in $(seq 1 "$RUNS"); do
  for wav in "$SOKUJI_TESTDATA"/vieneu/*.wav; do
    for engine in conformer whisper; do
      "$SOKUJI" live --server "${URL[$engine]}" --from vi --to en --voice "" --json "$wav" 2>/dev/null \
        | sed "s|^|$engine $(basename "$wav" .wav) |" >> "$out/events" || true
    done
  done
done
python3 - "$out/events" "$SOKUJI_TESTDATA" "$RUNS" <<'PY'
import json, os, re, statistics, sys
events, data, runs = sys.argv[1], sys.argv[2], sys.argv[3]
e2e, stt, heard = {}, {}, {}
for line in open(events):
    engine, clip, msg = line.split(" ", 2)
    try:
        v = json.loads(msg)
    except ValueError:
        continue
    if v.get("type") == "transcription" and v.get("is_final"):
        if v.get("e2e_ms") is not None:
            e2e.setdefault(engine, []).append(v["e2e_ms"])
            stt.setdefault(engine, []).append(v["stt_ms"])
        heard.setdefault((engine, clip), []).append(v.get("text", ""))
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))
from wer import distance as dist, words  # noqa: E402
print(f"six vieneu recordings streamed in real time, {runs} passes, the two servers taking turns; e2e_ms of final transcripts")
print()
print("| Vietnamese on | finals | e2e p50 (ms) | e2e p95 (ms) | e2e max (ms) | final decode p50 (ms) | WER of the finals |")
print("|---|---|---|---|---|---|---|")
for engine in ("conformer", "whisper"):
    xs = sorted(e2e.get(engine, []))
    if not xs:
        print(f"| {engine} | 0 | - | - | - | - | - |"); continue
    e = n = 0
    for (eng, clip), texts in heard.items():
        if eng != engine:
            continue
        r = words(open(os.path.join(data, "vieneu", clip + ".txt")).read())
        # One pass's worth of reference per pass heard.
        h = words(" ".join(texts))
        e += dist(r * int(runs), h); n += len(r) * int(runs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    print(f"| {engine} | {len(xs)} | {statistics.median(xs):.0f} | {p95:.0f} | {xs[-1]:.0f} | {statistics.median(stt[engine]):.0f} | {e / max(n, 1):.1%} |")
PY
