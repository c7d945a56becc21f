import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeClip, chipCount } from '../../lib/mark/features/analysis.js';
import { featureGrid, gatherFeatures, gridRows } from '../../lib/mark/features/grid.js';
import { tileFeatures } from '../../lib/mark/features/tiles.js';
import { WEIGHT_BINS, boostBin, weightTable } from '../../lib/mark/features/weights.js';
import { PROFILE_V1 } from '../../lib/mark/profile.js';
import { speech } from './speech.js';

const t = suite('mark/features');
const rate = 16000;
const profile = PROFILE_V1;
const K = profile.bands;

t('bandCumulative: one pass over several scales equals scale-by-scale, and the band sums match a direct sum over bins', async () => {
  const x = (await speech('allison-1')).subarray(0, 4 * rate);
  const a = analyzeClip(x, rate, { profile });
  const b = analyzeClip(x, rate, { profile });
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
  const a = analyzeClip(x, rate, { profile });
  const hyp = { rate: 1, freqScale: 1, phaseSec: profile.chipSec / 8 };
  const grid = featureGrid(a, 1);
  const M = chipCount(a, hyp);
  const rows = gridRows(grid, hyp, M);
  // Chip m starts 4 m frames after chip 0: the rows step by exactly four.
  for (let m = 2; m < M - 2; m++) assert.is(rows[m]! - rows[m - 1]!, 4);
  const g = gatherFeatures(grid, hyp, a);
  const bins = new Uint8Array(M * K);
  tileFeatures(a, hyp, { bins });
  const e = tileFeatures(a, hyp);
  const table = weightTable(profile, 'leg')!;
  assert.is(g.chips, e.chips);
  // Away from the clip edges both are the same residual times the same weight, scaled per band by
  // a different constant and centred on a different mean (the grid normalizes over all frames,
  // tileFeatures over this hypothesis's chips): u = alpha_k v + beta_k. Tiles possibly clipped at
  // +-3 in either (|value| / weight near 3) are skipped.
  let compared = 0;
  for (let k = 0; k < K; k++) {
    if (profile.payloadBands.includes(k)) continue;
    const pairs: [number, number][] = [];
    for (let m = 2; m < M - 2; m++) {
      const u = g.r[m * K + k]!;
      const v = e.r[m * K + k]!;
      assert.is(u === 0, v === 0, `tile ${m},${k}: dropped in one only`);
      if (u === 0) continue;
      const w = table[k * WEIGHT_BINS + bins[m * K + k]!]!;
      if (Math.abs(u) > 2 * w || Math.abs(v) > 2 * w) continue;
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
  const a = analyzeClip(x, rate, { profile });
  const exact = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec: 0 });
  const gathered = gatherFeatures(featureGrid(a, 1), { rate: 1, freqScale: 1, phaseSec: 0 }, a);
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
  const a = analyzeClip(x, rate, { profile });
  const hyp = { rate: 1.03, freqScale: 1.03, phaseSec: (5 * profile.chipSec) / 8 };
  const grid = featureGrid(a, 1.03);
  const M = chipCount(a, hyp);
  const rows = gridRows(grid, hyp, M);
  const hop = 0.008;
  for (let m = 0; m < M; m++) {
    if (rows[m]! < 0) continue;
    // Chip m's centre in clip time vs the grid tile's centre (frames [i, i + 4) span cumulative positions i..i + 4).
    const centre = (hyp.phaseSec + (m + 0.5) * profile.chipSec) / hyp.rate;
    const tileCentre = (rows[m]! + 2 - 0.5) * hop + 0.016;
    assert.ok(Math.abs(centre - tileCentre) <= hop / 2 + 1e-9, `chip ${m}: ${centre} vs ${tileCentre}`);
  }
  const part = gatherFeatures(grid, hyp, a, { range: [10, 20] });
  const full = gatherFeatures(grid, hyp, a);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const want = m >= 10 && m < 20 ? full.r[m * K + k]! : 0;
      assert.is(part.r[m * K + k], want);
    }
  }
});

t('boost bins: floor(log2(boost^2)) from 1, the last bin open-ended', () => {
  assert.is(boostBin(1), 0);
  assert.is(boostBin(1.999), 0);
  assert.is(boostBin(2), 1);
  assert.is(boostBin(1000), 9);
  assert.is(boostBin(2047.9), 10);
  assert.is(boostBin(2048), WEIGHT_BINS - 1);
  assert.is(boostBin(1e15), WEIGHT_BINS - 1);
  assert.is(boostBin(0.5), 0);
});

t('learned tile weights: a finite non-negative table for the leg layer of v1 (payload bands 0), closed form elsewhere', () => {
  const w = weightTable(profile, 'leg');
  assert.ok(w instanceof Float64Array);
  assert.is(w!.length, K * WEIGHT_BINS);
  for (let i = 0; i < w!.length; i++) assert.ok(Number.isFinite(w![i]!) && w![i]! >= 0 && w![i]! <= 1, `entry ${i}: ${w![i]}`);
  for (const k of profile.payloadBands) for (let b = 0; b < WEIGHT_BINS; b++) assert.is(w![k * WEIGHT_BINS + b], 0);
  assert.is(Math.max(...w!), 1);
  assert.is(weightTable(profile, 'payload'), null);
});

t('learned tile weights: the table in lib/mark/tile-weights.ts is the one models/tile-weights.json records (no hand edits)', () => {
  const rec = JSON.parse(readFileSync(new URL('../../models/tile-weights.json', import.meta.url), 'utf8')) as { schema: string; bands: number; bins: number; weights: number[] };
  assert.is(rec.schema, 'earmark.tile-weights/1');
  assert.is(rec.bands, K);
  assert.is(rec.bins, WEIGHT_BINS);
  const w = weightTable(profile, 'leg')!;
  assert.equal([...w], rec.weights);
});

t('tileFeatures: the weights option replaces the table tile by tile, and bins report each kept tile', async () => {
  const x = (await speech('allison-2')).subarray(0, 6 * rate);
  const a = analyzeClip(x, rate, { profile });
  const hyp = { rate: 1, freqScale: 1, phaseSec: 0.004 };
  const M = chipCount(a, hyp);
  const bins = new Uint8Array(M * K);
  const ones = new Float64Array(K * WEIGHT_BINS).fill(1);
  const plain = Float32Array.from(tileFeatures(a, hyp, { weights: ones, bins }).r);
  const learned = tileFeatures(a, hyp).r;
  const table = weightTable(profile, 'leg')!;
  let kept = 0;
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const i = m * K + k;
      const b = bins[i]!;
      if (b === 255) {
        assert.is(plain[i], 0);
        assert.is(learned[i], 0);
        continue;
      }
      assert.ok(b < WEIGHT_BINS);
      kept++;
    }
  }
  assert.ok(kept > M * 10, `kept ${kept}`);
  // Before centring, learned = plain x table[band, bin]. Centring subtracts a per-band mean from
  // each, so per band: learned - plain x w = mu_k w - nu_k exactly (mu_k: plain's mean before
  // centring, nu_k: the weighted one), a line in w.
  let checked = 0;
  for (let k = 0; k < K; k++) {
    const pts: [number, number][] = [];
    for (let m = 0; m < M; m++) {
      const i = m * K + k;
      if (bins[i] === 255) continue;
      const w = table[k * WEIGHT_BINS + bins[i]!]!;
      // Weight 0 drops the tile (features hold 0 for dropped tiles and centring skips them).
      if (w === 0) {
        assert.is(learned[i], 0);
        continue;
      }
      pts.push([w, learned[i]! - plain[i]! * w]);
    }
    if (pts.length < 10) continue;
    const n = pts.length;
    const mw = pts.reduce((s, [w]) => s + w, 0) / n;
    const md = pts.reduce((s, [, d]) => s + d, 0) / n;
    const sww = pts.reduce((s, [w]) => s + (w - mw) ** 2, 0);
    const slope = sww > 0 ? pts.reduce((s, [w, d]) => s + (w - mw) * (d - md), 0) / sww : 0;
    for (const [w, d] of pts) assert.ok(Math.abs(d - md - slope * (w - mw)) < 1e-4, `band ${k}: residual ${d - md - slope * (w - mw)}`);
    checked += n;
  }
  assert.ok(checked > M * 10, `checked ${checked}`);
});

t.run();
