/** What the search stages hand on: the best alignment of a candidate in a window. */
import type { HypRecord } from '../search.js';

export interface Found {
  /** The decision statistic: the plain one, or a cross-fitted one where larger. */
  z: number;
  hyp: HypRecord;
  /** Session chip of relative chip 0. */
  n0: number;
  /** Index of the window. */
  window: number;
}
