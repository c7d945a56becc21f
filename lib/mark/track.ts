/**
 * Mark strength of one leg over chosen stretches of a clip, at an alignment the detector already
 * found (no search, so no multiple-testing correction is needed for these follow-up
 * measurements). Used by the mix-minus reasoning: inside a leg's detected span, a stretch of
 * speech whose mark is far weaker than the span's own rate predicts was not on the bridge
 * downlink — e.g. the tapped participant's own voice at the capture point.
 */
import { analyzeClip, correlateTiles, tileFeatures } from './features.js';
import type { BandAnalysis } from './features.js';
import type { MarkKey } from './keys.js';
import { LegPattern, PROFILE_V1, patternCycleSec } from './pattern.js';
import type { MarkProfile } from './pattern.js';

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

/** Score `ranges` of the clip for `token`'s mark at a known alignment. */
export function scoreRanges(
  clip: { samples: Float32Array; sampleRate: number } | BandAnalysis,
  key: MarkKey,
  token: string,
  alignment: MarkAlignment,
  ranges: readonly (readonly [number, number])[],
  profile: MarkProfile = PROFILE_V1,
): RangeScore[] {
  const analysis = 'samples' in clip ? analyzeClip(clip.samples, clip.sampleRate, profile) : clip;
  const pattern = new LegPattern(key, token, profile);
  const Tc = profile.chipSec;
  const cycle = patternCycleSec(profile);
  const rate = alignment.rate;
  // Session time at clip time 0, kept non-negative (the pattern repeats every `cycle` seconds).
  let t0 = alignment.sessionOffsetSec - rate * alignment.clipSec;
  t0 = ((t0 % cycle) + cycle) % cycle;
  const phase = ((-t0 % Tc) + Tc) % Tc;
  const n0 = Math.round((t0 + phase) / Tc);
  const hyp = { rate, freqScale: alignment.kind === 'speed' ? rate : 1, phaseSec: phase };
  return ranges.map(([startSec, endSec]) => {
    const f = tileFeatures(analysis, hyp, profile, [startSec, endSec]);
    const ma = Math.max(0, Math.ceil((rate * startSec - phase) / Tc - 1e-9));
    const mb = Math.min(f.chips, Math.floor((rate * endSec - phase) / Tc + 1e-9));
    const { c: correlation, q: energy } = correlateTiles(f, (n, k) => pattern.sign(n, k), n0, ma, mb);
    return { startSec, endSec, correlation, energy, z: energy > 0 ? correlation / Math.sqrt(energy) : 0 };
  });
}
