/**
 * Sync search: fold a window's tile features modulo the sync period P and circularly correlate
 * the fold with every candidate's sync pattern (FFT of size P over the fold), giving the
 * statistic of the sync layer at every shift n0 mod P in one pass.
 *
 * The sync tiles of one period position share a sign, so the sync correlation's exact variance
 * under random signs is the fold's energy (per shift parity: which tiles are sync tiles depends on
 * (shift + u + k) mod 2).
 */
import { ComplexFft } from '../../dsp/fft.js';
import type { TileFeatures } from '../features/tiles.js';
import type { MarkProfile } from '../profile.js';
import type { CandidateTables } from './tables.js';

/** Sync spectra of several candidates in one array, bin-major then candidate then band ((b * n + c) * K + k), so one bin of every candidate is read in one run. */
export interface PackedSpectra {
  re: Float64Array;
  im: Float64Array;
  count: number;
}

export function packSpectra(ts: readonly CandidateTables[], profile: MarkProfile): PackedSpectra {
  const K = profile.bands;
  const bins = profile.period / 2 + 1;
  const n = ts.length;
  const re = new Float64Array(bins * n * K);
  const im = new Float64Array(bins * n * K);
  for (let c = 0; c < n; c++) {
    const t = ts[c]!;
    for (let b = 0; b < bins; b++) {
      re.set(t.syncRe.subarray(b * K, (b + 1) * K), (b * n + c) * K);
      im.set(t.syncIm.subarray(b * K, (b + 1) * K), (b * n + c) * K);
    }
  }
  return { re, im, count: n };
}

/** The fold, its spectrum and the correlations of one scan (owns its buffers). */
export class SyncSearch {
  readonly #P: number;
  readonly #K: number;
  readonly #bins: number;
  readonly #H2: number;
  readonly #cfft: ComplexFft;
  /** Fold of a window (P x K, row u = chip mod P) and its spectrum per band (bin-major, b * K + k). */
  readonly fold: Float64Array;
  readonly #foldRe: Float64Array;
  readonly #foldIm: Float64Array;
  /** Band pairs for the forward FFTs: band 2h real, band 2h + 1 imaginary, column h (row u). */
  readonly #pairRe: Float64Array;
  readonly #pairIm: Float64Array;
  /** Running fold (accumulateFold). */
  readonly acc: Float64Array;
  /**
   * Per-bin correlation sums sum_k conj(F_k) S_k of the candidates being scored (list position i
   * at i * bins + b), and their circular correlations over all shifts: list positions 2p and
   * 2p + 1 share complex column p (real and imaginary part), row s = shift (s * pairs + p).
   */
  #accRe = new Float64Array(0);
  #accIm = new Float64Array(0);
  corrRe = new Float64Array(0);
  corrIm = new Float64Array(0);

  constructor(profile: MarkProfile) {
    const P = profile.period;
    const K = profile.bands;
    this.#P = P;
    this.#K = K;
    this.#bins = P / 2 + 1;
    this.#H2 = (K + 1) >> 1;
    this.#cfft = new ComplexFft(P);
    this.fold = new Float64Array(P * K);
    this.#foldRe = new Float64Array(K * this.#bins);
    this.#foldIm = new Float64Array(K * this.#bins);
    this.#pairRe = new Float64Array(P * this.#H2);
    this.#pairIm = new Float64Array(P * this.#H2);
    this.acc = new Float64Array(P * K);
  }

  /** Sum a window's features modulo P into fold, chip by chip (chip m in row m mod P). */
  foldDirect(f: TileFeatures, ma: number, mb: number): void {
    this.acc.fill(0);
    this.accumulateFold(f.r, undefined, ma, mb);
    this.fold.set(this.acc);
  }

  /** Add chips [from, to) of features r into acc (chip m in fold row m mod P; its features in row rowsOf[m] of r, or row m; row -1: none). */
  accumulateFold(r: Float32Array, rowsOf: Int32Array | undefined, from: number, to: number): void {
    const a = this.acc;
    const K = this.#K;
    const P = this.#P;
    const K4 = K & ~3;
    let u = from % P;
    for (let m = from; m < to; m++) {
      const src = rowsOf ? rowsOf[m]! : m;
      if (src >= 0) {
        const row = src * K;
        const o = u * K;
        let k = 0;
        for (; k < K4; k += 4) {
          a[o + k]! += r[row + k]!;
          a[o + k + 1]! += r[row + k + 1]!;
          a[o + k + 2]! += r[row + k + 2]!;
          a[o + k + 3]! += r[row + k + 3]!;
        }
        for (; k < K; k++) a[o + k]! += r[row + k]!;
      }
      if (++u === P) u = 0;
    }
  }

  /**
   * Spectrum per band of the fold src[end + i] - src[start + i] (start < 0: no subtraction), kept
   * for syncCorrelations; returns the sync variance per shift parity.
   */
  foldSpectrum(src: Float64Array, end: number, start: number): [number, number] {
    const P = this.#P;
    const K = this.#K;
    const H2 = this.#H2;
    const bins = this.#bins;
    const fold = this.fold;
    const pairRe = this.#pairRe;
    const pairIm = this.#pairIm;
    const foldRe = this.#foldRe;
    const foldIm = this.#foldIm;
    // Sync-layer variance per shift parity: energy of the folded sync tiles.
    let v0 = 0;
    let v1 = 0;
    for (let u = 0; u < P; u++) {
      const o = u * K;
      const q = u * H2;
      for (let k = 0; k < K; k++) {
        const x = start < 0 ? src[end + o + k]! : src[end + o + k]! - src[start + o + k]!;
        fold[o + k] = x;
        if (((u + k) & 1) === 0) v0 += x ** 2;
        else v1 += x ** 2;
      }
      for (let h = 0; h < H2; h++) {
        pairRe[q + h] = fold[o + 2 * h]!;
        pairIm[q + h] = 2 * h + 1 < K ? fold[o + 2 * h + 1]! : 0;
      }
    }
    // Two real bands per complex FFT, all pairs at once, split by symmetry.
    this.#cfft.transformColumns(pairRe, pairIm, H2);
    for (let b = 0; b < bins; b++) {
      const nb = (P - b) % P;
      const ob = b * H2;
      const on = nb * H2;
      for (let h = 0; h < H2; h++) {
        const k = 2 * h;
        const zrb = pairRe[ob + h]!;
        const zrn = pairRe[on + h]!;
        const zib = pairIm[ob + h]!;
        const zin = pairIm[on + h]!;
        foldRe[b * K + k] = 0.5 * (zrb + zrn);
        foldIm[b * K + k] = 0.5 * (zib - zin);
        if (k + 1 < K) {
          foldRe[b * K + k + 1] = 0.5 * (zib + zin);
          foldIm[b * K + k + 1] = -0.5 * (zrb - zrn);
        }
      }
    }
    return [v0, v1];
  }

  /**
   * Circular correlations (all shifts) of the current fold with the sync patterns of the listed
   * candidates (indices into a packed table). Per bin sum_k conj(F_k) S_k (two candidates per pass
   * over the fold's bin), then one complex inverse FFT per two candidates (the first's real
   * spectrum in the real part, the second's in the imaginary part), all at once. Correlation of
   * list position i at shift s: corrRe (i even) / corrIm (i odd) [s * pairs + i / 2], scaled by P.
   * Returns the number of pairs.
   */
  syncCorrelations(packed: PackedSpectra, list: ArrayLike<number>, count: number): number {
    const P = this.#P;
    const K = this.#K;
    const bins = this.#bins;
    const n = packed.count;
    const packRe = packed.re;
    const packIm = packed.im;
    const foldRe = this.#foldRe;
    const foldIm = this.#foldIm;
    const pairs = (count + 1) >> 1;
    if (this.#accRe.length < 2 * pairs * bins) {
      this.#accRe = new Float64Array(2 * pairs * bins);
      this.#accIm = new Float64Array(2 * pairs * bins);
      this.corrRe = new Float64Array(P * pairs);
      this.corrIm = new Float64Array(P * pairs);
    }
    const aRe = this.#accRe;
    const aIm = this.#accIm;
    for (let b = 0; b < bins; b++) {
      const o = b * K;
      const row = b * n;
      let i = 0;
      for (; i + 1 < count; i += 2) {
        const o1 = (row + list[i]!) * K;
        const o2 = (row + list[i + 1]!) * K;
        let a1r = 0;
        let a1i = 0;
        let a2r = 0;
        let a2i = 0;
        for (let k = 0; k < K; k++) {
          const fr = foldRe[o + k]!;
          const fi = foldIm[o + k]!;
          const s1r = packRe[o1 + k]!;
          const s1i = packIm[o1 + k]!;
          const s2r = packRe[o2 + k]!;
          const s2i = packIm[o2 + k]!;
          a1r += fr * s1r + fi * s1i;
          a1i += fr * s1i - fi * s1r;
          a2r += fr * s2r + fi * s2i;
          a2i += fr * s2i - fi * s2r;
        }
        aRe[i * bins + b] = a1r;
        aIm[i * bins + b] = a1i;
        aRe[(i + 1) * bins + b] = a2r;
        aIm[(i + 1) * bins + b] = a2i;
      }
      if (i < count) {
        const o1 = (row + list[i]!) * K;
        let a1r = 0;
        let a1i = 0;
        for (let k = 0; k < K; k++) {
          const fr = foldRe[o + k]!;
          const fi = foldIm[o + k]!;
          a1r += fr * packRe[o1 + k]! + fi * packIm[o1 + k]!;
          a1i += fr * packIm[o1 + k]! - fi * packRe[o1 + k]!;
        }
        aRe[i * bins + b] = a1r;
        aIm[i * bins + b] = a1i;
        aRe[(i + 1) * bins + b] = 0;
        aIm[(i + 1) * bins + b] = 0;
      }
    }
    // Spectra of the pairs: X = A1 + i A2 with A1, A2 Hermitian (real correlations).
    const H = P / 2;
    const zr = this.corrRe;
    const zi = this.corrIm;
    for (let p = 0; p < pairs; p++) {
      const o1 = 2 * p * bins;
      const o2 = o1 + bins;
      for (let b = 0; b < bins; b++) {
        const a1r = aRe[o1 + b]!;
        const a1i = aIm[o1 + b]!;
        const a2r = aRe[o2 + b]!;
        const a2i = aIm[o2 + b]!;
        if (b === 0 || b === H) {
          zr[b * pairs + p] = a1r;
          zi[b * pairs + p] = a2r;
        } else {
          zr[b * pairs + p] = a1r - a2i;
          zi[b * pairs + p] = a1i + a2r;
          zr[(P - b) * pairs + p] = a1r + a2i;
          zi[(P - b) * pairs + p] = a2r - a1i;
        }
      }
    }
    this.#cfft.transformColumns(zr, zi, pairs, true);
    return pairs;
  }
}
