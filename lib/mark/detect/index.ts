/**
 * Informed detector: which candidate legs' marks are in a clip, where, and at what session time.
 *
 * Stages, one file each (span.ts runs them over one span of the clip):
 *   tables.ts           each candidate's (and decoy's) pattern tables, cached across scans
 *   windows.ts          analysis windows and coarse hypotheses (../search.ts: the shared plan)
 *   window-features.ts  coarse (frame-grid) and exact tile features of a window (../features/)
 *   sync.ts             fold + circular correlation: the sync layer's statistic at every shift
 *   timecode-search.ts  the full statistic with the timecode residues searched (CRT)
 *   refine.ts           the fine grid around promising windows
 *   crossfit.ts         cross-fitted statistics for taps with the tapped person's own voice
 *   statistics.ts       null scale from decoys, hypothesis count, gates
 *   segments.ts         refined offsets, extents and the timecode block of detected windows
 *   timecode-decode.ts  block log-likelihoods and confidence
 *   timeline.ts         segments of one leg reconciled on shared timelines and merged
 *   index.ts            this entry point: the clip, whole or in pieces
 */
import { toMono } from '../../audio/mono.js';
import type { AudioBuffer } from '../../audio/types.js';
import { InputError } from '../../errors.js';
import { Arena } from '../arena.js';
import { checkToken } from '../keys.js';
import { acrossPieces, scanPieces } from '../pieces.js';
import { PROFILE_V1 } from '../profile.js';
import type { MarkProfile } from '../profile.js';
import type { SegmentFinding } from './segments.js';
import { detectSpan } from './span.js';
import type { SpanContext, SpanLeg, SpanResult } from './span.js';
import { detectSpanV2 } from './span-v2.js';
import type { SpanResultV2 } from './span-v2.js';
import type { ContentReference } from '../content-ref.js';
import { withContentCheck } from './content-check.js';
import { DetectorCache } from './tables.js';
import { mergeSegments } from './timeline.js';
import { DETECT_DEFAULTS } from './types.js';
import type { CandidateScore, DetectOptions, DetectResult, DetectedLeg } from './types.js';
import { Workspace } from './workspace.js';

export { DetectorCache } from './tables.js';
export { DETECT_DEFAULTS } from './types.js';
export { CONTENT_MIN_AGREEMENT, CONTENT_MIN_BITS } from './content-check.js';
export type { CandidateScore, DetectOptions, DetectResult, DetectedLeg, ForgeryCheck, LegContentCheck, MarkSegment, PValueBasis } from './types.js';
export { timecodeConfidence } from './timecode-decode.js';

/**
 * Scan a clip (any channel count: the channels' mean is analysed) for the candidates' marks.
 * Clips longer than 1.25 pieceSec (default 256 s) are scanned in pieces of pieceSec overlapping by
 * the longest analysis window, so memory and time stay linear in the length (one pass over a
 * 38-minute recording held ~1.5 GB of band energies and grids). Every window the detector would
 * place in the whole clip lies wholly inside some piece, so no window's evidence is lost; the
 * correction grows instead: each piece is tested at alpha / pieces and its p-values are
 * multiplied by the number of pieces (pieces.ts). A leg's segments from all pieces are reconciled
 * and merged where they share a timeline, as in a clip scanned whole. The pieces' arrays come from
 * one arena, reset between pieces (arena.ts).
 */
export function detect(clip: AudioBuffer, opts: DetectOptions): DetectResult {
  opts.candidates.forEach((t) => checkToken(t, 'candidates'));
  if (!(clip.sampleRate > 0) || clip.channels.length === 0) throw new InputError('clip', 'needs at least one channel and a positive sample rate');
  for (const [token, sp] of Object.entries(opts.legSpans ?? {}))
    if (!(Number.isFinite(sp.fromSec) && Number.isFinite(sp.toSec) && sp.fromSec >= 0 && sp.toSec > sp.fromSec))
      throw new InputError('legSpans', `span of ${JSON.stringify(token)} must have 0 <= fromSec < toSec (session seconds), got ${String(sp.fromSec)}..${String(sp.toSec)}`);
  const refs = opts.contentReferences ?? new Map<string, ContentReference>();
  for (const [token, ref] of refs) {
    if (ref.token !== token) throw new InputError('contentReferences', `the reference filed under ${JSON.stringify(token)} describes ${JSON.stringify(ref.token)}`);
    if (ref.keyId !== opts.key.id) throw new InputError('contentReferences', `the reference of ${JSON.stringify(token)} was made with key ${ref.keyId}, the scan uses key ${opts.key.id}`);
  }
  const samples = toMono(clip);
  const rate = clip.sampleRate;
  const profile = opts.profile ?? PROFILE_V1;
  const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
  const ctx = { cache: opts.cache ?? new DetectorCache(), workspace: new Workspace() };
  const D = samples.length / rate;
  const overlap = opts.maxWindowSec ?? DETECT_DEFAULTS.maxWindowSec;
  const len = Math.max(opts.pieceSec ?? DETECT_DEFAULTS.pieceSec, 2 * overlap);
  const v2 = profile.version === 2;
  const checked = (r: DetectResult): DetectResult => withContentCheck(withForgeryCheck(r), samples, rate, opts.key, refs);
  const span = (x: Float32Array, o: DetectOptions, c: SpanContext): SpanResult | SpanResultV2 => (v2 ? detectSpanV2(x, rate, o, c) : detectSpan(x, rate, o, c));
  const about = (rs: readonly (SpanResult | SpanResultV2)[], n: number): Pick<DetectResult, 'profile' | 'pValueBasis' | 'keyLayer' | 'decoyLegs' | 'exhaustive' | 'namedPlaces'> => {
    if (!v2) return { profile: 'v1', pValueBasis: 'normal-approximation' };
    const vs = rs as readonly SpanResultV2[];
    const top = vs.reduce((a, b) => (b.key.score > a.key.score ? b : a));
    let ss = 0;
    let cnt = 0;
    let mx = 0;
    for (const r of vs) (ss += r.decoyLegs.rms ** 2 * r.decoyLegs.samples), (cnt += r.decoyLegs.samples), (mx = Math.max(mx, r.decoyLegs.max));
    return {
      profile: 'v2',
      pValueBasis: 'sign-sum-bound',
      keyLayer: { score: top.key.score, pValue: acrossPieces(top.key.pValue, n), hypotheses: n * top.key.hypotheses },
      decoyLegs: { samples: cnt, rms: cnt ? Math.sqrt(ss / cnt) : 0, max: mx },
      ...(vs.some((r) => r.exhaustive)
        ? { exhaustive: { hypotheses: vs.reduce((a, r) => a + (r.exhaustive?.hypotheses ?? 0), 0), seconds: vs.reduce((a, r) => a + (r.exhaustive?.seconds ?? 0), 0) } }
        : {}),
      ...(vs.some((r) => r.namedPlaces)
        ? {
            namedPlaces: {
              hypotheses: n * Math.max(...vs.map((r) => r.namedPlaces?.hypotheses ?? 0)),
              places: vs.reduce((a, r) => a + (r.namedPlaces?.places ?? 0), 0),
              legs: vs.reduce((a, r) => a + (r.namedPlaces?.legs ?? 0), 0),
            },
          }
        : {}),
    };
  };
  if (!(D > 1.25 * len)) {
    const r = span(samples, opts, ctx);
    return checked({ ...about([r], 1), legs: r.legs.map((l) => mergedLeg(l, l.findings, l.pValue, profile)), scores: r.scores, durationSec: r.durationSec, nullScale: r.nullScale, hypotheses: r.hypotheses, alpha });
  }
  const arena = new Arena();
  const pieces = scanPieces(samples, rate, { pieceSec: len, overlapSec: overlap }, (piece, n) => {
    const r = span(piece, { ...opts, alpha: alpha / n }, { ...ctx, arena });
    arena.reset();
    return r;
  });
  const n = pieces.length;
  const scores: CandidateScore[] = opts.candidates.map((token) => {
    let best: CandidateScore = { token, score: 0, pValue: 1 };
    for (const { result } of pieces) {
      const sc = result.scores.find((x) => x.token === token);
      if (!sc) continue;
      const p = acrossPieces(sc.pValue, n);
      if (p < best.pValue || (p === best.pValue && sc.score > best.score)) best = { token, score: sc.score, pValue: p };
    }
    return best;
  });
  const legs: DetectedLeg[] = [];
  for (const token of new Set(pieces.flatMap(({ result }) => result.legs.map((l) => l.token)))) {
    const found = pieces.flatMap(({ startSec, result }) => result.legs.filter((l) => l.token === token).map((l) => ({ startSec, l })));
    const top = found.reduce((x, y) => (y.l.pValue < x.l.pValue || (y.l.pValue === x.l.pValue && y.l.score > x.l.score) ? y : x));
    const findings = found.flatMap(({ startSec, l }) => l.findings.map((fd) => shifted(fd, startSec, n)));
    legs.push(mergedLeg(top.l, findings, acrossPieces(top.l.pValue, n), profile, n));
  }
  legs.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  return checked({
    ...about(pieces.map(({ result }) => result), n),
    legs,
    scores,
    durationSec: D,
    nullScale: Math.max(...pieces.map(({ result }) => result.nullScale)),
    // Each piece's p-values are corrected for its own count times the number of pieces.
    hypotheses: n * Math.max(...pieces.map(({ result }) => result.hypotheses)),
    alpha,
  });
}

/**
 * v2's consistency check of the layers (issue 13, item 3). The key-level layer is the same in
 * every leg of the key and periodic, so an adversary can estimate it from any marked recording and
 * embed it anywhere, or keep it while removing a leg's own layer; a leg's own layer cannot be
 * estimated onto other audio (host-bound, non-repeating). The key layer significant at alpha with
 * no leg's layer significant is therefore what a copied or forged mark looks like, and also what a
 * removed leg layer or a genuine clip too short or degraded for the leg layer (half the mark's
 * energy) looks like: the result names no leg either way, and says so.
 */
function withForgeryCheck(r: DetectResult): DetectResult {
  if (r.profile !== 'v2' || !r.keyLayer) return r;
  const k = r.keyLayer;
  const bestLeg = r.scores.reduce((a, b) => Math.max(a, b.score), 0);
  const suspected = k.pValue <= r.alpha && r.legs.length === 0;
  const reason = suspected
    ? `the key-level layer is present (z ${k.score.toFixed(1)}, significant at alpha) but no candidate leg's own layer is (best z ${bestLeg.toFixed(1)}): a copied or forged key layer, a leg's layer removed, a marked leg that is not among the candidates, or a clip too short or degraded for the leg layer`
    : r.legs.length > 0
      ? `named on the leg's own layer (key-level layer z ${k.score.toFixed(1)})`
      : `neither layer is significant (key-level layer z ${k.score.toFixed(1)}, best leg z ${bestLeg.toFixed(1)})`;
  return { ...r, forgery: { suspected, reason } };
}

function mergedLeg(l: SpanLeg, findings: readonly SegmentFinding[], pValue: number, profile: MarkProfile, pieces = 1): DetectedLeg {
  return {
    token: l.token,
    pValue,
    score: l.score,
    segments: mergeSegments(findings, l.speed, profile),
    speed: l.speed,
    speedKind: l.speedKind,
    profile: profile.version === 2 ? 'v2' : 'v1',
    ...(l.multiplier !== undefined ? { pValueMultiplier: l.multiplier * pieces } : {}),
    ...(l.search ? { search: l.search } : {}),
  };
}

/** A piece's finding on the whole clip's time axis, its p-value corrected for the pieces. */
function shifted(fd: SegmentFinding, startSec: number, pieces: number): SegmentFinding {
  const segment = { ...fd.segment, startSec: fd.segment.startSec + startSec, endSec: fd.segment.endSec + startSec, pValue: acrossPieces(fd.segment.pValue, pieces) };
  if (!fd.timecode) return { segment };
  const [a, b] = fd.timecode.rangeSec;
  return { segment, timecode: { ...fd.timecode, rangeSec: [a + startSec, b + startSec] } };
}
