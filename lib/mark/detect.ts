/**
 * Informed detector: which candidate legs' marks are in a clip, where, and at what session time.
 *
 * Search, per analysis window (the whole clip up to `maxWindowSec` (64 s), then halves with 50% overlap,
 * down to `minWindowSec`, so spliced pieces get windows of their own):
 *  1. Hypotheses (rate, freqScale, phase): a time-scale grid over the replay-speed range (bands
 *     scaled with it) and the tempo range (bands fixed), step 1.5 chips over the window, and
 *     two chip phases (four for clips up to 16 s). Tile features come from frame-grid features
 *     (one per 1% frequency scale, a tile at every 8 ms frame; features.ts featureGrid), each
 *     chip read at its nearest frame; the fine grid around promising points (refine) and the
 *     reported segments use features computed exactly for their hypothesis.
 *  2. Sync: fold the window's features modulo P and circularly correlate with each candidate's
 *     sync pattern (FFT of size P over the fold), giving n0 mod P. Top 2 (hypothesis, shift) kept.
 *  3. Timecode: at those, per-block sums of the timecode tiles, correlated against the two
 *     block-code groups over all residues mod R_A and mod R_B (separable); CRT gives the block.
 *  Statistic: z = (c_sync + c_A + c_B) / sqrt(V_sync + V_tc), the correlation over all tiles of
 *  the window divided by its exact standard deviation under random signs (self-normalized: the
 *  fold's energy for the periodic sync layer, the tile energy for the timecode layer).
 *  4. Cross-fit: at each window's best alignment, two more statistics in which one layer's local
 *     evidence weights the other layer's tiles (crossFitScore; for taps where the tapped person's
 *     unmarked voice fills part of the clip); the window scores the largest of the three.
 *
 * Calibration: decoy tokens (derived from the key, never issued) are scored on the same clip at the
 * same hypotheses; their z's estimate the null scale sigma (taken >= 1, with an upper confidence
 * margin). The p-value of a window is Bonferroni over everything searched: candidates x windows x
 * hypotheses x P x R_A x R_B (the full 13.4 h timeline) x 3 statistics, p = min(1, N * Q(z / sigma)). A leg is
 * reported when p <= alpha (default 1e-6 family-wise per scan).
 */
import { ComplexFft, RealFft } from '../dsp/fft.js';
import { Arena } from './arena.js';
import { analyzeClip, chipCount, correlateTiles, featureGrids, gatherFeatures, gridRows, tileFeatures } from './features.js';
import type { BandAnalysis, FeatureGrid, Hypothesis, TileFeatures } from './features.js';
import type { MarkKey } from './keys.js';
import { LegPattern, PROFILE_V1, isSyncTile, patternCycleSec } from './pattern.js';
import type { MarkProfile } from './pattern.js';
import { correctedPValue, zForCorrectedP } from './stats.js';
import { decodeTimecode, posterior, shiftPosterior } from './timecode.js';
import type { TimecodeEvidence } from './timecode.js';

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
  /** Clips longer than 1.25 x this are scanned in pieces of this length (see detect). Default 256 s. */
  pieceSec?: number;
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
  /** Number of hypotheses the p-values are corrected for (clips scanned in pieces: pieces x the largest piece's count). */
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
  /** Coarse chip phases per time scale. */
  phases: number;
}

interface Found {
  /** The decision statistic: the plain one, or a cross-fitted one where larger. */
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
  /**
   * Block codes of the two timecode band groups by nibbles (see fullScore): code row x, nibble q
   * (compact group bands 4q..4q+3, the group's bands being g, g + 2, ...) at x * nibbles + q, bit i
   * set when band 4q + i's code is -1.
   */
  codeNib: [Uint8Array, Uint8Array];
}

/**
 * Candidate tables per key and profile, kept across scans: the decoys are the same for every scan
 * with a key, and a registry's legs recur. Bounded (cleared when full).
 */
const tableCache = new WeakMap<MarkKey, WeakMap<MarkProfile, Map<string, CandidateTables>>>();
const TABLE_CACHE_MAX = 1024;
const realFfts = new Map<number, RealFft>();

function candidateTables(key: MarkKey, token: string, profile: MarkProfile): CandidateTables {
  let byProfile = tableCache.get(key);
  if (!byProfile) {
    byProfile = new WeakMap();
    tableCache.set(key, byProfile);
  }
  let cache = byProfile.get(profile);
  if (!cache) {
    cache = new Map();
    byProfile.set(profile, cache);
  }
  const hit = cache.get(token);
  if (hit) return hit;
  const P = profile.period;
  const K = profile.bands;
  let fft = realFfts.get(P);
  if (!fft) {
    fft = new RealFft(P);
    realFfts.set(P, fft);
  }
  const bins = fft.bins;
  const pattern = new LegPattern(key, token, profile);
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
  const G = K >> 1;
  const nQ = Math.ceil(G / 4);
  const nib = (g: 0 | 1): Uint8Array => {
    const R = profile.blockPeriods[g];
    const src = pattern.tcBlock[g];
    const out = new Uint8Array(R * nQ);
    for (let x = 0; x < R; x++) {
      for (let kk = 0; kk < G; kk++) if (src[x * K + g + 2 * kk]! < 0) out[x * nQ + (kk >> 2)]! |= 1 << (kk & 3);
    }
    return out;
  };
  const t: CandidateTables = { pattern, syncRe, syncIm, codeNib: [nib(0), nib(1)] };
  if (cache.size >= TABLE_CACHE_MAX) cache.clear();
  cache.set(token, t);
  return t;
}

/** Fine hypotheses per coarse one: 4 chip phases x 3 rates. */
/**
 * Coarse chip phases (in chips). Odd eighths put every chip boundary on an STFT frame boundary at
 * rate 1 (frame centres sit at 16 ms + 8 ms * f), so the frame-grid features are exact there.
 * Clips up to SHORT_CLIP_SEC, whose statistics are the weakest and whose search is small, get four
 * phases (alignment within +-4 ms; on the 144-clip A/B set +2% mean z over two phases), longer
 * clips two (+-8 ms, what the fine grid of `refine` then recovers; four would double the coarse
 * search, ~80x instead of ~120x realtime on 60 s).
 */
const COARSE_PHASES_SHORT: readonly number[] = [1 / 8, 3 / 8, 5 / 8, 7 / 8];
const COARSE_PHASES_LONG: readonly number[] = [1 / 8, 5 / 8];
const SHORT_CLIP_SEC = 16;
/** The fine grid (refine): 8 chip phases (Tc/8) and 3 rates per coarse rate step. */
const FINE_PER_RATE_STEP = 24;
/**
 * Statistics per hypothesis that the p-values count: the plain one and the two cross-fitted ones
 * (crossFitScore in detectSpan).
 */
const STATISTICS = 3;
/** Half-width (1.024 s blocks) of the local evidence that weights the other layer (crossFitScore). */
const XFIT_HALF = 1;

const DEFAULTS = {
  alpha: 1e-6,
  decoys: 128,
  speedRange: [0.95, 1.05] as const,
  tempoRange: [0.97, 1.03] as const,
  minWindowSec: 4,
  // Longest analysis window. At 32 s a 50-70 s tap (30 s of downlink speech between the tapped
  // person's own turns) never pooled its evidence: AMR-NB 7.95k musts clips scored z 8.1-8.8 in
  // their best 32 s window and 10.3-12.8 with one 64 s window (benchmarks/probes/miss-probe.ts,
  // meetings 1 and 14), at equal scan speed (fewer windows in all). 64 s stays far below the
  // 216 s over which the timecode tiles' signs are pairwise independent.
  maxWindowSec: 64,
  pieceSec: 256,
};

/** Derived decoy tokens: valid patterns under the key that no registry ever issues. */
export function decoyToken(i: number): string {
  return `\u0000earmark-decoy/${i}`;
}

/**
 * Scan a clip for the candidates' marks. Clips longer than 1.25 pieceSec (default 256 s) are
 * scanned in pieces of pieceSec overlapping by the longest analysis window, so memory and time stay
 * linear in the length (one pass over a 38-minute recording held ~1.5 GB of band energies and
 * grids). Every window the detector would place in the whole clip lies wholly inside some piece, so
 * no window's evidence is lost; the correction grows instead: each piece is tested at
 * alpha / pieces and its p-values are multiplied by the number of pieces (Bonferroni over the
 * pieces). A leg's segments from all pieces are merged where they touch on one timeline. The pieces'
 * arrays come from one arena, reset between pieces (arena.ts).
 */
export function detect(clip: MonoClip, opts: DetectOptions): DetectResult {
  const rate = clip.sampleRate;
  const D = clip.samples.length / rate;
  const overlap = opts.maxWindowSec ?? DEFAULTS.maxWindowSec;
  const len = Math.max(opts.pieceSec ?? DEFAULTS.pieceSec, 2 * overlap);
  if (!(D > 1.25 * len)) return detectSpan(clip, opts);
  const alpha = opts.alpha ?? DEFAULTS.alpha;
  const starts = pieceStarts(D, len, overlap);
  const n = starts.length;
  const arena = new Arena();
  const pieces = starts.map((a) => {
    const from = Math.round(a * rate);
    const r = detectSpan({ samples: clip.samples.subarray(from, Math.min(clip.samples.length, from + Math.round(len * rate))), sampleRate: rate }, { ...opts, alpha: alpha / n }, arena);
    arena.reset();
    return { a: from / rate, r };
  });
  const scale = (p: number): number => Math.min(1, p * n);
  const scores: CandidateScore[] = opts.candidates.map((token) => {
    let best: CandidateScore = { token, score: 0, pValue: 1 };
    for (const { r } of pieces) {
      const sc = r.scores.find((x) => x.token === token);
      if (!sc) continue;
      const p = scale(sc.pValue);
      if (p < best.pValue || (p === best.pValue && sc.score > best.score)) best = { token, score: sc.score, pValue: p };
    }
    return best;
  });
  const legs: DetectedLeg[] = [];
  for (const token of new Set(pieces.flatMap(({ r }) => r.legs.map((l) => l.token)))) {
    const found = pieces.flatMap(({ a, r }) => r.legs.filter((l) => l.token === token).map((l) => ({ a, l })));
    const top = found.reduce((x, y) => (y.l.pValue < x.l.pValue || (y.l.pValue === x.l.pValue && y.l.score > x.l.score) ? y : x));
    const segs = found.flatMap(({ a, l }) => l.segments.map((sg) => ({ ...sg, startSec: sg.startSec + a, endSec: sg.endSec + a, pValue: scale(sg.pValue) })));
    legs.push({ token, pValue: scale(top.l.pValue), score: top.l.score, segments: mergeSegments(segs, top.l.speed), speed: top.l.speed, speedKind: top.l.speedKind });
  }
  legs.sort((a, b) => a.pValue - b.pValue || b.score - a.score);
  return {
    legs,
    scores,
    durationSec: D,
    nullScale: Math.max(...pieces.map(({ r }) => r.nullScale)),
    // Each piece's p-values are corrected for its own count times the number of pieces.
    hypotheses: n * Math.max(...pieces.map(({ r }) => r.hypotheses)),
    alpha,
  };
}

/** Starts (s) of pieces of `len` s overlapping by `overlap` s that cover a clip of D > len seconds, the last flush with its end. */
export function pieceStarts(D: number, len: number, overlap: number): number[] {
  const starts: number[] = [];
  for (let a = 0; a + len < D; a += len - overlap) starts.push(a);
  starts.push(Math.max(0, D - len));
  return starts;
}

/** A reusable tile-feature buffer for `chips` chips: `buf` when large enough, else a new one with 5% headroom. */
function featureBuffer(buf: Float32Array | undefined, chips: number, K: number): Float32Array {
  return buf && buf.length >= chips * K ? buf : new Float32Array(Math.ceil(1.05 * chips) * K);
}

function detectSpan(clip: MonoClip, opts: DetectOptions, arena?: Arena): DetectResult {
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

  const analysis = analyzeClip(clip.samples, clip.sampleRate, profile, arena);
  const D = analysis.durationSec;
  const bins = P / 2 + 1;
  const cands = opts.candidates.map((token) => candidateTables(opts.key, token, profile));
  const decoys = Array.from({ length: nDecoys }, (_, i) => candidateTables(opts.key, decoyToken(i), profile));

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

  // Every window counts its whole fine grid (phase steps Tc/8, rate steps of a third of the
  // coarse step: FINE_PER_RATE_STEP / phases fine hypotheses per coarse one); the fine ones near a
  // promising coarse point are evaluated (refine below).
  let hypTotal = 0;
  for (const w of windows) hypTotal += (w.hyps.length * FINE_PER_RATE_STEP) / w.phases;
  const hypotheses = cands.length * hypTotal * P * RA * RB * STATISTICS;

  // Coarse hypotheses read their tiles from frame-grid features (one grid per frequency scale,
  // see featureGrid): the coarse phases are frame-aligned, so at rate 1 the tiles are exactly the
  // hypothesis's chips and elsewhere each chip is read at the nearest 8 ms frame. The fine grid
  // (refine) and the segments' offsets use exact per-hypothesis features.
  analysis.prepareScales(windows.flatMap((w) => w.hyps.map((h) => h.freqScale)));
  const grids = featureGrids(analysis, profile);
  const gridOf = (h: Hypothesis): FeatureGrid => grids(h.freqScale);
  let gatherBuf = new Float32Array(0);
  /** Coarse features of a hypothesis over a window's chips (in a shared buffer: valid until the next call; 0 outside the window). */
  const features = function gridFeatures(h: Hypothesis, w: { startSec: number; endSec: number }): TileFeatures {
    const M = chipCount(analysis, h, profile);
    if (gatherBuf.length < M * K) gatherBuf = new Float32Array(M * K);
    return gatherFeatures(gridOf(h), h, profile, analysis, gatherBuf, chipRange(w, h, Tc, M));
  };

  // Fine hypotheses are only needed over one window: features of that range, cached while the
  // refinement stays on one window (candidates refined on the same window share them). The cached
  // arrays are reused for the next window's features: a long clip refines thousands of small
  // windows, and fresh arrays piled up faster than V8 collected them.
  const winCache = new Map<string, TileFeatures>();
  const winPool: Float32Array[] = [];
  let winCacheWindow: Window | undefined;
  const windowFeatures = function cachedWindowFeatures(h: Hypothesis, w: Window): TileFeatures {
    if (w !== winCacheWindow) {
      for (const f of winCache.values()) winPool.push(f.r);
      winCache.clear();
      winCacheWindow = w;
    }
    const key = `${h.rate.toFixed(6)}|${h.freqScale.toFixed(6)}|${h.phaseSec.toFixed(6)}`;
    let f = winCache.get(key);
    if (!f) {
      const buf = featureBuffer(winPool.pop(), chipCount(analysis, h, profile), K);
      f = tileFeatures(analysis, h, profile, [w.startSec, w.endSec], 'leg', buf);
      winCache.set(key, f);
    }
    return f;
  };

  const best: (Found | undefined)[][] = cands.map(() => windows.map(() => undefined));
  const nullSamples: number[] = [];
  const TOP = 2;
  const SYNC_GATE = 3.5;
  const FULL_DECOYS = 16;
  const SUBLEVEL_GATE = 6.5;
  // Refinement gate, relative to the statistic a detection needs at null scale 1 (zNeed; the
  // estimated scale is >= 1, so the real need is never lower). Measured on the 144-clip A/B set
  // (benchmarks/work/ab5-run.ts, hits refined to z > 8): the fine grid raised a hit's z by at most
  // 30% from two coarse phases (median 3.8%, 99th percentile 24%) and 12.5% from four, so windows
  // below zNeed / 1.3 cannot become detections and are not refined; above 1.4 zNeed refinement
  // changes no decision (refineSegment still refines the offsets of what is reported).
  const zNeed = zForCorrectedP(alpha, hypotheses);
  const REFINE_GATE = zNeed / 1.3;
  // The cross-fitted statistics raised the true-alignment z of own-voice-heavy taps by up to ~30%
  // (benchmarks/probes/xfit2.ts); below zNeed / 1.45 they cannot reach a detection.
  const XFIT_GATE = zNeed / 1.45;
  const REFINE_CEILING = 1.4 * zNeed;

  const cfft = new ComplexFft(P);
  // Fold of a window (P x K, row u = chip mod P) and its spectrum per band (bin-major, b * K + k).
  const fold = new Float64Array(P * K);
  const foldRe = new Float64Array(K * bins);
  const foldIm = new Float64Array(K * bins);
  const foldS = new Float64Array(P * K);
  // Band pairs for the forward FFTs: band 2h real, band 2h + 1 imaginary, column h (row u).
  const H2 = (K + 1) >> 1;
  const pairRe = new Float64Array(P * H2);
  const pairIm = new Float64Array(P * H2);
  // Running fold, and prefix folds of one hypothesis at the current level's window boundaries:
  // snapshot i holds the fold of chips [bounds[0], bounds[i]); a window's fold is the difference of
  // two snapshots (float32 features summed in doubles: equal to the direct sum up to rounding, and
  // bit-identical on the benchmark clips).
  const acc = new Float64Array(P * K);
  let snaps = new Float64Array(0);

  // Sync spectra of all candidates (and, separately, all decoys) in one array, bin-major then
  // candidate then band ((b * n + c) * K + k), so one bin of every candidate is read in one run.
  const pack = (ts: readonly CandidateTables[]): [Float64Array, Float64Array] => {
    const n = ts.length;
    const re = new Float64Array(bins * n * K);
    const im = new Float64Array(bins * n * K);
    for (let c = 0; c < n; c++) {
      const t = ts[c]!;
      for (let b = 0; b < bins; b++) {
        re.set(t.syncRe.subarray(b * K, (b + 1) * K), (b * n + c) * K);
        im.set(t.syncIm.subarray(b * K, (b + 1) * K), (b * n + c) * K);
      }
    }
    return [re, im];
  };
  const [candRe, candIm] = pack(cands);
  const [decoyRe, decoyIm] = pack(decoys);
  const decoyIndex = Int32Array.from(decoys, (_, i) => i);
  const payloadBand = new Uint8Array(K);
  for (const k of profile.payloadBands) payloadBand[k] = 1;
  // Per-bin correlation sums sum_k conj(F_k) S_k of the candidates being scored (list position i
  // at i * bins + b), and their circular correlations over all shifts: list positions 2p and
  // 2p + 1 share complex column p (real and imaginary part), row s = shift (s * pairs + p).
  let accRe = new Float64Array(0);
  let accIm = new Float64Array(0);
  let corrRe = new Float64Array(0);
  let corrIm = new Float64Array(0);

  /** Sum a window's features modulo P into fold, chip by chip (chip m in row m mod P). */
  function foldDirect(f: TileFeatures, ma: number, mb: number): void {
    acc.fill(0);
    accumulateFold(f.r, undefined, ma, mb);
    fold.set(acc);
  }

  /** Add chips [from, to) of features r into acc (chip m in fold row m mod P; its features in row rowsOf[m] of r, or row m; row -1: none). */
  function accumulateFold(r: Float32Array, rowsOf: Int32Array | undefined, from: number, to: number): void {
    const a = acc;
    const K4 = K & ~3;
    let u = from % P;
    for (let m = from; m < to; m++) {
      const src = rowsOf ? rowsOf[m]! : m;
      if (src >= 0) {
        const row = src * K;
        const o = u * K;
        let k = 0;
        for (; k < K4; k += 4) {
          a[o + k]! += r[row + k]!;
          a[o + k + 1]! += r[row + k + 1]!;
          a[o + k + 2]! += r[row + k + 2]!;
          a[o + k + 3]! += r[row + k + 3]!;
        }
        for (; k < K; k++) a[o + k]! += r[row + k]!;
      }
      if (++u === P) u = 0;
    }
  }

  /**
   * Spectrum per band into foldRe / foldIm of the fold src[end + i] - src[start + i] (start < 0:
   * no subtraction); returns the sync variance per shift parity.
   */
  function foldSpectrum(src: Float64Array, end: number, start: number): [number, number] {
    // Sync-layer variance per shift parity: energy of the folded sync tiles.
    let v0 = 0;
    let v1 = 0;
    for (let u = 0; u < P; u++) {
      const o = u * K;
      const q = u * H2;
      for (let k = 0; k < K; k++) {
        const x = start < 0 ? src[end + o + k]! : src[end + o + k]! - src[start + o + k]!;
        fold[o + k] = x;
        if (((u + k) & 1) === 0) v0 += x ** 2;
        else v1 += x ** 2;
      }
      for (let h = 0; h < H2; h++) {
        pairRe[q + h] = fold[o + 2 * h]!;
        pairIm[q + h] = 2 * h + 1 < K ? fold[o + 2 * h + 1]! : 0;
      }
    }
    // Two real bands per complex FFT, all pairs at once, split by symmetry.
    cfft.transformColumns(pairRe, pairIm, H2);
    for (let b = 0; b < bins; b++) {
      const nb = (P - b) % P;
      const ob = b * H2;
      const on = nb * H2;
      for (let h = 0; h < H2; h++) {
        const k = 2 * h;
        const zrb = pairRe[ob + h]!;
        const zrn = pairRe[on + h]!;
        const zib = pairIm[ob + h]!;
        const zin = pairIm[on + h]!;
        foldRe[b * K + k] = 0.5 * (zrb + zrn);
        foldIm[b * K + k] = 0.5 * (zib - zin);
        if (k + 1 < K) {
          foldRe[b * K + k + 1] = 0.5 * (zib + zin);
          foldIm[b * K + k + 1] = -0.5 * (zrb - zrn);
        }
      }
    }
    return [v0, v1];
  }

  /**
   * Circular correlations (all shifts) of the current fold with the sync patterns of the listed
   * candidates (indices into a packed table of n candidates). Per bin sum_k conj(F_k) S_k (two
   * candidates per pass over the fold's bin), then one complex inverse FFT per two candidates
   * (the first's real spectrum in the real part, the second's in the imaginary part), all at once.
   * Correlation of list position i at shift s: corrRe (i even) / corrIm (i odd) [s * pairs + i / 2],
   * scaled by P.
   */
  function syncCorrelations(packRe: Float64Array, packIm: Float64Array, n: number, list: ArrayLike<number>, count: number): number {
    const pairs = (count + 1) >> 1;
    if (accRe.length < 2 * pairs * bins) {
      accRe = new Float64Array(2 * pairs * bins);
      accIm = new Float64Array(2 * pairs * bins);
      corrRe = new Float64Array(P * pairs);
      corrIm = new Float64Array(P * pairs);
    }
    const aRe = accRe;
    const aIm = accIm;
    for (let b = 0; b < bins; b++) {
      const o = b * K;
      const row = b * n;
      let i = 0;
      for (; i + 1 < count; i += 2) {
        const o1 = (row + list[i]!) * K;
        const o2 = (row + list[i + 1]!) * K;
        let a1r = 0;
        let a1i = 0;
        let a2r = 0;
        let a2i = 0;
        for (let k = 0; k < K; k++) {
          const fr = foldRe[o + k]!;
          const fi = foldIm[o + k]!;
          const s1r = packRe[o1 + k]!;
          const s1i = packIm[o1 + k]!;
          const s2r = packRe[o2 + k]!;
          const s2i = packIm[o2 + k]!;
          a1r += fr * s1r + fi * s1i;
          a1i += fr * s1i - fi * s1r;
          a2r += fr * s2r + fi * s2i;
          a2i += fr * s2i - fi * s2r;
        }
        aRe[i * bins + b] = a1r;
        aIm[i * bins + b] = a1i;
        aRe[(i + 1) * bins + b] = a2r;
        aIm[(i + 1) * bins + b] = a2i;
      }
      if (i < count) {
        const o1 = (row + list[i]!) * K;
        let a1r = 0;
        let a1i = 0;
        for (let k = 0; k < K; k++) {
          const fr = foldRe[o + k]!;
          const fi = foldIm[o + k]!;
          a1r += fr * packRe[o1 + k]! + fi * packIm[o1 + k]!;
          a1i += fr * packIm[o1 + k]! - fi * packRe[o1 + k]!;
        }
        aRe[i * bins + b] = a1r;
        aIm[i * bins + b] = a1i;
        aRe[(i + 1) * bins + b] = 0;
        aIm[(i + 1) * bins + b] = 0;
      }
    }
    // Spectra of the pairs: X = A1 + i A2 with A1, A2 Hermitian (real correlations).
    const H = P / 2;
    const zr = corrRe;
    const zi = corrIm;
    for (let p = 0; p < pairs; p++) {
      const o1 = 2 * p * bins;
      const o2 = o1 + bins;
      for (let b = 0; b < bins; b++) {
        const a1r = aRe[o1 + b]!;
        const a1i = aIm[o1 + b]!;
        const a2r = aRe[o2 + b]!;
        const a2i = aIm[o2 + b]!;
        if (b === 0 || b === H) {
          zr[b * pairs + p] = a1r;
          zi[b * pairs + p] = a2r;
        } else {
          zr[b * pairs + p] = a1r - a2i;
          zi[b * pairs + p] = a1i + a2r;
          zr[(P - b) * pairs + p] = a1r + a2i;
          zi[(P - b) * pairs + p] = a2r - a1i;
        }
      }
    }
    cfft.transformColumns(zr, zi, pairs, true);
    return pairs;
  }

  // Levels in order; shorter windows (next levels) only localize pieces that already stood out in
  // a longer window: candidates whose best statistic so far reaches SUBLEVEL_GATE. (A selection
  // rule changes power, never validity: the correction below counts every window for every
  // candidate.) Within a level the sync scan runs hypothesis by hypothesis over all the level's
  // windows (the features of a hypothesis are folded in one pass for all windows), then the
  // timecode stage, refinement and null samples run window by window.
  let active: number[] = cands.map((_, i) => i);
  const levelBest = new Float64Array(cands.length).fill(-Infinity);
  const nC = cands.length;
  for (let w0 = 0; w0 < windows.length; ) {
    const level = windows[w0]!.level;
    let w1 = w0;
    while (w1 < windows.length && windows[w1]!.level === level) w1++;
    if (w0 > 0) {
      active = active.filter((ci) => levelBest[ci]! >= SUBLEVEL_GATE);
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
    if (snaps.length < 2 * nW * P * K) snaps = new Float64Array(2 * nW * P * K);
    for (let hi = 0; hi < hyps.length && nA > 0; hi++) {
      const hyp = hyps[hi]!;
      const grid = gridOf(hyp);
      const chips = chipCount(analysis, hyp, profile);
      const rowsOf = gridRows(grid, hyp, profile, chips);
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
      snaps.fill(0, 0, P * K);
      acc.fill(0);
      for (let i = 1; i < nu; i++) {
        accumulateFold(grid.r, rowsOf, bnd[i - 1]!, bnd[i]!);
        snaps.set(acc, i * P * K);
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
        const [v0, v1] = foldSpectrum(snaps, ib * P * K, ia * P * K);
        if (!(v0 + v1 > 0)) continue;
        const inv0 = v0 > 0 ? 1 / Math.sqrt(v0) : 0;
        const inv1 = v1 > 0 ? 1 / Math.sqrt(v1) : 0;
        const pairs = syncCorrelations(candRe, candIm, nC, activeList, nA);
        const invP = 1 / P;
        const wo = a * nC * TOP;
        for (let ai = 0; ai < nA; ai++) {
          const ci = activeList[ai]!;
          const cv = ai & 1 ? corrIm : corrRe;
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
          // Below zSync 3.5 the window cannot reach the detection threshold (~8.5) unless the
          // timecode layer were far stronger than the sync layer, which carries equal power.
          if (!(topZ[wo + ci * TOP + t]! >= SYNC_GATE)) continue;
          const hyp = hyps[topH[wo + ci * TOP + t]!]!;
          const r = fullScore(cands[ci]!, features(hyp, w), w, hyp, topS[wo + ci * TOP + t]!);
          if (!r) continue;
          const cur = best[ci]![wi];
          if (!cur || r.z > cur.z) best[ci]![wi] = { z: r.z, hyp, n0: r.n0, window: wi };
          if (r.z > levelBest[ci]!) levelBest[ci] = r.z;
        }
        const cur = best[ci]![wi];
        // Refine where it can change a decision: hits already far above any threshold keep their
        // coarse alignment here (refineSegment still refines their offsets).
        if (cur && cur.z >= REFINE_GATE && cur.z < REFINE_CEILING) {
          const rf = refine(cands[ci]!, w, cur);
          best[ci]![wi] = rf;
          if (rf.z > levelBest[ci]!) levelBest[ci] = rf.z;
        }
        // Cross-fitted statistics at the found alignment, where they can change a decision.
        const fx = best[ci]![wi];
        if (fx && fx.z >= XFIT_GATE && fx.z < REFINE_CEILING) {
          const f = windowFeatures(fx.hyp, w);
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
      const f = features(hd, w);
      const [ma, mb] = chipRange(w, hd, Tc, f.chips);
      if (mb - ma >= P) {
        foldDirect(f, ma, mb);
        const vSync = foldSpectrum(fold, 0, -1);
        const pairs = syncCorrelations(decoyRe, decoyIm, decoys.length, decoyIndex, decoys.length);
        const invP = 1 / P;
        for (let di = 0; di < decoys.length; di++) {
          const cv = di & 1 ? corrIm : corrRe;
          const col = di >> 1;
          for (let s = 0; s < P; s++) {
            const vs = vSync[s & 1]!;
            if (vs > 0) nullSamples.push((cv[s * pairs + col]! * invP) / Math.sqrt(vs));
          }
        }
        for (let di = 0; di < Math.min(FULL_DECOYS, decoys.length); di++) {
          const z = fixedScore(decoys[di]!.pattern, f, ma, mb, (di % P) + P * ((di * 7919) % (RA * RB)));
          if (z !== undefined) nullSamples.push(z);
        }
      }
    }
    w0 = w1;
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
   * Local search on the fine grid around a coarse hit, on exact features: session offset (at the
   * window centre) in steps of Tc/8 within +-Tc/4 (the coarse phases are Tc/2 or Tc/4 apart), rate
   * in steps of a third of the coarse step. Measured on 5 s clips: a 4 ms misalignment costs ~7% of
   * z, 8 ms ~25%.
   */
  function refine(t: CandidateTables, w: Window, x: Found): Found {
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
        const r = fullScore(t, windowFeatures(hyp, w), w, hyp, ((n0 % P) + P) % P);
        if (r && r.z > top.z) top = { z: r.z, hyp, n0: r.n0, window: x.window };
      }
    }
    return top;
  }

  /**
   * Full statistic at (hyp, shift s), searching the timecode residues.
   *
   * Residue search: for each residue x of group g, the correlation of the window's per-block
   * timecode sums bs[j] (group bands) with the codes of blocks x + j0 + j mod R_g. The codes are
   * +-1, so each block's dot product with a code row is a sum of signed block sums: per block and
   * nibble of four bands, the 16 signed sums are tabulated once and a code row picks one per
   * nibble (4 table reads instead of 16 multiply-adds per block and residue).
   */
  function fullScore(t: CandidateTables, f: TileFeatures, w: Window, hyp: Hypothesis, s: number): { z: number; n0: number } | undefined {
    const [ma, mb] = chipRange(w, hyp, Tc, f.chips);
    if (mb - ma < P) return undefined;
    const pattern = t.pattern;
    const j0 = Math.floor((s + ma) / P);
    const J = Math.floor((s + mb - 1) / P) - j0 + 1;
    // Timecode tiles per block, split by band group (group g holds bands g, g + 2, ...), compact,
    // rows padded to whole nibbles.
    const G = K >> 1;
    const nQ = Math.ceil(G / 4);
    const GP = 4 * nQ;
    if (blockSums0.length < J * GP) {
      blockSums0 = new Float64Array(2 * J * GP);
      blockSums1 = new Float64Array(2 * J * GP);
      nibbleSums = new Float64Array(2 * J * nQ * 16);
    }
    const bs0 = blockSums0;
    const bs1 = blockSums1;
    bs0.fill(0, 0, J * GP);
    bs1.fill(0, 0, J * GP);
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
      const bo = j * GP;
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
    const tab = nibbleSums;
    for (let g = 0; g < 2; g++) {
      const R = profile.blockPeriods[g]!;
      const nib = t.codeNib[g]!;
      const bs = g === 0 ? bs0 : bs1;
      // tab[(j * nQ + q) * 16 + p]: block j's sum over nibble q's bands, band 4q + i negated
      // where bit i of p is set (each entry from one with a bit fewer).
      for (let j = 0; j < J; j++) {
        for (let q = 0; q < nQ; q++) {
          const o = (j * nQ + q) * 16;
          const b = j * GP + 4 * q;
          tab[o] = bs[b]! + bs[b + 1]! + bs[b + 2]! + bs[b + 3]!;
          for (let p = 1; p < 16; p++) {
            const i = 31 - Math.clz32(p & -p);
            tab[o + p] = tab[o + (p & (p - 1))]! - 2 * bs[b + i]!;
          }
        }
      }
      let bv = -Infinity;
      let bx = 0;
      const stride = nQ * 16;
      for (let x = 0; x < R; x++) {
        let acc = 0;
        let idx = (x + j0) % R;
        if (nQ === 4) {
          for (let j = 0, o = 0; j < J; j++, o += stride) {
            const c = idx * 4;
            acc += tab[o + nib[c]!]! + tab[o + 16 + nib[c + 1]!]! + tab[o + 32 + nib[c + 2]!]! + tab[o + 48 + nib[c + 3]!]!;
            if (++idx === R) idx = 0;
          }
        } else {
          for (let j = 0, o = 0; j < J; j++, o += stride) {
            const c = idx * nQ;
            for (let q = 0; q < nQ; q++) acc += tab[o + 16 * q + nib[c + q]!]!;
            if (++idx === R) idx = 0;
          }
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
    const r = f.r;
    const sync = pattern.sync;
    const tcChip = pattern.tcChip;
    const [tcA, tcB] = pattern.tcBlock;
    // The tile signs of pattern.sign(n, k), read from the tables directly (payload bands, zero in
    // leg features, go through pattern.sign).
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const v = n % P;
      const block = Math.floor(n / P);
      const oA = (block % RA) * K;
      const oB = (block % RB) * K;
      const row = m * K;
      const vo = v * K;
      for (let k = 0; k < K; k++) {
        const x = r[row + k]!;
        if (x === 0) continue;
        if (payloadBand[k]) c += x * pattern.sign(n, k);
        else if (((v + k) & 1) === 0) c += x * sync[vo + k]!;
        else c += x * (tcChip[vo + k]! * ((k & 1) === 0 ? tcA[oA + k]! : tcB[oB + k]!));
        if (isSyncTile(v, k)) foldS[vo + k]! += x;
        else vTc += x * x;
      }
    }
    let vSync = 0;
    for (let i = 0; i < foldS.length; i++) vSync += foldS[i]! ** 2;
    const v = vSync + vTc;
    return v > 0 ? c / Math.sqrt(v) : undefined;
  }
}

// Scratch for the detector's timecode search and refineSegment's offset scan (grown on demand;
// detection is single-threaded).
let scoreBuf: Float32Array = new Float32Array(0);
let blockSums0 = new Float64Array(0);
let blockSums1 = new Float64Array(0);
let nibbleSums = new Float64Array(0);

/**
 * Cross-fitted statistics at a fixed alignment (session chip n0 of relative chip 0), for taps
 * where the tapped person's own, unmarked voice fills part of the clip: tiles there carry no mark
 * but count fully in the plain statistic's variance. Per 1.024 s block b, each layer's local
 * evidence (its z over blocks b - 1..b + 1, floored at 0) weights the OTHER layer:
 *   s2t = (z_sync + z_tc|w_sync) / sqrt 2,   t2s = (z_tc + z_sync|w_tc) / sqrt 2,
 * z_tc|w = sum_b w_b c_tc[b] / sqrt(sum_b w_b^2 q_tc[b]) (timecode tiles are independent),
 * z_sync|w = sum_b w_b c_sync[b] / sqrt(fold energy of the weighted sync tiles) (sync tiles of
 * one period position share a sign). Valid because the layers' signs are independent streams:
 * given one layer's signs (hence the weights), the other layer's weighted statistic has mean 0
 * and variance 1 exactly under no mark, and is uncorrelated with the first layer's z, so both
 * combinations are standardized like the plain statistic. (Cross-fitting: the weights never see
 * the signs they weight; cf. Chernozhukov et al. 2018, double/debiased machine learning.)
 * The detector evaluates them only at alignments its plain search found; its p-values count them
 * as STATISTICS x every hypothesis, so the Bonferroni bound holds whichever alignment was chosen.
 * Tile features f over relative chips [ma, mb); n0: session chip of relative chip 0.
 * Returns [s2t, t2s] (the detector takes the larger; [-Infinity, -Infinity] when no block).
 */
export function crossFitScore(pattern: LegPattern, f: TileFeatures, ma: number, mb: number, n0: number): [number, number] {
  const profile = pattern.profile;
  const P = profile.period;
  const K = profile.bands;
  const payloadBand = new Uint8Array(K);
  for (const k of profile.payloadBands) payloadBand[k] = 1;
  const foldS = new Float64Array(P * K);
  const b0 = Math.floor((n0 + ma) / P);
  const B = Math.floor((n0 + mb - 1) / P) - b0 + 1;
  if (B < 1) return [-Infinity, -Infinity];
  const cs = new Float64Array(B);
  const qs = new Float64Array(B);
  const ct = new Float64Array(B);
  const qt = new Float64Array(B);
  const r = f.r;
  // Per block: each layer's correlation and tile energy; and the unweighted sync fold.
  for (let m = ma; m < mb; m++) {
    const n = n0 + m;
    const b = Math.floor(n / P) - b0;
    const row = m * K;
    const vo = (n % P) * K;
    for (let k = 0; k < K; k++) {
      const x = r[row + k]!;
      if (x === 0 || payloadBand[k]) continue;
      const c = x * pattern.sign(n, k);
      if (isSyncTile(n, k)) (cs[b]! += c), (qs[b]! += x * x), (foldS[vo + k]! += x);
      else (ct[b]! += c), (qt[b]! += x * x);
    }
  }
  const foldEnergy = (): number => {
    let e = 0;
    for (let i = 0; i < foldS.length; i++) e += foldS[i]! ** 2;
    return e;
  };
  const vs = foldEnergy();
  const local = (c: Float64Array, q: Float64Array): Float64Array =>
    Float64Array.from(c, (_, b) => {
      let a = 0;
      let e = 0;
      for (let j = Math.max(0, b - XFIT_HALF); j <= Math.min(B - 1, b + XFIT_HALF); j++) (a += c[j]!), (e += q[j]!);
      return e > 0 ? Math.max(0, a / Math.sqrt(e)) : 0;
    });
  // Fold energy of the sync tiles, each weighted by its block's weight.
  const weightedFoldEnergy = (w: Float64Array): number => {
    foldS.fill(0);
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const wb = w[Math.floor(n / P) - b0]!;
      if (wb === 0) continue;
      const row = m * K;
      const vo = (n % P) * K;
      for (let k = 0; k < K; k++) if (!payloadBand[k] && isSyncTile(n, k)) foldS[vo + k]! += wb * r[row + k]!;
    }
    return foldEnergy();
  };
  const sum = (a: Float64Array): number => a.reduce((x, y) => x + y, 0);
  const vt = sum(qt);
  const zs = vs > 0 ? sum(cs) / Math.sqrt(vs) : 0;
  const zt = vt > 0 ? sum(ct) / Math.sqrt(vt) : 0;
  const ws = local(cs, qs);
  const wt = local(ct, qt);
  let a = 0;
  let e = 0;
  for (let b = 0; b < B; b++) (a += ws[b]! * ct[b]!), (e += ws[b]! ** 2 * qt[b]!);
  const s2t = (zs + (e > 0 ? a / Math.sqrt(e) : 0)) / Math.SQRT2;
  a = 0;
  for (let b = 0; b < B; b++) a += wt[b]! * cs[b]!;
  const vsw = weightedFoldEnergy(wt);
  const t2s = (zt + (vsw > 0 ? a / Math.sqrt(vsw) : 0)) / Math.SQRT2;
  return [s2t, t2s];
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
  const phases = D <= SHORT_CLIP_SEC ? COARSE_PHASES_SHORT : COARSE_PHASES_LONG;
  let len = len0;
  for (let level = 0; ; level++) {
    const hop = len === D ? len : len / 2;
    const hyps = hypothesisGrid(step0 * 2 ** level, Tc, speedRange, tempoRange, phases.map((x) => x * Tc));
    for (let a = 0; a + len <= D + 1e-9; a += hop) {
      out.push({ startSec: a, endSec: Math.min(D, a + len), level, hyps, step: step0 * 2 ** level, phases: phases.length });
      if (hop === len && a + len >= D) break;
    }
    // A last window flush with the end, so the tail is covered at this level.
    const last = out[out.length - 1]!;
    if (last.endSec < D - 0.25 * len) out.push({ startSec: D - len, endSec: D, level, hyps, step: step0 * 2 ** level, phases: phases.length });
    const next = len / 2;
    if (next < minWin) break;
    len = next;
  }
  return out;
}

/** Time-scale grid 1 + i * step over the speed and tempo ranges, two chip phases each by default (also used by the payload decoder). */
export function hypothesisGrid(step: number, Tc: number, speedRange: readonly [number, number], tempoRange: readonly [number, number], phases: readonly number[] = [0, Tc / 2]): HypRecord[] {
  const lo = Math.min(speedRange[0], tempoRange[0]);
  const hi = Math.max(speedRange[1], tempoRange[1]);
  const out: HypRecord[] = [];
  const iLo = Math.ceil((lo - 1) / step - 1e-9);
  const iHi = Math.floor((hi - 1) / step + 1e-9);
  for (let i = iLo; i <= iHi; i++) {
    const rate = 1 + i * step;
    for (const phaseSec of phases) {
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
  const P = profile.period;
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
    const h: Hypothesis = { rate: r, freqScale: hyp.kind === 'speed' ? r : 1, phaseSec: phase };
    scoreBuf = featureBuffer(scoreBuf, chipCount(analysis, h, profile), K);
    // Features in a reused buffer: each is read once, right here.
    const f = tileFeatures(analysis, h, profile, [w.startSec, w.endSec], 'leg', scoreBuf);
    const [ma, mb] = chipRange(w, { rate: r, freqScale: 1, phaseSec: phase }, Tc, f.chips);
    const { c, q } = correlateTiles(f, (n, k) => pattern.sign(n, k), n0, ma, mb);
    return q > 0 ? c / Math.sqrt(q) : 0;
  };
  const tauMid0 = tau0 + rate * mid;
  const rateStep = Math.min(0.002, (0.75 * Tc) / Math.max(1, w.endSec - w.startSec));
  // Rate steps i (rate + i rateStep): the nominal rate gets the full offset scan, the others only
  // around the best offset so far (the offset at the window centre hardly depends on the rate).
  // While the best rate is the outermost one tried, the search goes on outwards (a short window's
  // coarse rate grid is wide); the rate is then interpolated between the best step's neighbours.
  const tried = new Map<number, { z: number; tau: number }>();
  let bestTau = tauMid0;
  const tryRate = (i: number): void => {
    const r = rate + i * rateStep;
    const centre = i === 0 ? tauMid0 : bestTau;
    const steps = i === 0 ? [-4, -3, -2, -1, 0, 1, 2, 3, 4] : [-1, 0, 1];
    const zs = steps.map((d) => scoreAt(r, centre + (d * Tc) / 8));
    let bi = 0;
    for (let j = 1; j < zs.length; j++) if (zs[j]! > zs[bi]!) bi = j;
    tried.set(i, { z: zs[bi]!, tau: centre + ((steps[bi]! + parabolicPeak(zs, bi)) * Tc) / 8 });
  };
  const bestStep = (): number => {
    let bi = 0;
    for (const [i, v] of tried) if (v.z > tried.get(bi)!.z) bi = i;
    return bi;
  };
  tryRate(0);
  tryRate(-1);
  bestTau = tried.get(0)!.tau;
  tryRate(1);
  const MAX_RATE_STEPS = 5;
  for (let bi = bestStep(); Math.abs(bi) < MAX_RATE_STEPS && !tried.has(bi + Math.sign(bi)); bi = bestStep()) {
    bestTau = tried.get(bi)!.tau;
    tryRate(bi + Math.sign(bi));
  }
  const bi = bestStep();
  let frac = 0;
  if (tried.has(bi - 1) && tried.has(bi + 1)) frac = parabolicPeak([tried.get(bi - 1)!.z, tried.get(bi)!.z, tried.get(bi + 1)!.z], 1);
  rate += (bi + frac) * rateStep;
  tau0 = tried.get(bi)!.tau - rate * mid;

  // Boundaries: per-chip contributions along the clip at the refined alignment; the segment is
  // the maximum-sum run of (e_m - mu / 2), mu = mean contribution inside the window.
  const phase = (((-tau0 % Tc) + Tc) % Tc);
  let n0 = Math.round((tau0 + phase) / Tc);
  const span = w.endSec - w.startSec;
  const f = tileFeatures(analysis, { rate, freqScale: hyp.kind === 'speed' ? rate : 1, phaseSec: phase }, profile, [w.startSec - span, w.endSec + span]);
  const [ma, mb] = chipRange(w, { rate, freqScale: 1, phaseSec: phase }, Tc, f.chips);
  const boundaries = (n0: number): [number, number] => {
    const e = new Float64Array(f.chips);
    for (let m = 0; m < f.chips; m++) {
      let c = 0;
      for (let k = 0; k < K; k++) {
        const v = f.r[m * K + k]!;
        if (v !== 0) c += v * pattern.sign(n0 + m, k);
      }
      e[m] = c;
    }
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
    return [startChip, endChip];
  };
  let [startChip, endChip] = boundaries(n0);
  // Block: decoded again at the refined alignment over the whole analysed range, chips and bands
  // weighted by the sync pilot (lib/mark/timecode.ts); the window's own decode (fullScore) read the
  // window unweighted at the coarse alignment. A changed block moves the boundaries' timecode
  // tiles, so they are recomputed.
  const s = ((n0 % P) + P) % P;
  const [lo, hi] = chipRange({ startSec: w.startSec - span, endSec: w.endSec + span }, { rate, freqScale: 1, phaseSec: phase }, Tc, f.chips);
  const fp = profile.payloadBands.length > 0 ? tileFeatures(analysis, { rate, freqScale: hyp.kind === 'speed' ? rate : 1, phaseSec: phase }, profile, [w.startSec - span, w.endSec + span], 'payload') : undefined;
  const dec = decodeTimecode(f, pattern, s, startChip, endChip, lo, hi, fp);
  let evidence: TimecodeEvidence | undefined;
  let timecodeConf = 0;
  if (dec) {
    const n1 = dec.block * P + s;
    if (n1 !== n0) {
      tau0 += (n1 - n0) * Tc;
      n0 = n1;
      [startChip, endChip] = boundaries(n0);
    }
    evidence = dec.evidence;
    timecodeConf = dec.confidence;
  }
  const startSec = Math.max(0, (phase + startChip * Tc) / rate);
  const endSec = Math.min(D, (phase + endChip * Tc) / rate);
  const off = tau0 + rate * startSec;
  const seg: MarkSegment = { startSec, endSec, sessionOffsetSec: ((off % cycle) + cycle) % cycle, z: x.z, pValue, timecodeConfidence: timecodeConf };
  if (evidence) segmentTimecode.set(seg, { evidence, rate, profile, rangeSec: [Math.max(0, w.startSec - span), Math.min(D, w.endSec + span)] });
  return seg;
}

/** Offset (in steps, within +-0.5) of the parabola's peak through zs[i - 1], zs[i], zs[i + 1]; 0 at an edge or without a peak. */
function parabolicPeak(zs: readonly number[], i: number): number {
  if (i <= 0 || i >= zs.length - 1) return 0;
  const a = zs[i - 1]!;
  const b = zs[i]!;
  const c = zs[i + 1]!;
  const den = a - 2 * b + c;
  return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
}

/** Timecode evidence and refined rate of each segment refineSegment made (read by mergeSegments). */
const segmentTimecode = new WeakMap<MarkSegment, { evidence: TimecodeEvidence; rate: number; profile: MarkProfile; rangeSec: [number, number] }>();

/**
 * Timeline consistency between the segments of one leg (windows of one clip), before merging.
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
 * Each segment's evidence reads its window's whole analysed range (timecode.ts), and the ranges of
 * neighbouring windows overlap: a joining segment's log-likelihoods are added in proportion to
 * the part of its range the timeline has not read yet, so shared tiles are not counted twice.
 */
function reconcileTimelines(segs: MarkSegment[]): void {
  const withTc = segs.filter((s) => segmentTimecode.has(s));
  if (withTc.length < 2) return;
  const profile = segmentTimecode.get(withTc[0]!)!.profile;
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
  for (const seg of withTc.sort((a, b) => b.z - a.z)) {
    const { evidence, rate, rangeSec } = segmentTimecode.get(seg)!;
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
      const off = m.seg.sessionOffsetSec + shift * Tb;
      m.seg.sessionOffsetSec = ((off % cycle) + cycle) % cycle;
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
function mergeSegments(segs: MarkSegment[], rate: number): MarkSegment[] {
  reconcileTimelines(segs);
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
