#!/usr/bin/env bash
# Translation benchmark: Sokuji's candle engine on both GGUF models over bench/data/translation.tsv
# (per-sentence latency, prompt and generation tokens/s, peak RSS), with Sokuji's own K-quant tiles
# (where the CPU has AVX-512 VNNI) and with candle's kernels alone (SOKUJI_LLM_TILES=0), side by
# side with llama.cpp's llama-bench on the same files and the same thread count (prompt and
# generation tokens/s), interleaved run by run.
#
# Usage: [LLAMA_BENCH=/path/to/llama-bench] bash bench/translation.sh
#        (RUNS=3 THREADS=2 MODELS="1.5b 0.5b")
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CACHE:-$HOME/.cache/sokuji}"
: "${CARGO_TARGET_DIR:=$CACHE/target}" "${SOKUJI_MODEL_DIR:=$CACHE/models}"
export CARGO_TARGET_DIR SOKUJI_MODEL_DIR
RUNS="${RUNS:-3}"
THREADS="${THREADS:-2}"
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
cargo build --release --locked -p sokuji-llm --example translate_eval 2>/dev/null
MODELS="${MODELS:-1.5b 0.5b}"
cargo run --release --locked -q -- models fetch $(for m in $MODELS; do printf 'qwen2.5-%s ' "$m"; done) >/dev/null
EVAL="$CARGO_TARGET_DIR/release/examples/translate_eval"
DATA=bench/data/translation.tsv
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A FILES=(
  ["Qwen2.5-Coder-1.5B Q4_K_M"]="$SOKUJI_MODEL_DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
  ["Qwen2.5-Coder-0.5B"]="$SOKUJI_MODEL_DIR/qwen2.5-coder-0.5b-instruct.gguf"
)
declare -A CHOSEN=()
for m in $MODELS; do
  case "$m" in 1.5b) n="Qwen2.5-Coder-1.5B Q4_K_M" ;; 0.5b) n="Qwen2.5-Coder-0.5B" ;; *) echo "unknown model $m" >&2; exit 2 ;; esac
  CHOSEN["$n"]="${FILES[$n]}"
done
# The tiles run only where the CPU has AVX-512 VNNI; elsewhere both rows would be candle's.
KERNELS="candle"
grep -q avx512_vnni /proc/cpuinfo && KERNELS="tiles candle"
declare -A LABEL=([tiles]="sokuji (tiles)" [candle]="sokuji (candle kernels)")
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

for run in $(seq 1 "$RUNS"); do
  for name in "${!CHOSEN[@]}"; do
    m="${CHOSEN[$name]}"
    for k in $KERNELS; do
      key=$(echo "$name $k" | tr -c 'A-Za-z0-9' _)
      tiles=$([ "$k" = tiles ] && echo 1 || echo 0)
      SOKUJI_LLM_TILES=$tiles RAYON_NUM_THREADS=$THREADS /usr/bin/time -f "%M" -o "$out/$key.rss.$run" "$EVAL" "$m" < "$DATA" > "$out/$key.eval.$run"
    done
    key=$(echo "$name" | tr -c 'A-Za-z0-9' _)
    if [ -x "${LLAMA_BENCH:-}" ]; then
      "$LLAMA_BENCH" -m "$m" -t "$THREADS" -p 84 -n 16 -r 1 -o csv 2>/dev/null > "$out/$key.llama.$run" || true
    fi
  done
done

echo "# Translation benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| model | engine | sentence median (ms) | prompt tok/s | generated tok/s | peak RSS (MB) |"
echo "|---|---|---|---|---|---|"
for name in "${!CHOSEN[@]}"; do
  for k in $KERNELS; do
    key=$(echo "$name $k" | tr -c 'A-Za-z0-9' _)
    cat "$out/$key".eval.* > "$out/$key.all"
    # Columns: pair, prompt ms, prompt tokens, generate ms, generated tokens, text, retried.
    lat=$(awk -F'\t' '{print $2+$4}' "$out/$key.all" | median)
    pp=$(awk -F'\t' '{print $3/$2*1000}' "$out/$key.all" | median)
    tg=$(awk -F'\t' '$5>1 {print $5/$4*1000}' "$out/$key.all" | median)
    rss=$(cat "$out/$key".rss.* | awk '{print $1/1024}' | median)
    printf "| %s | %s | %.0f | %.1f | %.1f | %.0f |\n" "$name" "${LABEL[$k]}" "$lat" "$pp" "$tg" "$rss"
  done
  key=$(echo "$name" | tr -c 'A-Za-z0-9' _)
  # llama.cpp's derived figure uses the first kernel's token counts (the prompts are the same).
  cp "$out/$(echo "$name ${KERNELS%% *}" | tr -c 'A-Za-z0-9' _).all" "$out/$key.all"
  if ls "$out/$key".llama.* >/dev/null 2>&1; then
    # llama-bench CSV: the prompt-only and generation-only rows' avg_ts, by header name; medians.
    read -r lpp ltg < <(cat "$out/$key".llama.* | python3 -c '
import csv, sys, statistics
pp, tg = [], []
for row in csv.DictReader(l for l in sys.stdin if not l.startswith("build_commit") or "avg_ts" in l):
    if row.get("avg_ts") in (None, "avg_ts"):
        continue
    (pp if int(row["n_prompt"]) > 0 else tg).append(float(row["avg_ts"]))
print(statistics.median(pp), statistics.median(tg))')
    # Same sentences: llama.cpp's speeds applied to Sokuji's prompt and answer lengths.
    est=$(awk -F'\t' -v pp="$lpp" -v tg="$ltg" '{print $3/pp*1000 + $5/tg*1000}' "$out/$key.all" | median)
    printf "| %s | llama.cpp llama-bench | %.0f (derived) | %.1f | %.1f | - |\n" "$name" "$est" "$lpp" "$ltg"
  fi
done
echo
echo "Outputs of the last run (1.5B, each kernel):"
for k in $KERNELS; do
  f="$out/$(echo "Qwen2.5-Coder-1.5B Q4_K_M $k" | tr -c 'A-Za-z0-9' _).eval.$RUNS"
  [ -f "$f" ] || continue
  echo
  echo "${LABEL[$k]}:"
  awk -F'\t' '{printf "- %s: %s%s\n", $1, $6, ($7 ? " (" $7 ")" : "")}' "$f"
done
