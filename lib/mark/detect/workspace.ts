/**
 * Per-scan working memory of the detector: the feature stages' scratch and the reusable feature
 * buffers. One per detect() call (shared by its pieces), never shared between calls, so the
 * detector holds no state between scans and calls may interleave.
 */
import { GridScratch } from '../features/grid.js';
import { TileScratch } from '../features/tiles.js';

export class Workspace {
  readonly tiles = new TileScratch();
  readonly grid = new GridScratch();
  /** Exact features read once right away (segments.ts offset scan). */
  scoreBuf: Float32Array = new Float32Array(0);
  /** Coarse features gathered from the grids (valid until the next gather). */
  gatherBuf: Float32Array = new Float32Array(0);
}

/** A reusable tile-feature buffer for `chips` chips: `buf` when large enough, else a new one with 5% headroom. */
export function featureBuffer(buf: Float32Array | undefined, chips: number, K: number): Float32Array {
  return buf && buf.length >= chips * K ? buf : new Float32Array(Math.ceil(1.05 * chips) * K);
}
