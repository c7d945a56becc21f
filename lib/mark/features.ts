/**
 * Detector front end: per-tile log band energies of a clip under a time-scale / frequency-scale /
 * chip-phase hypothesis, detrended and normalized so that the mark's +-d per tile stands out from
 * the speech envelope.
 *
 * The clip is analysed at 16 kHz with a 32 ms Hann STFT at an 8 ms hop; band energies per STFT
 * frame are accumulated so a chip's energy under any hypothesis is a difference of cumulative sums.
 * Hypothesis (rate, freqScale, phaseSec): session time = tau0 + rate * clipTime; relative chip m
 * covers clip time [(phase + m Tc) / rate, (phase + (m + 1) Tc) / rate); session bands appear at
 * freqScale x their nominal frequencies (replay speed scales both, tempo change only time).
 *
 * Residual (why): speech log-energy varies by tens of dB between tiles; the mark is a fraction of
 * a dB. Subtracting the mean of the four neighbouring tiles (time +-1 chip, band +-1; measured better than time-only, band-only, 8-neighbour or
 * separable second-difference detrending) removes most
 * of the envelope while the neighbours' independent signs leave the tile's own mark intact.
 * Tiles far below the band's or the clip's typical level (silence, bands a codec removed) are
 * dropped; each band is scaled to unit RMS and clipped at +-3 so no band or transient dominates,
 * then each tile is weighted by its band and estimated masking boost (a learned table of the
 * mark's mean over the host's variance per band and boost bin, see tileFeatures and
 * lib/mark/tile-weights.ts) and each band is centered on its mean (see centerBands).
 */
import { powerSpectrogram } from '../dsp/stft.js';
import { resample } from '../dsp/resample.js';
import type { Arena } from './arena.js';
import { PROFILE_V1 } from './pattern.js';
import type { MarkProfile } from './pattern.js';
import { LEG_TILE_WEIGHTS } from './tile-weights.js';

export const ANALYSIS_RATE = 16000;
const FRAME = 512;
const HOP = 128;
/** Tile weighting (see tileFeatures): cap of the estimated masking boost (weight = boost^0.5), the masking memory. */
const BOOST_CAP = 16;
const MASK_RELEASE_SEC = 0.1;
/** Boost bins of the learned tile weights: floor(log2(boost^2)), 0..WEIGHT_BINS - 1 (the last open-ended). */
export const WEIGHT_BINS = 12;

/**
 * Bin of a tile's estimated masking boost, from boost^2 = peak / density (>= 1 for a valid tile):
 * floor(log2), capped at WEIGHT_BINS - 1.
 */
export function boostBin(boost2: number): number {
  return boost2 >= 1 << (WEIGHT_BINS - 1) ? WEIGHT_BINS - 1 : boost2 >= 1 ? 31 - Math.clz32(boost2) : 0;
}

/**
 * Tile weighting of one layer: a table (band x boost bin, see tile-weights.ts) or null for the
 * closed-form weight boost^0.5 (capped at BOOST_CAP).
 */
export type WeightTable = Float64Array | null;

/** Weight of a tile of band k with boost^2 = peak / density: the table's entry, or the closed form boost^0.5 capped at BOOST_CAP. */
function tileWeight(table: WeightTable, k: number, boost2: number): number {
  if (table) return table[k * WEIGHT_BINS + boostBin(boost2)]!;
  const cap2 = BOOST_CAP * BOOST_CAP;
  return Math.sqrt(Math.sqrt(boost2 < cap2 ? boost2 : cap2));
}

/** The weights the detector uses: the learned table for the v1 profile's leg layer, the closed form otherwise. */
export function weightTable(profile: MarkProfile, layer: 'leg' | 'payload'): WeightTable {
  return layer === 'leg' && profile === PROFILE_V1 ? LEG_TILE_WEIGHTS : null;
}

/** Options of tileFeatures for training the weights (models/train-tile-weights.ts). */
export interface TileFeatureOptions {
  /** Override the weighting (a table of ones gives the plain normalized residual). */
  weights?: WeightTable;
  /** Receives every computed tile's boost bin (chips x bands; 255 where no residual). */
  bins?: Uint8Array;
}

export interface BandAnalysis {
  readonly durationSec: number;
  readonly frames: number;
  /** Cumulative band energy over STFT frames, frame-major ((frames + 1) x bands), per frequency scale (cached at 1% steps). */
  bandCumulative(freqScale: number): Float64Array;
  /** Compute the band energies of several frequency scales in one pass over the frames (then cached). */
  prepareScales(freqScales: readonly number[]): void;
  /** Per-band activity thresholds for chip energies (computed once, at the nominal scale). */
  thresholds(): Float64Array;
  /** Where this analysis and the grids and tile features built on it take their arrays (detect.ts, long clips); none: fresh arrays. */
  readonly arena?: Arena;
}

export interface TileFeatures {
  /** Chips x bands, row-major; 0 for dropped tiles. */
  readonly r: Float32Array;
  readonly chips: number;
  readonly bands: number;
}

export interface Hypothesis {
  rate: number;
  freqScale: number;
  phaseSec: number;
}

/** Analyse a mono clip once; band energies for any frequency scale follow from it. */
export function analyzeClip(samples: Float32Array, sampleRate: number, profile: MarkProfile, arena?: Arena): BandAnalysis {
  const x = sampleRate === ANALYSIS_RATE ? samples : resample(samples, sampleRate, ANALYSIS_RATE);
  const spec = powerSpectrogram(x, ANALYSIS_RATE, { frameSize: FRAME, hopSamples: HOP, ...(arena ? { alloc: (n: number) => arena.f32(n) } : {}) });
  const { frames, bins, power } = spec;
  const binHz = ANALYSIS_RATE / FRAME;
  const cache = new Map<number, Float64Array>();
  let thresholdCache: Float64Array | undefined;
  const K = profile.bands;
  return {
    ...(arena ? { arena } : {}),
    durationSec: x.length / ANALYSIS_RATE,
    frames,
    bandCumulative(freqScaleRaw: number): Float64Array {
      // Bands are >= 10% wide, so 1% steps in frequency scale lose little (<= 0.5% misplacement).
      const keyQ = Math.round(freqScaleRaw * 100);
      const hit = cache.get(keyQ);
      if (hit) return hit;
      this.prepareScales([freqScaleRaw]);
      return cache.get(keyQ)!;
    },
    prepareScales(freqScalesRaw: readonly number[]): void {
      const keys = [...new Set(freqScalesRaw.map((x) => Math.round(x * 100)))].filter((q) => !cache.has(q));
      if (keys.length === 0) return;
      const S = keys.length;
      // Per scale and band: the first and last overlapping bins with their fractional weights
      // (overlap of bin [(i - 0.5), (i + 0.5)) * binHz with the band); the bins between have
      // weight 1 and are read as a difference of the frame's running sum over bins.
      const first = new Int32Array(S * K).fill(-1);
      const last = new Int32Array(S * K);
      const wFirst = new Float64Array(S * K);
      const wLast = new Float64Array(S * K);
      let topBin = 0;
      for (let si = 0; si < S; si++) {
        const freqScale = keys[si]! / 100;
        for (let k = 0; k < K; k++) {
          const lo = profile.bandEdgesHz[k]! * freqScale;
          const hi = profile.bandEdgesHz[k + 1]! * freqScale;
          const o = si * K + k;
          for (let i = Math.max(0, Math.floor(lo / binHz) - 1); i <= Math.min(bins - 1, Math.ceil(hi / binHz) + 1); i++) {
            const a = Math.max(lo, (i - 0.5) * binHz);
            const b = Math.min(hi, (i + 0.5) * binHz);
            if (!(b > a)) continue;
            const w = (b - a) / binHz;
            if (first[o]! < 0) {
              first[o] = i;
              wFirst[o] = w;
            } else {
              if (last[o]! > first[o]! && Math.abs(wLast[o]! - 1) > 1e-12) throw new Error('bandCumulative: interior bin weight is not 1');
              last[o] = i;
              wLast[o] = w;
            }
            topBin = Math.max(topBin, i);
          }
          if (last[o]! <= first[o]!) (last[o] = first[o]!), (wLast[o] = 0);
        }
      }
      const outs = keys.map(() => (arena ? arena.f64((frames + 1) * K) : new Float64Array((frames + 1) * K)));
      // One pass over the frames for every scale: the running sum over the frame's bins (entry i =
      // sum of bins < i) is built once per frame.
      const bc = new Float64Array(topBin + 2);
      for (let f = 0; f < frames; f++) {
        const row = f * bins;
        const o = f * K;
        let run = 0;
        for (let i = 0; i <= topBin; i++) {
          run += power[row + i]!;
          bc[i + 1] = run;
        }
        for (let si = 0; si < S; si++) {
          const out = outs[si]!;
          const so = si * K;
          for (let k = 0; k < K; k++) {
            const i0 = first[so + k]!;
            let e = 0;
            if (i0 >= 0) {
              const i1 = last[so + k]!;
              e = wFirst[so + k]! * power[row + i0]!;
              if (i1 > i0) e += bc[i1]! - bc[i0 + 1]! + wLast[so + k]! * power[row + i1]!;
            }
            out[o + K + k] = out[o + k]! + e;
          }
        }
      }
      for (let si = 0; si < S; si++) cache.set(keys[si]!, outs[si]!);
    },
    thresholds(): Float64Array {
      if (thresholdCache) return thresholdCache;
      // Chip-sized (4-frame, 32 ms) energies at the nominal scale; thresholds 30 dB under the band's
      // 90th percentile and 45 dB under the loudest band's.
      const cums = this.bandCumulative(1);
      const span = 4;
      const p90 = new Float64Array(K);
      const n = Math.max(0, Math.floor(frames / span));
      const col = new Float64Array(n);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < n; i++) col[i] = cums[(i + 1) * span * K + k]! - cums[i * span * K + k]!;
        col.sort();
        p90[k] = n > 0 ? col[Math.min(n - 1, Math.floor(0.9 * n))]! : 0;
      }
      let g90 = 0;
      for (let k = 0; k < K; k++) g90 = Math.max(g90, p90[k]!);
      const thr = new Float64Array(K);
      for (let k = 0; k < K; k++) thr[k] = Math.max(p90[k]! * 1e-3, g90 * 10 ** -4.5, 1e-12);
      thresholdCache = thr;
      return thr;
    },
  };
}

/** Number of relative chips under a hypothesis. */
export function chipCount(analysis: BandAnalysis, hyp: Hypothesis, profile: MarkProfile): number {
  return Math.max(0, Math.floor((analysis.durationSec * hyp.rate - hyp.phaseSec) / profile.chipSec));
}

// Scratch for tileFeatures (grown on demand; the detector is single-threaded and not re-entrant).
let boundA = new Float64Array(0);
let boundB = new Float64Array(0);
let ringLog = new Float64Array(0);
let ringDensity = new Float64Array(0);
let ringValid = new Float64Array(0);
let scratchWeight = new Float64Array(0);

/**
 * Detrended, normalized tile features under one hypothesis. `layer`: 'leg' (default) zeroes the
 * payload bands, which carry the key-level payload rather than a leg's own pattern; 'payload'
 * keeps every band (the blind payload decoder reads the payload bands).
 *
 * Implementation (speed; the detector calls this for every hypothesis): one streaming pass over
 * the chip boundaries computes each chip's energies, logs and masking peak into a three-row ring
 * (chipEnergies), and, once the next chip is known, the previous chip's residual and weight
 * (chipResidual); a second pass applies the per-band scale, which needs the whole range
 * (scaleAndWeight). Every tile goes through the same floating-point operations in the same order
 * as the plain form (energies, then residuals, then scale and weights), so the features are
 * bit-identical to it.
 */
export function tileFeatures(analysis: BandAnalysis, hyp: Hypothesis, profile: MarkProfile, clipRangeSec?: readonly [number, number], layer: 'leg' | 'payload' = 'leg', out?: Float32Array, opts?: TileFeatureOptions): TileFeatures {
  const K = profile.bands;
  const M = chipCount(analysis, hyp, profile);
  const table = opts?.weights !== undefined ? opts.weights : weightTable(profile, layer);
  const bins = opts?.bins;
  if (bins) bins.fill(255, 0, M * K);
  // Optional clip-time range: only chips inside it (plus one each side for detrending) are computed.
  let mLo = 0;
  let mHi = M;
  if (clipRangeSec) {
    mLo = Math.max(0, Math.floor((hyp.rate * clipRangeSec[0] - hyp.phaseSec) / profile.chipSec) - 1);
    mHi = Math.min(M, Math.ceil((hyp.rate * clipRangeSec[1] - hyp.phaseSec) / profile.chipSec) + 1);
  }
  // `out` (a caller's reusable buffer of at least M x K) is zeroed first, as a new array would be.
  const r = out && out.length >= M * K ? out.subarray(0, M * K).fill(0) : analysis.arena ? analysis.arena.f32(M * K) : new Float32Array(M * K);
  const n = mHi - mLo;
  if (n <= 0) return { r, chips: M, bands: K };
  const cums = analysis.bandCumulative(hyp.freqScale);
  const Tc = profile.chipSec;
  const nF = analysis.frames;
  // Chip energies scale with chip length; thresholds were taken at 4 frames (32 ms).
  const thrBase = analysis.thresholds();
  const scale = Tc / hyp.rate / ((4 * HOP) / ANALYSIS_RATE);
  const thr = new Float64Array(K);
  for (let k = 0; k < K; k++) thr[k] = thrBase[k]! * scale;
  if (boundA.length < K) {
    boundA = new Float64Array(K);
    boundB = new Float64Array(K);
    ringLog = new Float64Array(3 * K);
    ringDensity = new Float64Array(3 * K);
    ringValid = new Float64Array(3 * K);
  }
  if (scratchWeight.length < n * K) scratchWeight = new Float64Array(2 * n * K);
  // Log energy, energy per Hz and validity (1/0) of three consecutive chips in a ring of rows
  // (chip mLo + j in row j mod 3); a row outside [mLo, mHi) is all invalid. Invalid tiles hold 0
  // in all three, so neighbour sums need no branches.
  ringLog.fill(0);
  ringDensity.fill(0);
  ringValid.fill(0);
  // Bands whose residual is kept ('leg' drops the payload bands; they still serve as neighbours
  // and in the masking peak).
  const keep = new Float64Array(K).fill(1);
  if (layer === 'leg') for (const k of profile.payloadBands) keep[k] = 0;
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  // Tile weight: the embedder's masking boost, estimated from the received chip -- a tile's
  // relative mark grows with how far its band lies below the chip's loudest band (per Hz, with
  // the embedder's 0.1 s forward-masking memory), capped at 16 (the embedder's cap is 128). Weight =
  // boost^0.5, applied after normalization; the statistic stays self-normalized and the weights
  // depend on energies only, never on a leg's signs. Measured (benchmarks/work/ab5-run.ts, 144
  // clips, 5-30 s): median z +5-12% (clean 11.9 -> 12.9, AMR-NB 12.2k 9.7 -> 10.4); a weight cap
  // of 128 instead of 16 lost AMR-NB detections.
  // Linear form (square roots instead of exp/log per tile): boost^2 = peak / density, capped at
  // 16^2, weight = boost^0.5 = (boost^2)^(1/4). That closed form remains for the payload layer;
  // the leg layer of PROFILE_V1 weights each tile by a learned table of band x boost bin
  // (weightTable; w = mu / sigma^2, the matched filter, trained by models/train-tile-weights.ts).
  const invBw = new Float64Array(K);
  for (let k = 0; k < K; k++) invBw[k] = 1 / (profile.bandEdgesHz[k + 1]! - profile.bandEdgesHz[k]!);
  const decay = Math.exp(-Tc / hyp.rate / MASK_RELEASE_SEC);
  const peaks = new Float64Array(3);
  let peakMem = 0;

  // Cumulative band energy at chip boundaries (chip m spans boundaries m and m + 1), linearly
  // interpolated between frames; a chip's energy is the difference of its two boundaries.
  // Frame f's centre is at (f * HOP + FRAME / 2) / rate; frames with centres in [ta, tb) count.
  let prev = boundA;
  let cur = boundB;
  for (let j = 0; j <= n + 1; j++) {
    // Chip j - 1 (ring row (j + 2) mod 3) gets its energies; chip j - 2 then has both time
    // neighbours and gets its residual. (j = n + 1: chip n is outside the range, all invalid.)
    const qNew = (j + 2) % 3;
    if (j <= n) {
      const t = (hyp.phaseSec + (mLo + j) * Tc) / hyp.rate;
      const pos = (t * ANALYSIS_RATE - FRAME / 2) / HOP + 0.5;
      if (pos <= 0) {
        for (let k = 0; k < K; k++) cur[k] = cums[k]!;
      } else if (pos >= nF) {
        const a = nF * K;
        for (let k = 0; k < K; k++) cur[k] = cums[a + k]!;
      } else {
        const i = Math.floor(pos);
        interpolateRow(cums, i * K, pos - i, cur, K);
      }
      if (j > 0) {
        peakMem = chipEnergies(cur, prev, thr, invBw, qNew * K, K, peakMem * decay);
        peaks[qNew] = peakMem;
      }
      const sw = prev;
      prev = cur;
      cur = sw;
    } else {
      ringLog.fill(0, qNew * K, qNew * K + K);
      ringDensity.fill(0, qNew * K, qNew * K + K);
      ringValid.fill(0, qNew * K, qNew * K + K);
    }
    if (j < 2) continue;
    const qc = (j + 1) % 3;
    chipResidual(r, (mLo + j - 2) * K, scratchWeight, (j - 2) * K, qc * K, (j % 3) * K, qNew * K, K, keep, peaks[qc]!, sumSq, cnt, table, bins);
  }

  // Per-band scale to unit RMS, clip at +-3, then the weight.
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = cnt[k]! > 0 && sumSq[k]! > 0 ? 1 / Math.sqrt(sumSq[k]! / cnt[k]!) : 0;
  scaleAndWeight(r, mLo * K, scratchWeight, n, K, inv);
  centerBands(r, mLo * K, n, K);
  return { r, chips: M, bands: K };
}

/**
 * Subtract each band's mean over its kept (non-zero) tiles of rows [ro / K, ro / K + n).
 * Why: the residual (log energy minus its neighbours' mean) keeps a per-band offset wherever the
 * spectral envelope is curved (and ERB bands widen with frequency), so every band carries a
 * constant that the sync layer's fold over the 1.024 s period adds up coherently: on speech the
 * fold energy (the sync correlation's exact variance under random signs) was 2-3x the tile energy
 * and the sync layer's z about 60% of the timecode layer's. Centering removes that constant; the
 * features remain a function of the audio alone (never of a leg's signs), so the statistic's null
 * distribution is unchanged. Measured at the true alignment (benchmarks/work/xfit-probe.ts, tap
 * through AMR-NB 7.95k -> AAC 64k, 41-69 s clips): median z 7.7 -> 11.0, minimum 4.0 -> 6.4.
 */
function centerBands(r: Float32Array, ro: number, n: number, K: number): void {
  const sum = new Float64Array(K);
  const cnt = new Float64Array(K);
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    for (let k = 0; k < K; k++) {
      const v = r[o + k]!;
      if (v !== 0) (sum[k]! += v), (cnt[k]! += 1);
    }
  }
  for (let k = 0; k < K; k++) sum[k] = cnt[k]! > 0 ? sum[k]! / cnt[k]! : 0;
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    for (let k = 0; k < K; k++) if (r[o + k] !== 0) r[o + k] = r[o + k]! - sum[k]!;
  }
}

/** out[k] = cums[a + k] + fr * (cums[a + K + k] - cums[a + k]): cumulative energies at a boundary. */
function interpolateRow(cums: Float64Array, a: number, fr: number, out: Float64Array, K: number): void {
  const b = a + K;
  for (let k = 0; k < K; k++) out[k] = cums[a + k]! + fr * (cums[b + k]! - cums[a + k]!);
}

/**
 * Energies of one chip (cur - prev per band) into ring row q: validity (above the band's
 * threshold), log energy and energy per Hz (0 when invalid). Returns the chip's masking peak: the
 * loudest valid band per Hz, or `peak` (the decayed memory) if larger.
 */
function chipEnergies(cur: Float64Array, prev: Float64Array, thr: Float64Array, invBw: Float64Array, q: number, K: number, peak: number): number {
  const logE = ringLog;
  const density = ringDensity;
  const valid = ringValid;
  for (let k = 0; k < K; k++) {
    const v = cur[k]! - prev[k]!;
    if (v > thr[k]!) {
      valid[q + k] = 1;
      logE[q + k] = Math.log(v);
      const d = v * invBw[k]!;
      density[q + k] = d;
      if (d > peak) peak = d;
    } else {
      valid[q + k] = 0;
      logE[q + k] = 0;
      density[q + k] = 0;
    }
  }
  return peak;
}

/**
 * Residual of the chip in ring row c0 (neighbours in time: rows cm and cp) into r[ro + k]: log
 * energy minus the mean of its valid neighbours (time -1, time +1, band -1, band +1, summed in
 * that order), kept when at least three are valid; per-band sums for the scale; and the tile's
 * weight into wgt[wo + k].
 */
function chipResidual(r: Float32Array, ro: number, wgt: Float64Array, wo: number, c0: number, cm: number, cp: number, K: number, keep: Float64Array, peak: number, sumSq: Float64Array, cnt: Float64Array, table: WeightTable, bins: Uint8Array | undefined): void {
  const logE = ringLog;
  const density = ringDensity;
  const valid = ringValid;
  for (let k = 0; k < K; k++) {
    if (valid[c0 + k] === 0 || keep[k] === 0) continue;
    // Invalid neighbours hold 0 (log and validity), so the sums need no branches.
    let s = logE[cm + k]! + logE[cp + k]!;
    let c = valid[cm + k]! + valid[cp + k]!;
    if (k > 0) (s += logE[c0 + k - 1]!), (c += valid[c0 + k - 1]!);
    if (k + 1 < K) (s += logE[c0 + k + 1]!), (c += valid[c0 + k + 1]!);
    if (c < 3) continue;
    const v = logE[c0 + k]! - s / c;
    r[ro + k] = v;
    sumSq[k]! += v * v;
    cnt[k]! += 1;
    const w = peak / density[c0 + k]!;
    wgt[wo + k] = tileWeight(table, k, w);
    if (bins) bins[ro + k] = boostBin(w);
  }
}

/** r = clip(r * inv[band], +-3) * weight over n chips from r[ro] (weights from wgt[0]). */
function scaleAndWeight(r: Float32Array, ro: number, wgt: Float64Array, n: number, K: number, inv: Float64Array): void {
  for (let j = 0; j < n; j++) {
    const o = ro + j * K;
    const wo = j * K;
    for (let k = 0; k < K; k++) {
      const v = r[o + k]! * inv[k]!;
      if (v === 0) continue;
      const x = v > 3 ? 3 : v < -3 ? -3 : v;
      r[o + k] = x * wgt[wo + k]!;
    }
  }
}

/**
 * Correlation of tile features with a leg's signs over chips [ma, mb), chip m being session chip
 * n0 + m: c = Σ r·sign, q = Σ r² (c's variance under no mark). Shared by the detector's offset
 * refinement and the follow-up range scores (track.ts).
 */
export function correlateTiles(f: TileFeatures, sign: (n: number, k: number) => number, n0: number, ma: number, mb: number): { c: number; q: number } {
  const K = f.bands;
  let c = 0;
  let q = 0;
  for (let m = ma; m < mb; m++) {
    for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]!;
      if (v === 0) continue;
      c += v * sign(n0 + m, k);
      q += v * v;
    }
  }
  return { c, q };
}

/**
 * Tile features on the STFT frame grid: row i is the tile of the four frames [i, i + 4) (one chip,
 * 32 ms, at nominal rate) starting at every frame, so chips of any time-scale hypothesis can be
 * read as the nearest row instead of being recomputed (see gatherFeatures). Same detrending, floor,
 * per-band scale, clip and weight as tileFeatures, with the time neighbours one chip away (rows
 * i - 4 and i + 4), the masking memory chained chip by chip (row i - 4), and the per-band scale
 * over the whole clip.
 */
export interface FeatureGrid {
  /** Rows x bands, row-major; 0 for dropped tiles. */
  readonly r: Float32Array;
  readonly rows: number;
  readonly bands: number;
  readonly freqScale: number;
}

/** Frames per grid tile (32 ms chips at the 8 ms hop). */
const GRID_SPAN = 4;

let gridLogE = new Float64Array(0);
let gridValid = new Float64Array(0);
let gridDensity = new Float64Array(0);
let gridWeight = new Float64Array(0);

export function featureGrid(analysis: BandAnalysis, freqScale: number, profile: MarkProfile, layer: 'leg' | 'payload' = 'leg'): FeatureGrid {
  const K = profile.bands;
  const span = GRID_SPAN;
  if (Math.abs(profile.chipSec - (span * HOP) / ANALYSIS_RATE) > 1e-9) throw new Error('featureGrid: chip length is not four STFT hops');
  const rows = Math.max(0, analysis.frames - span + 1);
  const r = analysis.arena ? analysis.arena.f32(rows * K) : new Float32Array(rows * K);
  const grid = { r, rows, bands: K, freqScale: Math.round(freqScale * 100) / 100 };
  if (rows === 0) return grid;
  const cums = analysis.bandCumulative(freqScale);
  const thr = analysis.thresholds();
  const invBw = new Float64Array(K);
  for (let k = 0; k < K; k++) invBw[k] = 1 / (profile.bandEdgesHz[k + 1]! - profile.bandEdgesHz[k]!);
  // Energies: log, per Hz and validity per tile (invalid tiles hold 0 in all three), in padded
  // rows (W = K + 2 columns, band k at column k + 1; `span` empty rows before and after) so the
  // neighbour sums need no edge cases.
  const W = K + 2;
  // Scratch reused across grids and scans (grown on demand; detection is single-threaded).
  const padded = (rows + 2 * span) * W;
  if (gridLogE.length < padded) {
    gridLogE = new Float64Array(padded);
    gridValid = new Float64Array(padded);
  }
  if (gridDensity.length < rows * K) {
    gridDensity = new Float64Array(rows * K);
    gridWeight = new Float64Array(rows * K);
  }
  const logE = gridLogE;
  const valid = gridValid;
  logE.fill(0, 0, padded);
  valid.fill(0, 0, padded);
  // Read only where this grid wrote them (valid, kept tiles).
  const density = gridDensity;
  const peak = gridEnergies(cums, thr, invBw, logE, valid, density, rows, K, span, Math.exp(-profile.chipSec / MASK_RELEASE_SEC));
  const keep = new Uint8Array(K).fill(1);
  if (layer === 'leg') for (const k of profile.payloadBands) keep[k] = 0;
  gridResiduals(r, logE, valid, density, gridWeight, peak, keep, rows, K, span, weightTable(profile, layer));
  centerBands(r, 0, rows, K);
  return grid;
}

/**
 * featureGrid, first pass: per grid row and band the log energy and validity (padded rows of
 * K + 2 columns) and the energy per Hz; returns the masking peak per row. (Separate functions so
 * V8 optimizes each loop with its own type feedback: one large function was re-optimized on
 * stack and deoptimized again on every call.)
 */
function gridEnergies(cums: Float64Array, thr: Float64Array, invBw: Float64Array, logE: Float64Array, valid: Float64Array, density: Float64Array, rows: number, K: number, span: number, decay: number): Float64Array {
  const W = K + 2;
  const pad = span * W;
  const peak = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = i * K;
    const b = (i + span) * K;
    const e = pad + i * W + 1;
    let p = i >= span ? peak[i - span]! * decay : 0;
    for (let k = 0; k < K; k++) {
      const v = cums[b + k]! - cums[a + k]!;
      if (v > thr[k]!) {
        valid[e + k] = 1;
        logE[e + k] = Math.log(v);
        const d = v * invBw[k]!;
        density[a + k] = d;
        if (d > p) p = d;
      }
    }
    peak[i] = p;
  }
  return peak;
}

/** featureGrid, second pass: residuals against the four neighbours, per-band RMS scaling, clipping and masking weights, into r. */
function gridResiduals(r: Float32Array, logE: Float64Array, valid: Float64Array, density: Float64Array, wgt: Float64Array, peak: Float64Array, keep: Uint8Array, rows: number, K: number, span: number, table: WeightTable): void {
  const W = K + 2;
  const pad = span * W;
  const off = span * W;
  const sumSq = new Float64Array(K);
  const cnt = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    const a = i * K;
    const e = pad + i * W + 1;
    const pk = peak[i]!;
    for (let k = 0; k < K; k++) {
      const x = e + k;
      if (valid[x] === 0 || keep[k] === 0) continue;
      // Time -1, time +1, band -1, band +1 (summed in the order of tileFeatures).
      const c = valid[x - off]! + valid[x + off]! + valid[x - 1]! + valid[x + 1]!;
      if (c < 3) continue;
      const v = logE[x]! - (logE[x - off]! + logE[x + off]! + logE[x - 1]! + logE[x + 1]!) / c;
      r[a + k] = v;
      sumSq[k]! += v * v;
      cnt[k]! += 1;
      wgt[a + k] = tileWeight(table, k, pk / density[a + k]!);
    }
  }
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = cnt[k]! > 0 && sumSq[k]! > 0 ? 1 / Math.sqrt(sumSq[k]! / cnt[k]!) : 0;
  for (let i = 0; i < rows; i++) {
    const a = i * K;
    for (let k = 0; k < K; k++) {
      const v = r[a + k]! * inv[k]!;
      if (v === 0) continue;
      r[a + k] = (v > 3 ? 3 : v < -3 ? -3 : v) * wgt[a + k]!;
    }
  }
}

/** Frame-grid features per frequency scale (1% steps, as bandCumulative), built on first use. */
export function featureGrids(analysis: BandAnalysis, profile: MarkProfile, layer: 'leg' | 'payload' = 'leg'): (freqScale: number) => FeatureGrid {
  const grids = new Map<number, FeatureGrid>();
  return (freqScale) => {
    const q = Math.round(freqScale * 100);
    let g = grids.get(q);
    if (!g) {
      g = featureGrid(analysis, q / 100, profile, layer);
      grids.set(q, g);
    }
    return g;
  };
}

/**
 * Grid row of each relative chip under a hypothesis (-1 where the chip's tile would leave the
 * clip): the row whose four frames are centred on the chip (chip m spans cumulative frame
 * positions [pos_m, pos_m + 4 / rate); see tileFeatures).
 */
export function gridRows(grid: FeatureGrid, hyp: Hypothesis, profile: MarkProfile, chips: number): Int32Array {
  const out = new Int32Array(chips);
  const Tc = profile.chipSec;
  const half = (0.5 * GRID_SPAN) / hyp.rate - 0.5 * GRID_SPAN;
  for (let m = 0; m < chips; m++) {
    const t = (hyp.phaseSec + m * Tc) / hyp.rate;
    const i = Math.round((t * ANALYSIS_RATE - FRAME / 2) / HOP + 0.5 + half);
    out[m] = i >= 0 && i < grid.rows ? i : -1;
  }
  return out;
}

/**
 * Tile features of a hypothesis read from a grid (chip m = grid row gridRows[m]); only chips
 * [range[0], range[1]) when a range is given (the others are 0); into `out` when it is large enough.
 */
export function gatherFeatures(grid: FeatureGrid, hyp: Hypothesis, profile: MarkProfile, analysis: BandAnalysis, out?: Float32Array, range?: readonly [number, number], rowsOf?: Int32Array): TileFeatures {
  const K = grid.bands;
  const M = chipCount(analysis, hyp, profile);
  const r = out && out.length >= M * K ? out.subarray(0, M * K) : new Float32Array(M * K);
  const rows = rowsOf ?? gridRows(grid, hyp, profile, M);
  const lo = Math.max(0, range?.[0] ?? 0);
  const hi = Math.min(M, range?.[1] ?? M);
  r.fill(0, 0, lo * K);
  r.fill(0, Math.max(lo, hi) * K);
  for (let m = lo; m < hi; m++) {
    const i = rows[m]!;
    if (i < 0) r.fill(0, m * K, (m + 1) * K);
    else r.set(grid.r.subarray(i * K, (i + 1) * K), m * K);
  }
  return { r, chips: M, bands: K };
}
