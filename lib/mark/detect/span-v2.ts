/**
 * v2's decision over one span. Attribution rests on each leg's own, non-repeating layer; the
 * key-level layer (the same for every leg of the key, with v1's sync and timecode structure) only
 * proposes where to look.
 *
 *  1. search-span.ts with the key layer as the one candidate: per window its best alignment and
 *     its other top sync entries (the proposals), and the key layer's own statistic.
 *  2. At every proposal (and at each of the timeline's key-layer cycles within the reach, since the
 *     key layer repeats every 13.4 h and the leg layer does not), each candidate leg's statistic
 *     over the window: the plain one, Z = sum r s / sqrt(sum r^2) over the leg layer's signs, and a
 *     cross-fitted one whose per-block weights are the key layer's local evidence (the key layer's
 *     signs are a stream independent of the leg's, so the weights never see the signs they weight:
 *     the statistic stays a self-normalized sum of fair signs).
 *  3. p-values: the proposals were chosen by the key layer, independently of every leg's signs, so
 *     the count is only candidates x proposals x cycles x 2 statistics; each statistic is bounded by
 *     signSumTail (stats.ts: Hoeffding / Bentkus-Dzindzalieta, conditional on the audio), the
 *     family by Bonferroni. Decoy legs scored at the same places are the empirical check.
 *  4. Segments of the significant windows (segments.ts), their offsets on the leg's own cycle.
 * A clip whose key layer was stripped gives no useful proposals: its legs are then not found by
 * this fast path (the exhaustive search over the timeline is the fallback, exhaustive.ts).
 */
import { chipRange } from '../search.js';
import { LegAtCycle, LegPattern } from '../pattern.js';
import { PROFILE_V2, patternCycleSec } from '../profile.js';
import type { MarkProfile } from '../profile.js';
import { boundedPValue, correctedPValue } from '../stats.js';
import type { Found } from './found.js';
import { searchSpan } from './search-span.js';
import type { ResidueScores } from './timecode-search.js';
import type { SpanContext } from './search-span.js';
import { softBit } from '../host-hash.js';
import { exhaustiveSearch } from './exhaustive.js';
import type { ExhaustiveFound } from './exhaustive.js';
import { refineSegment } from './segments.js';
import type { SpanLeg, SpanResult } from './span.js';
import type { SegmentFinding } from './segments.js';
import { nullScaleOf } from './statistics.js';
import { DETECT_DEFAULTS } from './types.js';
import { disjointFindings } from './windows.js';
import { LEG_STATISTICS, keyWeights, legStatistic, prepareLegPlace } from './leg-statistic.js';
import type { PreparedPlace } from './leg-statistic.js';
import type { TileFeatures } from '../features/tiles.js';
import type { CandidateScore, DetectOptions } from './types.js';

/** Decoy legs scored at the level-0 windows' proposals (the empirical check of the bound). */
const LEG_DECOYS = 16;
/**
 * Timecode blocks tested per proposal: the key layer's best blocks at the proposal's sync
 * alignment. On short, weak clips the key layer's single best block was often wrong while its
 * sync alignment was right (Opus 24k 5 s taps: 8 of 48 clips missed with one block, the leg's
 * statistic at the true alignment 6.8-8.1); the count grows by this factor, the threshold by ~0.4 z.
 */
export const BLOCKS_PER_PROPOSAL = 16;
/**
 * The named-place stage's tolerance (chips) between a named alignment's session mapping and a key-
 * layer proposal of another window: a proposal within a quarter chip (8 ms) of the named session
 * time at clip time 0 is the same alignment seen from that window.
 */
const NAMED_PHASE_TOL = 0.25;
/** The key-layer search's plan (search-span.ts), shared with the tail benchmark. */
export const KEY_LAYER_PLAN = Object.freeze({ crossFit: false, keepEntries: true, refineAll: true });
/** Blocks per proposal in the shorter windows (levels > 0): they only localize what a longer window already found, and a block wrong there is right in the window around it. */
export const BLOCKS_PER_SUBPROPOSAL = 4;

export interface KeyLayerResult {
  /** Best statistic of the key layer (z units) and its p-value (normal approximation on the decoys' scale, corrected for its search). */
  score: number;
  pValue: number;
  hypotheses: number;
  nullScale: number;
}

export interface LegDecoyCheck {
  /** Decoy-leg statistics computed, their RMS (1 under the model) and largest value. */
  samples: number;
  rms: number;
  max: number;
}

/** What the exhaustive search did on a span (present only when it ran). */
export interface ExhaustiveSummary {
  hypotheses: number;
  windows: number;
  seconds: number;
}

/** What the named-place stage did on a span (present only when the fast path named a leg). */
export interface SecondStageSummary {
  /** candidates x places x 2 statistics. */
  hypotheses: number;
  /** Distinct places (window, alignment, session chip): where a leg was named, and the same alignments in the level-0 windows. */
  places: number;
  /** Legs named by this stage. */
  legs: number;
}

export interface SpanResultV2 extends SpanResult {
  key: KeyLayerResult;
  decoyLegs: LegDecoyCheck;
  exhaustive?: ExhaustiveSummary;
  namedPlaces?: SecondStageSummary;
}

interface LegFound extends Found {
  /** Key-layer cycle of the leg's session time (the proposal's n0 is within the first). */
  alias: number;
}

export function detectSpanV2(samples: Float32Array, sampleRate: number, opts: DetectOptions, ctx: SpanContext): SpanResultV2 {
  const profile = opts.profile ?? PROFILE_V2;
  const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
  const P = profile.period;
  const K = profile.bands;
  const Tc = profile.chipSec;
  const cycleChips = P * profile.blockPeriods[0] * profile.blockPeriods[1];
  const reachChips = Math.floor(profile.reachSec / Tc + 1e-9);
  const cycles = Math.ceil(reachChips / cycleChips);
  const keyTables = ctx.cache.tables(opts.key, { keyLayer: true }, profile);
  const hostHash = ctx.cache.hostHash(opts.key, profile);
  const empty = (D: number): SpanResultV2 => ({
    legs: [],
    scores: opts.candidates.map((token) => ({ token, score: 0, pValue: 1 })),
    durationSec: D,
    nullScale: 1,
    hypotheses: 0,
    key: { score: 0, pValue: 1, hypotheses: 0, nullScale: 1 },
    decoyLegs: { samples: 0, rms: 0, max: 0 },
  });
  const s = searchSpan(samples, sampleRate, opts, profile, { candidates: [keyTables], ...KEY_LAYER_PLAN }, ctx);
  if (!s) return empty(samples.length / sampleRate);
  const { analysis, windows, features } = s;
  const D = analysis.durationSec;

  // 1. The key layer's own evidence.
  const nullScale = nullScaleOf(s.nullSamples);
  let keyTop = 0;
  for (const x of s.best[0]!) if (x && x.z > keyTop) keyTop = x.z;
  const key: KeyLayerResult = { score: keyTop, pValue: keyTop > 0 ? correctedPValue(keyTop, nullScale, s.hypotheses) : 1, hypotheses: s.hypotheses, nullScale };

  // 2. The legs at the key layer's proposals.
  const legs = opts.candidates.map((token) => ctx.cache.legLayer(opts.key, token, profile));
  const decoys = Array.from({ length: LEG_DECOYS }, (_, i) => ctx.cache.legLayer(opts.key, { decoy: i }, profile));
  const bestLeg: (LegFound | undefined)[][] = legs.map(() => windows.map(() => undefined));
  // Each window's key-layer proposals, once: the fast path tests them, the named-place stage maps
  // named alignments onto the level-0 windows' ones.
  const proposals = windows.map((_, wi) => proposalsOf(s.best[0]![wi], s.entries[0]![wi]!, Tc));
  const decoyZ: number[] = [];
  let places = 0;
  let bc = new Float64Array(0);
  // A window's tiles at one alignment, prepared for the legs' statistics. The soft host bits
  // (host-hash.ts) depend on the session cells, i.e. on n0 mod 4: the same for every block and
  // cycle tried at the alignment. Grows the block-sum scratch `bc` as needed.
  const prepareAt = (f: TileFeatures, hyp: Found['hyp'], n0: number, ma: number, mb: number): PreparedPlace => {
    const place = prepareLegPlace(analysis, hostHash, keyTables.pattern, f, hyp, n0, ma, mb);
    if (bc.length < place.qBlock.length) bc = new Float64Array(2 * place.qBlock.length);
    return place;
  };
  for (let wi = 0; wi < windows.length; wi++) {
    const w = windows[wi]!;
    for (const p of proposals[wi]!) {
      const f = features.exact(p.hyp, w);
      const [ma, mb] = chipRange(w, p.hyp, Tc, f.chips);
      if (mb - ma < P) continue;
      const shift = p.n0 % P;
      const res: ResidueScores = { a: new Float64Array(profile.blockPeriods[0]), b: new Float64Array(profile.blockPeriods[1]), cSync: 0, v: 0 };
      if (!s.search.fullScore(keyTables, f, ma, mb, shift, res)) continue;
      const place = prepareAt(f, p.hyp, p.n0, ma, mb);
      for (const block of topBlocks(res, w.level === 0 ? BLOCKS_PER_PROPOSAL : BLOCKS_PER_SUBPROPOSAL, profile)) {
      const pn0 = block * P + shift;
      const weights = keyWeights(f, keyTables.pattern, pn0, ma, mb, profile);
      for (let a = 0; a < cycles; a++) {
        const n0 = pn0 + a * cycleChips;
        if (n0 + ma < 0 || n0 + mb > reachChips) continue;
        places++;
        for (let ci = 0; ci < legs.length; ci++) {
          const z = legStatistic(place, legs[ci]!, n0, ma, mb, weights, bc);
          const cur = bestLeg[ci]![wi];
          if (!cur || z > cur.z) bestLeg[ci]![wi] = { z, hyp: p.hyp, n0: pn0, window: wi, alias: a };
        }
        if (w.level === 0) for (const d of decoys) decoyZ.push(legStatistic(place, d, n0, ma, mb, weights, bc));
      }
      }
    }
  }
  const hypotheses = legs.length * places * LEG_STATISTICS;
  // alpha is shared equally between the fast path and a second search, fixed before looking at the
  // clip (weighted Bonferroni: every p-value doubled). The second search is the named-place stage
  // (4b) when the fast path named a leg, else the exhaustive search (5) when the registry gave spans.
  // For a candidate whose leg is absent, which of the two runs is decided by the other candidates'
  // statistics alone (a function of the audio, the key and their signs, not of its own signs), so
  // conditionally on those only one of them can name it, each at its share: they share the half.
  const split = 2;
  const pOf = (z: number): number => Math.min(1, split * boundedPValue(z, hypotheses));

  // 3-4. Decision and segments.
  const scores: CandidateScore[] = [];
  const out: SpanLeg[] = [];
  const keyPattern = keyTables.pattern;
  const cycleSec = patternCycleSec(profile);
  const findingsOf = (ci: number, picked: readonly LegFound[], p: (z: number) => number): SegmentFinding[] => {
    const payloadOf = new LegPattern(opts.key, opts.candidates[ci]!, { profile, payload: ctx.cache.payloadLayer(opts.key, profile) });
    return picked.map((x) => {
      // Host bits over the segment stage's analysed range (the window and one window's span each side).
      const w = windows[x.window]!;
      const span = w.endSec - w.startSec;
      const [lo, hi] = chipRange({ startSec: w.startSec - span, endSec: w.endSec + span }, x.hyp, Tc, Math.floor((D * x.hyp.rate - x.hyp.phaseSec) / Tc));
      const bits = hostHash.bits(analysis, x.hyp, x.n0, lo, hi);
      const host = (n: number, k: number): number => {
        const m = n - x.n0 - lo;
        return m >= 0 && m < hi - lo ? softBit(bits[m * K + k]!) : 0;
      };
      const pattern = new LegAtCycle(keyPattern, legs[ci]!, payloadOf, x.alias, host);
      const fd = refineSegment({ analysis, pattern, workspace: ctx.workspace, pValue: p(x.z) }, x, w);
      fd.segment.sessionOffsetSec += x.alias * cycleSec;
      return fd;
    });
  };
  const namedPlaces: LegFound[] = [];
  for (let ci = 0; ci < legs.length; ci++) {
    const token = opts.candidates[ci]!;
    const found = bestLeg[ci]!.filter((x): x is LegFound => x !== undefined);
    let top: LegFound | undefined;
    for (const x of found) if (!top || x.z > top.z) top = x;
    const pTop = top ? pOf(top.z) : 1;
    scores.push({ token, score: top?.z ?? 0, pValue: pTop });
    if (!top || pTop > alpha) continue;
    const significant = found.filter((x) => pOf(x.z) <= alpha).sort((a, b) => b.z - a.z);
    const picked = disjointFindings(significant, windows);
    namedPlaces.push(...picked);
    out.push({ token, pValue: pTop, score: top.z, findings: findingsOf(ci, picked, pOf), speed: top.hyp.rate, speedKind: top.hyp.kind, multiplier: split * hypotheses, search: 'fast-path' });
  }

  // 4b. The named-place stage: every leg not named, at the session alignments where a leg was
  // named. Copies of several legs averaged or switched (collusion), or legs mixed, share the session
  // timeline, so each colluder's own layer sits at the alignment where the strongest one was found,
  // at a fraction of its strength; tested there alone, the count is candidates x places x 2 instead
  // of the fast path's thousands of places. The places of a named alignment are its own window and
  // every level-0 window (the longest, where an averaged colluder's evidence pools: the named leg's
  // best window may be a short one where it happened to be strongest), in each at the key layer's
  // proposal whose session mapping is the named one (session time at clip time 0 within
  // NAMED_PHASE_TOL chips). Places are chosen by the named legs' statistics and the key layer, not by
  // an absent candidate's signs, so its statistic there is still a weighted sum of fair signs.
  let second: SecondStageSummary | undefined;
  if (out.length > 0) {
    const uniq: LegFound[] = [];
    const add = (x: LegFound): void => {
      if (!uniq.some((y) => y.window === x.window && y.n0 === x.n0 && y.alias === x.alias && sameHyp(y.hyp, x.hyp))) uniq.push(x);
    };
    for (const x of namedPlaces) add(x);
    for (const x of [...uniq]) {
      // Session time at clip time 0 (first cycle): tau0 = n0 Tc - phase (search.ts: clip time t is relative chip (t rate - phase) / Tc).
      const tau0 = x.n0 * Tc - x.hyp.phaseSec;
      for (let wi = 0; wi < windows.length; wi++) {
        if (windows[wi]!.level !== 0) continue;
        add({ ...x, z: 0, window: wi });
        for (const p of proposals[wi]!) {
          if (p.hyp.rate !== x.hyp.rate || p.hyp.freqScale !== x.hyp.freqScale) continue;
          const u = (tau0 + p.hyp.phaseSec) / Tc;
          const n0 = Math.round(u);
          if (Math.abs(u - n0) > NAMED_PHASE_TOL) continue;
          add({ z: 0, hyp: p.hyp, n0, window: wi, alias: x.alias });
        }
      }
    }
    const prepared = uniq.flatMap((x) => {
      const w = windows[x.window]!;
      const f = features.exact(x.hyp, w);
      const [ma, mb] = chipRange(w, x.hyp, Tc, f.chips);
      const n = x.n0 + x.alias * cycleChips;
      if (mb - ma < P || n + ma < 0 || n + mb > reachChips) return [];
      return [{ x, place: prepareAt(f, x.hyp, x.n0, ma, mb), ma, mb, weights: keyWeights(f, keyPattern, x.n0, ma, mb, profile) }];
    });
    const hyp2 = legs.length * prepared.length * LEG_STATISTICS;
    const p2 = (z: number): number => Math.min(1, split * boundedPValue(z, hyp2));
    let named = 0;
    const fast = new Set(out.map((l) => l.token));
    for (let ci = 0; ci < legs.length; ci++) {
      const token = opts.candidates[ci]!;
      if (fast.has(token) || prepared.length === 0) continue;
      const at = prepared.map(({ x, place, ma, mb, weights }): LegFound => ({ ...x, z: legStatistic(place, legs[ci]!, x.n0 + x.alias * cycleChips, ma, mb, weights, bc) }));
      const top = at.reduce((a, b) => (b.z > a.z ? b : a));
      const pTop = p2(top.z);
      if (pTop < scores[ci]!.pValue) scores[ci] = { token, score: top.z, pValue: pTop };
      if (pTop > alpha) continue;
      const picked = disjointFindings(at.filter((x) => p2(x.z) <= alpha).sort((a, b) => b.z - a.z), windows);
      out.push({ token, pValue: pTop, score: top.z, findings: findingsOf(ci, picked, p2), speed: top.hyp.rate, speedKind: top.hyp.kind, multiplier: split * hyp2, search: 'named-place' });
      named++;
    }
    second = { hypotheses: hyp2, places: prepared.length, legs: named };
  }
  // 5. The exhaustive search (exhaustive.ts) when the fast path named no leg and the registry gave spans.
  let exhaustive: ExhaustiveSummary | undefined;
  if (opts.legSpans && out.length === 0) {
    const t0 = performance.now();
    const maxW = opts.maxWindowSec ?? DETECT_DEFAULTS.maxWindowSec;
    const wins: { startSec: number; endSec: number }[] = [];
    for (let a = 0; a < D; a += maxW) wins.push({ startSec: a, endSec: Math.min(D, a + maxW) });
    if (wins.length > 1 && wins[wins.length - 1]!.endSec - wins[wins.length - 1]!.startSec < maxW / 2) {
      const last = wins.pop()!;
      wins[wins.length - 1]!.endSec = last.endSec;
    }
    const spans = opts.candidates.map((t) => opts.legSpans![t]);
    const ex = exhaustiveSearch(analysis, legs, spans, hostHash, wins, reachChips);
    const pEx = (z: number): number => Math.min(1, split * boundedPValue(z, ex.hypotheses));
    for (let ci = 0; ci < legs.length; ci++) {
      const token = opts.candidates[ci]!;
      const hits = ex.found[ci]!.filter((x): x is ExhaustiveFound => x !== undefined);
      if (hits.length === 0) continue;
      const top = hits.reduce((a, b) => (b.z > a.z ? b : a));
      const p = pEx(top.z);
      const sc = scores[ci]!;
      if (p < sc.pValue) scores[ci] = { token, score: top.z, pValue: p };
      if (p > alpha) continue;
      const findings = hits
        .filter((x) => pEx(x.z) <= alpha)
        .map((x) => {
          const w = wins[x.window]!;
          // The leg layer does not repeat within the reach: a significant offset is unique.
          return { segment: { startSec: w.startSec, endSec: w.endSec, sessionOffsetSec: x.tau0 + w.startSec, z: x.z, pValue: pEx(x.z), timecodeConfidence: 1 } };
        });
      out.push({ token, pValue: p, score: top.z, findings, speed: 1, speedKind: 'speed', multiplier: split * ex.hypotheses, search: 'exhaustive' });
    }
    exhaustive = { hypotheses: ex.hypotheses, windows: wins.length, seconds: (performance.now() - t0) / 1000 };
  }
  out.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  let ss = 0;
  let mx = -Infinity;
  for (const z of decoyZ) (ss += z * z), (mx = Math.max(mx, z));
  return {
    legs: out,
    scores,
    durationSec: D,
    nullScale: 1,
    hypotheses,
    key,
    decoyLegs: { samples: decoyZ.length, rms: decoyZ.length ? Math.sqrt(ss / decoyZ.length) : 0, max: decoyZ.length ? mx : 0 },
    ...(exhaustive ? { exhaustive } : {}),
    ...(second ? { namedPlaces: second } : {}),
  };
}

/** The `count` blocks (mod R_A R_B) whose key-layer timecode correlation is largest at a sync alignment. */
export function topBlocks(res: ResidueScores, count: number, profile: MarkProfile): number[] {
  const [RA, RB] = profile.blockPeriods;
  const N = RA * RB;
  const top: { b: number; v: number }[] = [];
  for (let b = 0, xa = 0, xb = 0; b < N; b++) {
    const v = res.a[xa]! + res.b[xb]!;
    if (top.length < count || v > top[top.length - 1]!.v) {
      let i = top.length < count ? top.length : top.length - 1;
      if (top.length < count) top.push({ b, v });
      while (i > 0 && top[i - 1]!.v < v) {
        top[i] = top[i - 1]!;
        i--;
      }
      top[i] = { b, v };
    }
    if (++xa === RA) xa = 0;
    if (++xb === RB) xb = 0;
  }
  return top.map((t) => t.b);
}

/** The same alignment: rate, frequency scale and phase (the kind follows from rate and frequency scale). */
function sameHyp(a: Found['hyp'], b: Found['hyp']): boolean {
  return a.rate === b.rate && a.freqScale === b.freqScale && a.phaseSec === b.phaseSec;
}

/**
 * A window's proposals: its best (refined) alignment and its other top sync entries, each alignment
 * once. An entry at the best's rate whose session mapping lies within a quarter chip of the best's
 * is the coarse alignment the refinement started from (or its neighbour): the same place, dropped.
 */
export function proposalsOf(best: Found | undefined, entries: readonly Found[], chipSec: number): Found[] {
  const out: Found[] = [];
  const tau0 = (x: Found): number => x.n0 * chipSec - x.hyp.phaseSec;
  for (const x of best ? [best, ...entries] : entries) {
    if (out.some((y) => y.n0 === x.n0 && sameHyp(y.hyp, x.hyp))) continue;
    if (best && x !== best && x.hyp.rate === best.hyp.rate && x.hyp.freqScale === best.hyp.freqScale && Math.abs(tau0(x) - tau0(best)) <= chipSec / 4 + 1e-9) continue;
    out.push(x);
  }
  return out;
}
