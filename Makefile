# Sokuji: two commands do everything.
#   make run    install what is missing, fetch models, build, start the all-in-one server
#   make test   the same set-up, then every check and test CI runs
# Caches live outside the clone so that CI and fresh clones reuse them.
CACHE            ?= $(HOME)/.cache/sokuji
export CARGO_TARGET_DIR ?= $(CACHE)/target
export SOKUJI_MODEL_DIR ?= $(CACHE)/models
export SOKUJI_TESTDATA  ?= $(CACHE)/testdata
SOKUJI := $(CARGO_TARGET_DIR)/release/sokuji
LISTEN ?= 127.0.0.1:8000
FUZZ_SECONDS ?= 60

.PHONY: run setup deps build models testdata test test-fast lint bench fuzz clean-cache

run: setup
	$(SOKUJI) serve --listen $(LISTEN)

setup: deps build models

deps:
	@bash scripts/install-deps.sh

build:
	cargo build --release --locked

# Every model the default configuration runs: Whisper base, the Vietnamese Conformer-CTC,
# Qwen2.5 1.5B (GGUF), the Piper voice and the ONNX Runtime they load.
models: build
	$(SOKUJI) models fetch

testdata:
	@bash scripts/testdata.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --release --locked --workspace --all-targets -- -D warnings

# The fast tier alone: every crate's unit tests, the live core on fake engines; no models, no
# test data, seconds once built.
test-fast:
	cargo test --release --locked --workspace --lib --bins

# Both tiers. Inference is CPU-bound: tests run one at a time so that none starves another.
test: setup testdata lint
	RUST_TEST_THREADS=1 cargo test --release --locked --workspace --no-fail-fast
	@if [ -n "$${QDRANT_URL:-}" ]; then \
	  cargo test --release --locked -p sokuji-index --test engines -- --ignored qdrant; \
	else echo "Qdrant tests skipped: no registry ships a Qdrant server; set QDRANT_URL=qdrant://host:6334 to run them"; fi
	@if [ -n "$${SOKUJI_ORIGINAL_DIR:-}" ]; then \
	  RUST_TEST_THREADS=1 cargo test --release --locked -p sokuji --test e2e -- --ignored original_clients; \
	else echo "The original system's clients skipped: no registry ships them; set SOKUJI_ORIGINAL_DIR=/path/to/sokuji-bridge to run them"; fi

# WHISPER_CLI=/path/to/whisper-cli adds whisper.cpp's own CLI to the STT comparison (see bench/README.md).
bench: setup testdata
	bash bench/stt.sh
	bash bench/text.sh
	bash bench/translation.sh
	bash bench/tts.sh
	bash bench/hops.sh
	bash bench/live.sh
	bash bench/live_stt.sh
	bash bench/archive.sh
	bash bench/search.sh

# libFuzzer over the text normalizers (cargo install cargo-fuzz). This machine has only a stable
# toolchain: RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags; no sanitizer runtime, so none.
fuzz:
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none text_normalize -- -max_total_time=$(FUZZ_SECONDS)

clean-cache:
	rm -rf $(CACHE)
