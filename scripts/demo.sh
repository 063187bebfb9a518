#!/usr/bin/env bash
# Set up, then run the main job on real media that installs offline: build a collection
# (photos, Tux Paint stamps and sounds, voice prompts, videos; one corrupt file), search it by
# text, photo and sound, find video moments, summarise a video, then classify and transcribe.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SAMPLES="${SENSORIUM_SAMPLES:-/tmp/sensorium-samples}"
rm -rf "$SAMPLES"
.venv/bin/python scripts/samples.py "$SAMPLES"
export SENSORIUM_DB="$SAMPLES/collection"
S="$PWD/.venv/bin/sensorium"
cd "$SAMPLES"
echo; echo "== sensorium ingest library/   (one corrupt file: it is reported and the rest goes on)"
$S ingest library/ || true
echo; echo "== again: nothing changed, nothing is encoded"
$S ingest library/ || true
echo; echo "== sensorium stats"
$S stats
echo; echo '== text -> photo:  sensorium search "a tiger" --type image -k 3'
$S search "a tiger" --type image -k 3
echo; echo '== photo -> photo: sensorium search --image queries/cat.jpg --type image -k 3'
$S search --image queries/cat.jpg --type image -k 3
echo; echo '== sound -> sound: sensorium search --audio queries/sheep.ogg --type audio -k 3'
$S search --audio queries/sheep.ogg --type audio -k 3
echo; echo '== text -> speech: sensorium search "what is my password" --path "*/speech/*" -k 3'
$S search "what is my password" --path "*/speech/*" -k 3
echo; echo '== text -> video moment: sensorium search "a tiger" --type video -k 2'
$S search "a tiger" --type video -k 2
echo; echo '== what is said: sensorium search "where does he say gorilla" -k 1'
$S search "where does he say gorilla" -k 1
echo; echo '== near-duplicates (Tux Paint ships some recordings twice): sensorium duplicates'
$S duplicates
echo; echo '== sensorium summarize library/videos/tuxpaint-01.mp4 --sheet sheet.png'
$S summarize library/videos/tuxpaint-01.mp4 --sheet "$SAMPLES/sheet.png"
echo; echo '== sensorium classify library/photos/*.jpg --labels ...'
$S classify library/photos/*.jpg --labels "cat,dog,horse,coffee,rocket,person,flower,building,motorcycle,bird" --top 2
echo; echo '== sensorium transcribe library/speech/hello-world.wav library/speech/conf-onlyperson.wav'
$S transcribe library/speech/hello-world.wav library/speech/conf-onlyperson.wav
echo; echo '== sensorium describe (labels, text read in an image, what is said)'
$S describe /usr/share/tuxpaint/stamps/town/roadsigns/stop.png library/speech/hello-world.wav --read
