import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeClip, chipCount, featureGrid, gatherFeatures, gridRows, tileFeatures } from '../../lib/mark/features.js';
import { PROFILE_V1 } from '../../lib/mark/pattern.js';
import { speech } from './speech.js';

const t = suite('mark/features');
const rate = 16000;
const profile = PROFILE_V1;
const K = profile.bands;

t('bandCumulative: one pass over several scales equals scale-by-scale, and the band sums match a direct sum over bins', async () => {
  const x = (await speech('allison-1')).subarray(0, 4 * rate);
  const a = analyzeClip(x, rate, profile);
  const b = analyzeClip(x, rate, profile);
  a.prepareScales([0.97, 1, 1.03]);
  for (const s of [0.97, 1, 1.03]) {
    const ca = a.bandCumulative(s);
    const cb = b.bandCumulative(s);
    assert.is(ca.length, cb.length);
    for (let i = 0; i < ca.length; i++) assert.ok(Math.abs(ca[i]! - cb[i]!) <= 1e-9 * Math.max(1, Math.abs(cb[i]!)), `scale ${s} entry ${i}`);
  }
  // Cumulative sums never decrease.
  const c1 = a.bandCumulative(1);
  for (let f = 1; f <= a.frames; f++) for (let k = 0; k < K; k++) assert.ok(c1[f * K + k]! >= c1[(f - 1) * K + k]! - 1e-12);
});

t('frame grid: at rate 1 and a frame-aligned phase the gathered tiles are the exact tiles up to the per-band scale', async () => {
  const x = (await speech('allison-1')).subarray(10 * rate, 18 * rate);
  const a = analyzeClip(x, rate, profile);
  const hyp = { rate: 1, freqScale: 1, phaseSec: profile.chipSec / 8 };
  const grid = featureGrid(a, 1, profile);
  const M = chipCount(a, hyp, profile);
  const rows = gridRows(grid, hyp, profile, M);
  // Chip m starts 4 m frames after chip 0: the rows step by exactly four.
  for (let m = 2; m < M - 2; m++) assert.is(rows[m]! - rows[m - 1]!, 4);
  const g = gatherFeatures(grid, hyp, profile, a);
  const e = tileFeatures(a, hyp, profile);
  assert.is(g.chips, e.chips);
  // Away from the clip edges both are the same residual times the same weight, scaled per band by
  // a different constant (the grid normalizes over all frames, tileFeatures over this hypothesis's
  // chips); tiles clipped at +-3 in either are skipped.
  let compared = 0;
  for (let k = 0; k < K; k++) {
    if (profile.payloadBands.includes(k)) continue;
    let ratio = NaN;
    for (let m = 2; m < M - 2; m++) {
      const u = g.r[m * K + k]!;
      const v = e.r[m * K + k]!;
      assert.is(u === 0, v === 0, `tile ${m},${k}: dropped in one only`);
      if (u === 0 || Math.abs(u) > 2.5 || Math.abs(v) > 2.5) continue;
      if (Number.isNaN(ratio)) ratio = u / v;
      else assert.ok(Math.abs(u / v - ratio) <= 1e-4 * Math.abs(ratio), `band ${k} chip ${m}: ratio ${u / v} vs ${ratio}`);
      compared++;
    }
  }
  assert.ok(compared > 1000, `compared ${compared}`);
});

t('frame grid: other rates read the nearest frame, and a gather range leaves the other chips at 0', async () => {
  const x = (await speech('allison-1')).subarray(0, 6 * rate);
  const a = analyzeClip(x, rate, profile);
  const hyp = { rate: 1.03, freqScale: 1.03, phaseSec: (5 * profile.chipSec) / 8 };
  const grid = featureGrid(a, 1.03, profile);
  const M = chipCount(a, hyp, profile);
  const rows = gridRows(grid, hyp, profile, M);
  const hop = 0.008;
  for (let m = 0; m < M; m++) {
    if (rows[m]! < 0) continue;
    // Chip m's centre in clip time vs the grid tile's centre (frames [i, i + 4) span cumulative positions i..i + 4).
    const centre = (hyp.phaseSec + (m + 0.5) * profile.chipSec) / hyp.rate;
    const tileCentre = (rows[m]! + 2 - 0.5) * hop + 0.016;
    assert.ok(Math.abs(centre - tileCentre) <= hop / 2 + 1e-9, `chip ${m}: ${centre} vs ${tileCentre}`);
  }
  const part = gatherFeatures(grid, hyp, profile, a, undefined, [10, 20]);
  const full = gatherFeatures(grid, hyp, profile, a);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const want = m >= 10 && m < 20 ? full.r[m * K + k]! : 0;
      assert.is(part.r[m * K + k], want);
    }
  }
});

t.run();
