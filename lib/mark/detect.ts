/**
 * Informed detector: which candidate legs' marks are in a clip, where, and at what session time.
 *
 * Search, per analysis window (the whole clip up to `maxWindowSec`, then halves with 50% overlap,
 * down to `minWindowSec`, so spliced pieces get windows of their own):
 *  1. Hypotheses (rate, freqScale, phase): a time-scale grid over the replay-speed range (bands
 *     scaled with it) and the tempo range (bands fixed), step 1.5 chips over the window, and
 *     two chip phases. Tile features are computed once per hypothesis for the whole clip.
 *  2. Sync: fold the window's features modulo P and circularly correlate with each candidate's
 *     sync pattern (FFT of size P over the fold), giving n0 mod P. Top 3 (hypothesis, shift) kept.
 *  3. Timecode: at those, per-block sums of the timecode tiles, correlated against the two
 *     block-code groups over all residues mod R_A and mod R_B (separable); CRT gives the block.
 *  Statistic: z = (c_sync + c_A + c_B) / sqrt(V_sync + V_tc), the correlation over all tiles of
 *  the window divided by its exact standard deviation under random signs (self-normalized: the
 *  fold's energy for the periodic sync layer, the tile energy for the timecode layer).
 *
 * Calibration: decoy tokens (derived from the key, never issued) are scored on the same clip at the
 * same hypotheses; their z's estimate the null scale sigma (taken >= 1, with an upper confidence
 * margin). The p-value of a window is Bonferroni over everything searched: candidates x windows x
 * hypotheses x P x R_A x R_B (the full 13.4 h timeline), p = min(1, N * Q(z / sigma)). A leg is
 * reported when p <= alpha (default 1e-6 family-wise per scan).
 */
import { ComplexFft, RealFft } from '../dsp/fft.js';
import { analyzeClip, correlateTiles, tileFeatures } from './features.js';
import type { BandAnalysis, Hypothesis, TileFeatures } from './features.js';
import type { MarkKey } from './keys.js';
import { LegPattern, PROFILE_V1, isSyncTile, patternCycleSec } from './pattern.js';
import type { MarkProfile } from './pattern.js';
import { correctedPValue } from './stats.js';
import { timecodeConfidence } from './timecode.js';

export interface DetectOptions {
  key: MarkKey;
  /** Candidate tokens (e.g. every leg of the registry). */
  candidates: readonly string[];
  /** Family-wise false-attribution level per scan. Default 1e-6. */
  alpha?: number;
  /** Decoy tokens scored to estimate the null scale. Default 128. */
  decoys?: number;
  /** Replay-speed range searched (time and frequency scale). Default [0.95, 1.05]. */
  speedRange?: readonly [number, number];
  /** Tempo range searched (time scale only). Default [0.97, 1.03]. */
  tempoRange?: readonly [number, number];
  minWindowSec?: number;
  maxWindowSec?: number;
  profile?: MarkProfile;
}

export interface MarkSegment {
  /** Clip seconds. */
  startSec: number;
  endSec: number;
  /** Session time of the leg's mark at startSec. */
  sessionOffsetSec: number;
  /** Statistic and corrected p-value of the window that found this segment. */
  z: number;
  pValue: number;
  /**
   * Approximate posterior probability that the segment's timecode block is right (lib/mark/timecode.ts).
   * Below ~0.99 the offset within the 1.024 s sync period still holds, the block may not.
   */
  timecodeConfidence: number;
}

export interface DetectedLeg {
  token: string;
  pValue: number;
  /** Best window statistic (z units, before dividing by the null scale). */
  score: number;
  segments: MarkSegment[];
  /** Session seconds per clip second of the best window (1.02 = the clip plays 2% fast). */
  speed: number;
  /** 'speed': replay speed (pitch moved); 'tempo': time-scale change with pitch kept. */
  speedKind: 'speed' | 'tempo';
}

export interface CandidateScore {
  token: string;
  score: number;
  pValue: number;
}

export interface DetectResult {
  legs: DetectedLeg[];
  /** Every candidate's best statistic and p-value (for calibration and diagnostics). */
  scores: CandidateScore[];
  durationSec: number;
  /** Null scale estimated from decoys (>= 1). */
  nullScale: number;
  /** Number of hypotheses the p-values are corrected for. */
  hypotheses: number;
  alpha: number;
}

export interface MonoClip {
  samples: Float32Array;
  sampleRate: number;
}

export interface HypRecord extends Hypothesis {
  kind: 'speed' | 'tempo';
}

interface Window {
  startSec: number;
  endSec: number;
  level: number;
  hyps: HypRecord[];
  /** Time-scale step of the window's coarse grid. */
  step: number;
}

interface Found {
  z: number;
  hyp: HypRecord;
  /** Session chip of relative chip 0. */
  n0: number;
  window: number;
}

interface CandidateTables {
  pattern: LegPattern;
  /** Spectrum of the sync pattern per band (P/2+1 bins), re and im, bin-major (b * K + k). */
  syncRe: Float64Array;
  syncIm: Float64Array;
}

/** Fine hypotheses per coarse one: 4 chip phases x 3 rates. */
const REFINE = 12;

const DEFAULTS = {
  alpha: 1e-6,
  decoys: 128,
  speedRange: [0.95, 1.05] as const,
  tempoRange: [0.97, 1.03] as const,
  minWindowSec: 4,
  maxWindowSec: 32,
};

/** Derived decoy tokens: valid patterns under the key that no registry ever issues. */
export function decoyToken(i: number): string {
  return `\u0000earmark-decoy/${i}`;
}

export function detect(clip: MonoClip, opts: DetectOptions): DetectResult {
  const profile = opts.profile ?? PROFILE_V1;
  const alpha = opts.alpha ?? DEFAULTS.alpha;
  const nDecoys = opts.decoys ?? DEFAULTS.decoys;
  const speedRange = opts.speedRange ?? DEFAULTS.speedRange;
  const tempoRange = opts.tempoRange ?? DEFAULTS.tempoRange;
  const minWin = opts.minWindowSec ?? DEFAULTS.minWindowSec;
  const maxWin = opts.maxWindowSec ?? DEFAULTS.maxWindowSec;
  const P = profile.period;
  const K = profile.bands;
  const [RA, RB] = profile.blockPeriods;
  const Tc = profile.chipSec;

  const analysis = analyzeClip(clip.samples, clip.sampleRate, profile);
  const D = analysis.durationSec;
  const fft = new RealFft(P);
  const bins = fft.bins;
  const tables = function candidateTables(token: string): CandidateTables {
    const pattern = new LegPattern(opts.key, token, profile);
    const syncRe = new Float64Array(K * bins);
    const syncIm = new Float64Array(K * bins);
    const col = new Float64Array(P);
    const re = new Float64Array(bins);
    const im = new Float64Array(bins);
    for (let k = 0; k < K; k++) {
      for (let v = 0; v < P; v++) col[v] = isSyncTile(v, k) ? pattern.sync[v * K + k]! : 0;
      fft.forward(col, re, im);
      for (let b = 0; b < bins; b++) {
        syncRe[b * K + k] = re[b]!;
        syncIm[b * K + k] = im[b]!;
      }
    }
    return { pattern, syncRe, syncIm };
  };
  const cands = opts.candidates.map(tables);
  const decoys = Array.from({ length: nDecoys }, (_, i) => tables(decoyToken(i)));

  const windows = makeWindows(D, minWin, maxWin, Tc, speedRange, tempoRange);
  const emptyResult = (): DetectResult => ({
    legs: [],
    scores: opts.candidates.map((token) => ({ token, score: 0, pValue: 1 })),
    durationSec: D,
    nullScale: 1,
    hypotheses: 0,
    alpha,
  });
  if (windows.length === 0 || cands.length === 0) return emptyResult();

  let hypTotal = 0;
  for (const w of windows) hypTotal += w.hyps.length;
  // Every coarse hypothesis stands for REFINE fine ones (phase steps Tc/8 instead of Tc/2, rate
  // steps of a third); the fine ones near a promising coarse point are evaluated (refine below).
  const hypotheses = cands.length * hypTotal * REFINE * P * RA * RB;

  const featCache = new Map<string, TileFeatures>();
  const features = function cachedFeatures(h: Hypothesis): TileFeatures {
    const key = `${h.rate.toFixed(6)}|${h.freqScale.toFixed(6)}|${h.phaseSec.toFixed(6)}`;
    let f = featCache.get(key);
    if (!f) {
      f = tileFeatures(analysis, h, profile);
      featCache.set(key, f);
    }
    return f;
  };

  // Fine hypotheses are only needed over one window: features of that range, cached per window.
  const winCache = new Map<string, TileFeatures>();
  const windowFeatures = function cachedWindowFeatures(h: Hypothesis, w: Window): TileFeatures {
    const key = `${w.startSec}|${w.endSec}|${h.rate.toFixed(6)}|${h.freqScale.toFixed(6)}|${h.phaseSec.toFixed(6)}`;
    let f = winCache.get(key) ?? featCache.get(`${h.rate.toFixed(6)}|${h.freqScale.toFixed(6)}|${h.phaseSec.toFixed(6)}`);
    if (!f) {
      f = tileFeatures(analysis, h, profile, [w.startSec, w.endSec]);
      winCache.set(key, f);
    }
    return f;
  };

  const best: (Found | undefined)[][] = cands.map(() => windows.map(() => undefined));
  const nullSamples: number[] = [];
  const foldRe = new Float64Array(K * bins);
  const foldIm = new Float64Array(K * bins);
  const fold = new Float64Array(P * K);
  const corr = new Float64Array(P);
  const foldS = new Float64Array(P * K);
  const codeCache = new Map<LegPattern, [Float64Array, Float64Array]>();
  const TOP = 2;
  const SYNC_GATE = 3.5;
  const FULL_DECOYS = 16;
  const SUBLEVEL_GATE = 6.5;
  const REFINE_GATE = 6;
  const REFINE_CEILING = 12;

  const cfft = new ComplexFft(P);
  const zr = new Float64Array(P);
  const zi = new Float64Array(P);
  const corr2 = new Float64Array(P);

  /** Fold a window's features modulo P, FFT each band; returns the sync variance per shift parity. */
  function foldAt(f: TileFeatures, ma: number, mb: number): [number, number] {
    fold.fill(0);
    const r = f.r;
    for (let m = ma, u = ma % P; m < mb; m++) {
      const row = m * K;
      const o = u * K;
      for (let k = 0; k < K; k++) fold[o + k]! += r[row + k]!;
      if (++u === P) u = 0;
    }
    // Sync-layer variance per shift parity: energy of the folded sync tiles.
    const vSync: [number, number] = [0, 0];
    for (let u = 0; u < P; u++) for (let k = 0; k < K; k++) vSync[(u + k) & 1]! += fold[u * K + k]! ** 2;
    // Two real bands per complex FFT (band k real, band k + 1 imaginary), split by symmetry.
    for (let k = 0; k < K; k += 2) {
      const k2 = k + 1 < K ? k + 1 : -1;
      for (let u = 0; u < P; u++) {
        zr[u] = fold[u * K + k]!;
        zi[u] = k2 >= 0 ? fold[u * K + k2]! : 0;
      }
      cfft.transform(zr, zi);
      for (let b = 0; b < bins; b++) {
        const nb = (P - b) % P;
        foldRe[b * K + k] = 0.5 * (zr[b]! + zr[nb]!);
        foldIm[b * K + k] = 0.5 * (zi[b]! - zi[nb]!);
        if (k2 >= 0) {
          foldRe[b * K + k2] = 0.5 * (zi[b]! + zi[nb]!);
          foldIm[b * K + k2] = -0.5 * (zr[b]! - zr[nb]!);
        }
      }
    }
    return vSync;
  }

  /**
   * Circular correlation of the fold with the sync patterns of c1 and c2 (all shifts) into corr
   * and corr2: per bin sum_k conj(F_k) S_k, then one complex inverse FFT carries both candidates
   * (c1's real spectrum in the real part, c2's in the imaginary part).
   */
  function syncCorr(c1: CandidateTables, c2: CandidateTables | undefined): void {
    const H = P / 2;
    for (let b = 0; b < bins; b++) {
      const o = b * K;
      let a1r = 0;
      let a1i = 0;
      let a2r = 0;
      let a2i = 0;
      const s1r = c1.syncRe;
      const s1i = c1.syncIm;
      for (let k = 0; k < K; k++) {
        const fr = foldRe[o + k]!;
        const fi = foldIm[o + k]!;
        a1r += fr * s1r[o + k]! + fi * s1i[o + k]!;
        a1i += fr * s1i[o + k]! - fi * s1r[o + k]!;
      }
      if (c2) {
        const s2r = c2.syncRe;
        const s2i = c2.syncIm;
        for (let k = 0; k < K; k++) {
          const fr = foldRe[o + k]!;
          const fi = foldIm[o + k]!;
          a2r += fr * s2r[o + k]! + fi * s2i[o + k]!;
          a2i += fr * s2i[o + k]! - fi * s2r[o + k]!;
        }
      }
      if (b === 0 || b === H) {
        zr[b] = a1r;
        zi[b] = a2r;
      } else {
        zr[b] = a1r - a2i;
        zi[b] = a1i + a2r;
        zr[P - b] = a1r + a2i;
        zi[P - b] = a2r - a1i;
      }
    }
    cfft.transform(zr, zi, true);
    const inv = 1 / P;
    for (let s = 0; s < P; s++) {
      corr[s] = zr[s]! * inv;
      corr2[s] = zi[s]! * inv;
    }
  }

  // Shorter windows (next levels) only localize pieces that already stood out in a longer window:
  // candidates whose best statistic so far reaches SUBLEVEL_GATE. (A selection rule changes power,
  // never validity: the correction below counts every window for every candidate.)
  let active: number[] = cands.map((_, i) => i);
  let level = 0;
  const levelBest = new Float64Array(cands.length).fill(-Infinity);
  for (let wi = 0; wi < windows.length; wi++) {
    const w = windows[wi]!;
    if (w.level !== level) {
      level = w.level;
      active = active.filter((ci) => levelBest[ci]! >= SUBLEVEL_GATE);
      levelBest.fill(-Infinity);
    }
    // Per candidate: top (hyp, shift, zSync) entries.
    const nC = cands.length;
    const topZ = new Float64Array(nC * TOP).fill(-Infinity);
    const topH = new Int32Array(nC * TOP);
    const topS = new Int32Array(nC * TOP);
    let bestHypForDecoys: HypRecord = w.hyps[0]!;
    let bestZsAll = -Infinity;
    for (let hi = 0; hi < w.hyps.length && active.length > 0; hi++) {
      const hyp = w.hyps[hi]!;
      const f = features(hyp);
      const [ma, mb] = chipRange(w, hyp, Tc, f.chips);
      if (mb - ma < P) continue;
      const vSync = foldAt(f, ma, mb);
      if (!(vSync[0]! + vSync[1]! > 0)) continue;
      const inv0 = vSync[0] > 0 ? 1 / Math.sqrt(vSync[0]) : 0;
      const inv1 = vSync[1] > 0 ? 1 / Math.sqrt(vSync[1]) : 0;
      for (let ai = 0; ai < active.length; ai += 2) {
        const pair = ai + 1 < active.length;
        syncCorr(cands[active[ai]!]!, pair ? cands[active[ai + 1]!]! : undefined);
        for (let q = 0; q < (pair ? 2 : 1); q++) {
          const ci = active[ai + q]!;
          const cv = q === 0 ? corr : corr2;
          const base = ci * TOP;
          for (let s = 0; s < P; s++) {
            // Tiles with (s + u + k) even are sync tiles for shift s.
            const zs = cv[s]! * (s & 1 ? inv1 : inv0);
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
            if (zs > bestZsAll) {
              bestZsAll = zs;
              bestHypForDecoys = hyp;
            }
          }
        }
      }
    }
    // Timecode stage and the full statistic for each candidate's top entries.
    for (const ci of active) {
      for (let t = 0; t < TOP; t++) {
        // Below zSync 3.5 the window cannot reach the detection threshold (~8.5) unless the
        // timecode layer were far stronger than the sync layer, which carries equal power.
        if (!(topZ[ci * TOP + t]! >= SYNC_GATE)) continue;
        const hyp = w.hyps[topH[ci * TOP + t]!]!;
        const r = fullScore(cands[ci]!.pattern, features(hyp), w, hyp, topS[ci * TOP + t]!, profile);
        if (!r) continue;
        const cur = best[ci]![wi];
        if (!cur || r.z > cur.z) best[ci]![wi] = { z: r.z, hyp, n0: r.n0, window: wi };
        if (r.z > levelBest[ci]!) levelBest[ci] = r.z;
      }
      const cur = best[ci]![wi];
      // Refine where it can change a decision: hits already far above any threshold keep their
      // coarse alignment here (refineSegment still refines their offsets).
      if (cur && cur.z >= REFINE_GATE && cur.z < REFINE_CEILING) {
        const rf = refine(cands[ci]!.pattern, w, cur);
        best[ci]![wi] = rf;
        if (rf.z > levelBest[ci]!) levelBest[ci] = rf.z;
      }
    }
    // Null samples at the window's most active hypothesis: every decoy's sync statistic at every
    // shift (cheap, from the fold), and the full statistic (sync + timecode at a fixed, unsearched
    // block) for the first few decoys.
    const hd = bestHypForDecoys;
    const f = features(hd);
    const [ma, mb] = chipRange(w, hd, Tc, f.chips);
    if (mb - ma >= P && w.level === 0) {
      const vSync = foldAt(f, ma, mb);
      for (let di = 0; di < decoys.length; di += 2) {
        const pair = di + 1 < decoys.length;
        syncCorr(decoys[di]!, pair ? decoys[di + 1]! : undefined);
        for (let q = 0; q < (pair ? 2 : 1); q++) {
          const cv = q === 0 ? corr : corr2;
          for (let s = 0; s < P; s++) {
            const vs = vSync[s & 1]!;
            if (vs > 0) nullSamples.push(cv[s]! / Math.sqrt(vs));
          }
        }
      }
      for (let di = 0; di < Math.min(FULL_DECOYS, decoys.length); di++) {
        const z = fixedScore(decoys[di]!.pattern, f, ma, mb, (di % P) + P * ((di * 7919) % (RA * RB)));
        if (z !== undefined) nullSamples.push(z);
      }
    }
  }

  // Null scale: RMS of decoy z's, with an upper 99% confidence margin, never below 1.
  let nullScale = 1;
  if (nullSamples.length > 0) {
    let ss = 0;
    for (const z of nullSamples) ss += z * z;
    const rms = Math.sqrt(ss / nullSamples.length);
    nullScale = Math.max(1, rms * (1 + 2.33 / Math.sqrt(2 * nullSamples.length)));
  }

  const scores: CandidateScore[] = [];
  const legs: DetectedLeg[] = [];
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
    const segments = picked.map((x) => refineSegment(analysis, cands[ci]!.pattern, x, windows[x.window]!, profile, correctedPValue(x.z, nullScale, hypotheses), D));
    legs.push({
      token,
      pValue: pTop,
      score: top.z,
      segments: mergeSegments(segments, top.hyp.rate),
      speed: top.hyp.rate,
      speedKind: top.hyp.kind,
    });
  }
  legs.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  return { legs, scores, durationSec: D, nullScale, hypotheses, alpha };

  /**
   * Local search on the fine grid around a coarse hit: session offset (at the window centre) in
   * steps of Tc/8 within +-Tc/4 (the coarse phases are Tc/2 apart), rate in steps of a third of
   * the coarse step. Measured on 5 s clips: a 4 ms misalignment costs ~7% of z, 8 ms ~25%.
   */
  function refine(pattern: LegPattern, w: Window, x: Found): Found {
    const mid = 0.5 * (w.startSec + w.endSec);
    const tauMid = x.n0 * Tc - x.hyp.phaseSec + x.hyp.rate * mid;
    let top = x;
    for (const dr of [0, -1, 1]) {
      const rate = x.hyp.rate + (dr * w.step) / 3;
      for (const d of [-2, -1, 0, 1, 2]) {
        if (dr === 0 && d === 0) continue;
        const tau0 = tauMid + (d * Tc) / 8 - rate * mid;
        const phaseSec = Math.round(((((-tau0 % Tc) + Tc) % Tc) / Tc) * 8) % 8 * (Tc / 8);
        const n0 = Math.round((tau0 + phaseSec) / Tc);
        const hyp: HypRecord = { rate, freqScale: x.hyp.kind === 'speed' ? rate : 1, phaseSec, kind: x.hyp.kind };
        const r = fullScore(pattern, windowFeatures(hyp, w), w, hyp, ((n0 % P) + P) % P, profile);
        if (r && r.z > top.z) top = { z: r.z, hyp, n0: r.n0, window: x.window };
      }
    }
    return top;
  }

  /** Block codes of a leg's two band groups, compact (R_g x K/2, group bands only), cached. */
  function compactCodes(pattern: LegPattern): [Float64Array, Float64Array] {
    let c = codeCache.get(pattern);
    if (!c) {
      const G = K >> 1;
      const mk = (g: 0 | 1): Float64Array => {
        const R = profile.blockPeriods[g];
        const src = pattern.tcBlock[g];
        const out = new Float64Array(R * G);
        for (let x = 0; x < R; x++) for (let kk = 0; kk < G; kk++) out[x * G + kk] = src[x * K + g + 2 * kk]!;
        return out;
      };
      c = [mk(0), mk(1)];
      codeCache.set(pattern, c);
    }
    return c;
  }

  /** Full statistic at (hyp, shift s), searching the timecode residues. */
  function fullScore(pattern: LegPattern, f: TileFeatures, w: Window, hyp: Hypothesis, s: number, prof: MarkProfile): { z: number; n0: number } | undefined {
    const [ma, mb] = chipRange(w, hyp, Tc, f.chips);
    if (mb - ma < P) return undefined;
    const j0 = Math.floor((s + ma) / P);
    const J = Math.floor((s + mb - 1) / P) - j0 + 1;
    // Timecode tiles per block, split by band group (group g holds bands g, g + 2, ...), compact.
    const G = K >> 1;
    const bs0 = new Float64Array(J * G);
    const bs1 = new Float64Array(J * G);
    let cSync = 0;
    let vTc = 0;
    // Sync part recomputed directly (exact, and its folded variance).
    foldS.fill(0);
    const r = f.r;
    const sync = pattern.sync;
    const tcChip = pattern.tcChip;
    for (let m = ma; m < mb; m++) {
      const v = (s + m) % P;
      const j = Math.floor((s + m) / P) - j0;
      const row = m * K;
      const vo = v * K;
      // Sync tiles: k with the parity of v; timecode tiles: the other parity.
      for (let k = v & 1; k < K; k += 2) {
        const x = r[row + k]!;
        foldS[vo + k]! += x;
        cSync += x * sync[vo + k]!;
      }
      const bs = (v & 1) === 0 ? bs1 : bs0;
      const bo = j * G;
      for (let k = (v + 1) & 1; k < K; k += 2) {
        const x = r[row + k]!;
        bs[bo + (k >> 1)]! += x * tcChip[vo + k]!;
        vTc += x * x;
      }
    }
    let vSync = 0;
    for (let i = 0; i < foldS.length; i++) vSync += foldS[i]! ** 2;
    const bestRes = [0, 0];
    const bestVal = [0, 0];
    const codes = compactCodes(pattern);
    for (let g = 0; g < 2; g++) {
      const R = prof.blockPeriods[g]!;
      const code = codes[g]!;
      const bs = g === 0 ? bs0 : bs1;
      let bv = -Infinity;
      let bx = 0;
      for (let x = 0; x < R; x++) {
        let acc = 0;
        let idx = (x + j0) % R;
        for (let j = 0; j < J; j++) {
          const row = idx * G;
          const brow = j * G;
          for (let kk = 0; kk < G; kk++) acc += bs[brow + kk]! * code[row + kk]!;
          if (++idx === R) idx = 0;
        }
        if (acc > bv) {
          bv = acc;
          bx = x;
        }
      }
      bestRes[g] = bx;
      bestVal[g] = bv;
    }
    const v = vSync + vTc;
    if (!(v > 0)) return undefined;
    const z = (cSync + bestVal[0]! + bestVal[1]!) / Math.sqrt(v);
    const block = crt(bestRes[0]!, RA, bestRes[1]!, RB);
    return { z, n0: block * P + s };
  }

  /** Statistic at a fixed session chip n0 of relative chip 0 (no search). */
  function fixedScore(pattern: LegPattern, f: TileFeatures, ma: number, mb: number, n0: number): number | undefined {
    const foldS = new Float64Array(P * K);
    let c = 0;
    let vTc = 0;
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const v = n % P;
      const row = m * K;
      for (let k = 0; k < K; k++) {
        const x = f.r[row + k]!;
        if (x === 0) continue;
        c += x * pattern.sign(n, k);
        if (isSyncTile(v, k)) foldS[v * K + k]! += x;
        else vTc += x * x;
      }
    }
    let vSync = 0;
    for (let i = 0; i < foldS.length; i++) vSync += foldS[i]! ** 2;
    const v = vSync + vTc;
    return v > 0 ? c / Math.sqrt(v) : undefined;
  }
}

/** Relative chips [ma, mb) of a window under a hypothesis. */
function chipRange(w: { startSec: number; endSec: number }, hyp: Hypothesis, Tc: number, chips: number): [number, number] {
  const ma = Math.max(0, Math.ceil((hyp.rate * w.startSec - hyp.phaseSec) / Tc - 1e-9));
  const mb = Math.min(chips, Math.floor((hyp.rate * w.endSec - hyp.phaseSec) / Tc + 1e-9));
  return [ma, Math.max(ma, mb)];
}

function crt(a: number, m1: number, b: number, m2: number): number {
  // x = a mod m1, x = b mod m2 (m1, m2 coprime, small): step through a + t m1.
  for (let t = 0; t < m2; t++) {
    const x = a + t * m1;
    if (x % m2 === b) return x;
  }
  throw new Error('moduli not coprime');
}

function makeWindows(D: number, minWin: number, maxWin: number, Tc: number, speedRange: readonly [number, number], tempoRange: readonly [number, number]): Window[] {
  const out: Window[] = [];
  if (D < Math.min(minWin, 2)) return out;
  const len0 = Math.min(D, maxWin);
  // Time-scale step: 1.5 chips of drift across a window. Each level halves the window and doubles
  // the step, so the grids nest and every level reuses the first level's features.
  const step0 = (1.5 * Tc) / len0;
  let len = len0;
  for (let level = 0; ; level++) {
    const hop = len === D ? len : len / 2;
    const hyps = hypothesisGrid(step0 * 2 ** level, Tc, speedRange, tempoRange);
    for (let a = 0; a + len <= D + 1e-9; a += hop) {
      out.push({ startSec: a, endSec: Math.min(D, a + len), level, hyps, step: step0 * 2 ** level });
      if (hop === len && a + len >= D) break;
    }
    // A last window flush with the end, so the tail is covered at this level.
    const last = out[out.length - 1]!;
    if (last.endSec < D - 0.25 * len) out.push({ startSec: D - len, endSec: D, level, hyps, step: step0 * 2 ** level });
    const next = len / 2;
    if (next < minWin) break;
    len = next;
  }
  return out;
}

/** Time-scale grid 1 + i * step over the speed and tempo ranges, two chip phases each (also used by the payload decoder). */
export function hypothesisGrid(step: number, Tc: number, speedRange: readonly [number, number], tempoRange: readonly [number, number]): HypRecord[] {
  const lo = Math.min(speedRange[0], tempoRange[0]);
  const hi = Math.max(speedRange[1], tempoRange[1]);
  const out: HypRecord[] = [];
  const iLo = Math.ceil((lo - 1) / step - 1e-9);
  const iHi = Math.floor((hi - 1) / step + 1e-9);
  for (let i = iLo; i <= iHi; i++) {
    const rate = 1 + i * step;
    for (const phaseSec of [0, Tc / 2]) {
      const inSpeed = rate >= speedRange[0] - 1e-12 && rate <= speedRange[1] + 1e-12;
      const inTempo = rate >= tempoRange[0] - 1e-12 && rate <= tempoRange[1] + 1e-12;
      if (inSpeed) out.push({ rate, freqScale: rate, phaseSec, kind: 'speed' });
      // Band edges move by |rate - 1|; below ~1.2% the speed hypothesis covers tempo too.
      if (inTempo && (!inSpeed || Math.abs(rate - 1) > 0.012)) out.push({ rate, freqScale: 1, phaseSec, kind: 'tempo' });
    }
  }
  return out;
}

/** Segment boundaries and a refined session offset for a detected window. */
function refineSegment(analysis: BandAnalysis, pattern: LegPattern, x: Found, w: Window, profile: MarkProfile, pValue: number, D: number): MarkSegment {
  const Tc = profile.chipSec;
  const K = profile.bands;
  const cycle = patternCycleSec(profile);
  const hyp = x.hyp;
  // tau0: session time at clip time 0.
  let tau0 = x.n0 * Tc - hyp.phaseSec;
  let rate = hyp.rate;
  const mid = 0.5 * (w.startSec + w.endSec);
  // Offset refinement: session time at the window centre, over rate x offset steps of Tc/8.
  const scoreAt = (r: number, tauMid: number): number => {
    const t0 = tauMid - r * mid;
    const phase = (((-t0 % Tc) + Tc) % Tc);
    const n0 = Math.round((t0 + phase) / Tc);
    const f = tileFeatures(analysis, { rate: r, freqScale: hyp.kind === 'speed' ? r : 1, phaseSec: phase }, profile, [w.startSec, w.endSec]);
    const [ma, mb] = chipRange(w, { rate: r, freqScale: 1, phaseSec: phase }, Tc, f.chips);
    const { c, q } = correlateTiles(f, (n, k) => pattern.sign(n, k), n0, ma, mb);
    return q > 0 ? c / Math.sqrt(q) : 0;
  };
  const tauMid0 = tau0 + rate * mid;
  const rateStep = Math.min(0.002, (0.75 * Tc) / Math.max(1, w.endSec - w.startSec));
  let bestRate = rate;
  let bestZ = -Infinity;
  let bestTau = tauMid0;
  for (const r of [rate, rate - rateStep, rate + rateStep]) {
    const zs: number[] = [];
    // The nominal rate gets the full offset scan; the neighbouring rates only around its best.
    const centre = r === rate ? tauMid0 : bestTau;
    const steps = r === rate ? [-4, -3, -2, -1, 0, 1, 2, 3, 4] : [-1, 0, 1];
    for (const d of steps) zs.push(scoreAt(r, centre + (d * Tc) / 8));
    let bi = 0;
    for (let i = 1; i < zs.length; i++) if (zs[i]! > zs[bi]!) bi = i;
    let frac = 0;
    if (bi > 0 && bi < zs.length - 1) {
      const a = zs[bi - 1]!;
      const b = zs[bi]!;
      const c = zs[bi + 1]!;
      const den = a - 2 * b + c;
      if (den < 0) frac = Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
    }
    if (zs[bi]! > bestZ) {
      bestZ = zs[bi]!;
      bestTau = centre + ((steps[bi]! + frac) * Tc) / 8;
      bestRate = r;
    }
  }
  rate = bestRate;
  tau0 = bestTau - rate * mid;

  // Boundaries: per-chip contributions along the clip at the refined alignment; the segment is
  // the maximum-sum run of (e_m - mu / 2), mu = mean contribution inside the window.
  const phase = (((-tau0 % Tc) + Tc) % Tc);
  const n0 = Math.round((tau0 + phase) / Tc);
  const span = w.endSec - w.startSec;
  const f = tileFeatures(analysis, { rate, freqScale: hyp.kind === 'speed' ? rate : 1, phaseSec: phase }, profile, [w.startSec - span, w.endSec + span]);
  const e = new Float64Array(f.chips);
  let q = 0;
  for (let m = 0; m < f.chips; m++) {
    let c = 0;
    for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]!;
      if (v !== 0) {
        c += v * pattern.sign(n0 + m, k);
        q += v * v;
      }
    }
    e[m] = c;
  }
  const [ma, mb] = chipRange(w, { rate, freqScale: 1, phaseSec: phase }, Tc, f.chips);
  let mu = 0;
  for (let m = ma; m < mb; m++) mu += e[m]!;
  mu /= Math.max(1, mb - ma);
  let startChip = ma;
  let endChip = mb;
  if (mu > 0) {
    const spanChips = mb - ma;
    const lo = Math.max(0, ma - spanChips);
    const hi = Math.min(f.chips, mb + spanChips);
    let bestSum = -Infinity;
    let cur = 0;
    let curStart = lo;
    for (let m = lo; m < hi; m++) {
      const v = e[m]! - mu / 2;
      if (cur <= 0) {
        cur = v;
        curStart = m;
      } else cur += v;
      if (cur > bestSum) {
        bestSum = cur;
        startChip = curStart;
        endChip = m + 1;
      }
    }
  }
  const startSec = Math.max(0, (phase + startChip * Tc) / rate);
  const endSec = Math.min(D, (phase + endChip * Tc) / rate);
  const off = tau0 + rate * startSec;
  const timecodeConf = timecodeConfidence(f, pattern, n0, startChip, endChip);
  return { startSec, endSec, sessionOffsetSec: ((off % cycle) + cycle) % cycle, z: x.z, pValue, timecodeConfidence: timecodeConf };
}

/** Merge segments of one leg that touch and share a timeline. */
function mergeSegments(segs: MarkSegment[], rate: number): MarkSegment[] {
  const sorted = [...segs].sort((a, b) => a.startSec - b.startSec);
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
