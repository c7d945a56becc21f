/**
 * Mark strength of one leg over chosen stretches of a clip, at an alignment the detector already
 * found (no search, so no multiple-testing correction is needed for these follow-up
 * measurements). Used by the mix-minus reasoning: inside a leg's detected span, a stretch of
 * speech whose mark is far weaker than the span's own rate predicts was not on the bridge
 * downlink — e.g. the tapped participant's own voice at the capture point.
 */
import { analyzeClip } from './features/analysis.js';
import type { BandAnalysis } from './features/analysis.js';
import { correlateTiles, tileFeatures } from './features/tiles.js';
import type { MarkKey } from './keys.js';
import { LegPattern } from './pattern.js';
import { PROFILE_V1, patternCycleSec } from './profile.js';
import type { MarkProfile } from './profile.js';
import { alignmentOf, chipRange } from './search.js';

export interface MarkAlignment {
  /** Clip time (s) and the session offset (s) the detector found there. */
  clipSec: number;
  sessionOffsetSec: number;
  /** Session seconds per clip second. */
  rate: number;
  /** 'speed' scales frequencies with time (replay speed); 'tempo' does not. */
  kind: 'speed' | 'tempo';
}

export interface RangeScore {
  startSec: number;
  endSec: number;
  /** Σ feature·sign over the range's tiles (the un-normalized correlation). */
  correlation: number;
  /** Σ feature² over the same tiles: the correlation's variance under no mark. */
  energy: number;
  /** correlation / sqrt(energy): N(0, 1) when the range carries no mark of this leg. */
  z: number;
}

export interface ScoreRangesOptions {
  key: MarkKey;
  token: string;
  alignment: MarkAlignment;
  /** Clip-time ranges (s) to score. */
  ranges: readonly (readonly [number, number])[];
  /** Profile of a mono clip given as samples (an analysis carries its own). Default PROFILE_V1. */
  profile?: MarkProfile;
}

/** Score ranges of a clip (mono samples, or an analysis already made) for a leg's mark at a known alignment. */
export function scoreRanges(clip: { samples: Float32Array; sampleRate: number } | BandAnalysis, opts: ScoreRangesOptions): RangeScore[] {
  const analysis = 'samples' in clip ? analyzeClip(clip.samples, clip.sampleRate, { profile: opts.profile ?? PROFILE_V1 }) : clip;
  const profile = analysis.profile;
  const pattern = new LegPattern(opts.key, opts.token, { profile });
  const Tc = profile.chipSec;
  const cycle = patternCycleSec(profile);
  const alignment = opts.alignment;
  const rate = alignment.rate;
  // Session time at clip time 0, kept non-negative (the pattern repeats every `cycle` seconds).
  let t0 = alignment.sessionOffsetSec - rate * alignment.clipSec;
  t0 = ((t0 % cycle) + cycle) % cycle;
  const { phaseSec: phase, n0 } = alignmentOf(t0, Tc);
  const hyp = { rate, freqScale: alignment.kind === 'speed' ? rate : 1, phaseSec: phase };
  return opts.ranges.map(([startSec, endSec]) => {
    const f = tileFeatures(analysis, hyp, { rangeSec: [startSec, endSec] });
    const [ma, mb] = chipRange({ startSec, endSec }, hyp, Tc, f.chips);
    const { c: correlation, q: energy } = correlateTiles(f, (n, k) => pattern.sign(n, k), n0, ma, mb);
    return { startSec, endSec, correlation, energy, z: energy > 0 ? correlation / Math.sqrt(energy) : 0 };
  });
}
