#!/usr/bin/env bash
# Speech-synthesis benchmark: real-time factor and time to first audio of each engine through the
# running server's streamed `POST /v1/audio/speech` (PCM), on a five-sentence paragraph; runs
# interleaved across voices; medians.
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

EN="The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It is easy to tell the depth of a well. These days a chicken leg is a rare dish. Rice is often served in round bowls."
VI="Hôm nay trời rất đẹp. Chúng tôi đi dạo trong công viên. Mẹ tôi mua ba kilôgam gạo ở chợ. Buổi tối cả nhà cùng ăn cơm. Ngày mai tôi sẽ đi học sớm."
voices=("en_US-joe-medium|piper|$EN" "espeak:en-us|espeak|$EN" "espeak:vi|espeak|$VI")
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

for run in $(seq 1 "$RUNS"); do
  for v in "${voices[@]}"; do
    IFS='|' read -r id engine text <<< "$v"
    key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
    body=$(python3 -c 'import json,sys; print(json.dumps({"model":"tts-1","voice":sys.argv[1],"input":sys.argv[2],"response_format":"pcm"}))' "$id" "$text")
    curl -s -o /dev/null -w "%{time_starttransfer} %{time_total} %{size_download}\n" \
      -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$PORT/v1/audio/speech" >> "$out/$key"
  done
done

echo "# TTS benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| voice | engine | audio (s) | time to first audio (ms) | whole (ms) | real-time factor |"
echo "|---|---|---|---|---|---|"
for v in "${voices[@]}"; do
  IFS='|' read -r id engine _ <<< "$v"
  key=$(echo "$id" | tr -c 'A-Za-z0-9' _)
  secs=$(awk '{print $3/2/22050}' "$out/$key" | median)
  ttfa=$(awk '{print $1*1000}' "$out/$key" | median)
  total=$(awk '{print $2*1000}' "$out/$key" | median)
  rtf=$(awk '{print $2/($3/2/22050)}' "$out/$key" | median)
  printf "| %s | %s | %.1f | %.0f | %.0f | %.3f |\n" "$id" "$engine" "$secs" "$ttfa" "$total" "$rtf"
done
