/**
 * The attacks on mark v2, as audio -> audio functions of public knowledge and the adversary's own
 * recordings (no key). Values are functions of the attacker's chip index m (its own recording's
 * chips, ../v1/estimate.ts chipStartSec) and band k.
 *
 *  - forge:    embed values (a key-layer estimate, a single-shot leg estimate, the payload fold)
 *              into a target the leg never carried, the target's chip j playing attacker chip m0 + j.
 *  - strip:    divide values out of a clip of the adversary's recording at its own alignment
 *              (the embedder's masking and level rule recomputed from the audio; alpha or SNR).
 *  - minimum:  collusion of n aligned copies of the same session time: per chip and band keep the
 *              copy whose band energy is lowest in the key layer's direction (the tile gain of v2
 *              is (a_k + a_l) g s_key where a leg's sign agrees with the key layer and (a_k - a_l)
 *              g s_key where it does not -- 1/sqrt 2 each: sqrt 2 and 0 -- so a copy that is low
 *              there carries least of the leg's mark in that tile).
 *  - logRatio / imposeLog: the copy attack with another leg's recording of the same content as the
 *              host estimate (the mark residual of leg A against leg B, imposed on a target).
 *  - contour:  the host-binding attack: the source's loudness contour per band group imposed on the
 *              target, so the detector's keyed host bits of the target follow the source's.
 */
import { CONSTANT_BUDGET, EMBEDDER_BUDGET, EMBEDDER_MASKING, FLAT, binBands, modulate } from '../modulator.js';
import type { Budget, Level, MaskingModel, Modulated } from '../modulator.js';
import { RealFft, sqrtHann } from '../earmark.js';
import { RATE } from '../harness.js';
import { chipStartSec } from '../v1/estimate.js';
import { logBandEnergies } from '../v1/attacks.js';
import type { KeyEstimate } from './estimate.js';
import { V2 } from './model.js';

export type TileValue = (m: number, k: number) => number;

export interface ApplyOptions {
  /** Clip time (s) of the detector window start of attacker chip 0 (frames centred 8 ms and 24 ms into each chip). */
  chip0Sec: number;
  value: TileValue;
  mode: 'add' | 'divide' | 'exp';
  level: Level;
  budget: Budget;
  masking?: MaskingModel;
  invert?: boolean;
}

/** Per-tile values onto a clip with the adversary's modulator (../modulator.ts). */
export function applyValues(x: Float32Array, o: ApplyOptions): Modulated {
  const Tc = V2.chipSec;
  return modulate(x, {
    bandEdgesHz: V2.bandEdgesHz,
    frameCentre0Sec: o.chip0Sec + 0.008,
    value: (t, k) => o.value(Math.floor((t - o.chip0Sec) / Tc + 1e-9), k),
    masking: o.masking ?? EMBEDDER_MASKING,
    budget: o.budget,
    mode: o.mode,
    level: o.level,
    ...(o.invert ? { invert: true } : {}),
  });
}

/** Framing: `value` embedded into `target`; the target's chip j plays attacker chip m0 + j (its window starts at j x 32 ms). */
export function forge(target: Float32Array, value: TileValue, m0: number, level: Level, budget: Budget = CONSTANT_BUDGET): Modulated {
  return applyValues(target, { chip0Sec: 0, value: (j, k) => value(m0 + j, k), mode: 'add', level, budget });
}

/** Clip time of attacker chip 0's window in a clip starting at recording sample clipStart. */
export function chip0Of(est: KeyEstimate, clipStart: number): number {
  return chipStartSec(est.sync, 0) - clipStart / RATE;
}

/**
 * Removal: each tile's magnitude divided by |1 + g v|^alpha, g the embedder's gain magnitude
 * recomputed from the received audio (masking boost, 24 dB running budget, strength 0.014) and v
 * the value (the mark's own gain factor estimate: alpha 1 undoes it where v is right).
 */
export function strip(clip: Float32Array, clipStart: number, est: KeyEstimate, value: TileValue, level: Level): Modulated {
  return applyValues(clip, { chip0Sec: chip0Of(est, clipStart), value: (m, k) => (m < 0 ? 0 : value(m, k)), mode: 'divide', level, budget: EMBEDDER_BUDGET, invert: true });
}

/** Add values to a clip of the recording at its own alignment (same-content framing: another leg's estimate onto this one). */
export function addAligned(clip: Float32Array, clipStart: number, est: KeyEstimate, value: TileValue, level: Level, budget: Budget = CONSTANT_BUDGET): Modulated {
  return applyValues(clip, { chip0Sec: chip0Of(est, clipStart), value: (m, k) => (m < 0 ? 0 : value(m, k)), mode: 'add', level, budget });
}

// ---------------------------------------------------------------------------------------------
// Collusion: the minimum attack

const N = 512;

/**
 * Colluders' copies of one stretch (sample-aligned, starting at recording sample clipStart):
 * per chip (its two STFT frames) and band, the copy with the smallest s_key x log band energy
 * (s_key: the key layer's estimated sign; 0 -> the mean of the copies); bins outside the bands:
 * the mean. Analysis sqrt-Hann 512 / 256 with frames centred 8 and 24 ms into each chip,
 * synthesis by the same window (perfect reconstruction where nothing is chosen).
 */
export function minimum(copies: readonly Float32Array[], clipStart: number, est: KeyEstimate, keyVal: TileValue): Float32Array {
  const K = V2.bands;
  const L = copies[0]!.length;
  const n = copies.length;
  const fft = new RealFft(N);
  const win = sqrtHann(N);
  const bins = N / 2 + 1;
  const band = binBands(V2.bandEdgesHz, 0.48);
  const c0 = chip0Of(est, clipStart);
  const Tc = V2.chipSec;
  // Chips whose frames touch the clip: window start c0 + m Tc, frames centred at + 8 and + 24 ms.
  const mLo = Math.floor((-N / 2 / RATE - 0.024 - c0) / Tc);
  const mHi = Math.ceil((L / RATE + N / 2 / RATE - c0) / Tc);
  const y = new Float64Array(L);
  const fr = new Float64Array(N);
  const re = Array.from({ length: 2 * n }, () => new Float64Array(bins));
  const im = Array.from({ length: 2 * n }, () => new Float64Array(bins));
  const ore = new Float64Array(bins);
  const oim = new Float64Array(bins);
  const out = new Float64Array(N);
  const E = new Float64Array(n * K);
  const pick = new Int32Array(K);
  for (let m = mLo; m <= mHi; m++) {
    const starts = [0.008, 0.024].map((d) => Math.round((c0 + m * Tc + d) * RATE) - N / 2);
    E.fill(0);
    for (let h = 0; h < 2; h++)
      for (let c = 0; c < n; c++) {
        const x = copies[c]!;
        for (let i = 0; i < N; i++) {
          const t = starts[h]! + i;
          fr[i] = t >= 0 && t < L ? x[t]! * win[i]! : 0;
        }
        fft.forward(fr, re[h * n + c]!, im[h * n + c]!);
        for (let i = 0; i < bins; i++) {
          const k = band[i]!;
          if (k >= 0) E[c * K + k]! += re[h * n + c]![i]! ** 2 + im[h * n + c]![i]! ** 2;
        }
      }
    for (let k = 0; k < K; k++) {
      const s = m >= 0 ? keyVal(m, k) : 0;
      pick[k] = -1;
      if (s === 0) continue;
      let best = Infinity;
      for (let c = 0; c < n; c++) {
        const v = s * Math.log(E[c * K + k]! + 1e-20);
        if (v < best) (best = v), (pick[k] = c);
      }
    }
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < bins; i++) {
        const k = band[i]!;
        const p = k >= 0 ? pick[k]! : -1;
        if (p >= 0) {
          ore[i] = re[h * n + p]![i]!;
          oim[i] = im[h * n + p]![i]!;
        } else {
          let a = 0;
          let b = 0;
          for (let c = 0; c < n; c++) (a += re[h * n + c]![i]!), (b += im[h * n + c]![i]!);
          ore[i] = a / n;
          oim[i] = b / n;
        }
      }
      fft.inverse(ore, oim, out);
      for (let i = 0; i < N; i++) {
        const t = starts[h]! + i;
        if (t >= 0 && t < L) y[t]! += out[i]! * win[i]!;
      }
    }
  }
  return Float32Array.from(y);
}

// ---------------------------------------------------------------------------------------------
// Copy attacks and the host-binding attack

/**
 * Per 16 ms frame (centred at 8 ms + 16 ms j, i.e. frames j = 2m, 2m + 1 in chip m's window when
 * the clip's chip grid starts at 0) and band: the log band energy of `a` minus that of `b`, both
 * sample-aligned recordings of the same session time (b: another leg's downlink of the same
 * content: the exact host up to its own mark and codec noise). The result is the log ratio of the
 * two legs' marks: the key layer (the same in both) cancels, leg A's leg layer minus leg B's stays.
 */
export function logRatio(a: Float32Array, b: Float32Array, frames: number): Float64Array {
  const la = logBandEnergies(a, 0.008, frames);
  const lb = logBandEnergies(b, 0.008, frames);
  return Float64Array.from(la, (x, i) => x - lb[i]!);
}

/**
 * Impose per-frame log-energy values (frames x bands, frames centred at 8 ms + 16 ms j) on a
 * target as a gain exp(alpha v / 2) per tile (alpha 1: the log ratio reproduced exactly), v
 * clipped at +-`clip`. Returns the change as audio (y - x) at alpha 1 for the caller to scale.
 */
export function imposeLog(target: Float32Array, v: Float64Array, clip = 1): Float32Array {
  const K = V2.bands;
  const F = v.length / K;
  const m = modulate(target, {
    bandEdgesHz: V2.bandEdgesHz,
    frameCentre0Sec: 0.008,
    value: (t, k) => {
      const j = Math.round((t - 0.008) * (RATE / 256));
      return j >= 0 && j < F ? Math.max(-clip, Math.min(clip, v[j * K + k]!)) : 0;
    },
    masking: FLAT,
    // A unit budget that passes the values through unscaled: the values are log-energy ratios, gain exp(v / 2) - 1 ~ v / 2.
    budget: { kind: 'embedder', strength: 0.5, budgetDb: -200, sec: 3 },
    mode: 'add',
    level: { alpha: 1 },
  });
  return Float32Array.from(m.y, (y, i) => y - target[i]!);
}

/** The host hash's band group of each STFT bin (N-point frames): bins below the first band take group 0, above the last band the last group. */
function binGroups(groupBands: number): Int8Array {
  const K = V2.bands;
  const G = Math.ceil(K / groupBands);
  const bins = N / 2 + 1;
  const grp = new Int8Array(bins);
  for (let i = 0; i < bins; i++) {
    const f = (i * RATE) / N;
    let k = 0;
    while (k < K - 1 && f >= V2.bandEdgesHz[k + 1]!) k++;
    grp[i] = Math.min(G - 1, Math.floor(k / groupBands));
  }
  return grp;
}

/**
 * The host-binding attack (host-hash.ts states it as a limit): impose the source recording's
 * loudness contour per band group (bands 0-15 and 16-31, the host hash's groups) on the target,
 * frame by frame on the chip-aligned 16 ms grid, so that the target's group energies -- and with
 * them the detector's keyed host bits -- follow the source's. Gains sqrt(E_src / E_tgt) times one
 * level factor (the target keeps its overall loudness), capped at +-`capDb`; bins below the first
 * band take group 0's gain, above the last band group 1's.
 */
export function contour(target: Float32Array, source: Float32Array, capDb = 40, groupBands = 16): Float32Array {
  const K = V2.bands;
  const G = Math.ceil(K / groupBands);
  const L = target.length;
  const fft = new RealFft(N);
  const win = sqrtHann(N);
  const bins = N / 2 + 1;
  const grp = binGroups(groupBands);
  const HOPS = 256;
  const c0 = Math.round(0.008 * RATE);
  const jLo = Math.ceil((-N / 2 - c0) / HOPS);
  const jHi = Math.floor((L + N / 2 - c0) / HOPS);
  const F = jHi - jLo + 1;
  const spec = (x: Float32Array, fi: number, re: Float64Array, im: Float64Array): void => {
    const start = c0 + (jLo + fi) * HOPS - N / 2;
    const fr = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const t = start + i;
      fr[i] = t >= 0 && t < x.length ? x[t]! * win[i]! : 0;
    }
    fft.forward(fr, re, im);
  };
  const Et = new Float64Array(F * G);
  const Es = new Float64Array(F * G);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  let totT = 0;
  let totS = 0;
  for (let fi = 0; fi < F; fi++) {
    spec(target, fi, re, im);
    for (let i = 0; i < bins; i++) Et[fi * G + grp[i]!]! += re[i]! ** 2 + im[i]! ** 2;
    spec(source, fi, re, im);
    for (let i = 0; i < bins; i++) Es[fi * G + grp[i]!]! += re[i]! ** 2 + im[i]! ** 2;
  }
  for (let i = 0; i < F * G; i++) (totT += Et[i]!), (totS += Es[i]!);
  const level = totS > 0 ? totT / totS : 1;
  const cap = 10 ** (capDb / 10);
  let maxT = 0;
  for (const e of Et) maxT = Math.max(maxT, e);
  const floor = 1e-7 * maxT;
  const y = new Float64Array(L);
  const out = new Float64Array(N);
  for (let fi = 0; fi < F; fi++) {
    spec(target, fi, re, im);
    for (let i = 0; i < bins; i++) {
      const g = grp[i]!;
      const r = Math.min(cap, Math.max(1 / cap, (level * Es[fi * G + g]! + floor) / (Et[fi * G + g]! + floor)));
      const a = Math.sqrt(r);
      re[i]! *= a;
      im[i]! *= a;
    }
    fft.inverse(re, im, out);
    const start = c0 + (jLo + fi) * HOPS - N / 2;
    for (let i = 0; i < N; i++) {
      const t = start + i;
      if (t >= 0 && t < L) y[t]! += out[i]! * win[i]!;
    }
  }
  return Float32Array.from(y);
}

/**
 * Removal by the host binding (the leaker's side of host-hash.ts): the detector's host bit of a
 * tile is the sign of a keyed combination of the past 128 ms cells' log-energy steps in two band
 * groups; a random gain per cell and band group (ln-energy +-delta, random signs) adds keyless
 * noise to every projection, so the bits the detector computes from the published audio drift
 * from the embedder's and the leg layer's effective signs with them. Cells on the session grid
 * (cell boundaries at attacker chips m with (m - cellPhase) mod 4 = 0, from the key estimate's
 * timecode block boundary: session chip n0 + m, n0 = -shift mod 32). `gamma` spreads the change:
 * delta_cg ~ (E_mean / E_cg)^gamma (0: equal relative gain; 0.5: equal change energy per cell,
 * quiet cells get more), capped at 30x. Returns the change (y - x) at delta 0.1 for the caller
 * to scale to its budget (the change is nearly linear in delta there).
 */
export function scramble(x: Float32Array, chip0Sec: number, cellPhase: number, r: () => number, gamma: number, groupBands = 16): Float32Array {
  const K = V2.bands;
  const G = Math.ceil(K / groupBands);
  const L = x.length;
  const fft = new RealFft(N);
  const win = sqrtHann(N);
  const bins = N / 2 + 1;
  const grp = binGroups(groupBands);
  const HOPS = 256;
  // Frames centred at chip0Sec + 8 ms + 16 ms j: frame j lies in attacker chip floor(j / 2).
  const c0 = Math.round((chip0Sec + 0.008) * RATE);
  const jLo = Math.ceil((-N / 2 - c0) / HOPS);
  const jHi = Math.floor((L + N / 2 - c0) / HOPS);
  const cellOf = (j: number): number => Math.floor((Math.floor(j / 2) - cellPhase) / 4);
  const cLo = cellOf(jLo);
  const nCells = cellOf(jHi) - cLo + 1;
  const E = new Float64Array(nCells * G);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const fr = new Float64Array(N);
  const frameSpec = (j: number): void => {
    const start = c0 + j * HOPS - N / 2;
    for (let i = 0; i < N; i++) {
      const t = start + i;
      fr[i] = t >= 0 && t < L ? x[t]! * win[i]! : 0;
    }
    fft.forward(fr, re, im);
  };
  for (let j = jLo; j <= jHi; j++) {
    frameSpec(j);
    const c = cellOf(j) - cLo;
    for (let i = 0; i < bins; i++) E[c * G + grp[i]!]! += re[i]! ** 2 + im[i]! ** 2;
  }
  let mean = 0;
  let cnt = 0;
  for (const e of E) if (e > 0) (mean += e), cnt++;
  mean /= Math.max(1, cnt);
  const delta = Float64Array.from(E, (e) => (r() < 0.5 ? -1 : 1) * 0.1 * (e > 0 ? Math.min(30, (mean / e) ** gamma) : 0));
  const y = new Float64Array(L);
  const out = new Float64Array(N);
  for (let j = jLo; j <= jHi; j++) {
    frameSpec(j);
    const c = cellOf(j) - cLo;
    for (let i = 0; i < bins; i++) {
      const a = Math.exp(delta[c * G + grp[i]!]! / 2) - 1;
      re[i]! *= a;
      im[i]! *= a;
    }
    fft.inverse(re, im, out);
    const start = c0 + j * HOPS - N / 2;
    for (let i = 0; i < N; i++) {
      const t = start + i;
      if (t >= 0 && t < L) y[t]! += out[i]! * win[i]!;
    }
  }
  return Float32Array.from(y);
}
