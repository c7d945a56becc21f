/**
 * The full statistic at an alignment found by the sync search: the sync layer recomputed exactly,
 * plus the timecode layer at its best block residues (searched over every residue mod R_A and
 * mod R_B, separable; the Chinese remainder theorem then gives the block modulo R_A R_B).
 *
 *   z = (c_sync + c_A + c_B) / sqrt(V_sync + V_tc)
 * the correlation over all tiles of the window divided by its exact standard deviation under
 * random signs (self-normalized: the fold's energy for the periodic sync layer, the tile energy
 * for the timecode layer).
 */
import type { TileFeatures } from '../features/tiles.js';
import type { LegPattern } from '../pattern.js';
import { isSyncTile } from '../profile.js';
import type { MarkProfile } from '../profile.js';
import type { CandidateTables } from './tables.js';

/** x = a mod m1, x = b mod m2 (m1, m2 coprime, small): step through a + t m1. */
export function crt(a: number, m1: number, b: number, m2: number): number {
  for (let t = 0; t < m2; t++) {
    const x = a + t * m1;
    if (x % m2 === b) return x;
  }
  throw new Error('moduli not coprime');
}

/** Every residue's timecode correlation of both groups at one alignment, with the sync part and the variance (fullScore's `residues`). */
export interface ResidueScores {
  /** Correlation at residue x of group A (x = block of relative chip 0 mod R_A) and of group B. */
  a: Float64Array;
  b: Float64Array;
  cSync: number;
  /** The statistic's variance (sync fold energy + timecode tile energy). */
  v: number;
}

/** Full and fixed-alignment statistics of one scan (owns its buffers). */
export class TimecodeSearch {
  readonly #profile: MarkProfile;
  readonly #foldS: Float64Array;
  readonly #payloadBand: Uint8Array;
  #blockSums0 = new Float64Array(0);
  #blockSums1 = new Float64Array(0);
  #nibbleSums = new Float64Array(0);

  constructor(profile: MarkProfile) {
    this.#profile = profile;
    this.#foldS = new Float64Array(profile.period * profile.bands);
    this.#payloadBand = new Uint8Array(profile.bands);
    for (const k of profile.payloadBands) this.#payloadBand[k] = 1;
  }

  /**
   * Full statistic of relative chips [ma, mb) at sync shift s (session chip of relative chip 0 is
   * s mod P), searching the timecode residues; n0 = the session chip of relative chip 0.
   *
   * Residue search: for each residue x of group g, the correlation of the window's per-block
   * timecode sums bs[j] (group bands) with the codes of blocks x + j0 + j mod R_g. The codes are
   * +-1, so each block's dot product with a code row is a sum of signed block sums: per block and
   * nibble of four bands, the 16 signed sums are tabulated once and a code row picks one per
   * nibble (4 table reads instead of 16 multiply-adds per block and residue).
   */
  fullScore(t: CandidateTables, f: TileFeatures, ma: number, mb: number, s: number, residues?: ResidueScores): { z: number; n0: number } | undefined {
    const profile = this.#profile;
    const P = profile.period;
    const K = profile.bands;
    const [RA, RB] = profile.blockPeriods;
    if (mb - ma < P) return undefined;
    const pattern = t.pattern;
    const j0 = Math.floor((s + ma) / P);
    const J = Math.floor((s + mb - 1) / P) - j0 + 1;
    // Timecode tiles per block, split by band group (group g holds bands g, g + 2, ...), compact,
    // rows padded to whole nibbles.
    const G = K >> 1;
    const nQ = Math.ceil(G / 4);
    const GP = 4 * nQ;
    if (this.#blockSums0.length < J * GP) {
      this.#blockSums0 = new Float64Array(2 * J * GP);
      this.#blockSums1 = new Float64Array(2 * J * GP);
      this.#nibbleSums = new Float64Array(2 * J * nQ * 16);
    }
    const bs0 = this.#blockSums0;
    const bs1 = this.#blockSums1;
    bs0.fill(0, 0, J * GP);
    bs1.fill(0, 0, J * GP);
    let cSync = 0;
    let vTc = 0;
    // Sync part recomputed directly (exact, and its folded variance).
    const foldS = this.#foldS;
    foldS.fill(0);
    const r = f.r;
    const sync = pattern.sync;
    const tcChip = pattern.tcChip;
    for (let m = ma; m < mb; m++) {
      const v = (s + m) % P;
      const j = Math.floor((s + m) / P) - j0;
      const row = m * K;
      const vo = v * K;
      // Sync tiles: k with the parity of v; timecode tiles: the other parity.
      for (let k = v & 1; k < K; k += 2) {
        const x = r[row + k]!;
        foldS[vo + k]! += x;
        cSync += x * sync[vo + k]!;
      }
      const bs = (v & 1) === 0 ? bs1 : bs0;
      const bo = j * GP;
      for (let k = (v + 1) & 1; k < K; k += 2) {
        const x = r[row + k]!;
        bs[bo + (k >> 1)]! += x * tcChip[vo + k]!;
        vTc += x * x;
      }
    }
    let vSync = 0;
    for (let i = 0; i < foldS.length; i++) vSync += foldS[i]! ** 2;
    const bestRes = [0, 0];
    const bestVal = [0, 0];
    const tab = this.#nibbleSums;
    for (let g = 0; g < 2; g++) {
      const R = profile.blockPeriods[g]!;
      const nib = t.codeNib[g]!;
      const bs = g === 0 ? bs0 : bs1;
      // tab[(j * nQ + q) * 16 + p]: block j's sum over nibble q's bands, band 4q + i negated
      // where bit i of p is set (each entry from one with a bit fewer).
      for (let j = 0; j < J; j++) {
        for (let q = 0; q < nQ; q++) {
          const o = (j * nQ + q) * 16;
          const b = j * GP + 4 * q;
          tab[o] = bs[b]! + bs[b + 1]! + bs[b + 2]! + bs[b + 3]!;
          for (let p = 1; p < 16; p++) {
            const i = 31 - Math.clz32(p & -p);
            tab[o + p] = tab[o + (p & (p - 1))]! - 2 * bs[b + i]!;
          }
        }
      }
      let bv = -Infinity;
      let bx = 0;
      const stride = nQ * 16;
      for (let x = 0; x < R; x++) {
        let acc = 0;
        let idx = (x + j0) % R;
        if (nQ === 4) {
          for (let j = 0, o = 0; j < J; j++, o += stride) {
            const c = idx * 4;
            acc += tab[o + nib[c]!]! + tab[o + 16 + nib[c + 1]!]! + tab[o + 32 + nib[c + 2]!]! + tab[o + 48 + nib[c + 3]!]!;
            if (++idx === R) idx = 0;
          }
        } else {
          for (let j = 0, o = 0; j < J; j++, o += stride) {
            const c = idx * nQ;
            for (let q = 0; q < nQ; q++) acc += tab[o + 16 * q + nib[c + q]!]!;
            if (++idx === R) idx = 0;
          }
        }
        if (acc > bv) {
          bv = acc;
          bx = x;
        }
        if (residues) (g === 0 ? residues.a : residues.b)[x] = acc;
      }
      bestRes[g] = bx;
      bestVal[g] = bv;
    }
    const v = vSync + vTc;
    if (residues) (residues.cSync = cSync), (residues.v = v);
    if (!(v > 0)) return undefined;
    const z = (cSync + bestVal[0]! + bestVal[1]!) / Math.sqrt(v);
    const block = crt(bestRes[0]!, RA, bestRes[1]!, RB);
    return { z, n0: block * P + s };
  }

  /** Statistic of relative chips [ma, mb) at a fixed session chip n0 of relative chip 0 (no search). */
  fixedScore(pattern: LegPattern, f: TileFeatures, ma: number, mb: number, n0: number): number | undefined {
    const profile = this.#profile;
    const P = profile.period;
    const K = profile.bands;
    const [RA, RB] = profile.blockPeriods;
    const payloadBand = this.#payloadBand;
    const foldS = new Float64Array(P * K);
    let c = 0;
    let vTc = 0;
    const r = f.r;
    const sync = pattern.sync;
    const tcChip = pattern.tcChip;
    const [tcA, tcB] = pattern.tcBlock;
    // The tile signs of pattern.sign(n, k), read from the tables directly (payload bands, zero in
    // leg features, go through pattern.sign).
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const v = n % P;
      const block = Math.floor(n / P);
      const oA = (block % RA) * K;
      const oB = (block % RB) * K;
      const row = m * K;
      const vo = v * K;
      for (let k = 0; k < K; k++) {
        const x = r[row + k]!;
        if (x === 0) continue;
        if (payloadBand[k]) c += x * pattern.sign(n, k);
        else if (((v + k) & 1) === 0) c += x * sync[vo + k]!;
        else c += x * (tcChip[vo + k]! * ((k & 1) === 0 ? tcA[oA + k]! : tcB[oB + k]!));
        if (isSyncTile(v, k)) foldS[vo + k]! += x;
        else vTc += x * x;
      }
    }
    let vSync = 0;
    for (let i = 0; i < foldS.length; i++) vSync += foldS[i]! ** 2;
    const v = vSync + vTc;
    return v > 0 ? c / Math.sqrt(v) : undefined;
  }
}
