// Tile-weight probe (issue 3): z at the TRUE alignment of a musts cell's clips (records of
// miss-probe.ts) with the closed-form weights (boost^0.5) and with the learned table
// (lib/mark/tile-weights.ts); z = sum r s / sqrt(sum r^2) over the leg layer's tiles.
//   IN=/tmp/miss-opus.json CI_=2 CHAIN=opus:24 node --import tsx benchmarks/probes/weights-probe.ts
import { readFileSync } from 'node:fs';
import { tileFeatures } from '../../lib/mark/features.js';
import { keyFromBytes } from '../../lib/mark/index.js';
import { PROFILE_V1 } from '../../lib/mark/pattern.js';
import { LEG_TILE_WEIGHTS } from '../../lib/mark/tile-weights.js';
import { loadVoices } from '../meeting.js';
import { mustsMeetings, truthAlignment } from './truth.js';
import type { ClipRecord } from './truth.js';

const key = keyFromBytes(new Uint8Array(32).fill(7));
const voices = await loadVoices();
const recs: ClipRecord[] = JSON.parse(readFileSync(process.env['IN']!, 'utf8'));
const meetingOf = mustsMeetings({ condIdx: Number(process.env['CI_']), chain: process.env['CHAIN']!, key, voices });
const K = PROFILE_V1.bands;
const ratios: number[] = [];
for (const r of recs) {
  const { pattern, analysis, phase, n0 } = truthAlignment(await meetingOf(r.trial), r.s0, r.s1, key);
  const z = (weights: Float64Array | null): number => {
    const f = tileFeatures(analysis, { rate: 1, freqScale: 1, phaseSec: phase }, PROFILE_V1, undefined, 'leg', undefined, { weights });
    let c = 0;
    let q = 0;
    for (let m = 0; m < f.chips; m++) for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]!;
      if (v !== 0) (c += v * pattern.sign(n0 + m, k)), (q += v * v);
    }
    return c / Math.sqrt(q);
  };
  const z0 = z(null);
  const z1 = z(LEG_TILE_WEIGHTS);
  ratios.push(z1 / z0);
  if (r.z / r.zNeed < 1.1) console.log(r.trial, r.c, 'detector z/zNeed', (r.z / r.zNeed).toFixed(3), 'truth z', z0.toFixed(2), '->', z1.toFixed(2), 'x', (z1 / z0).toFixed(3), '=> est', ((r.z / r.zNeed) * (z1 / z0)).toFixed(3));
}
ratios.sort((a, b) => a - b);
const q = (p: number) => ratios[Math.min(ratios.length - 1, Math.floor(p * ratios.length))]!.toFixed(3);
console.log('gain (learned / closed form) p10', q(0.1), 'median', q(0.5), 'p90', q(0.9), 'min', q(0), 'n', ratios.length);
