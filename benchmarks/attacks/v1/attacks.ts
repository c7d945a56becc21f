/**
 * The attacks on mark v1, as audio -> audio functions of public knowledge and the adversary's
 * own recordings (no key). Each takes Float32Array audio at 16 kHz and returns audio.
 *
 *  - forge:  embed an estimated pattern into audio leg A never carried (framing).
 *  - copy:   transplant the log-band-energy residual of a stretch of leg A's recording onto other
 *            audio, frame by frame (Kutter et al.'s copy attack, no structural knowledge beyond
 *            the band layout).
 *  - strip:  remove an estimated pattern from a clip of one's own leg (estimate-and-subtract).
 */
import { CONSTANT_BUDGET, EMBEDDER_BUDGET, EMBEDDER_MASKING, binBands, modulate } from '../modulator.js';
import type { Budget, Level, MaskingModel, Modulated } from '../modulator.js';
import { RealFft, sqrtHann } from '../earmark.js';
import { RATE } from '../harness.js';
import { chipStartSec, patternValue } from './estimate.js';
import type { PatternOptions, V1Estimate } from './estimate.js';
import { V1 } from './model.js';

export interface ForgeOptions {
  /** Target SNR of the forged change, or alpha re the embedder's own level (with budget 'embedder'). */
  level: Level;
  budget?: Budget;
  /** Attacker chip index (in the estimate's recording) that the forged clip's first chip plays. */
  startChip: number;
  pattern?: PatternOptions;
  masking?: MaskingModel;
  mode?: 'add' | 'divide';
  /** Frame placement relative to the chip window (s): frames centred at window start + 8 ms + shift and + 24 ms + shift. */
  frameShiftSec?: number;
}

/**
 * Framing: the estimated pattern embedded into `target` with the adversary's own multiplicative
 * STFT modulator (masking model as earmark's embedder, constant budget). The forged clip's chip
 * m' is the recording's chip startChip + m' (its detector window starts at clip time m' * 32 ms).
 */
export function forge(target: Float32Array, est: V1Estimate, o: ForgeOptions): Modulated {
  const pv = patternValue(est, o.pattern);
  const Tc = V1.chipSec;
  return modulate(target, {
    bandEdgesHz: V1.bandEdgesHz,
    frameCentre0Sec: 0.008 + (o.frameShiftSec ?? 0),
    value: (t, k) => pv(o.startChip + Math.floor((t - (o.frameShiftSec ?? 0)) / Tc), k),
    masking: o.masking ?? EMBEDDER_MASKING,
    budget: o.budget ?? CONSTANT_BUDGET,
    mode: o.mode ?? 'add',
    level: o.level,
  });
}

export interface StripOptions {
  /** Target SNR of the change, or alpha re the mark's own per-tile gains (budget 'embedder', the default: alpha 1 = the mark's level). */
  level: Level;
  budget?: Budget;
  /** Index (samples) of the clip's first sample in the recording the estimate came from. */
  clipStart: number;
  pattern?: PatternOptions;
  masking?: MaskingModel;
  mode?: 'add' | 'divide';
  /** Diagnostics: shift the estimate by whole chips in time / bands in frequency, or the frames by seconds. */
  chipShift?: number;
  bandShift?: number;
  frameShiftSec?: number;
  /** Diagnostics: the sign convention flipped (divide by |1 - g s_hat|, i.e. multiply the mark in). */
  flip?: boolean;
}

/**
 * Removal: the estimated pattern divided out of (or subtracted from) a clip of the adversary's
 * own leg, at the recording position it came from, with the embedder's masking model computed on
 * the received audio (the boost is keyless), at a target SNR of the change.
 */
export function strip(clip: Float32Array, est: V1Estimate, o: StripOptions): Modulated {
  const pv = patternValue(est, o.pattern);
  const Tc = V1.chipSec;
  const t0 = chipStartSec(est.sync, 0) - o.clipStart / RATE; // clip time of attacker chip 0's window
  const fs = o.frameShiftSec ?? 0;
  const cs = o.chipShift ?? 0;
  const bs = o.bandShift ?? 0;
  const mode = o.mode ?? 'divide';
  // 'divide': y = Y / (1 + alpha g s_hat), the embedder's gain inverted; 'add': y = Y (1 - alpha g s_hat).
  const sgn = (mode === 'divide' ? 1 : -1) * (o.flip ? -1 : 1);
  return modulate(clip, {
    bandEdgesHz: V1.bandEdgesHz,
    frameCentre0Sec: t0 + 0.008 + fs,
    value: (t, k) => {
      const kk = k - bs;
      if (kk < 0 || kk >= V1.bands) return 0;
      return sgn * pv(Math.floor((t - t0 - fs) / Tc) - cs, kk);
    },
    masking: o.masking ?? EMBEDDER_MASKING,
    budget: o.budget ?? EMBEDDER_BUDGET,
    mode,
    level: o.level,
    invert: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Copy attack

export interface CopyOptions {
  level: Level;
  /** Residual clip (|value| <= clip) before transplanting; Infinity = raw. */
  clip?: number;
  /** Average the residual over the two frames of each 32 ms (on a chip grid at `chipPhaseSec`), or not. */
  chipAverage?: boolean;
  chipPhaseSec?: number;
  masking?: MaskingModel;
}

const N = 512;
const HOP = 256;

/** Log band energies of `x` on 512-sample sqrt-Hann frames every 16 ms centred at centre0 + j hop: frames x bands. */
export function logBandEnergies(x: Float32Array, centre0Sec: number, frames: number): Float64Array {
  const K = V1.bands;
  const fft = new RealFft(N);
  const win = sqrtHann(N);
  const bins = N / 2 + 1;
  const band = binBands(V1.bandEdgesHz);
  const out = new Float64Array(frames * K);
  const fr = new Float64Array(N);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const c0 = Math.round(centre0Sec * RATE);
  for (let j = 0; j < frames; j++) {
    const start = c0 + j * HOP - N / 2;
    for (let i = 0; i < N; i++) {
      const t = start + i;
      fr[i] = t >= 0 && t < x.length ? x[t]! * win[i]! : 0;
    }
    fft.forward(fr, re, im);
    const e = new Float64Array(K);
    for (let i = 0; i < bins; i++) if (band[i]! >= 0) e[band[i]!]! += re[i]! * re[i]! + im[i]! * im[i]!;
    for (let k = 0; k < K; k++) out[j * K + k] = Math.log(e[k]! + 1e-12);
  }
  return out;
}

/**
 * Copy attack: the residual of `source` (log band energy minus the mean of its time neighbours
 * +-1 chip and band neighbours, the detector's detrending) is imposed frame by frame on `target`
 * as a multiplicative gain, at a target SNR. Source and target are aligned sample for sample
 * (the copied mark keeps its timing).
 */
export function copy(source: Float32Array, target: Float32Array, o: CopyOptions): Modulated {
  const K = V1.bands;
  const c0 = 0.008 + (o.chipPhaseSec ?? 0);
  const F = Math.ceil(target.length / HOP) + 2;
  const L = logBandEnergies(source, c0, F);
  const res = new Float64Array(F * K);
  for (let j = 0; j < F; j++)
    for (let k = 0; k < K; k++) {
      // Neighbours: frames j +- 2 (one chip), bands k +- 1.
      let s = 0;
      let c = 0;
      for (const [jj, kk] of [[j - 2, k], [j + 2, k], [j, k - 1], [j, k + 1]] as const) {
        if (jj < 0 || jj >= F || kk < 0 || kk >= K) continue;
        s += L[jj * K + kk]!;
        c++;
      }
      res[j * K + k] = L[j * K + k]! - s / c;
    }
  const lim = o.clip ?? Infinity;
  const val = new Float64Array(F * K);
  for (let j = 0; j < F; j++)
    for (let k = 0; k < K; k++) {
      let v = res[j * K + k]!;
      if (o.chipAverage) {
        const j0 = j - (j & 1);
        v = 0.5 * (res[j0 * K + k]! + (j0 + 1 < F ? res[(j0 + 1) * K + k]! : res[j0 * K + k]!));
      }
      val[j * K + k] = Math.max(-lim, Math.min(lim, v));
    }
  return modulate(target, {
    bandEdgesHz: V1.bandEdgesHz,
    frameCentre0Sec: c0,
    value: (t, k) => {
      const j = Math.round((t - c0) * (RATE / HOP));
      return j >= 0 && j < F ? val[j * K + k]! : 0;
    },
    masking: o.masking ?? { exponent: 0, cap: 1, releaseSec: 0 },
    budget: CONSTANT_BUDGET,
    mode: 'add',
    level: o.level,
  });
}
