/**
 * v2's leg statistic (one stage, shared by the fast path in span-v2.ts, the exhaustive fallback and
 * the tail-validation benchmark): at one alignment of a window, the leg layer's self-normalized
 * correlation Z = sum x s / sqrt(sum x^2) over the tiles' weights x (feature x soft host bit, both
 * functions of the audio alone) and the leg's signs s, plain and with per-block weights from the
 * key layer's local evidence (cross-fitted: the key layer's stream is independent of every leg's).
 * Under the null (the leg is not in the audio) each is a weighted sum of fair, independent signs,
 * so its tail is bounded by stats.ts signSumTail whatever the host.
 */
import type { TileFeatures } from '../features/tiles.js';
import type { LegLayer, LegPattern } from '../pattern.js';
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
