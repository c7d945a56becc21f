/**
 * v1's decision over one span (detect() hands long clips over in pieces): the search stages
 * (search-span.ts) with every candidate leg as a candidate, then the null scale from decoys,
 * corrected p-values and the segments of the significant windows (segments.ts).
 */
import { PROFILE_V1 } from '../profile.js';
import { correctedPValue } from '../stats.js';
import type { Found } from './found.js';
import { searchSpan } from './search-span.js';
import type { SpanContext } from './search-span.js';
import { refineSegment } from './segments.js';
import type { SegmentFinding } from './segments.js';
import { nullScaleOf } from './statistics.js';
import { DETECT_DEFAULTS } from './types.js';
import { disjointFindings } from './windows.js';
import type { CandidateScore, DetectOptions, LegSearch } from './types.js';

export type { SpanContext } from './search-span.js';

/** A detected leg of one span before its segments are merged (detect() merges across pieces). */
export interface SpanLeg {
  token: string;
  pValue: number;
  score: number;
  findings: SegmentFinding[];
  speed: number;
  speedKind: 'speed' | 'tempo';
  /** v2: what the leg's p-value multiplies the statistic's tail bound by (hypotheses x the alpha split). */
  multiplier?: number;
  /** v2: which search named the leg (types.ts DetectedLeg.search). */
  search?: LegSearch;
}

export interface SpanResult {
  legs: SpanLeg[];
  scores: CandidateScore[];
  durationSec: number;
  nullScale: number;
  hypotheses: number;
}

export function detectSpan(samples: Float32Array, sampleRate: number, opts: DetectOptions, ctx: SpanContext): SpanResult {
  const profile = opts.profile ?? PROFILE_V1;
  const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
  const cands = opts.candidates.map((token) => ctx.cache.tables(opts.key, token, profile));
  const found0 = searchSpan(samples, sampleRate, opts, profile, { candidates: cands, crossFit: true, keepEntries: false }, ctx);
  if (!found0) {
    return { legs: [], scores: opts.candidates.map((token) => ({ token, score: 0, pValue: 1 })), durationSec: samples.length / sampleRate, nullScale: 1, hypotheses: 0 };
  }
  const { analysis, windows, hypotheses, best, nullSamples } = found0;
  const ws = ctx.workspace;
  const D = analysis.durationSec;

  const nullScale = nullScaleOf(nullSamples);
  const scores: CandidateScore[] = [];
  const legs: SpanLeg[] = [];
  for (let ci = 0; ci < cands.length; ci++) {
    const token = opts.candidates[ci]!;
    const found = best[ci]!.filter((x): x is Found => x !== undefined);
    let top: Found | undefined;
    for (const x of found) if (!top || x.z > top.z) top = x;
    const pTop = top ? correctedPValue(top.z, nullScale, hypotheses) : 1;
    scores.push({ token, score: top?.z ?? 0, pValue: pTop });
    if (!top || pTop > alpha) continue;
    const significant = found.filter((x) => correctedPValue(x.z, nullScale, hypotheses) <= alpha).sort((a, b) => b.z - a.z);
    const picked = disjointFindings(significant, windows);
    const pattern = cands[ci]!.pattern;
    const findings = picked.map((x) => refineSegment({ analysis, pattern, workspace: ws, pValue: correctedPValue(x.z, nullScale, hypotheses) }, x, windows[x.window]!));
    legs.push({ token, pValue: pTop, score: top.z, findings, speed: top.hyp.rate, speedKind: top.hyp.kind });
  }
  legs.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  return { legs, scores, durationSec: D, nullScale, hypotheses };
}
