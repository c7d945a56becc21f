/**
 * Detector front end, exact tiles: the detrended, normalized tile features of a clip under one
 * alignment hypothesis, so that the mark's +-d per tile stands out from the speech envelope.
 *
 * Residual (why): speech log-energy varies by tens of dB between tiles; the mark is a fraction of
 * a dB. Subtracting the mean of the four neighbouring tiles (time +-1 chip, band +-1; measured
 * better than time-only, band-only, 8-neighbour or separable second-difference detrending) removes
 * most of the envelope while the neighbours' independent signs leave the tile's own mark intact.
 * Tiles far below the band's or the clip's typical level (silence, bands a codec removed) are
 * dropped; each band is scaled to unit RMS and clipped at +-3 so no band or transient dominates,
 * then each tile is weighted (weights.ts) and each band is centred on its mean (centerBands).
 */
import { ANALYSIS_FRAME, ANALYSIS_HOP, ANALYSIS_RATE, FRAMES_PER_CHIP, chipCount } from './analysis.js';
import type { BandAnalysis } from './analysis.js';
import { MASK_RELEASE_SEC } from '../profile.js';
import { boostBin, inverseBandwidths, keptBands, tileWeight, weightTable } from './weights.js';
import type { FeatureLayer, WeightTable } from './weights.js';
import type { Hypothesis } from '../search.js';

export interface TileFeatures {
  /** Chips x bands, row-major; 0 for dropped tiles. */
  readonly r: Float32Array;
  readonly chips: number;
  readonly bands: number;
}

/**
 * Working memory of tileFeatures (grown on demand). One per scan (detect/workspace.ts) or per
 * call; never shared between calls that run at the same time.
 */
export class TileScratch {
  boundA = new Float64Array(0);
  boundB = new Float64Array(0);
  /** Log energy, energy per Hz and validity of three consecutive chips (ring rows). */
  ringLog = new Float64Array(0);
  ringDensity = new Float64Array(0);
  ringValid = new Float64Array(0);
  weight = new Float64Array(0);

  ensure(K: number, tiles: number): void {
    if (this.boundA.length < K) {
      this.boundA = new Float64Array(K);
      this.boundB = new Float64Array(K);
      this.ringLog = new Float64Array(3 * K);
      this.ringDensity = new Float64Array(3 * K);
      this.ringValid = new Float64Array(3 * K);
    }
    if (this.weight.length < tiles) this.weight = new Float64Array(2 * tiles);
  }
}

export interface TileOptions {
  /** Clip-time range (s): only chips inside it (plus one each side for detrending) are computed; the others are 0. */
  rangeSec?: readonly [number, number];
  /** 'leg' (default) zeroes the payload bands, which carry the key-level payload rather than a leg's own pattern; 'payload' keeps every band. */
  layer?: FeatureLayer;
  /** A reusable output buffer (used when it holds at least chips x bands; zeroed first, as a new array would be). */
  out?: Float32Array;
  /** Override the weighting (training: a table of ones gives the plain normalized residual). */
  weights?: WeightTable;
  /** Receives every computed tile's boost bin (chips x bands; 255 where no residual). */
  bins?: Uint8Array;
  scratch?: TileScratch;
}

/**
 * Tile features under one hypothesis.
 *
 * Implementation (speed; the detector calls this for every fine hypothesis): one streaming pass
 * over the chip boundaries computes each chip's energies, logs and masking peak into a three-row
 * ring (chipEnergies), and, once the next chip is known, the previous chip's residual and weight
 * (chipResidual); a second pass applies the per-band scale, which needs the whole range
 * (scaleClipWeight). Every tile goes through the same floating-point operations in the same order
 * as the plain form (energies, then residuals, then scale and weights).
 */
export function tileFeatures(analysis: BandAnalysis, hyp: Hypothesis, opts: TileOptions = {}): TileFeatures {
  const profile = analysis.profile;
  const K = profile.bands;
  const M = chipCount(analysis, hyp);
  const layer = opts.layer ?? 'leg';
  const table = opts.weights !== undefined ? opts.weights : weightTable(profile, layer);
  const bins = opts.bins;
  if (bins) bins.fill(255, 0, M * K);
  let mLo = 0;
  let mHi = M;
  const range = opts.rangeSec;
  if (range) {
    mLo = Math.max(0, Math.floor((hyp.rate * range[0] - hyp.phaseSec) / profile.chipSec) - 1);
    mHi = Math.min(M, Math.ceil((hyp.rate * range[1] - hyp.phaseSec) / profile.chipSec) + 1);
  }
  const out = opts.out;
  const r = out && out.length >= M * K ? out.subarray(0, M * K).fill(0) : analysis.arena ? analysis.arena.f32(M * K) : new Float32Array(M * K);
  const n = mHi - mLo;
  if (n <= 0) return { r, chips: M, bands: K };
  const cums = analysis.bandCumulative(hyp.freqScale);
  const Tc = profile.chipSec;
  const nF = analysis.frames;
  // Chip energies scale with chip length; thresholds were taken at 4 frames (32 ms).
  const thrBase = analysis.thresholds();
  const scale = Tc / hyp.rate / ((FRAMES_PER_CHIP * ANALYSIS_HOP) / ANALYSIS_RATE);
  const thr = new Float64Array(K);
  for (let k = 0; k < K; k++) thr[k] = thrBase[k]! * scale;
  const sc = opts.scratch ?? new TileScratch();
  sc.ensure(K, n * K);
  const { ringLog, ringDensity, ringValid } = sc;
  const wgt = sc.weight;
  // Chip mLo + j in ring row j mod 3; a row outside [mLo, mHi) is all invalid. Invalid tiles hold 0
  // in all three, so neighbour sums need no branches.
  ringLog.fill(0);
  ringDensity.fill(0);
  ringValid.fill(0);
  const keep = keptBands(profile, layer);
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  const invBw = inverseBandwidths(profile);
  const decay = Math.exp(-Tc / hyp.rate / MASK_RELEASE_SEC);
  const peaks = new Float64Array(3);
  let peakMem = 0;

  // Cumulative band energy at chip boundaries (chip m spans boundaries m and m + 1), linearly
  // interpolated between frames; a chip's energy is the difference of its two boundaries.
  // Frame f's centre is at (f * HOP + FRAME / 2) / rate; frames with centres in [ta, tb) count.
  let prev = sc.boundA;
  let cur = sc.boundB;
  for (let j = 0; j <= n + 1; j++) {
    // Chip j - 1 (ring row (j + 2) mod 3) gets its energies; chip j - 2 then has both time
    // neighbours and gets its residual. (j = n + 1: chip n is outside the range, all invalid.)
    const qNew = (j + 2) % 3;
    if (j <= n) {
      const t = (hyp.phaseSec + (mLo + j) * Tc) / hyp.rate;
      const pos = (t * ANALYSIS_RATE - ANALYSIS_FRAME / 2) / ANALYSIS_HOP + 0.5;
      if (pos <= 0) {
        for (let k = 0; k < K; k++) cur[k] = cums[k]!;
      } else if (pos >= nF) {
        const a = nF * K;
        for (let k = 0; k < K; k++) cur[k] = cums[a + k]!;
      } else {
        const i = Math.floor(pos);
        interpolateRow(cums, i * K, pos - i, cur, K);
      }
      if (j > 0) {
        peakMem = chipEnergies(cur, prev, thr, invBw, ringLog, ringDensity, ringValid, qNew * K, K, peakMem * decay);
        peaks[qNew] = peakMem;
      }
      const sw = prev;
      prev = cur;
      cur = sw;
    } else {
      ringLog.fill(0, qNew * K, qNew * K + K);
      ringDensity.fill(0, qNew * K, qNew * K + K);
      ringValid.fill(0, qNew * K, qNew * K + K);
    }
    if (j < 2) continue;
    const qc = (j + 1) % 3;
    chipResidual(r, (mLo + j - 2) * K, wgt, (j - 2) * K, ringLog, ringDensity, ringValid, qc * K, (j % 3) * K, qNew * K, K, keep, peaks[qc]!, sumSq, cnt, table, bins);
  }
  scaleClipWeight(r, mLo * K, wgt, n, K, bandScales(sumSq, cnt));
  centerBands(r, mLo * K, n, K);
  return { r, chips: M, bands: K };
}

/** Per-band scale to unit RMS: 1 / sqrt(sumSq / cnt), 0 for bands without tiles. */
export function bandScales(sumSq: Float64Array, cnt: Float64Array): Float64Array {
  const K = sumSq.length;
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = cnt[k]! > 0 && sumSq[k]! > 0 ? 1 / Math.sqrt(sumSq[k]! / cnt[k]!) : 0;
  return inv;
}

/** r = clip(r * inv[band], +-3) * weight over n rows from r[ro] (their weights from wgt[0]). */
export function scaleClipWeight(r: Float32Array, ro: number, wgt: Float64Array, n: number, K: number, inv: Float64Array): void {
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    const wo = j * K;
    for (let k = 0; k < K; k++) {
      const v = r[o + k]! * inv[k]!;
      if (v === 0) continue;
      const x = v > 3 ? 3 : v < -3 ? -3 : v;
      r[o + k] = x * wgt[wo + k]!;
    }
  }
}

/**
 * Subtract each band's mean over its kept (non-zero) tiles of rows [ro / K, ro / K + n).
 * Why: the residual (log energy minus its neighbours' mean) keeps a per-band offset wherever the
 * spectral envelope is curved (and ERB bands widen with frequency), so every band carries a
 * constant that the sync layer's fold over the 1.024 s period adds up coherently: on speech the
 * fold energy (the sync correlation's exact variance under random signs) was 2-3x the tile energy
 * and the sync layer's z about 60% of the timecode layer's. Centring removes that constant; the
 * features remain a function of the audio alone (never of a leg's signs), so the statistic's null
 * distribution is unchanged. Measured at the true alignment when it was introduced (tap through
 * AMR-NB 7.95k -> AAC 64k, 41-69 s clips): median z 7.7 -> 11.0, minimum 4.0 -> 6.4.
 */
export function centerBands(r: Float32Array, ro: number, n: number, K: number): void {
  const sum = new Float64Array(K);
  const cnt = new Float64Array(K);
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    for (let k = 0; k < K; k++) {
      const v = r[o + k]!;
      if (v !== 0) (sum[k]! += v), (cnt[k]! += 1);
    }
  }
  for (let k = 0; k < K; k++) sum[k] = cnt[k]! > 0 ? sum[k]! / cnt[k]! : 0;
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    for (let k = 0; k < K; k++) if (r[o + k] !== 0) r[o + k] = r[o + k]! - sum[k]!;
  }
}

/** out[k] = cums[a + k] + fr * (cums[a + K + k] - cums[a + k]): cumulative energies at a boundary. */
function interpolateRow(cums: Float64Array, a: number, fr: number, out: Float64Array, K: number): void {
  const b = a + K;
  for (let k = 0; k < K; k++) out[k] = cums[a + k]! + fr * (cums[b + k]! - cums[a + k]!);
}

/**
 * Energies of one chip (cur - prev per band) into ring row q: validity (above the band's
 * threshold), log energy and energy per Hz (0 when invalid). Returns the chip's masking peak: the
 * loudest valid band per Hz, or `peak` (the decayed memory) if larger.
 */
function chipEnergies(cur: Float64Array, prev: Float64Array, thr: Float64Array, invBw: Float64Array, logE: Float64Array, density: Float64Array, valid: Float64Array, q: number, K: number, peak: number): number {
  for (let k = 0; k < K; k++) {
    const v = cur[k]! - prev[k]!;
    if (v > thr[k]!) {
      valid[q + k] = 1;
      logE[q + k] = Math.log(v);
      const d = v * invBw[k]!;
      density[q + k] = d;
      if (d > peak) peak = d;
    } else {
      valid[q + k] = 0;
      logE[q + k] = 0;
      density[q + k] = 0;
    }
  }
  return peak;
}

/**
 * Residual of the chip in ring row c0 (neighbours in time: rows cm and cp) into r[ro + k]: log
 * energy minus the mean of its valid neighbours (time -1, time +1, band -1, band +1, summed in
 * that order), kept when at least three are valid; per-band sums for the scale; and the tile's
 * weight into wgt[wo + k].
 */
function chipResidual(r: Float32Array, ro: number, wgt: Float64Array, wo: number, logE: Float64Array, density: Float64Array, valid: Float64Array, c0: number, cm: number, cp: number, K: number, keep: Uint8Array, peak: number, sumSq: Float64Array, cnt: Float64Array, table: WeightTable, bins: Uint8Array | undefined): void {
  for (let k = 0; k < K; k++) {
    if (valid[c0 + k] === 0 || keep[k] === 0) continue;
    // Invalid neighbours hold 0 (log and validity), so the sums need no branches.
    let s = logE[cm + k]! + logE[cp + k]!;
    let c = valid[cm + k]! + valid[cp + k]!;
    if (k > 0) (s += logE[c0 + k - 1]!), (c += valid[c0 + k - 1]!);
    if (k + 1 < K) (s += logE[c0 + k + 1]!), (c += valid[c0 + k + 1]!);
    if (c < 3) continue;
    const v = logE[c0 + k]! - s / c;
    r[ro + k] = v;
    sumSq[k]! += v * v;
    cnt[k]! += 1;
    const w = peak / density[c0 + k]!;
    wgt[wo + k] = tileWeight(table, k, w);
    if (bins) bins[ro + k] = boostBin(w);
  }
}

/**
 * Correlation of tile features with a leg's signs over chips [ma, mb), chip m being session chip
 * n0 + m: c = Σ r·sign, q = Σ r² (c's variance under no mark).
 */
export function correlateTiles(f: TileFeatures, sign: (n: number, k: number) => number, n0: number, ma: number, mb: number): { c: number; q: number } {
  const K = f.bands;
  let c = 0;
  let q = 0;
  for (let m = ma; m < mb; m++) {
    for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]!;
      if (v === 0) continue;
      c += v * sign(n0 + m, k);
      q += v * v;
    }
  }
  return { c, q };
}
