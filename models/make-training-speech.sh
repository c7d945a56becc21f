#!/usr/bin/env bash
# Training speech for the detector's learned tile weights (models/train-tile-weights.ts), kept
# apart from the benchmark voices (fixtures/speech): Allison Smith's prompts that
# fixtures/make-sources.sh leaves out (it takes every second prompt of at least 1.5 s; these are
# the others), and five espeak-ng voices that no fixture uses, each reading another fixture
# voice's text (so no voice/text pair of the benchmarks recurs). Same tools, pinning and bitexact
# Ogg Opus output as fixtures/make-sources.sh; the outputs are committed (models/speech/).
#
#   bash models/make-training-speech.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
FFMPEG="${FFMPEG:-$root/node_modules/@ffmpeg-installer/linux-x64/ffmpeg}"
ALLISON="${ALLISON:-/usr/share/asterisk/sounds/en_US_f_Allison}"
out="$here/speech"
text="$root/fixtures/speech/text"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# shellcheck source=fixtures/speech-sources.sh
. "$root/fixtures/speech-sources.sh"

# --- Allison: the prompts of at least 1.5 s that make-sources.sh skips (even positions), dealt
# round-robin into two files of ~120 s; Ogg Opus at 24 kbit/s.
deal_allison 0 2 120 train-allison "$work" "$work/manifest.txt"
for k in 0 1; do to_opus "$work/train-allison-$k.s16" "$out/train-allison-$((k + 1)).opus" 24k; done
cp "$work/manifest.txt" "$out/allison-prompts.txt"

# --- espeak-ng: voice|words-per-minute|pitch|name|text of another fixture voice
voices=(
  "en-gb-x-gbclan+m1|160|50|train-espeak-lanc-m1|espeak-us-f4"
  "en-us+f2|165|70|train-espeak-us-f2|espeak-scot-m5"
  "en-029+m4|150|42|train-espeak-car-m4|espeak-gb-f3"
  "en-gb-x-gbcwmd+f1|155|62|train-espeak-wm-f1|espeak-rp-m7"
  "en-gb+m6|170|38|train-espeak-gb-m6|espeak-us-m3"
)
for v in "${voices[@]}"; do
  IFS='|' read -r voice wpm pitch name txt <<<"$v"
  speak "$voice" "$wpm" "$pitch" "$text/$txt.txt" "$work/$name.s16" "$work"
  to_opus "$work/$name.s16" "$out/$name.opus" 24k
done
ls -l "$out"
