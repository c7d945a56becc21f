/**
 * One span of a clip through the detector's stages (detect() hands long clips over in pieces):
 *  1. windows.ts: analysis windows and their coarse hypotheses (rate, freqScale, phase).
 *  2. sync.ts: per hypothesis, every window's fold and every active candidate's circular sync
 *     correlation; the top 2 (hypothesis, shift) per candidate and window are kept.
 *  3. timecode-search.ts: at those, the full statistic with the timecode residues searched.
 *  4. refine.ts: the fine grid around windows that could become detections; crossfit.ts: the
 *     cross-fitted statistics at the found alignment.
 *  5. statistics.ts: null scale from decoys, corrected p-values; segments.ts: offsets and extents
 *     of the significant windows.
 * Levels run in order; shorter windows (next levels) only localize pieces that already stood out in
 * a longer window (candidates whose best statistic so far reaches the sublevel gate). Within a
 * level the sync scan runs hypothesis by hypothesis over all the level's windows (the features of a
 * hypothesis are folded in one pass for all windows), then the timecode stage, refinement and
 * null samples run window by window.
 */
import type { Arena } from '../arena.js';
import { analyzeClip, chipCount } from '../features/analysis.js';
import { gridRows } from '../features/grid.js';
import { DEFAULT_SPEED_RANGE, DEFAULT_TEMPO_RANGE, chipRange } from '../search.js';
import { PROFILE_V1 } from '../profile.js';
import { correctedPValue } from '../stats.js';
import { crossFitScore } from './crossfit.js';
import type { Found } from './found.js';
import { refine } from './refine.js';
import { refineSegment } from './segments.js';
import type { SegmentFinding } from './segments.js';
import { gatesFor, hypothesisCount, nullScaleOf } from './statistics.js';
import { packSpectra, SyncSearch } from './sync.js';
import type { DetectorCache } from './tables.js';
import { TimecodeSearch } from './timecode-search.js';
import { DETECT_DEFAULTS } from './types.js';
import type { CandidateScore, DetectOptions } from './types.js';
import { WindowFeatures } from './window-features.js';
import { fineHypothesesOf, makeWindows } from './windows.js';
import type { Workspace } from './workspace.js';

/** Sync entries kept per candidate and window. */
const TOP = 2;
/** Decoys whose full statistic (sync + timecode at a fixed, unsearched block) joins the null samples. */
const FULL_DECOYS = 16;

/** A detected leg of one span before its segments are merged (detect() merges across pieces). */
export interface SpanLeg {
  token: string;
  pValue: number;
  score: number;
  findings: SegmentFinding[];
  speed: number;
  speedKind: 'speed' | 'tempo';
}

export interface SpanResult {
  legs: SpanLeg[];
  scores: CandidateScore[];
  durationSec: number;
  nullScale: number;
  hypotheses: number;
}

export interface SpanContext {
  cache: DetectorCache;
  workspace: Workspace;
  arena?: Arena;
}

export function detectSpan(samples: Float32Array, sampleRate: number, opts: DetectOptions, ctx: SpanContext): SpanResult {
  const profile = opts.profile ?? PROFILE_V1;
  const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
  const nDecoys = opts.decoys ?? DETECT_DEFAULTS.decoys;
  const P = profile.period;
  const [RA, RB] = profile.blockPeriods;
  const Tc = profile.chipSec;
  const ws = ctx.workspace;

  const analysis = analyzeClip(samples, sampleRate, { profile, ...(ctx.arena ? { arena: ctx.arena } : {}) });
  const D = analysis.durationSec;
  const cands = opts.candidates.map((token) => ctx.cache.tables(opts.key, token, profile));
  const decoys = Array.from({ length: nDecoys }, (_, i) => ctx.cache.tables(opts.key, { decoy: i }, profile));

  const windows = makeWindows({
    durationSec: D,
    minWindowSec: opts.minWindowSec ?? DETECT_DEFAULTS.minWindowSec,
    maxWindowSec: opts.maxWindowSec ?? DETECT_DEFAULTS.maxWindowSec,
    chipSec: Tc,
    speedRange: opts.speedRange ?? DEFAULT_SPEED_RANGE,
    tempoRange: opts.tempoRange ?? DEFAULT_TEMPO_RANGE,
  });
  if (windows.length === 0 || cands.length === 0) {
    return { legs: [], scores: opts.candidates.map((token) => ({ token, score: 0, pValue: 1 })), durationSec: D, nullScale: 1, hypotheses: 0 };
  }
  const hypotheses = hypothesisCount(cands.length, fineHypothesesOf(windows), profile);
  const gates = gatesFor(alpha, hypotheses);

  analysis.prepareScales(windows.flatMap((w) => w.hyps.map((h) => h.freqScale)));
  const features = new WindowFeatures(analysis, ws);
  const sync = new SyncSearch(profile);
  const search = new TimecodeSearch(profile);
  const candSpectra = packSpectra(cands, profile);
  const decoySpectra = packSpectra(decoys, profile);
  const decoyIndex = Int32Array.from(decoys, (_, i) => i);
  // Prefix folds of one hypothesis at the current level's window boundaries: snapshot i holds the
  // fold of chips [bounds[0], bounds[i]); a window's fold is the difference of two snapshots
  // (float32 features summed in doubles: equal to the direct sum up to rounding).
  let snaps = new Float64Array(0);

  const best: (Found | undefined)[][] = cands.map(() => windows.map(() => undefined));
  const nullSamples: number[] = [];
  let active: number[] = cands.map((_, i) => i);
  const levelBest = new Float64Array(cands.length).fill(-Infinity);
  const nC = cands.length;
  const PK = P * profile.bands;
  for (let w0 = 0; w0 < windows.length; ) {
    const level = windows[w0]!.level;
    let w1 = w0;
    while (w1 < windows.length && windows[w1]!.level === level) w1++;
    if (w0 > 0) {
      active = active.filter((ci) => levelBest[ci]! >= gates.sublevel);
      levelBest.fill(-Infinity);
    }
    const nW = w1 - w0;
    const hyps = windows[w0]!.hyps;
    // Per window: each candidate's top (hyp, shift, zSync) entries; the hypothesis of the window's
    // largest sync statistic (null samples are taken there).
    const topZ = new Float64Array(nW * nC * TOP).fill(-Infinity);
    const topH = new Int32Array(nW * nC * TOP);
    const topS = new Int32Array(nW * nC * TOP);
    const bestZsAll = new Float64Array(nW).fill(-Infinity);
    const bestHypForDecoys = new Int32Array(nW);
    const nA = active.length;
    const activeList = Int32Array.from(active);
    const wa = new Int32Array(nW);
    const wb = new Int32Array(nW);
    const bounds = new Int32Array(2 * nW);
    if (snaps.length < 2 * nW * PK) snaps = new Float64Array(2 * nW * PK);
    for (let hi = 0; hi < hyps.length && nA > 0; hi++) {
      const hyp = hyps[hi]!;
      const grid = features.grid(hyp);
      const chips = chipCount(analysis, hyp);
      const rowsOf = gridRows(grid, hyp, chips);
      // The level's windows under this hypothesis, and their boundaries sorted (unique).
      let nb = 0;
      for (let a = 0; a < nW; a++) {
        const [ma, mb] = chipRange(windows[w0 + a]!, hyp, Tc, chips);
        wa[a] = ma;
        wb[a] = mb;
        if (mb - ma >= P) {
          bounds[nb++] = ma;
          bounds[nb++] = mb;
        }
      }
      if (nb === 0) continue;
      const bnd = bounds.subarray(0, nb).sort();
      let nu = 1;
      for (let i = 1; i < nb; i++) if (bnd[i] !== bnd[nu - 1]) bnd[nu++] = bnd[i]!;
      // One pass over the chips, a snapshot at each boundary.
      snaps.fill(0, 0, PK);
      sync.acc.fill(0);
      for (let i = 1; i < nu; i++) {
        sync.accumulateFold(grid.r, rowsOf, bnd[i - 1]!, bnd[i]!);
        snaps.set(sync.acc, i * PK);
      }
      // Per window: fold (difference of two snapshots), spectrum, all candidates' correlations.
      for (let a = 0; a < nW; a++) {
        const ma = wa[a]!;
        const mb = wb[a]!;
        if (mb - ma < P) continue;
        let ia = 0;
        while (bnd[ia] !== ma) ia++;
        let ib = ia;
        while (bnd[ib] !== mb) ib++;
        const [v0, v1] = sync.foldSpectrum(snaps, ib * PK, ia * PK);
        if (!(v0 + v1 > 0)) continue;
        const inv0 = v0 > 0 ? 1 / Math.sqrt(v0) : 0;
        const inv1 = v1 > 0 ? 1 / Math.sqrt(v1) : 0;
        const pairs = sync.syncCorrelations(candSpectra, activeList, nA);
        const invP = 1 / P;
        const wo = a * nC * TOP;
        for (let ai = 0; ai < nA; ai++) {
          const ci = activeList[ai]!;
          const cv = ai & 1 ? sync.corrIm : sync.corrRe;
          const col = ai >> 1;
          const base = wo + ci * TOP;
          // Nothing to record unless some shift beats the list's last entry or the window's best.
          let zMax = -Infinity;
          for (let s = 0; s < P; s++) {
            const zs = cv[s * pairs + col]! * invP * (s & 1 ? inv1 : inv0);
            if (zs > zMax) zMax = zs;
          }
          if (!(zMax > topZ[base + TOP - 1]! || zMax > bestZsAll[a]!)) continue;
          for (let s = 0; s < P; s++) {
            // Tiles with (s + u + k) even are sync tiles for shift s.
            const zs = cv[s * pairs + col]! * invP * (s & 1 ? inv1 : inv0);
            if (zs > topZ[base + TOP - 1]!) {
              // Insertion into the candidate's short sorted list.
              let t = TOP - 1;
              while (t > 0 && zs > topZ[base + t - 1]!) {
                topZ[base + t] = topZ[base + t - 1]!;
                topH[base + t] = topH[base + t - 1]!;
                topS[base + t] = topS[base + t - 1]!;
                t--;
              }
              topZ[base + t] = zs;
              topH[base + t] = hi;
              topS[base + t] = s;
            }
            if (zs > bestZsAll[a]!) {
              bestZsAll[a] = zs;
              bestHypForDecoys[a] = hi;
            }
          }
        }
      }
    }

    for (let a = 0; a < nW; a++) {
      const wi = w0 + a;
      const w = windows[wi]!;
      const wo = a * nC * TOP;
      // Timecode stage and the full statistic for each candidate's top entries.
      for (const ci of active) {
        for (let t = 0; t < TOP; t++) {
          if (!(topZ[wo + ci * TOP + t]! >= gates.sync)) continue;
          const hyp = hyps[topH[wo + ci * TOP + t]!]!;
          const f = features.coarse(hyp, w);
          const [ma, mb] = chipRange(w, hyp, Tc, f.chips);
          const r = search.fullScore(cands[ci]!, f, ma, mb, topS[wo + ci * TOP + t]!);
          if (!r) continue;
          const cur = best[ci]![wi];
          if (!cur || r.z > cur.z) best[ci]![wi] = { z: r.z, hyp, n0: r.n0, window: wi };
          if (r.z > levelBest[ci]!) levelBest[ci] = r.z;
        }
        const cur = best[ci]![wi];
        // Refine where it can change a decision: hits already far above any threshold keep their
        // coarse alignment here (segments.ts still refines their offsets).
        if (cur && cur.z >= gates.refine && cur.z < gates.ceiling) {
          const rf = refine(features, search, cands[ci]!, w, cur);
          best[ci]![wi] = rf;
          if (rf.z > levelBest[ci]!) levelBest[ci] = rf.z;
        }
        // Cross-fitted statistics at the found alignment, where they can change a decision.
        const fx = best[ci]![wi];
        if (fx && fx.z >= gates.crossFit && fx.z < gates.ceiling) {
          const f = features.exact(fx.hyp, w);
          const [ma, mb] = chipRange(w, fx.hyp, Tc, f.chips);
          const zx = Math.max(...crossFitScore(cands[ci]!.pattern, f, ma, mb, fx.n0));
          if (zx > fx.z) {
            best[ci]![wi] = { ...fx, z: zx };
            if (zx > levelBest[ci]!) levelBest[ci] = zx;
          }
        }
      }
      // Null samples at the window's most active hypothesis: every decoy's sync statistic at every
      // shift (cheap, from the fold), and the full statistic (sync + timecode at a fixed, unsearched
      // block) for the first few decoys.
      if (level !== 0) continue;
      const hd = hyps[bestHypForDecoys[a]!]!;
      const f = features.coarse(hd, w);
      const [ma, mb] = chipRange(w, hd, Tc, f.chips);
      if (mb - ma >= P) {
        sync.foldDirect(f, ma, mb);
        const vSync = sync.foldSpectrum(sync.fold, 0, -1);
        const pairs = sync.syncCorrelations(decoySpectra, decoyIndex, decoys.length);
        const invP = 1 / P;
        for (let di = 0; di < decoys.length; di++) {
          const cv = di & 1 ? sync.corrIm : sync.corrRe;
          const col = di >> 1;
          for (let s = 0; s < P; s++) {
            const vs = vSync[s & 1]!;
            if (vs > 0) nullSamples.push((cv[s * pairs + col]! * invP) / Math.sqrt(vs));
          }
        }
        for (let di = 0; di < Math.min(FULL_DECOYS, decoys.length); di++) {
          const z = search.fixedScore(decoys[di]!.pattern, f, ma, mb, (di % P) + P * ((di * 7919) % (RA * RB)));
          if (z !== undefined) nullSamples.push(z);
        }
      }
    }
    w0 = w1;
  }

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
    const picked: Found[] = [];
    for (const x of significant) {
      const wx = windows[x.window]!;
      const overlaps = picked.some((p) => {
        const wp = windows[p.window]!;
        const ov = Math.min(wx.endSec, wp.endSec) - Math.max(wx.startSec, wp.startSec);
        return ov > 0.25 * Math.min(wx.endSec - wx.startSec, wp.endSec - wp.startSec);
      });
      if (!overlaps) picked.push(x);
    }
    const pattern = cands[ci]!.pattern;
    const findings = picked.map((x) => refineSegment({ analysis, pattern, workspace: ws, pValue: correctedPValue(x.z, nullScale, hypotheses) }, x, windows[x.window]!));
    legs.push({ token, pValue: pTop, score: top.z, findings, speed: top.hyp.rate, speedKind: top.hyp.kind });
  }
  legs.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  return { legs, scores, durationSec: D, nullScale, hypotheses };
}
