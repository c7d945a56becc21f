/**
 * Keyless estimation of a leg's v1 pattern from recordings of that leg (attack classes 1 and 2).
 *
 *  - FeatureStore: the detector's public tile features of the whole recording, one row per 8 ms
 *    frame (so every chip phase is available), built chunk by chunk.
 *  - periodScan: fold energy at every candidate period (the attacker tests periods and phases).
 *  - estimateSync: fold modulo 32 chips at the chip phase and checkerboard parity where the fold
 *    is most periodic; the sign of each folded tile estimates the sync sign.
 *  - estimateTimecode: the timecode tiles folded modulo the layer's full period (32 R_g chips), the
 *    block boundary found where the per-band block x chip matrix is closest to rank one, then the
 *    rank-one factors tcChip x tcBlock by the leading singular vectors (the leading eigenvector of
 *    the block-to-block correlation matrix), refined by alternating least squares on signs.
 *  - estimatePayload: the payload bands folded modulo 256 chips.
 * Attacker chip m is the tile whose detector window starts at recording time
 * V1.row0Sec + V1.rowHopSec * phase + V1.chipSec * m.
 */
import { analyzeClip, tileFeatures } from '../earmark.js';
import type { Chunk } from '../harness.js';
import { V1, featureRows, groupOf, isPayloadBand } from './model.js';

const K = V1.bands;
const P = V1.period;
const RPC = V1.rowsPerChip;
const PB = V1.payloadBands.length;

export class FeatureStore {
  /** rows x K, leg layer. */
  readonly rows: Float32Array;
  /** rows x 3, payload bands ('payload' layer features). */
  readonly pay: Float32Array;
  readonly nRows: number;
  constructor(totalSamples: number, readonly withPayload = true) {
    this.nRows = Math.floor(totalSamples / 128);
    this.rows = new Float32Array(this.nRows * K);
    this.pay = new Float32Array(withPayload ? this.nRows * PB : 0);
  }

  add(c: Chunk): void {
    if (c.start % 128 !== 0) throw new Error('chunk start must be a multiple of 128 samples');
    const base = c.start / 128;
    const f = featureRows(c.audio, 'leg');
    const n = Math.min(f.rows, this.nRows - base);
    this.rows.set(f.r.subarray(0, n * K), base * K);
    if (this.withPayload) {
      const p = featureRows(c.audio, 'payload');
      for (let i = 0; i < Math.min(p.rows, this.nRows - base); i++) for (let b = 0; b < PB; b++) this.pay[(base + i) * PB + b] = p.r[i * K + V1.payloadBands[b]!]!;
    }
  }

  static async build(chunks: AsyncIterable<Chunk>, totalSamples: number, withPayload = true): Promise<FeatureStore> {
    const s = new FeatureStore(totalSamples, withPayload);
    for await (const c of chunks) s.add(c);
    return s;
  }

  /** Chips at a phase (0..3): chip m = row phase + 4 m. */
  chips(phase: number): number {
    return Math.floor((this.nRows - phase) / RPC);
  }
  chip(phase: number, m: number, k: number): number {
    return this.rows[(phase + RPC * m) * K + k]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Attack class 1: fold at every candidate period

export interface PeriodScan {
  /** [period in 8 ms frames, fold energy ratio] best first. */
  ranked: [number, number][];
  /** Ratio at each period tested. */
  all: Map<number, number>;
}

/**
 * Fold energy ratio at each period (in 8 ms frames): sum over fold cells of (fold sum)^2 over the
 * sum of the tiles' own energies (about 1 for a period the features do not have).
 */
export function periodScan(store: FeatureStore, periods: readonly number[], maxRows = store.nRows): PeriodScan {
  const n = Math.min(maxRows, store.nRows);
  const all = new Map<number, number>();
  let tileE = 0;
  for (let i = 0; i < n * K; i++) tileE += store.rows[i]! * store.rows[i]!;
  for (const Q of periods) {
    const S = new Float64Array(Q * K);
    for (let i = 0; i < n; i++) {
      const q = (i % Q) * K;
      const o = i * K;
      for (let k = 0; k < K; k++) S[q + k]! += store.rows[o + k]!;
    }
    let e = 0;
    for (let j = 0; j < S.length; j++) e += S[j]! * S[j]!;
    all.set(Q, e / tileE);
  }
  return { ranked: [...all.entries()].sort((a, b) => b[1] - a[1]), all };
}

export interface SyncEstimate {
  /** Chip phase (rows) and checkerboard parity (sync tiles: (u + k + parity) even) chosen. */
  phase: number;
  parity: 0 | 1;
  /** Fold sums and tile energies per (u, k), u = m mod 32 (all tiles, both parities). */
  fold: Float64Array;
  energy: Float64Array;
  /** Estimated sync sign per (u, k) on the chosen parity (0 elsewhere and on payload bands). */
  sign: Int8Array;
  /** Soft value (fold sum / sqrt(energy)) per (u, k). */
  t: Float64Array;
  /** Periodicity score of each (phase, parity) tried. */
  scores: { phase: number; parity: number; ratio: number }[];
  chips: number;
  /** Fine chip phase (s) added to the row grid's phase by refinePhase (0 before). */
  fineSec: number;
}

function foldChips(store: FeatureStore, phase: number, fromChip = 0, toChip = store.chips(phase)): { fold: Float64Array; energy: Float64Array } {
  const fold = new Float64Array(P * K);
  const energy = new Float64Array(P * K);
  for (let m = fromChip; m < toChip; m++) {
    const o = (phase + RPC * m) * K;
    const u = (m % P) * K;
    for (let k = 0; k < K; k++) {
      const v = store.rows[o + k]!;
      fold[u + k]! += v;
      energy[u + k]! += v * v;
    }
  }
  return { fold, energy };
}

/** Fold modulo 32 chips at every chip phase and parity; keep the most periodic. `chips` limits the recording used (from its start). */
export function estimateSync(store: FeatureStore, opts: { chips?: number } = {}): SyncEstimate {
  let best: SyncEstimate | undefined;
  let bestRatio = -Infinity;
  const scores: SyncEstimate['scores'] = [];
  for (let phase = 0; phase < RPC; phase++) {
    const M = Math.min(opts.chips ?? Infinity, store.chips(phase));
    const { fold, energy } = foldChips(store, phase, 0, M);
    for (const parity of [0, 1] as const) {
      let num = 0;
      let den = 0;
      for (let u = 0; u < P; u++)
        for (let k = 0; k < K; k++) {
          if (isPayloadBand(k) || (u + k + parity) % 2 !== 0) continue;
          num += fold[u * K + k]! ** 2;
          den += energy[u * K + k]!;
        }
      const ratio = num / Math.max(den, 1e-30);
      scores.push({ phase, parity, ratio });
      if (ratio > bestRatio) {
        bestRatio = ratio;
        const sign = new Int8Array(P * K);
        const t = new Float64Array(P * K);
        for (let u = 0; u < P; u++)
          for (let k = 0; k < K; k++) {
            const i = u * K + k;
            t[i] = energy[i]! > 0 ? fold[i]! / Math.sqrt(energy[i]!) : 0;
            if (!isPayloadBand(k) && (u + k + parity) % 2 === 0) sign[i] = fold[i]! >= 0 ? 1 : -1;
          }
        best = { phase, parity, fold, energy, sign, t, scores, chips: M, fineSec: 0 };
      }
    }
  }
  return best!;
}

// ---------------------------------------------------------------------------------------------
// Attack class 2: the timecode layer's rank-one structure

export interface TimecodeEstimate {
  /** Block boundary: attacker chip m starts a block when (m - shift) mod 32 = 0. */
  shift: number;
  /** Rank-one fit score (sum over bands of sigma1^2 / ||M||^2) of each shift tried. */
  shiftScores: number[];
  /** Per band: chip factor (32 entries, tc rows only) and block factor (R_g entries), real-valued (leading singular vectors). */
  chipVec: Float64Array[];
  blockVec: Float64Array[];
  /** Sign estimates after binary alternating least squares (same layout). */
  chipSign: Int8Array[];
  blockSign: Int8Array[];
  /** Per group, per block residue: tiles observed. */
  observed: [Uint32Array, Uint32Array];
  parity: 0 | 1;
}

/**
 * Rank-one estimation of the timecode layer at the sync estimate's phase and parity. Tiles are
 * folded modulo 32 R_g chips (the layer's period per band group), the per-(chip-in-block, band) mean
 * over blocks is removed (it holds the neighbouring sync tiles' -1/4 leak, periodic in 32 chips),
 * and per band the R_g x 16 matrix is factored.
 */
export function estimateTimecode(store: FeatureStore, sync: SyncEstimate, opts: { chips?: number; als?: number } = {}): TimecodeEstimate {
  const phase = sync.phase;
  const M = Math.min(opts.chips ?? Infinity, store.chips(phase));
  const L = V1.blockPeriods.map((R) => R * P);
  // Long folds per group: L_g x K (only the group's bands used).
  const folds = L.map((l) => new Float64Array(l * K));
  const counts = L.map((l) => new Uint32Array(l));
  for (let m = 0; m < M; m++) {
    const o = (phase + RPC * m) * K;
    for (const g of [0, 1] as const) {
      const q = m % L[g]!;
      counts[g]![q]! += 1;
      const f = folds[g]!;
      for (let k = g; k < K; k += 2) f[q * K + k]! += store.rows[o + k]!;
    }
  }
  const tcBands = Array.from({ length: K }, (_, k) => k).filter((k) => !isPayloadBand(k));
  // Matrix of band k at shift s: rows = block residues r, columns = the 16 tc offsets v in the block.
  const matrix = (k: number, s: number): { A: Float64Array; R: number; cols: number[] } => {
    const g = groupOf(k);
    const R = V1.blockPeriods[g];
    const cols: number[] = [];
    for (let v = 0; v < P; v++) if ((s + v + k + sync.parity) % 2 === 1) cols.push(v);
    const A = new Float64Array(R * cols.length);
    const f = folds[g]!;
    for (let r = 0; r < R; r++) for (let c = 0; c < cols.length; c++) A[r * cols.length + c] = f[((s + P * r + cols[c]!) % L[g]!) * K + k]!;
    // Remove each column's mean over blocks (observed blocks only).
    const obs = new Uint8Array(R);
    for (let r = 0; r < R; r++) obs[r] = counts[g]![(s + P * r) % L[g]!]! > 0 ? 1 : 0;
    const nObs = obs.reduce((a, b) => a + b, 0);
    for (let c = 0; c < cols.length; c++) {
      let mu = 0;
      for (let r = 0; r < R; r++) if (obs[r]) mu += A[r * cols.length + c]!;
      mu /= Math.max(1, nObs);
      for (let r = 0; r < R; r++) if (obs[r]) A[r * cols.length + c]! -= mu;
    }
    return { A, R, cols };
  };
  const rankOne = (A: Float64Array, R: number, C: number): { a: Float64Array; b: Float64Array; s2: number; f2: number } => {
    // Leading singular vectors by power iteration on A^T A (C x C), i.e. the leading eigenvector
    // of the block-to-block correlation A A^T seen through its C-dimensional row space.
    const G = new Float64Array(C * C);
    let f2 = 0;
    for (let r = 0; r < R; r++)
      for (let i = 0; i < C; i++) {
        const x = A[r * C + i]!;
        f2 += x * x;
        for (let j = 0; j < C; j++) G[i * C + j]! += x * A[r * C + j]!;
      }
    let a = new Float64Array(C).fill(1 / Math.sqrt(C));
    let lam = 0;
    for (let it = 0; it < 200; it++) {
      const na = new Float64Array(C);
      for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) na[i]! += G[i * C + j]! * a[j]!;
      const nrm = Math.hypot(...na);
      if (nrm === 0) break;
      for (let i = 0; i < C; i++) na[i]! /= nrm;
      lam = nrm;
      a = na;
    }
    const b = new Float64Array(R);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) b[r]! += A[r * C + c]! * a[c]!;
    return { a, b, s2: lam, f2 };
  };
  const shiftScores: number[] = [];
  for (let s = 0; s < P; s++) {
    let score = 0;
    for (const k of tcBands) {
      const { A, R, cols } = matrix(k, s);
      const { s2, f2 } = rankOne(A, R, cols.length);
      if (f2 > 0) score += s2 / f2;
    }
    shiftScores.push(score);
  }
  const shift = shiftScores.indexOf(Math.max(...shiftScores));
  const chipVec: Float64Array[] = [];
  const blockVec: Float64Array[] = [];
  const chipSign: Int8Array[] = [];
  const blockSign: Int8Array[] = [];
  for (let k = 0; k < K; k++) {
    if (isPayloadBand(k)) {
      chipVec.push(new Float64Array(P));
      blockVec.push(new Float64Array(0));
      chipSign.push(new Int8Array(P));
      blockSign.push(new Int8Array(0));
      continue;
    }
    const { A, R, cols } = matrix(k, shift);
    const C = cols.length;
    const { a, b } = rankOne(A, R, C);
    const av = new Float64Array(P);
    cols.forEach((v, c) => (av[v] = a[c]!));
    chipVec.push(av);
    blockVec.push(b);
    // Binary ALS: a <- sign(A^T b), b <- sign(A a) until stable.
    let as = Int8Array.from(a, (x) => (x >= 0 ? 1 : -1));
    let bs = Int8Array.from(b, (x) => (x >= 0 ? 1 : -1));
    for (let it = 0; it < (opts.als ?? 20); it++) {
      const nb = new Int8Array(R);
      for (let r = 0; r < R; r++) {
        let x = 0;
        for (let c = 0; c < C; c++) x += A[r * C + c]! * as[c]!;
        nb[r] = x > 0 ? 1 : x < 0 ? -1 : 0;
      }
      const na = new Int8Array(C);
      for (let c = 0; c < C; c++) {
        let x = 0;
        for (let r = 0; r < R; r++) x += A[r * C + c]! * nb[r]!;
        na[c] = x >= 0 ? 1 : -1;
      }
      const same = na.every((x, i) => x === as[i]) && nb.every((x, i) => x === bs[i]);
      as = na;
      bs = nb;
      if (same) break;
    }
    const asv = new Int8Array(P);
    cols.forEach((v, c) => (asv[v] = as[c]!));
    chipSign.push(asv);
    blockSign.push(bs);
  }
  const observed = V1.blockPeriods.map((R, g) => {
    const o = new Uint32Array(R);
    for (let r = 0; r < R; r++) for (let v = 0; v < P; v++) o[r]! += counts[g]![(shift + P * r + v) % L[g]!]!;
    return o;
  }) as [Uint32Array, Uint32Array];
  return { shift, shiftScores, chipVec, blockVec, chipSign, blockSign, observed, parity: sync.parity };
}

// ---------------------------------------------------------------------------------------------
// The payload bands (key-level layer, periodic in 256 chips)

export interface PayloadEstimate {
  /** Fold sums per (chip mod 256, payload band index). */
  fold: Float64Array;
  sign: Int8Array;
}

export function estimatePayload(store: FeatureStore, phase: number, opts: { chips?: number } = {}): PayloadEstimate {
  const F = V1.payloadFrame;
  const M = Math.min(opts.chips ?? Infinity, store.chips(phase));
  const fold = new Float64Array(F * PB);
  for (let m = 0; m < M; m++) {
    const o = (phase + RPC * m) * PB;
    const u = (m % F) * PB;
    for (let b = 0; b < PB; b++) fold[u + b]! += store.pay[o + b]!;
  }
  return { fold, sign: Int8Array.from(fold, (x) => (x >= 0 ? 1 : -1)) };
}

// ---------------------------------------------------------------------------------------------
// The estimate as a pattern

export interface V1Estimate {
  sync: SyncEstimate;
  timecode?: TimecodeEstimate;
  payload?: PayloadEstimate;
}

export interface PatternOptions {
  /** Layers to use. */
  sync?: boolean;
  timecode?: boolean;
  payload?: boolean;
  /** 'hard': +-1 signs; 'soft': sync tiles weighted by their fold confidence (tanh of the fold z). */
  kind?: 'hard' | 'soft';
}

/**
 * The estimated pattern's value at attacker chip m, band k (0 where nothing is estimated). The
 * timecode tiles use the block residue (m - shift) / 32 mod R_g, valid where that residue was
 * observed in the recording.
 */
export function patternValue(est: V1Estimate, o: PatternOptions = {}): (m: number, k: number) => number {
  const useSync = o.sync ?? true;
  const useTc = (o.timecode ?? true) && est.timecode !== undefined;
  const usePay = (o.payload ?? true) && est.payload !== undefined;
  const soft = o.kind === 'soft';
  const s = est.sync;
  // Soft sync weights: tanh(c * t) with c set so that the median |t| maps to ~0.76.
  const ts = [...s.t].filter((_, i) => s.sign[i] !== 0).map(Math.abs).sort((a, b) => a - b);
  const c = ts.length ? 1 / Math.max(1e-9, ts[Math.floor(ts.length / 2)]!) : 1;
  return (m, k) => {
    if (m < 0) return 0;
    const pb = (V1.payloadBands as readonly number[]).indexOf(k);
    if (pb >= 0) return usePay ? est.payload!.sign[(m % V1.payloadFrame) * PB + pb]! : 0;
    const u = m % P;
    const i = u * K + k;
    if ((u + k + s.parity) % 2 === 0) {
      if (!useSync) return 0;
      return soft ? Math.tanh(c * s.t[i]!) : s.sign[i]!;
    }
    if (!useTc) return 0;
    const tc = est.timecode!;
    const g = groupOf(k);
    const R = V1.blockPeriods[g];
    const rel = m - tc.shift;
    const r = (((Math.floor(rel / P) % R) + R) % R);
    if (tc.observed[g][r] === 0) return 0;
    const v = ((rel % P) + P) % P;
    return tc.chipSign[k]![v]! * tc.blockSign[k]![r]!;
  };
}

/** Recording time (s) of the detector window start of attacker chip m (on the 8 ms row grid, plus the fine phase once refined). */
export function chipStartSec(sync: { phase: number; fineSec: number }, m: number): number {
  return V1.row0Sec + V1.rowHopSec * sync.phase + sync.fineSec + V1.chipSec * m;
}

/**
 * Sub-row chip phase: the detector's exact tile features of the recording's first seconds at
 * phases within +-4 ms (0.5 ms steps) of the chosen row phase, folded modulo 32 chips; the phase
 * with the most periodic sync tiles wins (keyless). Sets sync.fineSec.
 */
export function refinePhase(audio: Float32Array, sync: SyncEstimate): { fineSec: number; ratios: [number, number][] } {
  const a = analyzeClip(audio, 16000);
  const ratios: [number, number][] = [];
  for (let d = -8; d <= 8; d++) {
    const fine = d * 0.0005;
    const f = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec: V1.row0Sec + V1.rowHopSec * sync.phase + fine });
    const fold = new Float64Array(P * K);
    let e = 0;
    for (let m = 0; m < f.chips; m++)
      for (let k = 0; k < K; k++) {
        if (isPayloadBand(k) || ((m % P) + k + sync.parity) % 2 !== 0) continue;
        const v = f.r[m * K + k]!;
        fold[(m % P) * K + k]! += v;
        e += v * v;
      }
    let num = 0;
    for (const v of fold) num += v * v;
    ratios.push([fine, num / e]);
  }
  const best = ratios.reduce((x, y) => (y[1] > x[1] ? y : x));
  sync.fineSec = best[0];
  return { fineSec: best[0], ratios };
}
