/**
 * The adversary's own multiplicative STFT modulator, written from the description of earmark's
 * embedder (lib/mark/embed.ts header: a keyed gain 1 + d * boost * sign per tile, a sqrt-Hann STFT
 * with 50% overlap, a masking boost (peak / band density)^0.5 capped at 128 with a 0.1 s
 * forward-masking memory, silent frames skipped, a running quality budget over ~3 s). It knows no
 * key: the per-tile values come from the caller (an estimated pattern, a copied residual, ...).
 *
 * y = x + ISTFT(X(f) * G(frame, band(f))), with G = alpha * g (mode 'add') or
 * G = |1 + g|^-alpha - 1 (mode 'divide': alpha = 1 divides the tile's magnitude by exactly what a
 * gain 1 + g did to it), g = boost * value * level scale, and alpha either given or set so the
 * change has exactly the requested SNR against x (bisection for 'divide', closed form for 'add').
 */
import { embedStudy } from '../study.js';
import { RealFft, sqrtHann } from './earmark.js';
import { RATE, snrDb } from './harness.js';

export interface MaskingModel {
  /** Exponent of the boost (peak / band density)^exponent; 0 = flat. */
  exponent: number;
  cap: number;
  releaseSec: number;
}

/** The embedder's study settings when a study runs (benchmarks/study.ts): the adversary knows them (Kerckhoffs). */
const STUDY = embedStudy();

/** earmark's masking model (lib/mark/embed.ts defaults, or the study's cap). */
export const EMBEDDER_MASKING: MaskingModel = { exponent: 0.5, cap: STUDY.boostCap ?? 128, releaseSec: 0.1 };
export const FLAT: MaskingModel = { exponent: 0, cap: 1, releaseSec: 0 };

export type Budget =
  | { kind: 'constant'; sec: number }
  | { kind: 'embedder'; strength: number; budgetDb: number; sec: number }
  /**
   * The removal attacker's allocation against a detector (Lagrange): a relative change c in a tile
   * of energy E costs c^2 E and removes evidence in proportion to (detector weight x estimate) x c,
   * so the best use of a fixed energy budget is c proportional to value / E -- the value carries the
   * detector's weight times the soft estimate, E is the frame's band energy over the clip's mean band
   * energy plus `floor` (which bounds the change in near-silent bands). No masking model.
   */
  | {
      kind: 'perEnergy';
      floor: number;
      sec: number;
      /**
       * A perceptual limit instead of SNR alone: no tile's relative change |G| larger than the
       * embedder's own largest gain there (strength x its masking boost: the mark's masking
       * allowance, the options' masking model). Unset: SNR alone bounds the change.
       */
      maskLimit?: { strength: number };
    };
export type Level = { snrDb: number } | { alpha: number };
/** earmark's level rule (strength 0.014 or the study's, 24 dB running budget over 3 s). */
export const EMBEDDER_BUDGET: Budget = { kind: 'embedder', strength: STUDY.strength ?? 0.014, budgetDb: 24, sec: 3 };
export const CONSTANT_BUDGET: Budget = { kind: 'constant', sec: 3 };

export interface ModulateOptions {
  /** Band edges (Hz), bands + 1 of them. */
  bandEdgesHz: Float64Array;
  /** Clip time (s) of frame 0's centre; frames every hop (16 ms) from there, both directions. */
  frameCentre0Sec: number;
  /** Value of the frame centred at clip time t (s) in band k (sign estimates, residuals; 0 = leave). */
  value: (t: number, k: number) => number;
  masking: MaskingModel;
  /**
   * Level control of the per-tile gains before the final factor alpha:
   *  - 'constant': the change is held at a constant ratio to the host over `sec` (running sums);
   *  - 'embedder': earmark's own level rule: gain = strength x boost, scaled down where the
   *    running mark-to-host ratio over `sec` would exceed -budgetDb (lib/mark/embed.ts), computed
   *    with |value| = 1 as the embedder does (so alpha = 1 reproduces the mark's own per-tile gains).
   */
  budget: Budget;
  /** 'exp': gain exp(-alpha g) per tile, the exponent clipped at +-2 (a change of the tile's log energy linear in g, either sign). */
  mode: 'add' | 'divide' | 'exp';
  /** The final factor: a target SNR (dB) of the change re x, or a fixed alpha. */
  level: Level;
  /** The input already carries the gains (removal): estimate the host's band levels by dividing them out first. */
  invert?: boolean;
  /** Frames quieter than this (dBFS) are left alone. */
  silenceDbfs?: number;
}

const N = 512;
const HOP = 256;

/**
 * The band of each bin of an N-point (512) frame at RATE, -1 outside the bands; bins at or above
 * `maxFreqFraction` x RATE (default: no limit) are left out.
 */
export function binBands(bandEdgesHz: ArrayLike<number>, maxFreqFraction = Infinity): Int16Array {
  const K = bandEdgesHz.length - 1;
  const bins = N / 2 + 1;
  const band = new Int16Array(bins).fill(-1);
  for (let i = 0; i < bins; i++) {
    const f = (i * RATE) / N;
    if (f >= maxFreqFraction * RATE) continue;
    for (let k = 0; k < K; k++)
      if (f >= bandEdgesHz[k]! && f < bandEdgesHz[k + 1]!) {
        band[i] = k;
        break;
      }
  }
  return band;
}

export interface Modulated {
  y: Float32Array;
  snrDb: number;
  alpha: number;
}

/** Apply a tile-value pattern to x (mono, RATE) at a target SNR. */
export function modulate(x: Float32Array, o: ModulateOptions): Modulated {
  const K = o.bandEdgesHz.length - 1;
  const bins = N / 2 + 1;
  const fft = new RealFft(N);
  const win = sqrtHann(N);
  const binBand = binBands(o.bandEdgesHz, 0.48);
  const bandBins = new Float64Array(K);
  for (let i = 0; i < bins; i++) if (binBand[i]! >= 0) bandBins[binBand[i]!]! += 1;
  // Frames: centres at frameCentre0Sec + j * hop covering the clip.
  const c0 = Math.round(o.frameCentre0Sec * RATE);
  const jLo = Math.ceil((-N / 2 - c0) / HOP);
  const jHi = Math.floor((x.length + N / 2 - c0) / HOP);
  const F = Math.max(0, jHi - jLo + 1);
  const specRe = new Float32Array(F * bins);
  const specIm = new Float32Array(F * bins);
  const gains = new Float32Array(F * K);
  const frame = new Float64Array(N);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const be = new Float64Array(K);
  let w2 = 0;
  for (let i = 0; i < N; i++) w2 += win[i]! ** 2;
  const silence = 10 ** ((o.silenceDbfs ?? -60) / 10) * w2;
  const maskDecay = o.masking.releaseSec > 0 ? Math.exp(-HOP / RATE / o.masking.releaseSec) : 0;
  // (earmark's running sums use the requested mark energy, before the budget's scale.)
  const budgetDecay = Math.exp(-HOP / RATE / o.budget.sec);
  const unit = new Float64Array(K);
  const val = new Float64Array(K);
  const dens = new Float64Array(K);
  const orig = new Float64Array(K);
  let maskRef = 0;
  let hostRun = 0;
  let markRun = 0;
  const active = new Uint8Array(F);
  const frameBandE = o.budget.kind === 'perEnergy' ? new Float32Array(F * K) : new Float32Array(0);
  const limits = o.budget.kind === 'perEnergy' && o.budget.maskLimit ? new Float32Array(F * K) : null;
  for (let fi = 0; fi < F; fi++) {
    const start = c0 + (jLo + fi) * HOP - N / 2;
    let ms = 0;
    for (let i = 0; i < N; i++) {
      const t = start + i;
      const v = t >= 0 && t < x.length ? x[t]! * win[i]! : 0;
      frame[i] = v;
      ms += v * v;
    }
    if (ms < silence) {
      maskRef *= maskDecay;
      hostRun *= budgetDecay;
      markRun *= budgetDecay;
      continue;
    }
    active[fi] = 1;
    fft.forward(frame, re, im);
    be.fill(0);
    for (let i = 0; i < bins; i++) {
      specRe[fi * bins + i] = re[i]!;
      specIm[fi * bins + i] = im[i]!;
      const k = binBand[i]!;
      if (k >= 0) be[k]! += re[i]! * re[i]! + im[i]! * im[i]!;
    }
    const tc = (start + N / 2) / RATE;
    let frameE = 0;
    for (let i = 0; i < bins; i++) frameE += re[i]! * re[i]! + im[i]! * im[i]!;
    for (let k = 0; k < K; k++) val[k] = bandBins[k]! > 0 ? o.value(tc, k) : 0;
    if (o.budget.kind === 'perEnergy') {
      // Gains after the loop (they need the clip's mean band energy): keep the values and energies.
      for (let k = 0; k < K; k++) (gains[fi * K + k] = val[k]!), (frameBandE[fi * K + k] = be[k]!);
      if (limits) {
        // The embedder's boost of each band (its masking model, forward memory included).
        let pk = maskRef * maskDecay;
        for (let k = 0; k < K; k++) if (bandBins[k]! > 0) pk = Math.max(pk, be[k]! / bandBins[k]!);
        const strength = (o.budget as { maskLimit: { strength: number } }).maskLimit.strength;
        for (let k = 0; k < K; k++) {
          const p = bandBins[k]! > 0 ? be[k]! / bandBins[k]! : 0;
          limits[fi * K + k] = p > 0 ? strength * (o.masking.exponent > 0 ? Math.min(o.masking.cap, (pk / p) ** o.masking.exponent) : 1) : 0;
        }
        maskRef = pk;
      }
      continue;
    }
    // Band densities the level rule sees. With `invert`, the input is taken to carry a gain
    // 1 + g v already (v = the values): the original densities are estimated by dividing it out,
    // by a few fixed-point passes (the boost of a quiet band depends on its own original level).
    for (let k = 0; k < K; k++) dens[k] = bandBins[k]! > 0 ? be[k]! / bandBins[k]! : 0;
    const passes = o.invert ? 4 : 1;
    let scale = 0;
    let peak = 0;
    let hostNext = 0;
    let markNext = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (let k = 0; k < K; k++) orig[k] = pass === 0 ? dens[k]! : dens[k]! / Math.max(1 / 16, (1 + gains[fi * K + k]!) ** 2);
      peak = 0;
      for (let k = 0; k < K; k++) peak = Math.max(peak, orig[k]!);
      peak = Math.max(peak, maskRef * maskDecay);
      let markE = 0;
      let unitE = 0;
      for (let k = 0; k < K; k++) {
        const p = orig[k]!;
        unit[k] = 0;
        if (p <= 0) continue;
        const boost = o.masking.exponent > 0 ? Math.min(o.masking.cap, (peak / p) ** o.masking.exponent) : 1;
        unit[k] = boost;
        const g = boost * val[k]!;
        markE += g * g * p * bandBins[k]!;
        unitE += boost * boost * p * bandBins[k]!;
      }
      const b = o.budget;
      if (b.kind === 'constant') {
        // Hold the change's energy at a constant ratio to the host's over ~sec.
        hostNext = budgetDecay * hostRun + frameE;
        markNext = budgetDecay * markRun + markE;
        scale = markNext > 0 ? Math.sqrt(hostNext / markNext) : 0;
      } else {
        // earmark's rule: strength x boost, one common scale <= 1 holding the running ratio of the
        // requested mark energy (before the scale) to the host's.
        const d2 = b.strength * b.strength;
        hostNext = budgetDecay * hostRun + frameE;
        markNext = budgetDecay * markRun + d2 * unitE;
        scale = b.strength;
        if (markNext > 0) {
          const g2 = (10 ** (-b.budgetDb / 10) * hostNext) / markNext;
          if (g2 < 1) scale *= Math.sqrt(g2);
        }
      }
      for (let k = 0; k < K; k++) gains[fi * K + k] = unit[k]! * val[k]! * scale;
    }
    maskRef = peak;
    hostRun = hostNext;
    markRun = markNext;
  }
  if (o.budget.kind === 'perEnergy') {
    let sum = 0;
    let cnt = 0;
    for (let fi = 0; fi < F; fi++) if (active[fi]) for (let k = 0; k < K; k++) if (bandBins[k]! > 0) (sum += frameBandE[fi * K + k]!), cnt++;
    const mean = cnt > 0 ? sum / cnt : 0;
    const floor = o.budget.floor;
    for (let fi = 0; fi < F; fi++)
      for (let k = 0; k < K; k++) gains[fi * K + k] = active[fi] && mean > 0 ? gains[fi * K + k]! / (frameBandE[fi * K + k]! / mean + floor) : 0;
  }
  const out = new Float64Array(N);
  const synth = (alpha: number): Float32Array => {
    const y = Float32Array.from(x);
    for (let fi = 0; fi < F; fi++) {
      if (!active[fi]) continue;
      for (let i = 0; i < bins; i++) {
        const k = binBand[i]!;
        let G = 0;
        if (k >= 0) {
          const g = gains[fi * K + k]!;
          // 'divide': the tile's magnitude divided by |1 + g|^alpha (alpha 1: exactly what a gain 1 + g did to it), |1 + g| floored at 1/4.
          G = o.mode === 'add' ? alpha * g : o.mode === 'exp' ? Math.exp(Math.max(-2, Math.min(2, -alpha * g))) - 1 : Math.max(0.25, Math.abs(1 + g)) ** -alpha - 1;
          if (limits) {
            const lim = limits[fi * K + k]!;
            G = G > lim ? lim : G < -lim ? -lim : G;
          }
        }
        re[i] = specRe[fi * bins + i]! * G;
        im[i] = specIm[fi * bins + i]! * G;
      }
      fft.inverse(re, im, out);
      const start = c0 + (jLo + fi) * HOP - N / 2;
      for (let i = 0; i < N; i++) {
        const t = start + i;
        if (t >= 0 && t < y.length) y[t]! += out[i]! * win[i]!;
      }
    }
    return y;
  };
  let alpha: number;
  if ('alpha' in o.level) alpha = o.level.alpha;
  else {
    const target = o.level.snrDb;
    const y1 = synth(1e-3);
    const s1 = snrDb(x, y1);
    if (!Number.isFinite(s1) || s1 > 200) return { y: Float32Array.from(x), snrDb: Infinity, alpha: 0 };
    alpha = 1e-3 * 10 ** ((s1 - target) / 20);
    if (o.mode !== 'add') {
      // Nonlinear: bisect on log alpha around the linear estimate.
      let lo = alpha / 8;
      let hi = alpha * 8;
      for (let it = 0; it < 24; it++) {
        const mid = Math.sqrt(lo * hi);
        if (snrDb(x, synth(mid)) > target) lo = mid;
        else hi = mid;
      }
      alpha = Math.sqrt(lo * hi);
    }
  }
  const y = synth(alpha);
  return { y, snrDb: snrDb(x, y), alpha };
}
