/**
 * Cross-fitted statistics at a fixed alignment (session chip n0 of relative chip 0), for taps
 * where the tapped person's own, unmarked voice fills part of the clip: tiles there carry no mark
 * but count fully in the plain statistic's variance. Per 1.024 s block b, each layer's local
 * evidence (its z over blocks b - 1..b + 1, floored at 0) weights the OTHER layer:
 *   s2t = (z_sync + z_tc|w_sync) / sqrt 2,   t2s = (z_tc + z_sync|w_tc) / sqrt 2,
 * z_tc|w = sum_b w_b c_tc[b] / sqrt(sum_b w_b^2 q_tc[b]) (timecode tiles are independent),
 * z_sync|w = sum_b w_b c_sync[b] / sqrt(fold energy of the weighted sync tiles) (sync tiles of
 * one period position share a sign). Valid because the layers' signs are independent streams:
 * given one layer's signs (hence the weights), the other layer's weighted statistic has mean 0
 * and variance 1 exactly under no mark, and is uncorrelated with the first layer's z, so both
 * combinations are standardized like the plain statistic. (Cross-fitting: the weights never see
 * the signs they weight; cf. Chernozhukov et al. 2018, double/debiased machine learning.)
 * The detector evaluates them only at alignments its plain search found; its p-values count them
 * as STATISTICS x every hypothesis, so the Bonferroni bound holds whichever alignment was chosen.
 * The ±1 block neighbourhood was picked among ±1/±2/±3 on an AMR-NB 7.95k tap that failed
 * (10 of its 12 clips detected instead of 0).
 */
import type { TileFeatures } from '../features/tiles.js';
import type { LegPattern } from '../pattern.js';
import { isSyncTile } from '../profile.js';

/** Half-width (1.024 s blocks) of the local evidence that weights the other layer. */
const XFIT_HALF = 1;

/**
 * [s2t, t2s] of tile features f over relative chips [ma, mb) at session chip n0 of relative chip 0
 * ([-Infinity, -Infinity] when no block).
 */
export function crossFitScore(pattern: LegPattern, f: TileFeatures, ma: number, mb: number, n0: number): [number, number] {
  const profile = pattern.profile;
  const P = profile.period;
  const K = profile.bands;
  const payloadBand = new Uint8Array(K);
  for (const k of profile.payloadBands) payloadBand[k] = 1;
  const foldS = new Float64Array(P * K);
  const b0 = Math.floor((n0 + ma) / P);
  const B = Math.floor((n0 + mb - 1) / P) - b0 + 1;
  if (B < 1) return [-Infinity, -Infinity];
  const cs = new Float64Array(B);
  const qs = new Float64Array(B);
  const ct = new Float64Array(B);
  const qt = new Float64Array(B);
  const r = f.r;
  // Per block: each layer's correlation and tile energy; and the unweighted sync fold.
  for (let m = ma; m < mb; m++) {
    const n = n0 + m;
    const b = Math.floor(n / P) - b0;
    const row = m * K;
    const vo = (n % P) * K;
    for (let k = 0; k < K; k++) {
      const x = r[row + k]!;
      if (x === 0 || payloadBand[k]) continue;
      const c = x * pattern.sign(n, k);
      if (isSyncTile(n, k)) (cs[b]! += c), (qs[b]! += x * x), (foldS[vo + k]! += x);
      else (ct[b]! += c), (qt[b]! += x * x);
    }
  }
  const foldEnergy = (): number => {
    let e = 0;
    for (let i = 0; i < foldS.length; i++) e += foldS[i]! ** 2;
    return e;
  };
  const vs = foldEnergy();
  const local = (c: Float64Array, q: Float64Array): Float64Array =>
    Float64Array.from(c, (_, b) => {
      let a = 0;
      let e = 0;
      for (let j = Math.max(0, b - XFIT_HALF); j <= Math.min(B - 1, b + XFIT_HALF); j++) (a += c[j]!), (e += q[j]!);
      return e > 0 ? Math.max(0, a / Math.sqrt(e)) : 0;
    });
  // Fold energy of the sync tiles, each weighted by its block's weight.
  const weightedFoldEnergy = (w: Float64Array): number => {
    foldS.fill(0);
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const wb = w[Math.floor(n / P) - b0]!;
      if (wb === 0) continue;
      const row = m * K;
      const vo = (n % P) * K;
      for (let k = 0; k < K; k++) if (!payloadBand[k] && isSyncTile(n, k)) foldS[vo + k]! += wb * r[row + k]!;
    }
    return foldEnergy();
  };
  const sum = (a: Float64Array): number => a.reduce((x, y) => x + y, 0);
  const vt = sum(qt);
  const zs = vs > 0 ? sum(cs) / Math.sqrt(vs) : 0;
  const zt = vt > 0 ? sum(ct) / Math.sqrt(vt) : 0;
  const ws = local(cs, qs);
  const wt = local(ct, qt);
  let a = 0;
  let e = 0;
  for (let b = 0; b < B; b++) (a += ws[b]! * ct[b]!), (e += ws[b]! ** 2 * qt[b]!);
  const s2t = (zs + (e > 0 ? a / Math.sqrt(e) : 0)) / Math.SQRT2;
  a = 0;
  for (let b = 0; b < B; b++) a += wt[b]! * cs[b]!;
  const vsw = weightedFoldEnergy(wt);
  const t2s = (zt + (vsw > 0 ? a / Math.sqrt(vsw) : 0)) / Math.SQRT2;
  return [s2t, t2s];
}
