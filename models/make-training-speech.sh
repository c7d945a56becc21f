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

ff() { "$FFMPEG" -hide_banner -nostdin -loglevel error -y "$@"; }
to_opus() { ff -f s16le -ar 16000 -ac 1 -i "$1" -c:a libopus -b:a 24k -application audio \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact -f ogg "$2"; }

# --- Allison: the prompts of at least 1.5 s that make-sources.sh skips (even positions), dealt
# round-robin into two files of ~120 s, 0.25 s of silence after each.
export LC_ALL=C
gap_bytes=$((16000 * 2 / 4))
target_bytes=$((120 * 16000 * 2))
for k in 0 1; do : >"$work/train-allison-$k.s16"; done
i=0
k=0
: >"$work/manifest.txt"
for f in "$ALLISON"/*.g722; do
  size=$(stat -c %s "$f")
  [ "$size" -ge 12000 ] || continue
  i=$((i + 1))
  [ $((i % 2)) -eq 0 ] || continue
  o="$work/train-allison-$k.s16"
  if [ "$(stat -c %s "$o")" -lt "$target_bytes" ]; then
    ff -f g722 -i "$f" -f s16le -ar 16000 -ac 1 - >>"$o"
    head -c "$gap_bytes" /dev/zero >>"$o"
    echo "train-allison-$((k + 1)): $(basename "$f")" >>"$work/manifest.txt"
  fi
  k=$(((k + 1) % 2))
  [ "$(stat -c %s "$work/train-allison-0.s16")" -lt "$target_bytes" ] || [ "$(stat -c %s "$work/train-allison-1.s16")" -lt "$target_bytes" ] || break
done
for k in 0 1; do to_opus "$work/train-allison-$k.s16" "$out/train-allison-$((k + 1)).opus"; done
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
  espeak-ng -v "$voice" -s "$wpm" -p "$pitch" -g 4 -w "$work/$name.wav" -f "$text/$txt.txt"
  ff -i "$work/$name.wav" -af aresample=resampler=soxr:precision=28,aformat=sample_fmts=flt -ar 16000 -ac 1 -f s16le "$work/$name.s16"
  to_opus "$work/$name.s16" "$out/$name.opus"
done
ls -l "$out"
