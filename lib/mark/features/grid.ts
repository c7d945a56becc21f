/**
 * Detector front end, frame-grid tiles: tile features at every STFT frame, so the coarse search
 * reads the chips of any time-scale hypothesis as the nearest row instead of recomputing them.
 *
 * Row i is the tile of the four frames [i, i + 4) (one chip, 32 ms, at nominal rate) starting at
 * every frame. Same detrending, floor, per-band scale, clip and weight as tiles.ts, with the time
 * neighbours one chip away (rows i - 4 and i + 4), the masking memory chained chip by chip (row
 * i - 4), and the per-band scale over the whole clip.
 */
import { ANALYSIS_FRAME, ANALYSIS_HOP, ANALYSIS_RATE, FRAMES_PER_CHIP, chipCount } from './analysis.js';
import type { BandAnalysis } from './analysis.js';
import { bandScales, centerBands, scaleClipWeight } from './tiles.js';
import type { TileFeatures } from './tiles.js';
import { MASK_RELEASE_SEC } from '../profile.js';
import { inverseBandwidths, keptBands, tileWeight, weightTable } from './weights.js';
import type { FeatureLayer, WeightTable } from './weights.js';
import type { Hypothesis } from '../search.js';

export interface FeatureGrid {
  /** Rows x bands, row-major; 0 for dropped tiles. */
  readonly r: Float32Array;
  readonly rows: number;
  readonly bands: number;
  readonly freqScale: number;
  readonly chipSec: number;
}

/** Working memory of featureGrid (grown on demand; one per scan, never shared between concurrent calls). */
export class GridScratch {
  logE = new Float64Array(0);
  valid = new Float64Array(0);
  density = new Float64Array(0);
  weight = new Float64Array(0);

  ensure(padded: number, tiles: number): void {
    if (this.logE.length < padded) {
      this.logE = new Float64Array(padded);
      this.valid = new Float64Array(padded);
    }
    if (this.density.length < tiles) {
      this.density = new Float64Array(tiles);
      this.weight = new Float64Array(tiles);
    }
  }
}

export interface GridOptions {
  layer?: FeatureLayer;
  scratch?: GridScratch;
}

/** Frame-grid features of a clip at one frequency scale. */
export function featureGrid(analysis: BandAnalysis, freqScale: number, opts: GridOptions = {}): FeatureGrid {
  const profile = analysis.profile;
  const layer = opts.layer ?? 'leg';
  const K = profile.bands;
  const span = FRAMES_PER_CHIP;
  if (Math.abs(profile.chipSec - (span * ANALYSIS_HOP) / ANALYSIS_RATE) > 1e-9) throw new Error('featureGrid: chip length is not four STFT hops');
  const rows = Math.max(0, analysis.frames - span + 1);
  const r = analysis.arena ? analysis.arena.f32(rows * K) : new Float32Array(rows * K);
  const grid: FeatureGrid = { r, rows, bands: K, freqScale: Math.round(freqScale * 100) / 100, chipSec: profile.chipSec };
  if (rows === 0) return grid;
  const cums = analysis.bandCumulative(freqScale);
  const thr = analysis.thresholds();
  const invBw = inverseBandwidths(profile);
  // Energies: log, per Hz and validity per tile (invalid tiles hold 0 in all three), in padded
  // rows (W = K + 2 columns, band k at column k + 1; `span` empty rows before and after) so the
  // neighbour sums need no edge cases.
  const W = K + 2;
  const padded = (rows + 2 * span) * W;
  const sc = opts.scratch ?? new GridScratch();
  sc.ensure(padded, rows * K);
  const { logE, valid, density } = sc;
  logE.fill(0, 0, padded);
  valid.fill(0, 0, padded);
  // density is read only where this grid wrote it (valid, kept tiles).
  const peak = gridEnergies(cums, thr, invBw, logE, valid, density, rows, K, span, Math.exp(-profile.chipSec / MASK_RELEASE_SEC));
  gridResiduals(r, logE, valid, density, sc.weight, peak, keptBands(profile, layer), rows, K, span, weightTable(profile, layer));
  centerBands(r, 0, rows, K);
  return grid;
}

/**
 * featureGrid, first pass: per grid row and band the log energy and validity (padded rows of
 * K + 2 columns) and the energy per Hz; returns the masking peak per row. (Separate functions so
 * V8 optimizes each loop with its own type feedback: one large function was re-optimized on
 * stack and deoptimized again on every call.)
 */
function gridEnergies(cums: Float64Array, thr: Float64Array, invBw: Float64Array, logE: Float64Array, valid: Float64Array, density: Float64Array, rows: number, K: number, span: number, decay: number): Float64Array {
  const W = K + 2;
  const pad = span * W;
  const peak = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = i * K;
    const b = (i + span) * K;
    const e = pad + i * W + 1;
    let p = i >= span ? peak[i - span]! * decay : 0;
    for (let k = 0; k < K; k++) {
      const v = cums[b + k]! - cums[a + k]!;
      if (v > thr[k]!) {
        valid[e + k] = 1;
        logE[e + k] = Math.log(v);
        const d = v * invBw[k]!;
        density[a + k] = d;
        if (d > p) p = d;
      }
    }
    peak[i] = p;
  }
  return peak;
}

/** featureGrid, second pass: residuals against the four neighbours, per-band RMS scaling, clipping and masking weights, into r. */
function gridResiduals(r: Float32Array, logE: Float64Array, valid: Float64Array, density: Float64Array, wgt: Float64Array, peak: Float64Array, keep: Uint8Array, rows: number, K: number, span: number, table: WeightTable): void {
  const W = K + 2;
  const pad = span * W;
  const off = span * W;
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    const a = i * K;
    const e = pad + i * W + 1;
    const pk = peak[i]!;
    for (let k = 0; k < K; k++) {
      const x = e + k;
      if (valid[x] === 0 || keep[k] === 0) continue;
      // Time -1, time +1, band -1, band +1 (summed in the order of tiles.ts).
      const c = valid[x - off]! + valid[x + off]! + valid[x - 1]! + valid[x + 1]!;
      if (c < 3) continue;
      const v = logE[x]! - (logE[x - off]! + logE[x + off]! + logE[x - 1]! + logE[x + 1]!) / c;
      r[a + k] = v;
      sumSq[k]! += v * v;
      cnt[k]! += 1;
      wgt[a + k] = tileWeight(table, k, pk / density[a + k]!);
    }
  }
  scaleClipWeight(r, 0, wgt, rows, K, bandScales(sumSq, cnt));
}

/** Frame-grid features per frequency scale (1% steps, as bandCumulative), built on first use. */
export function featureGrids(analysis: BandAnalysis, opts: GridOptions = {}): (freqScale: number) => FeatureGrid {
  const grids = new Map<number, FeatureGrid>();
  return (freqScale) => {
    const q = Math.round(freqScale * 100);
    let g = grids.get(q);
    if (!g) {
      g = featureGrid(analysis, q / 100, opts);
      grids.set(q, g);
    }
    return g;
  };
}

/**
 * Grid row of each relative chip under a hypothesis (-1 where the chip's tile would leave the
 * clip): the row whose four frames are centred on the chip (chip m spans cumulative frame
 * positions [pos_m, pos_m + 4 / rate); see tiles.ts).
 */
export function gridRows(grid: FeatureGrid, hyp: Hypothesis, chips: number): Int32Array {
  const out = new Int32Array(chips);
  const Tc = grid.chipSec;
  const half = (0.5 * FRAMES_PER_CHIP) / hyp.rate - 0.5 * FRAMES_PER_CHIP;
  for (let m = 0; m < chips; m++) {
    const t = (hyp.phaseSec + m * Tc) / hyp.rate;
    const i = Math.round((t * ANALYSIS_RATE - ANALYSIS_FRAME / 2) / ANALYSIS_HOP + 0.5 + half);
    out[m] = i >= 0 && i < grid.rows ? i : -1;
  }
  return out;
}

export interface GatherOptions {
  /** Reusable output buffer (used when large enough). */
  out?: Float32Array;
  /** Only chips [range[0], range[1]) are read; the others are 0. */
  range?: readonly [number, number];
  /** The hypothesis's grid rows when the caller has them (gridRows). */
  rowsOf?: Int32Array;
}

/** Tile features of a hypothesis read from a grid (chip m = grid row gridRows[m]). */
export function gatherFeatures(grid: FeatureGrid, hyp: Hypothesis, analysis: BandAnalysis, opts: GatherOptions = {}): TileFeatures {
  const K = grid.bands;
  const M = chipCount(analysis, hyp);
  const out = opts.out;
  const r = out && out.length >= M * K ? out.subarray(0, M * K) : new Float32Array(M * K);
  const rows = opts.rowsOf ?? gridRows(grid, hyp, M);
  const lo = Math.max(0, opts.range?.[0] ?? 0);
  const hi = Math.min(M, opts.range?.[1] ?? M);
  r.fill(0, 0, lo * K);
  r.fill(0, Math.max(lo, hi) * K);
  for (let m = lo; m < hi; m++) {
    const i = rows[m]!;
    if (i < 0) r.fill(0, m * K, (m + 1) * K);
    else r.set(grid.r.subarray(i * K, (i + 1) * K), m * K);
  }
  return { r, chips: M, bands: K };
}
