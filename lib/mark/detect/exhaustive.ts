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
 * and summed in the frequency domain (one inverse transform per phase, cell class and leg, a
 * quarter of the span long: a cell class's offsets are one residue modulo 4, computed polyphase).
 * Coarse to fine: the correlation runs on every other phase and every other band; each leg's best
 * COARSE_KEEP coarse places are then scored with every band at the coarse phase and its fine
 * neighbours. Every (u, fine phase) pair of every leg's span is a hypothesis whether or not it was
 * scored exactly (Bonferroni holds for any subset of a fixed family), so the count is
 * sum over legs of (offsets in the span) x PHASES per window.
 * Limits: replay speed and tempo 1 only (a stripped clip that was also re-timed is not found here);
 * the cost grows with span length x candidates (benchmarks/results/speed.md).
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

/** exp(+2 pi i f / n) for f = 0 .. n / 2 (the one-step shift of a length-n sequence's spectrum). */
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n / 2 + 1);
  const sin = new Float64Array(n / 2 + 1);
  for (let f = 0; f <= n / 2; f++) {
    cos[f] = Math.cos((2 * Math.PI * f) / n);
    sin[f] = Math.sin((2 * Math.PI * f) / n);
  }
  return { cos, sin };
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
  const tws = new Map<number, { cos: Float64Array; sin: Float64Array }>();
  const twiddlesOf = (n: number): { cos: Float64Array; sin: Float64Array } => {
    let t = tws.get(n);
    if (!t) tws.set(n, (t = twiddles(n)));
    return t;
  };
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
    // Polyphase (D = CELL_CHIPS): a cell class's offsets i = D j + r are one residue class, so its
    // correlation is computed at length L / D from the weights' and signs' decimated columns,
    //   corr(D j + r) = sum_b sum_a x(D a + b) s(D (j + a) + r + b),
    // the term with r + b >= D using the signs' column r + b - D one step later (a twiddle in the
    // frequency domain). Coarse spectra of the weights per (phase, cell class, sub-column b, coarse
    // band), per transform length; Float32 (the coarse stage only ranks places, the exact scores
    // are computed in double precision): ~250 MB for a 2 h span.
    const spectra = new Map<number, { re: Float32Array; im: Float32Array }[][][][]>();
    const spectraOf = (Ld: number): { re: Float32Array; im: Float32Array }[][][][] => {
      let sp = spectra.get(Ld);
      if (sp) return sp;
      const fft = fftOf(Ld);
      const col = new Float64Array(Ld);
      const re = new Float64Array(Ld / 2 + 1);
      const im = new Float64Array(Ld / 2 + 1);
      sp = coarsePhases.map((p) =>
        p.x.map((x) =>
          Array.from({ length: CELL_CHIPS }, (_, b) =>
            coarseBands.map((k) => {
              col.fill(0);
              for (let m = b, a = 0; m < p.M; m += CELL_CHIPS, a++) col[a] = x[m * K + k]!;
              fft.forward(col, re, im);
              return { re: Float32Array.from(re), im: Float32Array.from(im) };
            }),
          ),
        ),
      );
      spectra.set(Ld, sp);
      return sp;
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
      // Room for the decimated correlation without wrap-around, the one-step shift included.
      const L = nextPowerOfTwo(len + 2 * CELL_CHIPS);
      const Ld = L / CELL_CHIPS;
      const H = Ld / 2 + 1;
      const fft = fftOf(Ld);
      const tw = twiddlesOf(Ld);
      const signs = legs[li]!.signs(uLo, len);
      // Decimated sign columns' spectra: S[e][bi] from s(D n + e, band).
      const S: { re: Float64Array; im: Float64Array }[][] = [];
      const col = new Float64Array(Ld);
      for (let e = 0; e < CELL_CHIPS; e++) {
        const row: { re: Float64Array; im: Float64Array }[] = [];
        for (const k of coarseBands) {
          col.fill(0);
          for (let i = e, n = 0; i < len; i += CELL_CHIPS, n++) col[n] = signs[i * K + k]!;
          const re = new Float64Array(H);
          const im = new Float64Array(H);
          fft.forward(col, re, im);
          row.push({ re, im });
        }
        S.push(row);
      }
      const Y = spectraOf(Ld);
      const z0r = new Float64Array(H);
      const z0i = new Float64Array(H);
      const z1r = new Float64Array(H);
      const z1i = new Float64Array(H);
      const corr = new Float64Array(Ld);
      // Best coarse places (u, coarse phase index).
      const keep: { z: number; u: number; p: number }[] = [];
      for (let pi = 0; pi < coarsePhases.length; pi++) {
        const ph = coarsePhases[pi]!;
        for (let c = 0; c < CELL_CHIPS; c++) {
          const q = ph.qCoarse[c]!;
          if (!(q > 0)) continue;
          // Offsets i whose session chip of relative chip 0 (uLo + i - ma) is in cell class c.
          const r = (((c - (uLo - ph.ma)) % CELL_CHIPS) + CELL_CHIPS) % CELL_CHIPS;
          z0r.fill(0);
          z0i.fill(0);
          z1r.fill(0);
          z1i.fill(0);
          // sum over bands and sub-columns of conj(Y) S, in blocks of bins so the accumulators stay in cache.
          const yc = Y[pi]![c]!;
          for (let j0 = 0; j0 < H; j0 += MAC_BLOCK) {
            const j1 = Math.min(H, j0 + MAC_BLOCK);
            for (let b = 0; b < CELL_CHIPS; b++) {
              const shifted = r + b >= CELL_CHIPS;
              const Se = S[shifted ? r + b - CELL_CHIPS : r + b]!;
              const zr = shifted ? z1r : z0r;
              const zi = shifted ? z1i : z0i;
              const yb = yc[b]!;
              for (let bi = 0; bi < coarseBands.length; bi++) {
                const yr = yb[bi]!.re;
                const yi = yb[bi]!.im;
                const a = Se[bi]!.re;
                const bb = Se[bi]!.im;
                for (let j = j0; j < j1; j++) {
                  const p = yr[j]!;
                  const qq = yi[j]!;
                  const u = a[j]!;
                  const v = bb[j]!;
                  zr[j]! += p * u + qq * v;
                  zi[j]! += p * v - qq * u;
                }
              }
            }
          }
          // The shifted terms read the signs' column one step later: times exp(+2 pi i f / Ld).
          for (let j = 0; j < H; j++) {
            const wr = tw.cos[j]!;
            const wi = tw.sin[j]!;
            const ar = z1r[j]!;
            const ai = z1i[j]!;
            z0r[j]! += wr * ar - wi * ai;
            z0i[j]! += wr * ai + wi * ar;
          }
          fft.inverse(z0r, z0i, corr);
          const norm = 1 / Math.sqrt(q);
          for (let j = 0, i = r; i < count; j++, i += CELL_CHIPS) {
            const z = corr[j]! * norm;
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
