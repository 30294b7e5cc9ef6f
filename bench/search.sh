#!/usr/bin/env bash
# Search benchmark: embedding throughput (passages/s: 128 passages of four real Vietnamese
# sentences, about 30 s of speech each, one per call and 32 per call) and the embedded index
# (build time, recall@10 against exact search over the same vectors, p50/p99 query latency of
# 200 queries) at N synthetic 384-dimensional passages, clustered as sentence embeddings are.
#
# Usage: bash bench/search.sh            (N="100000"; N="100000 1000000" for both sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$SOKUJI_TESTDATA"/vieneu/*.txt | sed 's/\([.!?]\)\([^ ]\)/\1\n\2/g' > "$work/sentences.txt"
echo "# Search benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| model | texts per call | passages | tokens per passage | passages/s |"
echo "|---|---|---|---|---|"
cargo run -q --release --locked -p sokuji-embed --example throughput -- "$SOKUJI_MODEL_DIR/e5-small-q4.bin" "$work/sentences.txt"
echo
echo "| index | passages | build (s) | recall@10 | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|---|---|"
for n in ${N:-100000}; do
  cargo run -q --release --locked -p sokuji-index --example recall -- "$n"
done
