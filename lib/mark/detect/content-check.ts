/**
 * The content check (content-ref.ts): a leg named by its mark is kept only if the clip's content
 * agrees with what the bridge recorded the leg's downlink to be at the session time the mark names.
 *
 * Threshold 0.62. Genuine taps (own voice included) through the detection musts' channels agreed in
 * 0.67 (room RT60 0.4 s + AAC 64k) to 1.00 (clean), AMR-NB 7.95k -> AAC 64k >= 0.79, Opus 24k >=
 * 0.87 (benchmarks/results/robustness-musts-v2-x1.5*.md, content-check.md); other speech 0.48-0.51;
 * forgeries imposing leg A's envelope on other speech (benchmarks/results/attacks-v2-content*.md):
 * 2 band groups <= 0.53, 8 groups <= 0.60, 16 groups 0.61-0.64 (29 of 42 named), 32 (a vocoder of
 * leg A's speech) 0.69-0.74. The agreement measures how much of the leg's content a clip carries;
 * 0.62 is 0.05 below the lowest genuine copy measured and above every imposition coarser than 16
 * bands.
 * Fewer than 800 bits (100 frames, 3.2 s of the downlink above its speech floor) is inconclusive:
 * the leg is named and the report says the check could not be made.
 */
import { resample } from '../../dsp/resample.js';
import { CR_BITS, CR_RATE, compareContent } from '../content-ref.js';
import type { ContentComparison, ContentReference } from '../content-ref.js';
import type { MarkKey } from '../keys.js';
import type { DetectResult, DetectedLeg, LegContentCheck } from './types.js';

export const CONTENT_MIN_AGREEMENT = 0.62;
/**
 * The lowest agreement a genuine copy showed on the benchmarks (0.666: room RT60 0.4 s + AAC 64k
 * taps with the tapped person's own voice, benchmarks/results/robustness-musts-v2-x1.5-from4.md),
 * rounded down: reports quote it.
 */
export const CONTENT_GENUINE_MIN = 0.66;
export const CONTENT_MIN_BITS = 800;

function verdictOf(c: Pick<ContentComparison, 'bits' | 'agreement'>): LegContentCheck['verdict'] {
  if (c.bits < CONTENT_MIN_BITS) return 'inconclusive';
  return c.agreement >= CONTENT_MIN_AGREEMENT ? 'consistent' : 'inconsistent';
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Sliding windows of the check inside a leg's span: length and step (s), and the fewest compared bits a window needs. */
export const CONTENT_WINDOW_SEC = 5;
const WINDOW_STEP_SEC = 1;
const WINDOW_MIN_BITS = 480;

/**
 * Stretches of the clip whose content disagrees with the reference although the leg's span as a
 * whole agrees: windows of CONTENT_WINDOW_SEC (step 1 s) with at least WINDOW_MIN_BITS compared and
 * agreement below CONTENT_MIN_AGREEMENT, overlapping ones merged. What a forger who inserts other
 * audio carrying the leg's mark into the leg's genuine recording leaves (located to the window).
 */
export function contentMismatches(frames: readonly { clipSec: number; agree: number }[]): { startSec: number; endSec: number; agreement: number }[] {
  if (frames.length === 0) return [];
  const sorted = [...frames].sort((a, b) => a.clipSec - b.clipSec);
  const t0 = sorted[0]!.clipSec;
  const t1 = sorted[sorted.length - 1]!.clipSec;
  const out: { startSec: number; endSec: number; agreement: number }[] = [];
  let lo = 0;
  let hi = 0;
  let agree = 0;
  for (let start = t0; start <= Math.max(t0, t1 - CONTENT_WINDOW_SEC) + 1e-9; start += WINDOW_STEP_SEC) {
    const end = start + CONTENT_WINDOW_SEC;
    while (hi < sorted.length && sorted[hi]!.clipSec < end) agree += sorted[hi++]!.agree;
    while (lo < hi && sorted[lo]!.clipSec < start) agree -= sorted[lo++]!.agree;
    const bits = CR_BITS * (hi - lo);
    if (bits < WINDOW_MIN_BITS) continue;
    const a = agree / bits;
    if (a >= CONTENT_MIN_AGREEMENT) continue;
    const last = out[out.length - 1];
    if (last && start <= last.endSec) (last.endSec = Math.min(end, t1)), (last.agreement = Math.min(last.agreement, round3(a)));
    else out.push({ startSec: start, endSec: Math.min(end, t1), agreement: round3(a) });
  }
  return out.map((m) => ({ startSec: round3(m.startSec), endSec: round3(m.endSec), agreement: m.agreement }));
}

/** The check of one named leg against its reference (per segment and pooled). */
export function checkLegContent(clip16k: Float32Array, leg: DetectedLeg, ref: ContentReference, key: MarkKey): LegContentCheck {
  const per = leg.segments.map((s) => compareContent(clip16k, ref, key, [{ startSec: s.startSec, endSec: s.endSec, sessionOffsetSec: s.sessionOffsetSec, speed: leg.speed, pitchMoved: leg.speedKind === 'speed' }]));
  let bits = 0;
  let agree = 0;
  let described = 0;
  for (const c of per) (bits += c.bits), (agree += c.agreement * c.bits), (described += c.describedSec);
  const agreement = bits > 0 ? agree / bits : 0.5;
  const verdict = verdictOf({ bits, agreement });
  const mismatches = verdict === 'consistent' ? per.flatMap((c) => contentMismatches(c.frames)) : [];
  return {
    verdict,
    ...(mismatches.length > 0 ? { mismatches } : {}),
    bits,
    agreement: round3(agreement),
    describedSec: Math.round(described * 10) / 10,
    segments: per.map((c) => ({ verdict: verdictOf(c), bits: c.bits, agreement: round3(c.agreement) })),
  };
}

/**
 * Apply the check to every named leg that has a reference: inconsistent legs are removed from
 * `legs` (kept in `contentRejected`) and the result is flagged as a possible copied mark.
 */
export function withContentCheck(r: DetectResult, samples: Float32Array, rate: number, key: MarkKey, refs: ReadonlyMap<string, ContentReference>): DetectResult {
  if (refs.size === 0 || r.legs.length === 0) return r;
  const clip16k = rate === CR_RATE ? samples : resample(samples, rate, CR_RATE);
  const kept: DetectedLeg[] = [];
  const rejected: DetectedLeg[] = [];
  for (const leg of r.legs) {
    const ref = refs.get(leg.token);
    if (!ref) {
      kept.push({ ...leg, content: { verdict: 'no-reference', bits: 0, agreement: 0.5, describedSec: 0, segments: [] } });
      continue;
    }
    const content = checkLegContent(clip16k, leg, ref, key);
    (content.verdict === 'inconsistent' ? rejected : kept).push({ ...leg, content });
  }
  if (rejected.length === 0) return { ...r, legs: kept };
  const what = rejected
    .map((l) => `leg ${l.token}'s mark is present (z ${l.score.toFixed(1)}) but the clip's content agrees with that leg's recorded downlink at the session time the mark names in ${Math.round(100 * l.content!.agreement)}% of ${l.content!.bits} bits (unrelated audio: 50%; genuine copies through the benchmarked phone, streaming and room channels: ${Math.round(100 * CONTENT_GENUINE_MIN)}% or more; threshold ${Math.round(100 * CONTENT_MIN_AGREEMENT)}%)`)
    .join('; ');
  return {
    ...r,
    legs: kept,
    contentRejected: rejected,
    forgery: {
      suspected: true,
      reason: `${what}: the mark was copied onto other audio${kept.length > 0 ? ' (other legs named on consistent content)' : ''}`,
    },
  };
}
