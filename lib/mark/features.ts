/**
 * Detector front end: per-tile log band energies of a clip under a time-scale / frequency-scale /
 * chip-phase hypothesis, detrended and normalized so that the mark's +-d per tile stands out from
 * the speech envelope.
 *
 * The clip is analysed at 16 kHz with a 32 ms Hann STFT at an 8 ms hop; band energies per STFT
 * frame are accumulated so a chip's energy under any hypothesis is a difference of cumulative sums.
 * Hypothesis (rate, freqScale, phaseSec): session time = tau0 + rate * clipTime; relative chip m
 * covers clip time [(phase + m Tc) / rate, (phase + (m + 1) Tc) / rate); session bands appear at
 * freqScale x their nominal frequencies (replay speed scales both, tempo change only time).
 *
 * Residual (why): speech log-energy varies by tens of dB between tiles; the mark is a fraction of
 * a dB. Subtracting the mean of the four neighbouring tiles (time +-1 chip, band +-1; measured better than time-only, band-only, 8-neighbour or
 * separable second-difference detrending) removes most
 * of the envelope while the neighbours' independent signs leave the tile's own mark intact.
 * Tiles far below the band's or the clip's typical level (silence, bands a codec removed) are
 * dropped; each band is scaled to unit RMS and clipped at +-3 so no band or transient dominates,
 * then each tile is weighted by its estimated masking boost (see tileFeatures).
 */
import { powerSpectrogram } from '../dsp/stft.js';
import { resample } from '../dsp/resample.js';
import type { MarkProfile } from './pattern.js';

export const ANALYSIS_RATE = 16000;
const FRAME = 512;
const HOP = 128;
/** Tile weighting (see tileFeatures): cap of the estimated masking boost (weight = boost^0.5), the masking memory. */
const BOOST_CAP = 16;
const MASK_RELEASE_SEC = 0.1;

export interface BandAnalysis {
  readonly durationSec: number;
  readonly frames: number;
  /** Cumulative band energy over STFT frames, frame-major ((frames + 1) x bands), per frequency scale (cached at 1% steps). */
  bandCumulative(freqScale: number): Float64Array;
  /** Per-band activity thresholds for chip energies (computed once, at the nominal scale). */
  thresholds(): Float64Array;
}

export interface TileFeatures {
  /** Chips x bands, row-major; 0 for dropped tiles. */
  readonly r: Float32Array;
  readonly chips: number;
  readonly bands: number;
}

export interface Hypothesis {
  rate: number;
  freqScale: number;
  phaseSec: number;
}

/** Analyse a mono clip once; band energies for any frequency scale follow from it. */
export function analyzeClip(samples: Float32Array, sampleRate: number, profile: MarkProfile): BandAnalysis {
  const x = sampleRate === ANALYSIS_RATE ? samples : resample(samples, sampleRate, ANALYSIS_RATE);
  const spec = powerSpectrogram(x, ANALYSIS_RATE, { frameSize: FRAME, hopSamples: HOP });
  const { frames, bins, power } = spec;
  const binHz = ANALYSIS_RATE / FRAME;
  const cache = new Map<number, Float64Array>();
  let thresholdCache: Float64Array | undefined;
  const K = profile.bands;
  return {
    durationSec: x.length / ANALYSIS_RATE,
    frames,
    bandCumulative(freqScaleRaw: number): Float64Array {
      // Bands are >= 10% wide, so 1% steps in frequency scale lose little (<= 0.5% misplacement).
      const keyQ = Math.round(freqScaleRaw * 100);
      const freqScale = keyQ / 100;
      const hit = cache.get(keyQ);
      if (hit) return hit;
      const out = new Float64Array((frames + 1) * K);
      // Per band, the bins overlapping it and their fractional weights, flattened (band k owns
      // entries [start[k], start[k + 1])).
      const idxList: number[] = [];
      const wtsList: number[] = [];
      const start = new Int32Array(K + 1);
      for (let k = 0; k < K; k++) {
        start[k] = idxList.length;
        const lo = profile.bandEdgesHz[k]! * freqScale;
        const hi = profile.bandEdgesHz[k + 1]! * freqScale;
        // Fractional overlap of each bin [(i - 0.5), (i + 0.5)) * binHz with the band.
        for (let i = Math.max(0, Math.floor(lo / binHz) - 1); i <= Math.min(bins - 1, Math.ceil(hi / binHz) + 1); i++) {
          const a = Math.max(lo, (i - 0.5) * binHz);
          const b = Math.min(hi, (i + 0.5) * binHz);
          if (b > a) {
            idxList.push(i);
            wtsList.push((b - a) / binHz);
          }
        }
      }
      start[K] = idxList.length;
      const wts = Float64Array.from(wtsList);
      // A band's bins are consecutive: entry j of band k is bin shift[k] + j.
      const shift = new Int32Array(K);
      for (let k = 0; k < K; k++) shift[k] = start[k]! < start[k + 1]! ? idxList[start[k]!]! - start[k]! : 0;
      // Frame-major so each spectrogram row is read once (same summation order as band-major).
      for (let f = 0; f < frames; f++) {
        const row = f * bins;
        const o = f * K;
        for (let k = 0; k < K; k++) {
          let e = 0;
          const p = row + shift[k]!;
          for (let j = start[k]!, je = start[k + 1]!; j < je; j++) e += power[p + j]! * wts[j]!;
          out[o + K + k] = out[o + k]! + e;
        }
      }
      cache.set(keyQ, out);
      return out;
    },
    thresholds(): Float64Array {
      if (thresholdCache) return thresholdCache;
      // Chip-sized (4-frame, 32 ms) energies at the nominal scale; thresholds 30 dB under the band's
      // 90th percentile and 45 dB under the loudest band's.
      const cums = this.bandCumulative(1);
      const span = 4;
      const p90 = new Float64Array(K);
      const n = Math.max(0, Math.floor(frames / span));
      const col = new Float64Array(n);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < n; i++) col[i] = cums[(i + 1) * span * K + k]! - cums[i * span * K + k]!;
        col.sort();
        p90[k] = n > 0 ? col[Math.min(n - 1, Math.floor(0.9 * n))]! : 0;
      }
      let g90 = 0;
      for (let k = 0; k < K; k++) g90 = Math.max(g90, p90[k]!);
      const thr = new Float64Array(K);
      for (let k = 0; k < K; k++) thr[k] = Math.max(p90[k]! * 1e-3, g90 * 10 ** -4.5, 1e-12);
      thresholdCache = thr;
      return thr;
    },
  };
}

/** Number of relative chips under a hypothesis. */
export function chipCount(analysis: BandAnalysis, hyp: Hypothesis, profile: MarkProfile): number {
  return Math.max(0, Math.floor((analysis.durationSec * hyp.rate - hyp.phaseSec) / profile.chipSec));
}

// Scratch for tileFeatures (grown on demand; the detector is single-threaded and not re-entrant).
let boundA = new Float64Array(0);
let boundB = new Float64Array(0);
let ringLog = new Float64Array(0);
let ringDensity = new Float64Array(0);
let ringValid = new Float64Array(0);
let scratchWeight = new Float64Array(0);

/**
 * Detrended, normalized tile features under one hypothesis. `layer`: 'leg' (default) zeroes the
 * payload bands, which carry the key-level payload rather than a leg's own pattern; 'payload'
 * keeps every band (the blind payload decoder reads the payload bands).
 *
 * Implementation (speed; the detector calls this for every hypothesis): one streaming pass over
 * the chip boundaries computes each chip's energies, logs and masking peak into a three-row ring
 * (chipEnergies), and, once the next chip is known, the previous chip's residual and weight
 * (chipResidual); a second pass applies the per-band scale, which needs the whole range
 * (scaleAndWeight). Every tile goes through the same floating-point operations in the same order
 * as the plain form (energies, then residuals, then scale and weights), so the features are
 * bit-identical to it.
 */
export function tileFeatures(analysis: BandAnalysis, hyp: Hypothesis, profile: MarkProfile, clipRangeSec?: readonly [number, number], layer: 'leg' | 'payload' = 'leg'): TileFeatures {
  const K = profile.bands;
  const M = chipCount(analysis, hyp, profile);
  // Optional clip-time range: only chips inside it (plus one each side for detrending) are computed.
  let mLo = 0;
  let mHi = M;
  if (clipRangeSec) {
    mLo = Math.max(0, Math.floor((hyp.rate * clipRangeSec[0] - hyp.phaseSec) / profile.chipSec) - 1);
    mHi = Math.min(M, Math.ceil((hyp.rate * clipRangeSec[1] - hyp.phaseSec) / profile.chipSec) + 1);
  }
  const r = new Float32Array(M * K);
  const n = mHi - mLo;
  if (n <= 0) return { r, chips: M, bands: K };
  const cums = analysis.bandCumulative(hyp.freqScale);
  const Tc = profile.chipSec;
  const nF = analysis.frames;
  // Chip energies scale with chip length; thresholds were taken at 4 frames (32 ms).
  const thrBase = analysis.thresholds();
  const scale = Tc / hyp.rate / ((4 * HOP) / ANALYSIS_RATE);
  const thr = new Float64Array(K);
  for (let k = 0; k < K; k++) thr[k] = thrBase[k]! * scale;
  if (boundA.length < K) {
    boundA = new Float64Array(K);
    boundB = new Float64Array(K);
    ringLog = new Float64Array(3 * K);
    ringDensity = new Float64Array(3 * K);
    ringValid = new Float64Array(3 * K);
  }
  if (scratchWeight.length < n * K) scratchWeight = new Float64Array(2 * n * K);
  // Log energy, energy per Hz and validity (1/0) of three consecutive chips in a ring of rows
  // (chip mLo + j in row j mod 3); a row outside [mLo, mHi) is all invalid. Invalid tiles hold 0
  // in all three, so neighbour sums need no branches.
  ringLog.fill(0);
  ringDensity.fill(0);
  ringValid.fill(0);
  // Bands whose residual is kept ('leg' drops the payload bands; they still serve as neighbours
  // and in the masking peak).
  const keep = new Float64Array(K).fill(1);
  if (layer === 'leg') for (const k of profile.payloadBands) keep[k] = 0;
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  // Tile weight: the embedder's masking boost, estimated from the received chip -- a tile's
  // relative mark grows with how far its band lies below the chip's loudest band (per Hz, with
  // the embedder's 0.1 s forward-masking memory), capped at 16 (the embedder's cap is 128). Weight =
  // boost^0.5, applied after normalization; the statistic stays self-normalized and the weights
  // depend on energies only, never on a leg's signs. Measured (benchmarks/work/ab5-run.ts, 144
  // clips, 5-30 s): median z +5-12% (clean 11.9 -> 12.9, AMR-NB 12.2k 9.7 -> 10.4); a weight cap
  // of 128 instead of 16 lost AMR-NB detections.
  // Linear form (square roots instead of exp/log per tile): boost^2 = peak / density, capped at
  // 16^2, weight = boost^0.5 = (boost^2)^(1/4).
  const invBw = new Float64Array(K);
  for (let k = 0; k < K; k++) invBw[k] = 1 / (profile.bandEdgesHz[k + 1]! - profile.bandEdgesHz[k]!);
  const decay = Math.exp(-Tc / hyp.rate / MASK_RELEASE_SEC);
  const peaks = new Float64Array(3);
  let peakMem = 0;

  // Cumulative band energy at chip boundaries (chip m spans boundaries m and m + 1), linearly
  // interpolated between frames; a chip's energy is the difference of its two boundaries.
  // Frame f's centre is at (f * HOP + FRAME / 2) / rate; frames with centres in [ta, tb) count.
  let prev = boundA;
  let cur = boundB;
  for (let j = 0; j <= n + 1; j++) {
    // Chip j - 1 (ring row (j + 2) mod 3) gets its energies; chip j - 2 then has both time
    // neighbours and gets its residual. (j = n + 1: chip n is outside the range, all invalid.)
    const qNew = (j + 2) % 3;
    if (j <= n) {
      const t = (hyp.phaseSec + (mLo + j) * Tc) / hyp.rate;
      const pos = (t * ANALYSIS_RATE - FRAME / 2) / HOP + 0.5;
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
        peakMem = chipEnergies(cur, prev, thr, invBw, qNew * K, K, peakMem * decay);
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
    chipResidual(r, (mLo + j - 2) * K, scratchWeight, (j - 2) * K, qc * K, (j % 3) * K, qNew * K, K, keep, peaks[qc]!, sumSq, cnt);
  }

  // Per-band scale to unit RMS, clip at +-3, then the weight.
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = cnt[k]! > 0 && sumSq[k]! > 0 ? 1 / Math.sqrt(sumSq[k]! / cnt[k]!) : 0;
  scaleAndWeight(r, mLo * K, scratchWeight, n, K, inv);
  return { r, chips: M, bands: K };
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
function chipEnergies(cur: Float64Array, prev: Float64Array, thr: Float64Array, invBw: Float64Array, q: number, K: number, peak: number): number {
  const logE = ringLog;
  const density = ringDensity;
  const valid = ringValid;
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
function chipResidual(r: Float32Array, ro: number, wgt: Float64Array, wo: number, c0: number, cm: number, cp: number, K: number, keep: Float64Array, peak: number, sumSq: Float64Array, cnt: Float64Array): void {
  const logE = ringLog;
  const density = ringDensity;
  const valid = ringValid;
  const cap2 = BOOST_CAP * BOOST_CAP;
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
    wgt[wo + k] = Math.sqrt(Math.sqrt(w < cap2 ? w : cap2));
  }
}

/** r = clip(r * inv[band], +-3) * weight over n chips from r[ro] (weights from wgt[0]). */
function scaleAndWeight(r: Float32Array, ro: number, wgt: Float64Array, n: number, K: number, inv: Float64Array): void {
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
 * Correlation of tile features with a leg's signs over chips [ma, mb), chip m being session chip
 * n0 + m: c = Σ r·sign, q = Σ r² (c's variance under no mark). Shared by the detector's offset
 * refinement and the follow-up range scores (track.ts).
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
