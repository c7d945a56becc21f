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

t('frame grid: at rate 1 and a frame-aligned phase the gathered tiles are the exact tiles up to a per-band affine map', async () => {
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
  // a different constant and centred on a different mean (the grid normalizes over all frames,
  // tileFeatures over this hypothesis's chips): u = alpha_k v + beta_k. Tiles clipped at +-3 in
  // either (|value| >= 3 before centring, the weights being >= 1) are skipped.
  let compared = 0;
  for (let k = 0; k < K; k++) {
    if (profile.payloadBands.includes(k)) continue;
    const pairs: [number, number][] = [];
    for (let m = 2; m < M - 2; m++) {
      const u = g.r[m * K + k]!;
      const v = e.r[m * K + k]!;
      assert.is(u === 0, v === 0, `tile ${m},${k}: dropped in one only`);
      if (u === 0 || Math.abs(u) > 2 || Math.abs(v) > 2) continue;
      pairs.push([u, v]);
    }
    if (pairs.length < 10) continue;
    const n = pairs.length;
    const mu = pairs.reduce((s, [u]) => s + u, 0) / n;
    const mv = pairs.reduce((s, [, v]) => s + v, 0) / n;
    const suv = pairs.reduce((s, [u, v]) => s + (u - mu) * (v - mv), 0);
    const svv = pairs.reduce((s, [, v]) => s + (v - mv) ** 2, 0);
    const alpha = suv / svv;
    assert.ok(alpha > 0.8 && alpha < 1.25, `band ${k}: scale ${alpha}`);
    for (const [u, v] of pairs) assert.ok(Math.abs(u - mu - alpha * (v - mv)) <= 1e-4, `band ${k}: ${u} vs ${alpha} * ${v}`);
    compared += n;
  }
  assert.ok(compared > 1000, `compared ${compared}`);
});

t('features are centred per band, so the sync fold over the 1.024 s period adds no per-band constant', async () => {
  const x = (await speech('allison-1')).subarray(0, 30 * rate);
  const a = analyzeClip(x, rate, profile);
  const exact = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec: 0 }, profile);
  const gathered = gatherFeatures(featureGrid(a, 1, profile), { rate: 1, freqScale: 1, phaseSec: 0 }, profile, a);
  for (const f of [exact, gathered]) {
    const P = profile.period;
    const fold = new Float64Array(P * K);
    let tileEnergy = 0;
    const sum = new Float64Array(K);
    const cnt = new Float64Array(K);
    for (let m = 0; m < f.chips; m++) {
      for (let k = 0; k < K; k++) {
        const v = f.r[m * K + k]!;
        if (v === 0) continue;
        sum[k]! += v;
        cnt[k]! += 1;
        if (((m + k) & 1) !== 0) continue;
        fold[(m % P) * K + k]! += v;
        tileEnergy += v * v;
      }
    }
    // Every band's kept tiles average to 0 (float32 rounding aside); the grid is centred over all
    // its rows, of which a hypothesis reads every fourth.
    if (f === exact) for (let k = 0; k < K; k++) if (cnt[k]! > 0) assert.ok(Math.abs(sum[k]! / cnt[k]!) < 1e-5, `band ${k}: mean ${sum[k]! / cnt[k]!}`);
    // The fold's energy (the sync correlation's exact null variance) is close to the tile energy,
    // as for independent tiles; before centring it was 2-3x on speech.
    const foldEnergy = fold.reduce((s, v) => s + v * v, 0);
    assert.ok(foldEnergy / tileEnergy < 1.4, `fold / tile energy ${foldEnergy / tileEnergy}`);
  }
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
