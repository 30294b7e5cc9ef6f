#!/usr/bin/env bash
# End-to-end live-translation benchmark: each recording is streamed in real time through
# `sokuji live --json` (the WebSocket protocol); per utterance, the time from the arrival of the
# audio that ended it to its final translation text and to its first translated audio (the
# server's e2e_ms). Vietnamese -> English (vieneu samples), English -> Vietnamese (LLM) and
# English -> Portuguese (the dedicated Marian model) on the English recordings, all-in-one
# (`sokuji serve`) and split (`serve stt|translation|tts` + `serve gateway`, loopback gRPC
# between them). p50/p95 per pair and mode.
#
# A pair written `vi-en+speech` asks for speech translation (Whisper's translate task makes the
# English), `vi-en+whole` for whole-sentence translations (interim ones only draft them). The
# peak RSS of each server process is reported at the end. `vi-en+joined` streams the set's
# recordings as one session (1.5 s of silence between them), so that each translation after the
# first has the conversation's context, as in a real conversation.
#
# Usage: bash bench/live.sh   (RUNS=1: passes over the recordings; PAIRS="vi-en en-vi en-pt";
#        MODES="all-in-one split"; EVENTS=file keeps every message; SOKUJI=binary to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
RUNS="${RUNS:-1}"
PAIRS="${PAIRS:-vi-en en-vi en-pt}"
MODES="${MODES:-all-in-one split}"
SOKUJI="${SOKUJI:-$CARGO_TARGET_DIR/release/sokuji}"
[ -x "$SOKUJI" ] || cargo build --release --locked
out=$(mktemp -d)
pids=()
# Peak RSS (VmHWM) of each server process of a mode, before it is stopped.
peaks() { for p in "${pids[@]}"; do echo "$1 $(tr '\0' ' ' < "/proc/$p/cmdline" | awk '{print $2, $3}') $(awk '/VmHWM/ {print $2}' "/proc/$p/status")" >> "$out/rss"; done; }
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap 'stop; rm -rf "$out"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Ready when /health says so and no engine is still loading: the server answers at once while the
# translation model loads in the background, and the first utterance would time the load.
wait_healthy() {
  local h
  for _ in $(seq 1 600); do
    h=$(curl -sf "$1/health" || true)
    grep -q '"status":"healthy"' <<<"$h" && ! grep -q '"loading"' <<<"$h" && return 0
    sleep 0.2
  done
  echo "server at $1 not healthy" >&2; exit 1
}

# Writes the recordings to $1 one after another, each followed by 1.5 s of silence (sox refuses
# recordings of different formats).
join_wavs() {
  local out=$1 tmp k=0; shift; tmp=$(mktemp -d); local parts=()
  for f in "$@"; do
    k=$((k + 1)); sox "$f" "$tmp/$k.wav" pad 0 1.5; parts+=("$tmp/$k.wav")
  done
  local rc=0; sox "${parts[@]}" "$out" || rc=$?
  rm -rf "$tmp"; return $rc
}

start_all() {
  local p; p=$(port)
  SOKUJI_LOG=warn "$SOKUJI" serve --listen "127.0.0.1:$p" --grpc-listen off & pids+=($!)
  URL="http://127.0.0.1:$p"
}

start_split() {
  local s t v g; s=$(port); t=$(port); v=$(port); g=$(port)
  SOKUJI_LOG=warn "$SOKUJI" serve stt --listen "127.0.0.1:$s" & pids+=($!)
  SOKUJI_LOG=warn "$SOKUJI" serve translation --listen "127.0.0.1:$t" & pids+=($!)
  SOKUJI_LOG=warn "$SOKUJI" serve tts --listen "127.0.0.1:$v" & pids+=($!)
  SOKUJI_LOG=warn SOKUJI_STT_URL="http://127.0.0.1:$s" SOKUJI_TRANSLATION_URL="http://127.0.0.1:$t" \
    SOKUJI_TTS_URL="http://127.0.0.1:$v" "$SOKUJI" serve gateway --listen "127.0.0.1:$g" & pids+=($!)
  URL="http://127.0.0.1:$g"
}

for mode in $MODES; do
  if [ "$mode" = all-in-one ]; then start_all; else start_split; fi
  wait_healthy "$URL"
  for run in $(seq 1 "$RUNS"); do
    for pair in $PAIRS; do
      langs=${pair%+*}; from=${langs%-*}; to=${langs#*-}
      flags=()
      case "$pair" in *+speech) flags=(--speech-translation) ;; *+whole) flags=(--whole-sentences) ;; esac
      set_dir=$([ "$from" = vi ] && echo vieneu || echo en)
      wavs=("$SOKUJI_TESTDATA/$set_dir"/*.wav)
      if [[ "$pair" == *+joined ]]; then
        [ -f "$out/$set_dir.wav" ] || join_wavs "$out/$set_dir.wav" "${wavs[@]}"
        wavs=("$out/$set_dir.wav")
      fi
      for wav in "${wavs[@]}"; do
        "$SOKUJI" live --server "$URL" --from "$from" --to "$to" "${flags[@]}" --json "$wav" | sed "s|^|$mode $pair $run/$(basename "$wav") |" >> "$out/events"
      done
    done
  done
  peaks "$mode"
  stop
done

[ -n "${EVENTS:-}" ] && cp "$out/events" "$EVENTS"   # every message, for reading the texts
echo "# Live translation end to end $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
python3 - "$out/events" <<'PY'
import json, sys, collections
# (mode, pair) -> stage -> {(session, segment): e2e of the first such event}
seen = collections.defaultdict(lambda: collections.defaultdict(dict))
for line in open(sys.argv[1]):
    mode, pair, session, js = line.split(" ", 3)
    v = json.loads(js)
    if v["type"] == "error":
        print(f"error in {mode} {pair} {session}: {v.get('code')} {v.get('message')}", file=sys.stderr)
        continue
    kind = {"transcription": "transcript", "translation": "translation", "audio": "audio"}.get(v["type"])
    if kind is None or v.get("e2e_ms") is None or (kind != "audio" and not v.get("is_final")):
        continue
    seen[(mode, pair)][kind].setdefault((session, v["segment_id"]), v["e2e_ms"])
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print("| pair | mode | utterances | transcript p50 / p95 (ms) | translation text p50 / p95 (ms) | first audio p50 / p95 (ms) |")
print("|---|---|---|---|---|---|")
for (mode, pair), stages in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    cells = []
    for kind in ("transcript", "translation", "audio"):
        xs = list(stages[kind].values())
        cells.append(f"{pct(xs, 50):.0f} / {pct(xs, 95):.0f}" if xs else "-")
    print(f"| {pair} | {mode} | {len(stages['translation'])} | " + " | ".join(cells) + " |")
PY
echo
echo "| mode | process | peak RSS (MB) |"
echo "|---|---|---|"
awk '{printf "| %s | %s %s | %.0f |\n", $1, $2, $3, $4/1024}' "$out/rss"
