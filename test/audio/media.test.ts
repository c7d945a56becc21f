import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { toMono } from '../../lib/audio/mono.js';
import { probeFile } from '../../lib/audio/probe.js';

const t = suite('audio/media fixtures');
const media = (name: string) => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;

// The committed clips are the same 2.5 s excerpt of speech (fixtures/make-sources.sh), so every
// decode must give ≈2.5 s at the stated rate and channel count, and correlate with the FLAC.
const CASES = [
  { file: 'clip.flac', codec: 'flac', rate: 16000, channels: 1 },
  { file: 'clip.mp3', codec: 'mp3', rate: 22050, channels: 1 },
  { file: 'clip.m4a', codec: 'aac', rate: 44100, channels: 2 },
  { file: 'clip.ogg', codec: 'opus', rate: 48000, channels: 1 },
  // AMR-NB is CELP: it re-synthesizes the waveform, so waveform correlation is lower (measured 0.78).
  { file: 'clip.amr', codec: 'amr_nb', rate: 8000, channels: 1, minCorrelation: 0.6 },
  { file: 'clip.mp4', codec: 'aac', rate: 48000, channels: 1 },
] as const;

function correlation(a: Float32Array, b: Float32Array, maxLag: number): number {
  let best = 0;
  const n = Math.min(a.length, b.length) - maxLag;
  for (let lag = -maxLag; lag <= maxLag; lag += 1) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = maxLag; i < n; i++) {
      const x = a[i]!;
      const y = b[i + lag]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    best = Math.max(best, ab / Math.sqrt(aa * bb));
  }
  return best;
}

let reference: Float32Array;
t.before(async () => {
  reference = toMono(await decodeFile(media('clip.flac'), { sampleRate: 8000 }));
});

for (const c of CASES) {
  t(`${c.file}: probe and decode (${c.codec}, ${c.rate} Hz, ${c.channels} ch)`, async () => {
    const p = await probeFile(media(c.file));
    assert.is(p.codec, c.codec);
    assert.is(p.sampleRate, c.rate);
    assert.is(p.channels, c.channels);
    assert.ok(Math.abs(p.durationSec - 2.5) < 0.1, `duration ${p.durationSec}`);
    if (c.file === 'clip.mp4') assert.ok(p.hasVideo);
    const mono = toMono(await decodeFile(media(c.file), { sampleRate: 8000 }));
    // Same speech: normalized correlation with the lossless reference (allowing codec delay).
    const r = correlation(reference, mono, 200);
    // Unrelated speech correlates well below 0.3.
    assert.ok(r > ('minCorrelation' in c ? c.minCorrelation : 0.8), `correlation ${r.toFixed(3)}`);
  });
}

t.run();
