/**
 * v2's exhaustive search: each candidate leg's own layer correlated with the clip at every session
 * offset of the leg's connected span, without the key layer. The key layer (periodic, the same in
 * every leg) makes the fast path cheap, and an adversary can estimate it by folding and strip it;
 * this search is what keeps attribution standing then (issue 13: "any structure kept for
 * synchronisation names no leg and can be stripped without stopping attribution"). Its cost is
 * budgeted by the registry: a leg is searched only over the session time it was connected.
 *
 * For a window of the clip at chip phase phi (fine grid of PHASES per 32 ms chip) the tiles'
 * weights are x(m, k) = feature x soft host bit (host-hash.ts), the bits depending on the session
 * cell boundaries, i.e. on the session chip modulo 4: four weight sets per phase. The statistic at
 * session chip u of the window's first chip is the plain self-normalized correlation
 *   Z(u, phi) = sum_{m,k} x(m, k) s(u + m, k) / sqrt(sum x^2),
 * with s the leg layer's signs: a cross-correlation over u, computed per band by FFT over the span
 * and summed in the frequency domain (one inverse transform per phase, cell class and leg).
 * Coarse to fine: the correlation runs on every other phase and every other band; each leg's best
 * COARSE_KEEP coarse places are then scored with every band at the coarse phase and its fine
 * neighbours. Every (u, fine phase) pair of every leg's span is a hypothesis whether or not it was
 * scored exactly (Bonferroni holds for any subset of a fixed family), so the count is
 * sum over legs of (offsets in the span) x PHASES per window.
 * Limits: replay speed and tempo 1 only (a stripped clip that was also re-timed is not found here);
 * the cost grows with span length x candidates (benchmarks/results/exhaustive.md).
 */
import { RealFft, nextPowerOfTwo } from '../../dsp/fft.js';
import type { BandAnalysis } from '../features/analysis.js';
import { tileFeatures } from '../features/tiles.js';
import type { HostHash } from '../host-hash.js';
import { CELL_CHIPS, softBit } from '../host-hash.js';
import type { LegLayer } from '../pattern.js';
import { chipRange } from '../search.js';
import type { Hypothesis } from '../search.js';

/** Fine chip phases per chip (4 ms apart): the family's phase grid. */
export const EXHAUSTIVE_PHASES = 8;
/** Frequency bins per block of the coarse products' accumulation. */
const MAC_BLOCK = 2048;
/** Coarse places per leg and window scored with every band. */
const COARSE_KEEP = 8;

/** Session seconds a leg was connected (its registry span): the offsets the search covers. */
export interface LegSpan {
  fromSec: number;
  toSec: number;
}

export interface ExhaustiveFound {
  z: number;
  /** Session chip of the window's first chip, and the chip phase (clip seconds). */
  u: number;
  phaseSec: number;
  /** Session time at clip time 0 (s). */
  tau0: number;
  window: number;
}

export interface ExhaustiveResult {
  /** Per leg, per window: the best exactly scored place (undefined: the leg has no span there). */
  found: (ExhaustiveFound | undefined)[][];
  /** The family: sum over legs and windows of (offsets searched) x EXHAUSTIVE_PHASES. */
  hypotheses: number;
}

interface PhaseWeights {
  hyp: Hypothesis;
  ma: number;
  M: number;
  /** Per cell class c (session chip of relative chip 0 = c mod 4): weights M x K. */
  x: Float64Array[];
  /** Per cell class: sum x^2 over the coarse bands and over every band. */
  qCoarse: number[];
  qAll: number[];
}

/** Weights of a window at a chip phase, for the four cell classes. */
function phaseWeights(analysis: BandAnalysis, hostHash: HostHash, phaseSec: number, window: { startSec: number; endSec: number }, coarse: Uint8Array): PhaseWeights {
  const profile = analysis.profile;
  const K = profile.bands;
  const hyp: Hypothesis = { rate: 1, freqScale: 1, phaseSec };
  const f = tileFeatures(analysis, hyp);
  const [ma, mb] = chipRange(window, hyp, profile.chipSec, f.chips);
  const M = mb - ma;
  const x: Float64Array[] = [];
  const qCoarse: number[] = [];
  const qAll: number[] = [];
  for (let c = 0; c < CELL_CHIPS; c++) {
    const host = hostHash.bits(analysis, hyp, c, ma, mb);
    const w = new Float64Array(Math.max(0, M) * K);
    let qc = 0;
    let qa = 0;
    for (let m = 0; m < M; m++)
      for (let k = 0; k < K; k++) {
        const v = f.r[(ma + m) * K + k]! * softBit(host[m * K + k]!);
        if (!(v !== 0 && Number.isFinite(v))) continue;
        w[m * K + k] = v;
        qa += v * v;
        if (coarse[k]) qc += v * v;
      }
    x.push(w);
    qCoarse.push(qc);
    qAll.push(qa);
  }
  return { hyp, ma, M, x, qCoarse, qAll };
}

/**
 * The search over `windows` of the clip for every leg with a span. `reachChips`: the profile's
 * timeline (no offset beyond it is searched).
 */
export function exhaustiveSearch(
  analysis: BandAnalysis,
  legs: readonly LegLayer[],
  spans: readonly (LegSpan | undefined)[],
  hostHash: HostHash,
  windows: readonly { startSec: number; endSec: number }[],
  reachChips: number,
): ExhaustiveResult {
  const profile = analysis.profile;
  const K = profile.bands;
  const Tc = profile.chipSec;
  // Coarse bands: every other band that carries the leg layer (the payload bands carry none).
  const coarse = new Uint8Array(K);
  const legBand = new Uint8Array(K).fill(1);
  for (const b of profile.payloadBands) legBand[b] = 0;
  for (let k = 0, i = 0; k < K; k++) if (legBand[k]) coarse[k] = i++ % 2 === 0 ? 1 : 0;
  const coarseBands = [...coarse.keys()].filter((k) => coarse[k]);
  const found: (ExhaustiveFound | undefined)[][] = legs.map(() => windows.map(() => undefined));
  let hypotheses = 0;
  const ffts = new Map<number, RealFft>();
  const fftOf = (L: number): RealFft => {
    let f = ffts.get(L);
    if (!f) ffts.set(L, (f = new RealFft(L)));
    return f;
  };
  for (let wi = 0; wi < windows.length; wi++) {
    const w = windows[wi]!;
    const fine = Array.from({ length: EXHAUSTIVE_PHASES }, (_, j) => phaseWeights(analysis, hostHash, (j * Tc) / EXHAUSTIVE_PHASES, w, coarse));
    const coarsePhases = fine.filter((_, j) => j % 2 === 0);
    const M = Math.max(...fine.map((p) => p.M));
    if (!(M >= CELL_CHIPS * 8)) continue;
    // Coarse spectra of the weights per (phase, cell class, coarse band), per transform length.
    // Float32 halves their memory (4 phases x 4 classes x ~15 bands x L/2 bins: ~125 MB for a 1 h span);
    // the coarse stage only ranks places, the exact scores are computed in double precision.
    const spectra = new Map<number, { re: Float32Array; im: Float32Array }[][][]>();
    const spectraOf = (L: number): { re: Float32Array; im: Float32Array }[][][] => {
      let s = spectra.get(L);
      if (s) return s;
      const fft = fftOf(L);
      const col = new Float64Array(L);
      s = coarsePhases.map((p) =>
        p.x.map((x) =>
          coarseBands.map((k) => {
            col.fill(0);
            for (let m = 0; m < p.M; m++) col[m] = x[m * K + k]!;
            const re = new Float64Array(L / 2 + 1);
            const im = new Float64Array(L / 2 + 1);
            fft.forward(col, re, im);
            return { re: Float32Array.from(re), im: Float32Array.from(im) };
          }),
        ),
      );
      spectra.set(L, s);
      return s;
    };
    for (let li = 0; li < legs.length; li++) {
      const span = spans[li];
      if (!span) continue;
      // u: the session chip of the window's first chip; the window lies inside the span and the reach.
      const uLo = Math.max(0, Math.ceil(span.fromSec / Tc - 1e-9));
      const uHi = Math.min(Math.floor(span.toSec / Tc + 1e-9), reachChips) - M;
      if (uHi < uLo) continue;
      const count = uHi - uLo + 1;
      hypotheses += count * EXHAUSTIVE_PHASES;
      const len = count + M + 1;
      const L = nextPowerOfTwo(len);
      const fft = fftOf(L);
      const signs = legs[li]!.signs(uLo, len);
      const sRe: Float64Array[] = [];
      const sIm: Float64Array[] = [];
      const col = new Float64Array(L);
      for (const k of coarseBands) {
        col.fill(0);
        for (let i = 0; i < len; i++) col[i] = signs[i * K + k]!;
        const re = new Float64Array(L / 2 + 1);
        const im = new Float64Array(L / 2 + 1);
        fft.forward(col, re, im);
        sRe.push(re);
        sIm.push(im);
      }
      const Y = spectraOf(L);
      const zr = new Float64Array(L / 2 + 1);
      const zi = new Float64Array(L / 2 + 1);
      const corr = new Float64Array(L);
      // Best coarse places (u, coarse phase index).
      const keep: { z: number; u: number; p: number }[] = [];
      for (let pi = 0; pi < coarsePhases.length; pi++) {
        const ph = coarsePhases[pi]!;
        for (let c = 0; c < CELL_CHIPS; c++) {
          const q = ph.qCoarse[c]!;
          if (!(q > 0)) continue;
          zr.fill(0);
          zi.fill(0);
          // sum over bands of conj(Y) S, in blocks of bins so the accumulators stay in cache.
          const yb = Y[pi]![c]!;
          for (let j0 = 0; j0 <= L / 2; j0 += MAC_BLOCK) {
            const j1 = Math.min(L / 2 + 1, j0 + MAC_BLOCK);
            for (let bi = 0; bi < coarseBands.length; bi++) {
              const yr = yb[bi]!.re;
              const yi = yb[bi]!.im;
              const a = sRe[bi]!;
              const b = sIm[bi]!;
              for (let j = j0; j < j1; j++) {
                const p = yr[j]!;
                const q = yi[j]!;
                const u = a[j]!;
                const v = b[j]!;
                zr[j]! += p * u + q * v;
                zi[j]! += p * v - q * u;
              }
            }
          }
          fft.inverse(zr, zi, corr);
          const norm = 1 / Math.sqrt(q);
          // Offsets i whose session chip of relative chip 0 (uLo + i - ma) is in cell class c.
          const first = (((c - (uLo - ph.ma)) % CELL_CHIPS) + CELL_CHIPS) % CELL_CHIPS;
          for (let i = first; i < count; i += CELL_CHIPS) {
            const z = corr[i]! * norm;
            if (keep.length < COARSE_KEEP || z > keep[keep.length - 1]!.z) {
              keep.push({ z, u: uLo + i, p: pi });
              keep.sort((a, b) => b.z - a.z);
              if (keep.length > COARSE_KEEP) keep.pop();
            }
          }
        }
      }
      // Exact scores at the coarse places: the coarse phase and its fine neighbours, every band.
      let best: ExhaustiveFound | undefined;
      for (const k of keep) {
        const j0 = 2 * k.p;
        for (const dj of [-1, 0, 1]) {
          // Same session chip n0 for relative chip 0, the phase 4 ms earlier or later (tau0 = n0 Tc - phi
          // moves by 4 ms); phase -4 ms is written as Tc - 4 ms with relative chip 0 one chip later.
          let j = j0 + dj;
          let n0 = k.u - fine[j0]!.ma;
          if (j < 0) (j += EXHAUSTIVE_PHASES), (n0 += 1);
          const p = fine[j]!;
          const first = n0 + p.ma; // session chip of the window's first chip
          if (n0 < 0 || first < uLo || first > uHi) continue;
          const c = n0 % CELL_CHIPS;
          const x = p.x[c]!;
          const q = p.qAll[c]!;
          if (!(q > 0)) continue;
          const s = legs[li]!.signs(first, p.M);
          let acc = 0;
          for (let i = 0; i < p.M * K; i++) if (x[i] !== 0) acc += x[i]! * s[i]!;
          const z = acc / Math.sqrt(q);
          if (!best || z > best.z) best = { z, u: first, phaseSec: p.hyp.phaseSec, tau0: n0 * Tc - p.hyp.phaseSec, window: wi };
        }
      }
      found[li]![wi] = best;
    }
  }
  return { found, hypotheses };
}
