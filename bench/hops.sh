#!/usr/bin/env bash
# gRPC overhead per hop: the same Normalize/Transcribe/Synthesize/Translate calls on the same
# engines in-process and through loopback gRPC (server and production client in one process),
# alternating call by call; p50/p99 of each side and their difference at p50.
#
# Usage: bash bench/hops.sh   (ITERATIONS=50)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
SOKUJI="$CARGO_TARGET_DIR/release/sokuji"
[ -x "$SOKUJI" ] || cargo build --release --locked
echo "# gRPC hop cost $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
SOKUJI_LOG=warn "$SOKUJI" bench-hops --iterations "${ITERATIONS:-50}" --speech "$SOKUJI_TESTDATA/vieneu/binh.wav"
