#!/usr/bin/env bash
# Speech-synthesis benchmark: per voice, real-time factor and time to first audio through the
# running server's streamed `POST /v1/audio/speech` (PCM) on a five-sentence paragraph, and
# intelligibility: the speech sent back through the project's own recognizer
# (`POST /v1/audio/transcriptions`, the language's engine) and scored by word error rate against
# the text. Voices: each language's default voice (what live sessions speak with; a Piper voice
# fetched from the hub shows up here by itself) and eSpeak NG's, for comparison. Runs interleaved
# across voices; medians.
#
# Usage: bash bench/tts.sh   (RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
RUNS="${RUNS:-5}"
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
[ -x "$SOKUJI" ] || cargo build --release --locked
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TRANSLATION_PROVIDER=none SOKUJI_LOG=warn "$SOKUJI" serve --listen "127.0.0.1:$PORT" --grpc-listen off &
pid=$!
out=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done

declare -A TEXT=(
  [en]="The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It is easy to tell the depth of a well. These days a chicken leg is a rare dish. Rice is often served in round bowls."
  [vi]="Hôm nay trời rất đẹp. Chúng tôi đi dạo trong công viên. Mẹ tôi mua ba kilôgam gạo ở chợ. Buổi tối cả nhà cùng ăn cơm. Ngày mai tôi sẽ đi học sớm."
  [pt]="Hoje o tempo está muito bonito. Nós fomos passear no parque. A minha mãe comprou arroz no mercado. À noite a família jantou junta. Amanhã eu vou para a escola cedo."
)
# Each language's default voice, then eSpeak NG's voice for it when that is not the default.
voices=()
for lang in en vi pt; do
  default=$("$SOKUJI" voices --json 2>/dev/null | python3 -c '
import json, sys
print(next(("%s|%s|%s" % (v["id"], v["engine"], v["sample_rate"]) for v in json.load(sys.stdin) if sys.argv[1] in (v.get("default_for") or "").split(",")), ""))' "$lang")
  [ -n "$default" ] && voices+=("$lang|$default")
  case "$default" in espeak*) ;; *) espeak=$([ "$lang" = en ] && echo en-us || echo "$lang"); voices+=("$lang|espeak:$espeak|espeak|22050") ;; esac
done
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

for run in $(seq 1 "$RUNS"); do
  for v in "${voices[@]}"; do
    IFS='|' read -r lang id engine rate <<< "$v"
    key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
    body=$(python3 -c 'import json,sys; print(json.dumps({"model":"tts-1","voice":sys.argv[1],"input":sys.argv[2],"response_format":"pcm"}))' "$id" "${TEXT[$lang]}")
    curl -s -o "$out/$key.pcm" -w "%{time_starttransfer} %{time_total} %{size_download}\n" \
      -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$PORT/v1/audio/speech" >> "$out/$key"
  done
done

# Intelligibility: the last run's speech, as WAV, through the recognizer for its language.
for v in "${voices[@]}"; do
  IFS='|' read -r lang id engine rate <<< "$v"
  key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
  python3 - "$out/$key.pcm" "$out/$key.wav" "$rate" <<'PY'
import sys, wave
pcm = open(sys.argv[1], "rb").read()
with wave.open(sys.argv[2], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(int(sys.argv[3])); w.writeframes(pcm)
PY
  curl -s -F "file=@$out/$key.wav" -F "language=$lang" -F model=whisper-1 -F response_format=text \
    "http://127.0.0.1:$PORT/v1/audio/transcriptions" > "$out/$key.heard"
done

echo "# TTS benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| language | voice | engine | audio (s) | time to first audio (ms) | whole (ms) | real-time factor | round-trip WER |"
echo "|---|---|---|---|---|---|---|---|"
for v in "${voices[@]}"; do
  IFS='|' read -r lang id engine rate <<< "$v"
  key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
  secs=$(awk -v r="$rate" '{print $3/2/r}' "$out/$key" | median)
  ttfa=$(awk '{print $1*1000}' "$out/$key" | median)
  total=$(awk '{print $2*1000}' "$out/$key" | median)
  rtf=$(awk -v r="$rate" '{print $2/($3/2/r)}' "$out/$key" | median)
  wer=$(PYTHONPATH=bench python3 -c 'import sys, wer; r, h = open(sys.argv[1]).read(), open(sys.argv[2]).read(); print("%.0f%%" % (100 * wer.distance(wer.words(r), wer.words(h)) / len(wer.words(r))))' <(printf '%s' "${TEXT[$lang]}") "$out/$key.heard")
  printf "| %s | %s | %s | %.1f | %.0f | %.0f | %.3f | %s |\n" "$lang" "$id" "$engine" "$secs" "$ttfa" "$total" "$rtf" "$wer"
done
echo
echo "What the recognizer heard (last run):"
for v in "${voices[@]}"; do
  IFS='|' read -r lang id engine rate <<< "$v"
  key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
  echo "- $id: $(tr '\n' ' ' < "$out/$key.heard")"
done
