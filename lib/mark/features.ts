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
 * dropped; each band is scaled to unit RMS and clipped at +-3 so no band or transient dominates.
 */
import { powerSpectrogram } from '../dsp/stft.js';
import { resample } from '../dsp/resample.js';
import type { MarkProfile } from './pattern.js';

export const ANALYSIS_RATE = 16000;
const FRAME = 512;
const HOP = 128;

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
      for (let k = 0; k < K; k++) {
        const lo = profile.bandEdgesHz[k]! * freqScale;
        const hi = profile.bandEdgesHz[k + 1]! * freqScale;
        // Fractional overlap of each bin [(i - 0.5), (i + 0.5)) * binHz with the band.
        const idxList: number[] = [];
        const wtsList: number[] = [];
        for (let i = Math.max(0, Math.floor(lo / binHz) - 1); i <= Math.min(bins - 1, Math.ceil(hi / binHz) + 1); i++) {
          const a = Math.max(lo, (i - 0.5) * binHz);
          const b = Math.min(hi, (i + 0.5) * binHz);
          if (b > a) {
            idxList.push(i);
            wtsList.push((b - a) / binHz);
          }
        }
        const idx = Int32Array.from(idxList);
        const wts = Float64Array.from(wtsList);
        const nIdx = idx.length;
        let acc = 0;
        for (let f = 0; f < frames; f++) {
          const row = f * bins;
          let e = 0;
          for (let j = 0; j < nIdx; j++) e += power[row + idx[j]!]! * wts[j]!;
          acc += e;
          out[(f + 1) * K + k] = acc;
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

/** Detrended, normalized tile features under one hypothesis. */
export function tileFeatures(analysis: BandAnalysis, hyp: Hypothesis, profile: MarkProfile, clipRangeSec?: readonly [number, number]): TileFeatures {
  const K = profile.bands;
  const M = chipCount(analysis, hyp, profile);
  // Optional clip-time range: only chips inside it (plus one each side for detrending) are computed.
  let mLo = 0;
  let mHi = M;
  if (clipRangeSec) {
    mLo = Math.max(0, Math.floor((hyp.rate * clipRangeSec[0] - hyp.phaseSec) / profile.chipSec) - 1);
    mHi = Math.min(M, Math.ceil((hyp.rate * clipRangeSec[1] - hyp.phaseSec) / profile.chipSec) + 1);
  }
  const cums = analysis.bandCumulative(hyp.freqScale);
  const Tc = profile.chipSec;
  // Frame f's centre is at (f * HOP + FRAME / 2) / rate; frames with centres in [ta, tb) count.
  const framePos = (t: number): number => (t * ANALYSIS_RATE - FRAME / 2) / HOP + 0.5;
  const e = new Float64Array(M * K);
  const nF = analysis.frames;
  // Fractional frame position -> (row offset, weight) for linear interpolation of the cumulative sums.
  const rowAt = (pos: number): [number, number, number] => {
    if (pos <= 0) return [0, 0, 0];
    if (pos >= nF) return [nF * K, nF * K, 0];
    const i = Math.floor(pos);
    return [i * K, (i + 1) * K, pos - i];
  };
  for (let m = mLo; m < mHi; m++) {
    const [a0, a1, af] = rowAt(framePos((hyp.phaseSec + m * Tc) / hyp.rate));
    const [b0, b1, bf] = rowAt(framePos((hyp.phaseSec + (m + 1) * Tc) / hyp.rate));
    const o = m * K;
    for (let k = 0; k < K; k++) {
      const ca = cums[a0 + k]! + af * (cums[a1 + k]! - cums[a0 + k]!);
      const cb = cums[b0 + k]! + bf * (cums[b1 + k]! - cums[b0 + k]!);
      const v = cb - ca;
      e[o + k] = v > 0 ? v : 0;
    }
  }
  // Chip energies scale with chip length; thresholds were taken at 4 frames (32 ms).
  const thrBase = analysis.thresholds();
  const scale = Tc / hyp.rate / ((4 * HOP) / ANALYSIS_RATE);
  const valid = new Uint8Array(M * K);
  const logE = new Float64Array(M * K);
  const thr = new Float64Array(K);
  for (let k = 0; k < K; k++) thr[k] = thrBase[k]! * scale;
  for (let m = mLo; m < mHi; m++) {
    const o = m * K;
    for (let k = 0; k < K; k++) {
      const v = e[o + k]!;
      if (v > thr[k]!) {
        valid[o + k] = 1;
        logE[o + k] = Math.log(v);
      }
    }
  }
  const r = new Float32Array(M * K);
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  for (let m = mLo; m < mHi; m++) {
    for (let k = 0; k < K; k++) {
      const i = m * K + k;
      if (!valid[i]) continue;
      let s = 0;
      let c = 0;
      if (m > 0 && valid[i - K]) (s += logE[i - K]!), c++;
      if (m + 1 < M && valid[i + K]) (s += logE[i + K]!), c++;
      if (k > 0 && valid[i - 1]) (s += logE[i - 1]!), c++;
      if (k + 1 < K && valid[i + 1]) (s += logE[i + 1]!), c++;
      if (c < 3) continue;
      const v = logE[i]! - s / c;
      r[i] = v;
      sumSq[k]! += v * v;
      cnt[k]! += 1;
    }
  }
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = cnt[k]! > 0 && sumSq[k]! > 0 ? 1 / Math.sqrt(sumSq[k]! / cnt[k]!) : 0;
  for (let m = mLo; m < mHi; m++) {
    const o = m * K;
    for (let k = 0; k < K; k++) {
      const v = r[o + k]! * inv[k]!;
      r[o + k] = v > 3 ? 3 : v < -3 ? -3 : v;
    }
  }
  return { r, chips: M, bands: K };
}
