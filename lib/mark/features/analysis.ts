/**
 * Detector front end, first stage: a clip's STFT band energies, accumulated over frames so that a
 * chip's energy under any alignment hypothesis is a difference of cumulative sums.
 *
 * The clip is analysed at 16 kHz with a 32 ms Hann STFT at an 8 ms hop; band energies per STFT
 * frame are accumulated per frequency scale (replay speed moves the bands), cached at 1% steps.
 * Tile features are built on it by tiles.ts (exact, per hypothesis) and grid.ts (frame grid).
 */
import { resample } from '../../dsp/resample.js';
import { powerSpectrogram } from '../../dsp/stft.js';
import type { Arena } from '../arena.js';
import { PROFILE_V1 } from '../profile.js';
import type { MarkProfile } from '../profile.js';
import type { Hypothesis } from '../search.js';

export const ANALYSIS_RATE = 16000;
/** STFT frame and hop (samples at ANALYSIS_RATE). */
export const ANALYSIS_FRAME = 512;
export const ANALYSIS_HOP = 128;
/** Frames per chip-sized span at the nominal rate (32 ms chips at the 8 ms hop). */
export const FRAMES_PER_CHIP = 4;

export interface AnalysisOptions {
  profile?: MarkProfile;
  /** Where this analysis and the grids and tile features built on it take their arrays (long clips, detect/); none: fresh arrays. */
  arena?: Arena;
}

/** A mono clip analysed once; band energies for any frequency scale follow from it. */
export class BandAnalysis {
  readonly profile: MarkProfile;
  readonly durationSec: number;
  readonly frames: number;
  readonly arena: Arena | undefined;
  readonly #bins: number;
  readonly #power: Float32Array;
  readonly #cache = new Map<number, Float64Array>();
  #thresholds: Float64Array | undefined;

  constructor(samples: Float32Array, sampleRate: number, opts: AnalysisOptions = {}) {
    this.profile = opts.profile ?? PROFILE_V1;
    this.arena = opts.arena;
    const arena = opts.arena;
    const x = sampleRate === ANALYSIS_RATE ? samples : resample(samples, sampleRate, ANALYSIS_RATE);
    const spec = powerSpectrogram(x, ANALYSIS_RATE, { frameSize: ANALYSIS_FRAME, hopSamples: ANALYSIS_HOP, ...(arena ? { alloc: (n: number) => arena.f32(n) } : {}) });
    this.durationSec = x.length / ANALYSIS_RATE;
    this.frames = spec.frames;
    this.#bins = spec.bins;
    this.#power = spec.power;
  }

  /** Cumulative band energy over STFT frames, frame-major ((frames + 1) x bands), at a frequency scale (cached at 1% steps). */
  bandCumulative(freqScaleRaw: number): Float64Array {
    // Bands are >= 10% wide, so 1% steps in frequency scale lose little (<= 0.5% misplacement).
    const keyQ = Math.round(freqScaleRaw * 100);
    const hit = this.#cache.get(keyQ);
    if (hit) return hit;
    this.prepareScales([freqScaleRaw]);
    return this.#cache.get(keyQ)!;
  }

  /** Compute the band energies of several frequency scales in one pass over the frames (then cached). */
  prepareScales(freqScalesRaw: readonly number[]): void {
    const cache = this.#cache;
    const keys = [...new Set(freqScalesRaw.map((x) => Math.round(x * 100)))].filter((q) => !cache.has(q));
    if (keys.length === 0) return;
    const profile = this.profile;
    const K = profile.bands;
    const bins = this.#bins;
    const power = this.#power;
    const frames = this.frames;
    const binHz = ANALYSIS_RATE / ANALYSIS_FRAME;
    const S = keys.length;
    // Per scale and band: the first and last overlapping bins with their fractional weights
    // (overlap of bin [(i - 0.5), (i + 0.5)) * binHz with the band); the bins between have
    // weight 1 and are read as a difference of the frame's running sum over bins.
    const first = new Int32Array(S * K).fill(-1);
    const last = new Int32Array(S * K);
    const wFirst = new Float64Array(S * K);
    const wLast = new Float64Array(S * K);
    let topBin = 0;
    for (let si = 0; si < S; si++) {
      const freqScale = keys[si]! / 100;
      for (let k = 0; k < K; k++) {
        const lo = profile.bandEdgesHz[k]! * freqScale;
        const hi = profile.bandEdgesHz[k + 1]! * freqScale;
        const o = si * K + k;
        for (let i = Math.max(0, Math.floor(lo / binHz) - 1); i <= Math.min(bins - 1, Math.ceil(hi / binHz) + 1); i++) {
          const a = Math.max(lo, (i - 0.5) * binHz);
          const b = Math.min(hi, (i + 0.5) * binHz);
          if (!(b > a)) continue;
          const w = (b - a) / binHz;
          if (first[o]! < 0) {
            first[o] = i;
            wFirst[o] = w;
          } else {
            if (last[o]! > first[o]! && Math.abs(wLast[o]! - 1) > 1e-12) throw new Error('bandCumulative: interior bin weight is not 1');
            last[o] = i;
            wLast[o] = w;
          }
          topBin = Math.max(topBin, i);
        }
        if (last[o]! <= first[o]!) (last[o] = first[o]!), (wLast[o] = 0);
      }
    }
    const arena = this.arena;
    const outs = keys.map(() => (arena ? arena.f64((frames + 1) * K) : new Float64Array((frames + 1) * K)));
    // One pass over the frames for every scale: the running sum over the frame's bins (entry i =
    // sum of bins < i) is built once per frame.
    const bc = new Float64Array(topBin + 2);
    for (let f = 0; f < frames; f++) {
      const row = f * bins;
      const o = f * K;
      let run = 0;
      for (let i = 0; i <= topBin; i++) {
        run += power[row + i]!;
        bc[i + 1] = run;
      }
      for (let si = 0; si < S; si++) {
        const out = outs[si]!;
        const so = si * K;
        for (let k = 0; k < K; k++) {
          const i0 = first[so + k]!;
          let e = 0;
          if (i0 >= 0) {
            const i1 = last[so + k]!;
            e = wFirst[so + k]! * power[row + i0]!;
            if (i1 > i0) e += bc[i1]! - bc[i0 + 1]! + wLast[so + k]! * power[row + i1]!;
          }
          out[o + K + k] = out[o + k]! + e;
        }
      }
    }
    for (let si = 0; si < S; si++) cache.set(keys[si]!, outs[si]!);
  }

  /** Per-band activity thresholds for chip energies (computed once, at the nominal scale). */
  thresholds(): Float64Array {
    if (this.#thresholds) return this.#thresholds;
    const K = this.profile.bands;
    const frames = this.frames;
    // Chip-sized (4-frame, 32 ms) energies at the nominal scale; thresholds 30 dB under the band's
    // 90th percentile and 45 dB under the loudest band's.
    const cums = this.bandCumulative(1);
    const span = FRAMES_PER_CHIP;
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
    this.#thresholds = thr;
    return thr;
  }
}

/** Analyse a mono clip once (see BandAnalysis). */
export function analyzeClip(samples: Float32Array, sampleRate: number, opts: AnalysisOptions = {}): BandAnalysis {
  return new BandAnalysis(samples, sampleRate, opts);
}

/** Number of relative chips of a clip under a hypothesis. */
export function chipCount(analysis: BandAnalysis, hyp: Hypothesis): number {
  return Math.max(0, Math.floor((analysis.durationSec * hyp.rate - hyp.phaseSec) / analysis.profile.chipSec));
}
