/**
 * The detector's analysis windows and their coarse hypothesis grids.
 *
 * Windows: the whole clip up to maxWindowSec (64 s), then halves with 50% overlap, down to
 * minWindowSec, so spliced pieces get windows of their own. Each level halves the window and
 * doubles the time-scale step (1.5 chips of drift across a window), so the grids nest and every
 * level reuses the first level's features.
 */
import { hypothesisGrid } from '../search.js';
import type { HypRecord } from '../search.js';

export interface Window {
  startSec: number;
  endSec: number;
  level: number;
  hyps: HypRecord[];
  /** Time-scale step of the window's coarse grid. */
  step: number;
  /** Coarse chip phases per time scale. */
  phases: number;
}

/**
 * Coarse chip phases (in chips). Odd eighths put every chip boundary on an STFT frame boundary at
 * rate 1 (frame centres sit at 16 ms + 8 ms * f), so the frame-grid features are exact there.
 * Clips up to SHORT_CLIP_SEC, whose statistics are the weakest and whose search is small, get four
 * phases (alignment within +-4 ms; on a 144-clip A/B set of 5-30 s clips +2% mean z over two
 * phases), longer clips two (+-8 ms, what the fine grid of refine.ts then recovers; four would
 * double the coarse search, ~80x instead of ~120x realtime on 60 s).
 */
const COARSE_PHASES_SHORT: readonly number[] = Object.freeze([1 / 8, 3 / 8, 5 / 8, 7 / 8]);
const COARSE_PHASES_LONG: readonly number[] = Object.freeze([1 / 8, 5 / 8]);
const SHORT_CLIP_SEC = 16;
/** The fine grid (refine.ts): 8 chip phases (Tc/8) and 3 rates per coarse rate step. */
export const FINE_PER_RATE_STEP = 24;

export interface WindowPlan {
  durationSec: number;
  minWindowSec: number;
  maxWindowSec: number;
  chipSec: number;
  speedRange: readonly [number, number];
  tempoRange: readonly [number, number];
}

export function makeWindows(plan: WindowPlan): Window[] {
  const { durationSec: D, minWindowSec: minWin, maxWindowSec: maxWin, chipSec: Tc, speedRange, tempoRange } = plan;
  const out: Window[] = [];
  if (D < Math.min(minWin, 2)) return out;
  const len0 = Math.min(D, maxWin);
  const step0 = (1.5 * Tc) / len0;
  const phases = D <= SHORT_CLIP_SEC ? COARSE_PHASES_SHORT : COARSE_PHASES_LONG;
  let len = len0;
  for (let level = 0; ; level++) {
    const hop = len === D ? len : len / 2;
    const hyps = hypothesisGrid(step0 * 2 ** level, speedRange, tempoRange, phases.map((x) => x * Tc));
    for (let a = 0; a + len <= D + 1e-9; a += hop) {
      out.push({ startSec: a, endSec: Math.min(D, a + len), level, hyps, step: step0 * 2 ** level, phases: phases.length });
      if (hop === len && a + len >= D) break;
    }
    // A last window flush with the end, so the tail is covered at this level.
    const last = out[out.length - 1]!;
    if (last.endSec < D - 0.25 * len) out.push({ startSec: D - len, endSec: D, level, hyps, step: step0 * 2 ** level, phases: phases.length });
    const next = len / 2;
    if (next < minWin) break;
    len = next;
  }
  return out;
}

/** Hypotheses the p-values count for a set of windows: each window's whole fine grid (FINE_PER_RATE_STEP / phases fine hypotheses per coarse one). */
export function fineHypothesesOf(windows: readonly Window[]): number {
  let total = 0;
  for (const w of windows) total += (w.hyps.length * FINE_PER_RATE_STEP) / w.phases;
  return total;
}

/**
 * The findings a leg's segments are refined from: of `significant` (sorted strongest first), each
 * finding whose window overlaps no stronger kept finding's window by more than a quarter of the
 * shorter of the two.
 */
export function disjointFindings<T extends { window: number }>(significant: readonly T[], windows: readonly Window[]): T[] {
  const picked: T[] = [];
  for (const x of significant) {
    const wx = windows[x.window]!;
    const overlaps = picked.some((q) => {
      const wq = windows[q.window]!;
      const ov = Math.min(wx.endSec, wq.endSec) - Math.max(wx.startSec, wq.startSec);
      return ov > 0.25 * Math.min(wx.endSec - wx.startSec, wq.endSec - wq.startSec);
    });
    if (!overlaps) picked.push(x);
  }
  return picked;
}
