/**
 * Calibration and decision: the null scale from decoys, the count of hypotheses the p-values are
 * corrected for, and the gates that decide which windows are worth refining.
 *
 * Decoy tokens (derived from the key, never issued) are scored on the same clip at the same
 * hypotheses; their z's estimate the null scale sigma (taken >= 1, with an upper confidence
 * margin). The p-value of a window is Bonferroni over everything searched: candidates x windows x
 * fine hypotheses x P x R_A x R_B (the full 13.4 h timeline) x STATISTICS,
 * p = min(1, N * Q(z / sigma)). A leg is reported when p <= alpha.
 */
import type { MarkProfile } from '../profile.js';
import { zForCorrectedP } from '../stats.js';

/**
 * Statistics per hypothesis that the p-values count: the plain one and the two cross-fitted ones
 * (crossfit.ts).
 */
export const STATISTICS = 3;

/** Hypotheses counted for `candidates` candidates over `fineHypotheses` fine alignments (windows x fine grid), `statistics` per alignment. */
export function hypothesisCount(candidates: number, fineHypotheses: number, profile: MarkProfile, statistics = STATISTICS): number {
  const [RA, RB] = profile.blockPeriods;
  return candidates * fineHypotheses * profile.period * RA * RB * statistics;
}

/** Null scale: RMS of the decoy z's with an upper 99% confidence margin, never below 1. */
export function nullScaleOf(samples: readonly number[]): number {
  if (samples.length === 0) return 1;
  let ss = 0;
  for (const z of samples) ss += z * z;
  const rms = Math.sqrt(ss / samples.length);
  return Math.max(1, rms * (1 + 2.33 / Math.sqrt(2 * samples.length)));
}

/**
 * Search gates, relative to the statistic a detection needs at null scale 1 (zNeed; the
 * estimated scale is >= 1, so the real need is never lower). Selection rules change power, never
 * validity: the correction counts every window for every candidate.
 */
export interface Gates {
  /** Below this sync statistic a window cannot reach a detection unless the timecode layer were far stronger than the sync layer, which carries equal power. */
  sync: number;
  /** Candidates whose best statistic reaches this go on to the next (shorter) window level. */
  sublevel: number;
  /**
   * Windows below this are not refined. Measured on a 144-clip A/B set (5-30 s clips, hits
   * refined to z > 8): the fine grid raised a hit's z by at most 30% from two coarse phases
   * (median 3.8%, 99th percentile 24%) and 12.5% from four, so windows below zNeed / 1.3 cannot
   * become detections.
   */
  refine: number;
  /** The cross-fitted statistics raised the true-alignment z of own-voice-heavy taps by up to ~30%; below zNeed / 1.45 they cannot reach a detection. */
  crossFit: number;
  /** Above this, refinement changes no decision (segments.ts still refines the offsets of what is reported). */
  ceiling: number;
}

export function gatesFor(alpha: number, hypotheses: number): Gates {
  const zNeed = zForCorrectedP(alpha, hypotheses);
  return { sync: 3.5, sublevel: 6.5, refine: zNeed / 1.3, crossFit: zNeed / 1.45, ceiling: 1.4 * zNeed };
}
