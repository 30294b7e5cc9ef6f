#!/usr/bin/env bash
# Installs the system packages Sokuji needs when they are missing (Debian/Ubuntu).
# whisper.cpp is built from source by whisper-rs: cmake, clang and libclang-dev.
# espeak-ng and sox synthesize and prepare test speech; libespeak-ng-dev for the TTS engines. python3 + pip fetch models.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
# libespeak-ng: eSpeak NG voices and the phonemes of Piper voices (linked by sokuji-espeak).
dpkg -s libespeak-ng-dev >/dev/null 2>&1 || need+=(libespeak-ng-dev)
command -v sox >/dev/null || need+=(sox)
command -v python3 >/dev/null || need+=(python3)
# pip fetches the models; venv holds the OpenAI SDK the tests drive (Debian splits both out).
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "python3 has no pip: install python3-pip" >&2; exit 1; }
