/**
 * v2's leg statistic (one stage, shared by the fast path in span-v2.ts, the exhaustive fallback and
 * the tail-validation benchmark): at one alignment of a window, the leg layer's self-normalized
 * correlation Z = sum x s / sqrt(sum x^2) over the tiles' weights x (feature x soft host bit, both
 * functions of the audio alone) and the leg's signs s, plain and with per-block weights from the
 * key layer's local evidence (cross-fitted: the key layer's stream is independent of every leg's).
 * Under the null (the leg is not in the audio) each is a weighted sum of fair, independent signs,
 * so its tail is bounded by stats.ts signSumTail whatever the host.
 */
import type { BandAnalysis } from '../features/analysis.js';
import type { TileFeatures } from '../features/tiles.js';
import { softBit } from '../host-hash.js';
import type { HostHash } from '../host-hash.js';
import type { Hypothesis } from '../search.js';
import type { LegLayer, LegPattern } from '../pattern.js';
import { patternCycleChips } from '../profile.js';
import type { MarkProfile } from '../profile.js';

/** Half-width (blocks) of the key layer's local evidence that weights the leg layer. */
export const WEIGHT_HALF = 1;
/** Statistics per leg and place: plain and key-weighted. */
export const LEG_STATISTICS = 2;

/**
 * Per 1.024 s block (session blocks of relative chips [ma, mb) at session chip n0 of relative chip
 * 0): the key layer's local evidence, z over blocks b - 1..b + 1 floored at 0 -- the weight of the
 * leg layer's block b in the cross-fitted statistic.
 */
export function keyWeights(f: TileFeatures, keyLayer: LegPattern, n0: number, ma: number, mb: number, profile: MarkProfile): Float64Array {
  const P = profile.period;
  const K = profile.bands;
  const b0 = Math.floor((n0 + ma) / P);
  const B = Math.floor((n0 + mb - 1) / P) - b0 + 1;
  const c = new Float64Array(B);
  const q = new Float64Array(B);
  for (let m = ma; m < mb; m++) {
    const n = n0 + m;
    const b = Math.floor(n / P) - b0;
    const row = m * K;
    for (let k = 0; k < K; k++) {
      const x = f.r[row + k]!;
      if (x === 0) continue;
      c[b]! += x * keyLayer.sign(n, k);
      q[b]! += x * x;
    }
  }
  return Float64Array.from(c, (_, b) => {
    let a = 0;
    let e = 0;
    for (let j = Math.max(0, b - WEIGHT_HALF); j <= Math.min(B - 1, b + WEIGHT_HALF); j++) (a += c[j]!), (e += q[j]!);
    return e > 0 ? Math.max(0, a / Math.sqrt(e)) : 0;
  });
}

/**
 * The tiles of one window at one alignment, prepared once for every leg and block tried there: the
 * nonzero tiles' weights (feature x soft host bit, functions of the audio alone), their bit index
 * within the window's packed signs, their block, and the per-block energies.
 */
export interface PreparedPlace {
  x: Float64Array;
  bit: Int32Array;
  block: Int32Array;
  /** Sum x^2 over all tiles, and per block. */
  q: number;
  qBlock: Float64Array;
}

export function preparePlace(f: TileFeatures, host: Float64Array, shift: number, ma: number, mb: number, K: number, P: number): PreparedPlace {
  let count = 0;
  for (let m = ma; m < mb; m++) for (let k = 0; k < K; k++) if (f.r[m * K + k]! * host[(m - ma) * K + k]! !== 0) count++;
  const x = new Float64Array(count);
  const bit = new Int32Array(count);
  const block = new Int32Array(count);
  const b0 = Math.floor((shift + ma) / P);
  const qBlock = new Float64Array(Math.floor((shift + mb - 1) / P) - b0 + 1);
  let q = 0;
  let i = 0;
  for (let m = ma; m < mb; m++) {
    const b = Math.floor((shift + m) / P) - b0;
    for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]! * host[(m - ma) * K + k]!;
      if (v === 0) continue;
      x[i] = v;
      bit[i] = (m - ma) * K + k;
      block[i] = b;
      q += v * v;
      qBlock[b]! += v * v;
      i++;
    }
  }
  return { x, bit, block, q, qBlock };
}

/**
 * The place as the detector prepares it (span-v2.ts, and the tail benchmark through this function):
 * soft host bits of the session cells at key-layer alignment n0 (n0 mod 4 fixes the cells), the
 * key layer's part regressed out of the features at n0 (withoutKeyLayer), then preparePlace.
 */
export function prepareLegPlace(analysis: BandAnalysis, hostHash: HostHash, keyLayer: LegPattern, f: TileFeatures, hyp: Hypothesis, n0: number, ma: number, mb: number): PreparedPlace {
  const profile = analysis.profile;
  const host = hostHash.bits(analysis, hyp, n0, ma, mb);
  for (let i = 0; i < host.length; i++) host[i] = softBit(host[i]!);
  return preparePlace(withoutKeyLayer(f, keyLayer, n0, ma, mb, profile), host, n0 % profile.period, ma, mb, profile.bands, profile.period);
}

/**
 * A leg's statistic at a prepared place with relative chip ma at session chip n0 + ma: the larger
 * of the plain self-normalized correlation with the leg layer's signs and the key-weighted one
 * (weights per block: keyWeights). Scratch `bc` holds at least a block sum per block.
 */
export function legStatistic(pl: PreparedPlace, leg: LegLayer, n0: number, ma: number, mb: number, weights: Float64Array, bc: Float64Array): number {
  const bits = leg.bits(n0 + ma, mb - ma);
  const B = pl.qBlock.length;
  bc.fill(0, 0, B);
  let c = 0;
  const { x, bit, block } = pl;
  for (let i = 0; i < x.length; i++) {
    const t = bit[i]!;
    const v = (bits[t >> 3]! >> (t & 7)) & 1 ? x[i]! : -x[i]!;
    c += v;
    bc[block[i]!]! += v;
  }
  let cw = 0;
  let qw = 0;
  for (let b = 0; b < B; b++) {
    const w = weights[b]!;
    cw += w * bc[b]!;
    qw += w * w * pl.qBlock[b]!;
  }
  const plain = pl.q > 0 ? c / Math.sqrt(pl.q) : 0;
  const weighted = qw > 0 ? cw / Math.sqrt(qw) : 0;
  return Math.max(plain, weighted);
}

/**
 * The tile features with the key layer's part regressed out: the key layer (the same in every leg,
 * independent of every leg's signs) is, for a leg's statistic, interference, and it is known at the
 * key layer's alignment. A tile's residual feature (tiles.ts: its log energy minus the mean of its
 * four neighbours, band-scaled) carries the key layer as q = s(n, k) - mean of the neighbours' s;
 * per band, r' = r - beta_k q with beta_k the least-squares fit of r on q over the window's kept
 * tiles. r' is a function of the audio, the key and the key layer's alignment only, so a leg's
 * statistic on it stays a weighted sum of the leg's fair signs (the bound is unchanged). Payload
 * bands are left as they are. Rows [ma, mb) are written; others are copied.
 */
export function withoutKeyLayer(f: TileFeatures, keyLayer: LegPattern, n0: number, ma: number, mb: number, profile: MarkProfile): TileFeatures {
  const K = profile.bands;
  const r = Float32Array.from(f.r);
  const skip = new Uint8Array(K);
  for (const b of profile.payloadBands) skip[b] = 1;
  const M = mb - ma;
  if (M <= 0) return { ...f, r };
  // Key signs of rows ma - 1 .. mb (one row of margin each side), session chips taken modulo the
  // key layer's cycle (it repeats exactly; LegPattern.sign wants n >= 0).
  const cycle = patternCycleChips(profile);
  const S = new Int8Array((M + 2) * K);
  for (let j = 0; j < M + 2; j++) {
    const n = (((n0 + ma - 1 + j) % cycle) + cycle) % cycle;
    for (let k = 0; k < K; k++) S[j * K + k] = keyLayer.sign(n, k);
  }
  const q = new Float64Array(M * K);
  const num = new Float64Array(K);
  const den = new Float64Array(K);
  for (let j = 0; j < M; j++) {
    const row = (j + 1) * K;
    for (let k = 0; k < K; k++) {
      const v = r[(ma + j) * K + k]!;
      if (v === 0 || skip[k]) continue;
      let nb = S[row - K + k]! + S[row + K + k]!;
      let cnt = 2;
      if (k > 0) (nb += S[row + k - 1]!), cnt++;
      if (k < K - 1) (nb += S[row + k + 1]!), cnt++;
      const qq = S[row + k]! - nb / cnt;
      q[j * K + k] = qq;
      num[k]! += v * qq;
      den[k]! += qq * qq;
    }
  }
  for (let j = 0; j < M; j++)
    for (let k = 0; k < K; k++) {
      const i = (ma + j) * K + k;
      if (r[i] === 0 || skip[k] || !(den[k]! > 0)) continue;
      r[i] = r[i]! - (num[k]! / den[k]!) * q[j * K + k]!;
    }
  return { ...f, r };
}
