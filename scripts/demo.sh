#!/usr/bin/env bash
# Set up, then run the main job on real media that installs offline: zero-shot classification
# of sample photos (scikit-image, scikit-learn) and of Tux Paint sounds, and transcription of
# real speech (Asterisk prompts, LibriVox), with one deliberately corrupt file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SAMPLES="${SENSORIUM_SAMPLES:-/tmp/sensorium-samples}"
.venv/bin/python scripts/samples.py "$SAMPLES"
S=.venv/bin/sensorium
echo; echo "== sensorium classify (photos) =="
$S classify "$SAMPLES"/photos/*.jpg --labels "cat,dog,horse,coffee,rocket,person,flower,building,motorcycle,bird" --top 3 || true
echo; echo "== sensorium classify (sounds and a corrupt file; exit status 1 because one input failed) =="
$S classify "$SAMPLES"/sounds/* --labels "bird,dog,sheep,drum,washing machine,speech,car" --top 3 || true
echo; echo "== sensorium transcribe --model base =="
$S transcribe "$SAMPLES"/speech/* --model base
