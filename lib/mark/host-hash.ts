/**
 * v2's host binding: each leg-layer tile's effective sign is the leg's PRF sign times a keyed hash
 * bit of the host's own recent loudness trajectory, h(n, k) in {-1, +1}.
 *
 * Why: the mark is strong per tile (the detector's features correlate ~0.4 with a tile's sign on
 * AAC 64k, benchmarks/results/attacks-v1.md), so even a pattern that never repeats can be read
 * tile by tile from one recording and re-embedded onto other audio. With the sign tied to the host,
 * the copy carries h of the stolen recording while the detector computes h of the new host: the
 * two agree at chance, and the forgery correlates with nothing (watermark copy attack: Kutter,
 * Voloshynovskiy & Herrigel, SPIE 3971, 2000; content-dependent marks: Fridrich, "Robust hash
 * functions for digital watermarking", ITCC 2000). Without the key the bit cannot be computed
 * for a new host, and a recording reveals only the product s h, never h.
 *
 * The bit: the host's energy per cell of CELL_CHIPS chips (128 ms) x GROUP_BANDS bands (two band
 * groups, 300 Hz-1.9 kHz and 1.9-7 kHz), E(c, g); for tile (n, k) in cell c and group g,
 *   h = sign( sum_{j = 1..J} sum_{dg = -1..1} r(k, j, dg) d(c - j, g + dg) ),
 *   d(c, g) = log((E(c, g) + f) / (E(c - 1, g) + f)), f = 1e-2 x the loudest group of the two cells,
 * temporal log-energy steps of the J = 3 past cells in the tile's band group and the other
 * (all before the tile's cell, so a streaming embedder needs no look-ahead; the first 512 ms of a
 * session or a clip carry no leg evidence), r = keyed fixed signs per band. Temporal steps cancel
 * any fixed gain or equalisation between bridge and recording. Where the projection is 0 or its
 * history missing, h = 0 (the tile does not count).
 * Choice (120 s of fixture speech, bits of the received marked audio against the embedder's; the
 * mark itself and the codec flip bits, mostly those with small projections): 128 ms cells x 4-band
 * groups x 4 steps kept 93-95% (clean, AAC 64k) and 87% (AMR-NB 12.2k); 128 ms x 16-band groups x 3
 * steps 95% and 84% hard, soft-weighted efficiency 0.96 and 0.87; one group of all bands 99% and 95%
 * but that bit follows the broadband loudness alone, which a forger can impose on other speech with
 * a gain envelope. A different host's bits agree in 50% (benchmarks/host-hash.ts).
 * Limit: a forger who imposes the stolen recording's two band-group loudness contours (128 ms) on
 * the target audio reproduces the bits; the attack suite measures the distortion that costs.
 */
import { createHmac } from 'node:crypto';
import type { BandAnalysis } from './features/analysis.js';
import { ANALYSIS_FRAME, ANALYSIS_HOP, ANALYSIS_RATE } from './features/analysis.js';
import { KeyStream } from './keys.js';
import type { MarkKey } from './keys.js';
import type { MarkProfile } from './profile.js';
import type { Hypothesis } from './search.js';

/** Chips per cell (4 x 32 ms). */
export const CELL_CHIPS = 4;
/** Bands per band group. */
export const GROUP_BANDS = 16;
/** Energy floor of a step, relative to the loudest group of its two cells. */
const FLOOR = 1e-2;
/**
 * Soft bit at detection: tanh(projection / SOFT_SCALE). Bits with small projections flip most
 * (AAC 64k: the tenth of bits with |projection| < 0.48 agreed with the embedder's in 78%, all
 * others in >= 98%; AMR-NB 12.2k: 66%, 81%, 90%, ... 100%), so they count less; the weight is a
 * function of the received audio alone, so the statistic stays a sum of fair signs.
 */
const SOFT_SCALE = 0.5;
/** Past cells whose steps enter a bit. */
const PAST_CELLS = 3;
/** Chips of history a bit needs before its tile: the steps of cells c - 1 .. c - J need cells c - 1 .. c - J - 1. */
export const HASH_HISTORY_CHIPS = CELL_CHIPS * (PAST_CELLS + 1);

/** The keyed projection of a key and profile (fixed over time). */
export class HostHash {
  readonly profile: MarkProfile;
  readonly groups: number;
  /** r(k, j, dg) at (k * PAST_CELLS + (j - 1)) * 3 + (dg + 1). */
  readonly #r: Int8Array;

  constructor(key: MarkKey, profile: MarkProfile) {
    this.profile = profile;
    this.groups = Math.ceil(profile.bands / GROUP_BANDS);
    const secret = createHmac('sha256', key.bytes).update('earmark/host-hash/v2').digest();
    this.#r = new KeyStream(secret, 'projection').signs(0, profile.bands * PAST_CELLS * 3);
  }

  /**
   * Bits of tiles (session chips n, bands k) from group energies per session cell: `energy(c, g)`
   * gives E(c, g) or undefined when the cell is not available (then the bit is 0).
   */
  projection(n: number, k: number, cells: (cell: number) => Float64Array | null): number {
    const c = Math.floor(n / CELL_CHIPS);
    const g = Math.floor(k / GROUP_BANDS);
    let proj = 0;
    for (let j = 1; j <= PAST_CELLS; j++) {
      const a = cells(c - j);
      const b = cells(c - j - 1);
      if (!a || !b) return NaN;
      // The floor follows the louder of the two cells' loudest groups: steps of groups far below
      // it (where the mark's masking boost is large and codecs are coarse) count little.
      let top = 0;
      for (let gg = 0; gg < this.groups; gg++) top = Math.max(top, a[gg]!, b[gg]!);
      if (!(top > 0)) continue;
      const f = FLOOR * top;
      for (let dg = -1; dg <= 1; dg++) {
        const gg = g + dg;
        if (gg < 0 || gg >= this.groups) continue;
        proj += this.#r[(k * PAST_CELLS + (j - 1)) * 3 + (dg + 1)]! * Math.log((a[gg]! + f) / (b[gg]! + f));
      }
    }
    return proj;
  }

  /**
   * Bits of relative chips [ma, mb) x every band of a clip under a hypothesis, relative chip 0
   * being session chip n0 (chip-major). Cells are session cells; their energies come from the
   * clip's band energies at the hypothesis's chip boundaries; cells not wholly inside the clip
   * give 0 bits.
   */
  bits(analysis: BandAnalysis, hyp: Hypothesis, n0: number, ma: number, mb: number): Float64Array {
    const K = this.profile.bands;
    const G = this.groups;
    const M = mb - ma;
    const out = new Float64Array(M * K).fill(NaN);
    if (M <= 0) return out;
    // Chip energies per group over relative chips [lo, mb), then per session cell (cells wholly inside).
    const lo = ma - HASH_HISTORY_CHIPS - CELL_CHIPS;
    const E = chipGroupEnergies(analysis, hyp, lo, mb, G);
    const c0 = Math.floor((n0 + lo) / CELL_CHIPS);
    const c1 = Math.floor((n0 + mb - 1) / CELL_CHIPS);
    const nCells = c1 - c0 + 1;
    const cellE = new Float64Array(nCells * G);
    const cellOk = new Uint8Array(nCells);
    for (let ci = 0; ci < nCells; ci++) {
      const m0 = (c0 + ci) * CELL_CHIPS - n0;
      if (m0 < lo || m0 + CELL_CHIPS > mb) continue;
      let ok = true;
      for (let m = m0; m < m0 + CELL_CHIPS && ok; m++) {
        const o = (m - lo) * G;
        if (E[o] === -1) ok = false;
        else for (let g = 0; g < G; g++) cellE[ci * G + g]! += E[o + g]!;
      }
      cellOk[ci] = ok ? 1 : 0;
    }
    // Steps d(c, g) = log((E(c) + f) / (E(c - 1) + f)), NaN where either cell is missing.
    const step = new Float64Array(nCells * G).fill(NaN);
    for (let ci = 1; ci < nCells; ci++) {
      if (!cellOk[ci] || !cellOk[ci - 1]) continue;
      let top = 0;
      for (let g = 0; g < G; g++) top = Math.max(top, cellE[ci * G + g]!, cellE[(ci - 1) * G + g]!);
      const f = FLOOR * top;
      for (let g = 0; g < G; g++) step[ci * G + g] = top > 0 ? Math.log((cellE[ci * G + g]! + f) / (cellE[(ci - 1) * G + g]! + f)) : 0;
    }
    // Projection per cell and band (the same for the cell's chips).
    const r = this.#r;
    const proj = new Float64Array(K);
    for (let ci = 0; ci < nCells; ci++) {
      for (let k = 0; k < K; k++) {
        const g = Math.floor(k / GROUP_BANDS);
        let p = 0;
        for (let j = 1; j <= PAST_CELLS && Number.isFinite(p); j++) {
          const cj = ci - j;
          if (cj < 1) {
            p = NaN;
            break;
          }
          for (let dg = -1; dg <= 1; dg++) {
            const gg = g + dg;
            if (gg < 0 || gg >= G) continue;
            p += r[(k * PAST_CELLS + (j - 1)) * 3 + (dg + 1)]! * step[cj * G + gg]!;
          }
        }
        proj[k] = p;
      }
      const mFrom = Math.max(ma, (c0 + ci) * CELL_CHIPS - n0);
      const mTo = Math.min(mb, (c0 + ci + 1) * CELL_CHIPS - n0);
      for (let m = mFrom; m < mTo; m++) out.set(proj, (m - ma) * K);
    }
    return out;
  }
}

/**
 * Energy per band group of relative chips [lo, hi) under a hypothesis ((hi - lo) x groups, chip-
 * major); -1 in a chip's first entry where the chip is not wholly inside the clip. The chip's
 * energy is the difference of the cumulative band energies at its boundaries (as tiles.ts).
 */
function chipGroupEnergies(analysis: BandAnalysis, hyp: Hypothesis, lo: number, hi: number, groups: number): Float64Array {
  const profile = analysis.profile;
  const K = profile.bands;
  const Tc = profile.chipSec;
  const cums = analysis.bandCumulative(hyp.freqScale);
  const nF = analysis.frames;
  const out = new Float64Array((hi - lo) * groups);
  const at = (m: number, k: number): number | undefined => {
    const t = (hyp.phaseSec + m * Tc) / hyp.rate;
    const pos = (t * ANALYSIS_RATE - ANALYSIS_FRAME / 2) / ANALYSIS_HOP + 0.5;
    if (pos < 0 || pos > nF) return undefined;
    const i = Math.min(nF - 1, Math.floor(pos));
    const fr = pos - i;
    return cums[i * K + k]! + fr * (cums[(i + 1) * K + k]! - cums[i * K + k]!);
  };
  for (let m = lo; m < hi; m++) {
    const o = (m - lo) * groups;
    for (let k = 0; k < K; k++) {
      const a = at(m, k);
      const b = at(m + 1, k);
      if (a === undefined || b === undefined) {
        out[o] = -1;
        for (let g = 1; g < groups; g++) out[o + g] = 0;
        break;
      }
      out[o + Math.floor(k / GROUP_BANDS)]! += Math.max(0, b - a);
    }
  }
  return out;
}

/** Soft detection weight of a projection: tanh(p / SOFT_SCALE); 0 where unavailable. */
export function softBit(projection: number): number {
  return Number.isFinite(projection) ? Math.tanh(projection / SOFT_SCALE) : 0;
}

/**
 * The embedder's side: host energies per session cell accumulated frame by frame (band energies of
 * the frame whose centre lies in a chip), and the hard bits of a chip from the cells before its own.
 */
export class HostHashStream {
  readonly #hash: HostHash;
  readonly #cells = new Map<number, Float64Array>();

  constructor(hash: HostHash) {
    this.#hash = hash;
  }

  /** Add a frame's band energies (per band, any common scale) to the cell of session chip `chip`. */
  addFrame(chip: number, bandEnergy: Float64Array): void {
    const cell = Math.floor(chip / CELL_CHIPS);
    let e = this.#cells.get(cell);
    if (!e) {
      e = new Float64Array(this.#hash.groups);
      this.#cells.set(cell, e);
      // Keep only the cells a bit can still need.
      for (const c of this.#cells.keys()) if (c < cell - PAST_CELLS - 2) this.#cells.delete(c);
    }
    for (let k = 0; k < bandEnergy.length; k++) e[Math.floor(k / GROUP_BANDS)]! += bandEnergy[k]!;
  }

  /** Hard bits (+-1, 0 without history) of session chip `chip` per band into `out`. */
  bitsOf(chip: number, out: Float64Array): void {
    const cells = (c: number): Float64Array | null => this.#cells.get(c) ?? null;
    for (let k = 0; k < out.length; k++) {
      const p = this.#hash.projection(chip, k, cells);
      out[k] = p > 0 ? 1 : p < 0 ? -1 : 0;
    }
  }
}
