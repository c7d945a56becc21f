/**
 * Tile features of one span for the search stages: coarse hypotheses read from the frame-grid
 * features (one grid per 1% frequency scale, features/grid.ts: the coarse phases are frame-aligned,
 * so at rate 1 the tiles are exactly the hypothesis's chips and elsewhere each chip is read at the
 * nearest 8 ms frame); the fine grid (refine.ts) and the segments use exact per-hypothesis features.
 */
import { chipCount } from '../features/analysis.js';
import type { BandAnalysis } from '../features/analysis.js';
import { featureGrids, gatherFeatures } from '../features/grid.js';
import type { FeatureGrid } from '../features/grid.js';
import { tileFeatures } from '../features/tiles.js';
import type { TileFeatures } from '../features/tiles.js';
import { chipRange } from '../search.js';
import type { Hypothesis } from '../search.js';
import type { Window } from './windows.js';
import { featureBuffer } from './workspace.js';
import type { Workspace } from './workspace.js';

export class WindowFeatures {
  readonly #analysis: BandAnalysis;
  readonly #ws: Workspace;
  readonly #grids: (freqScale: number) => FeatureGrid;
  /**
   * Exact features of the window being refined, by hypothesis (candidates refined on the same
   * window share them); their arrays are reused for the next window's features: a long clip
   * refines thousands of small windows, and fresh arrays piled up faster than V8 collected them.
   */
  readonly #exact = new Map<string, TileFeatures>();
  readonly #pool: Float32Array[] = [];
  #exactWindow: Window | undefined;

  constructor(analysis: BandAnalysis, ws: Workspace) {
    this.#analysis = analysis;
    this.#ws = ws;
    this.#grids = featureGrids(analysis, { scratch: ws.grid });
  }

  grid(h: Hypothesis): FeatureGrid {
    return this.#grids(h.freqScale);
  }

  /** Coarse features of a hypothesis over a window's chips (in a shared buffer: valid until the next call; 0 outside the window). */
  coarse(h: Hypothesis, w: { startSec: number; endSec: number }): TileFeatures {
    const analysis = this.#analysis;
    const K = analysis.profile.bands;
    const M = chipCount(analysis, h);
    if (this.#ws.gatherBuf.length < M * K) this.#ws.gatherBuf = new Float32Array(M * K);
    return gatherFeatures(this.grid(h), h, analysis, { out: this.#ws.gatherBuf, range: chipRange(w, h, analysis.profile.chipSec, M) });
  }

  /** Exact features of a hypothesis over a window (cached while the refinement stays on one window). */
  exact(h: Hypothesis, w: Window): TileFeatures {
    if (w !== this.#exactWindow) {
      for (const f of this.#exact.values()) this.#pool.push(f.r);
      this.#exact.clear();
      this.#exactWindow = w;
    }
    const key = `${h.rate.toFixed(6)}|${h.freqScale.toFixed(6)}|${h.phaseSec.toFixed(6)}`;
    let f = this.#exact.get(key);
    if (!f) {
      const analysis = this.#analysis;
      const buf = featureBuffer(this.#pool.pop(), chipCount(analysis, h), analysis.profile.bands);
      f = tileFeatures(analysis, h, { rangeSec: [w.startSec, w.endSec], out: buf, scratch: this.#ws.tiles });
      this.#exact.set(key, f);
    }
    return f;
  }
}
