import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { embedAudio } from '../../lib/mark/embed.js';
import { timecodeConfidence } from '../../lib/mark/detect/timecode-decode.js';
import { analyzeClip } from '../../lib/mark/features/analysis.js';
import { tileFeatures } from '../../lib/mark/features/tiles.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { LegPattern } from '../../lib/mark/pattern.js';
import { PROFILE_V1 } from '../../lib/mark/profile.js';
import { speech } from './speech.js';

const t = suite('mark/timecode');
const rate = 16000;
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 31 + 11) & 0xff));

t('timecode confidence is high at the true block and low at a wrong one', async () => {
  const Tc = PROFILE_V1.chipSec;
  const P = PROFILE_V1.period;
  const offset = 3 * 3600 + 12 * Tc; // chip-aligned session offset
  const x = (await speech('allison-2')).subarray(20 * rate, 30 * rate);
  const y = embedAudio({ channels: [x], sampleRate: rate }, { key, token: 'tc-leg', offsetSec: offset }).channels[0]!;
  const pattern = new LegPattern(key, 'tc-leg');
  const f = tileFeatures(analyzeClip(y, rate), { rate: 1, freqScale: 1, phaseSec: 0 });
  const n0 = Math.round(offset / Tc);
  const right = timecodeConfidence(f, pattern, n0, 0, f.chips);
  assert.ok(right > 0.99, `true block ${right}`);
  // Same sync position, block off by 5 (5.12 s later): the timecode layer no longer agrees.
  const wrong = timecodeConfidence(f, pattern, n0 + 5 * P, 0, f.chips);
  assert.ok(wrong < 0.01, `wrong block ${wrong}`);
  // Unmarked audio: no block is credible.
  const none = timecodeConfidence(tileFeatures(analyzeClip(x, rate), { rate: 1, freqScale: 1, phaseSec: 0 }), pattern, n0, 0, f.chips);
  assert.ok(none < 0.5, `unmarked ${none}`);
});

t.run();
