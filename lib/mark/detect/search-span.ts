/**
 * The search stages over one span (the detector's core, shared by v1 and v2): analysis windows,
 * the sync fold and circular correlation per hypothesis, the timecode residues at the top sync
 * entries, the fine grid around promising windows and (v1) the cross-fitted statistics; decoys'
 * statistics as null samples. v1 runs it with every leg as a candidate (span.ts); v2 with its
 * key layer as the one candidate, whose alignments the legs' own layers are then tested at
 * (span-v2.ts).
 *
 * Levels run in order; shorter windows (next levels) only localize pieces that already stood out in
 * a longer window (candidates whose best statistic so far reaches the sublevel gate). Within a
 * level the sync scan runs hypothesis by hypothesis over all the level's windows (the features of a
 * hypothesis are folded in one pass for all windows), then the timecode stage, refinement and
 * null samples run window by window.
 */
import type { Arena } from '../arena.js';
import { analyzeClip, chipCount } from '../features/analysis.js';
import type { BandAnalysis } from '../features/analysis.js';
import { gridRows } from '../features/grid.js';
import { DEFAULT_SPEED_RANGE, DEFAULT_TEMPO_RANGE, chipRange } from '../search.js';
import type { MarkProfile } from '../profile.js';
import { crossFitScore } from './crossfit.js';
import type { Found } from './found.js';
import { refine } from './refine.js';
import { gatesFor, hypothesisCount } from './statistics.js';
import type { Gates } from './statistics.js';
import { packSpectra, SyncSearch } from './sync.js';
import type { CandidateTables, DetectorCache } from './tables.js';
import { TimecodeSearch } from './timecode-search.js';
import { DETECT_DEFAULTS } from './types.js';
import type { DetectOptions } from './types.js';
import { WindowFeatures } from './window-features.js';
import { fineHypothesesOf, makeWindows } from './windows.js';
import type { Window } from './windows.js';
import type { Workspace } from './workspace.js';

/** Sync entries kept per candidate and window. */
const TOP = 2;
/** Decoys whose full statistic (sync + timecode at a fixed, unsearched block) joins the null samples. */
const FULL_DECOYS = 16;

export interface SpanContext {
  cache: DetectorCache;
  workspace: Workspace;
  arena?: Arena;
}

export interface SearchPlan {
  /** The candidates searched (v1: the legs; v2: the key layer). */
  candidates: readonly CandidateTables[];
  /** Evaluate v1's cross-fitted statistics at each window's best alignment. */
  crossFit: boolean;
  /** Keep every top sync entry's full statistic per candidate and window (v2's proposals). */
  keepEntries: boolean;
  /**
   * Refine every window's best alignment that passes the refine gate, however far above the
   * thresholds (v2: the key layer's alignment is where the legs' own layers are tested, and its z
   * is far above any threshold while a leg's is not; 8 ms of misalignment cost a colluder's leg
   * layer 25-35% of z on 30 s AAC 64k clips). Default: only where the refinement can change the
   * candidate's own decision.
   */
  refineAll?: boolean;
}

export interface SpanSearch {
  analysis: BandAnalysis;
  profile: MarkProfile;
  windows: Window[];
  /** Hypotheses per candidate the p-values count (windows x fine grid x P x R_A x R_B x statistics). */
  hypotheses: number;
  gates: Gates;
  /** Per candidate and window: the best alignment (refined where it could change a decision). */
  best: (Found | undefined)[][];
  /** Per candidate and window: every top sync entry's full statistic (keepEntries), else empty. */
  entries: Found[][][];
  /** Decoys' statistics on this span (the null scale). */
  nullSamples: number[];
  features: WindowFeatures;
  search: TimecodeSearch;
}

export function searchSpan(samples: Float32Array, sampleRate: number, opts: DetectOptions, profile: MarkProfile, plan: SearchPlan, ctx: SpanContext): SpanSearch | undefined {
  const alpha = opts.alpha ?? DETECT_DEFAULTS.alpha;
  const nDecoys = opts.decoys ?? DETECT_DEFAULTS.decoys;
  const P = profile.period;
  const [RA, RB] = profile.blockPeriods;
  const Tc = profile.chipSec;
  const ws = ctx.workspace;
  const cands = plan.candidates;

  const analysis = analyzeClip(samples, sampleRate, { profile, ...(ctx.arena ? { arena: ctx.arena } : {}) });
  const decoys = Array.from({ length: nDecoys }, (_, i) => ctx.cache.tables(opts.key, { decoy: i }, profile));

  const windows = makeWindows({
    durationSec: analysis.durationSec,
    minWindowSec: opts.minWindowSec ?? DETECT_DEFAULTS.minWindowSec,
    maxWindowSec: opts.maxWindowSec ?? DETECT_DEFAULTS.maxWindowSec,
    chipSec: Tc,
    speedRange: opts.speedRange ?? DEFAULT_SPEED_RANGE,
    tempoRange: opts.tempoRange ?? DEFAULT_TEMPO_RANGE,
  });
  if (windows.length === 0 || cands.length === 0) return undefined;
  const hypotheses = hypothesisCount(cands.length, fineHypothesesOf(windows), profile, plan.crossFit ? 3 : 1);
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
  const entries: Found[][][] | undefined = plan.keepEntries ? cands.map(() => windows.map(() => [])) : undefined;
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
          if (entries) entries[ci]![wi]!.push({ z: r.z, hyp, n0: r.n0, window: wi });
          const cur = best[ci]![wi];
          if (!cur || r.z > cur.z) best[ci]![wi] = { z: r.z, hyp, n0: r.n0, window: wi };
          if (r.z > levelBest[ci]!) levelBest[ci] = r.z;
        }
        const cur = best[ci]![wi];
        // Refine where it can change a decision: hits already far above any threshold keep their
        // coarse alignment here (segments.ts still refines their offsets).
        if (cur && cur.z >= gates.refine && (plan.refineAll || cur.z < gates.ceiling)) {
          const rf = refine(features, search, cands[ci]!, w, cur);
          best[ci]![wi] = rf;
          if (rf.z > levelBest[ci]!) levelBest[ci] = rf.z;
        }
        // Cross-fitted statistics at the found alignment, where they can change a decision.
        const fx = best[ci]![wi];
        if (plan.crossFit && fx && fx.z >= gates.crossFit && fx.z < gates.ceiling) {
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

  return { analysis, profile, windows, hypotheses, gates, best, entries: entries ?? [], nullSamples, features, search };
}
