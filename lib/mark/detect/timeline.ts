/**
 * Timeline consistency between the segments of one leg, before merging them: segments that share
 * a timeline pool their timecode evidence (reconcileTimelines); touching segments on one timeline
 * merge (mergeSegments).
 */
import type { MarkProfile } from '../profile.js';
import { patternCycleSec } from '../profile.js';
import type { SegmentFinding } from './segments.js';
import { posterior, shiftPosterior } from './timecode-decode.js';
import type { TimecodeEvidence } from './timecode-decode.js';
import type { MarkSegment } from './types.js';

/**
 * Reconcile the timelines of one leg's segments (windows of one clip), before merging (in place).
 *
 * Two segments share a timeline when the clip was not edited between them; then their sync
 * alignments agree modulo the 1.024 s period and their blocks differ by a known D (from the clip
 * time between them), so their timecode evidence adds up. Taking the segments strongest first,
 * each joins the best agreeing timeline so far (or starts its own) by the Bayes factor of
 * "same timeline" (S) against "an edit joins an independent part of the session" (E), with a
 * uniform block prior over the cycle's N = R_A R_B blocks and even prior odds:
 *   - sync: agreement within +-TOL of a multiple of the period is certain under S and has
 *     probability 2 TOL / T under E (T = 1.024 s; TOL = 2 chips, beyond which a window's sync
 *     correlation is gone, so two detections of one timeline cannot disagree by more), factor
 *     T / (2 TOL) = 8;
 *   - timecode: p(data | S) / p(data | E) = N sum_b pi_1(b) pi_2(b + D), pi_1 the timeline's
 *     (combined) block posterior, pi_2 the segment's own.
 *  log BF = log(T / 2 TOL) + log N + log sum_b pi_1(b) pi_2(b + D); S when log BF > 0.
 * So a segment agreeing in sync stays on its own timeline only when its own evidence gives the
 * timeline's block less than ~1 / (8 N) of the posterior mass the product rule expects, i.e. a
 * confident decode of another block: a cut or insert still shows as its own offset whenever the
 * evidence supports it (and always when the sync alignment disagrees). A joined segment takes the
 * timeline's jointly decoded block (its own sub-period offset is kept), with confidence
 * P(S) pi_joint(b) + P(E) pi_own(b). Segments without timecode evidence are left as they are.
 * Each segment's evidence reads its window's whole analysed range (timecode-decode.ts), and the ranges of
 * neighbouring windows overlap: a joining segment's log-likelihoods are added in proportion to
 * the part of its range the timeline has not read yet, so shared tiles are not counted twice.
 */
export function reconcileTimelines(findings: readonly SegmentFinding[], profile: MarkProfile): void {
  const withTc = findings.filter((f): f is Required<SegmentFinding> => f.timecode !== undefined);
  if (withTc.length < 2) return;
  const Tb = profile.chipSec * profile.period;
  const [RA, RB] = profile.blockPeriods;
  const N = RA * RB;
  const cycle = patternCycleSec(profile);
  const TOL = 2 * profile.chipSec;
  const logPrior = Math.log(Tb / (2 * TOL)) + Math.log(N);
  interface Member {
    seg: MarkSegment;
    /** Block shift of this segment relative to the anchor's (true block = reported + delta + d). */
    d: number;
    pSame: number;
    own: TimecodeEvidence;
  }
  interface Line {
    anchor: MarkSegment;
    rate: number;
    ll: Float64Array;
    members: Member[];
    /** Clip ranges (s) whose tiles the timeline's evidence already holds, disjoint. */
    covered: [number, number][];
  }
  const lines: Line[] = [];
  for (const { segment: seg, timecode } of [...withTc].sort((a, b) => b.segment.z - a.segment.z)) {
    const { evidence, rate, rangeSec } = timecode;
    let best: { line: Line; d: number; logBf: number } | undefined;
    for (const line of lines) {
      // Both timelines' session times at this segment's centre.
      const t = 0.5 * (seg.startSec + seg.endSec);
      const tauLine = line.anchor.sessionOffsetSec + line.rate * (t - line.anchor.startSec);
      const tauSeg = seg.sessionOffsetSec + rate * (t - seg.startSec);
      let diff = (tauLine - tauSeg) % cycle;
      if (diff > cycle / 2) diff -= cycle;
      if (diff < -cycle / 2) diff += cycle;
      const d = Math.round(diff / Tb);
      if (Math.abs(diff - d * Tb) > TOL) continue;
      const p1 = posterior(line.ll);
      const p2 = posterior(evidence.ll);
      let acc = 0;
      for (let b = 0, b2 = (((d % N) + N) % N); b < N; b++) {
        acc += p1[b]! * p2[b2]!;
        if (++b2 === N) b2 = 0;
      }
      const logBf = logPrior + Math.log(Math.max(acc, 1e-300));
      if (logBf > 0 && (!best || logBf > best.logBf)) best = { line, d, logBf };
    }
    if (!best) {
      lines.push({ anchor: seg, rate, ll: Float64Array.from(evidence.ll), members: [{ seg, d: 0, pSame: 1, own: evidence }], covered: [rangeSec] });
      continue;
    }
    const { line, d, logBf } = best;
    const [ra, rb] = rangeSec;
    let fresh = rb - ra;
    for (const [ca, cb] of line.covered) fresh -= Math.max(0, Math.min(rb, cb) - Math.max(ra, ca));
    const share = rb > ra ? Math.max(0, fresh) / (rb - ra) : 0;
    for (let b = 0, b2 = (((d % N) + N) % N); b < N; b++) {
      line.ll[b]! += share * evidence.ll[b2]!;
      if (++b2 === N) b2 = 0;
    }
    line.covered = unionOf([...line.covered, rangeSec]);
    line.members.push({ seg, d, pSame: 1 / (1 + Math.exp(-Math.min(700, logBf))), own: evidence });
  }
  for (const line of lines) {
    if (line.members.length < 2) continue;
    let delta = 0;
    for (let b = 1; b < N; b++) if (line.ll[b]! > line.ll[delta]!) delta = b;
    const pJoint = shiftPosterior({ ll: line.ll }, delta);
    for (const m of line.members) {
      const shift = (((delta + m.d) % N) + N) % N;
      // Wrapped within the segment's own cycle of the sync and timecode structure (v1: the only
      // one; v2: the leg layer told the cycles apart).
      const base = Math.floor(m.seg.sessionOffsetSec / cycle) * cycle;
      const off = m.seg.sessionOffsetSec - base + shift * Tb;
      m.seg.sessionOffsetSec = base + (((off % cycle) + cycle) % cycle);
      m.seg.timecodeConfidence = m.pSame * pJoint + (1 - m.pSame) * shiftPosterior(m.own, shift);
    }
  }
}
/** Union of intervals, as sorted disjoint intervals. */
function unionOf(xs: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...xs].sort((p, q) => p[0] - q[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Merge segments of one leg that touch and share a timeline (after reconciling their timecode blocks). */
export function mergeSegments(findings: readonly SegmentFinding[], rate: number, profile: MarkProfile): MarkSegment[] {
  reconcileTimelines(findings, profile);
  const sorted = findings.map((f) => f.segment).sort((a, b) => a.startSec - b.startSec);
  const out: MarkSegment[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.startSec <= last.endSec + 0.5) {
      const predicted = last.sessionOffsetSec + rate * (s.startSec - last.startSec);
      if (Math.abs(predicted - s.sessionOffsetSec) < 0.1) {
        last.endSec = Math.max(last.endSec, s.endSec);
        if (s.z > last.z) {
          last.z = s.z;
          last.pValue = s.pValue;
        }
        last.timecodeConfidence = Math.max(last.timecodeConfidence, s.timecodeConfidence);
        continue;
      }
    }
    out.push({ ...s });
  }
  return out;
}
