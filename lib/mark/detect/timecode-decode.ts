/**
 * Timecode decoding: the block index (the session time beyond the 1.024 s sync period) of a
 * detected segment, its block log-likelihoods and its confidence (the posterior of the decoded
 * block). A wrong block moves the session offset by a multiple of 1.024 s (usually by hours); the
 * offset within the block (from the sync layer) does not depend on it.
 *
 * Model. The timecode layer's tiles of band group g, summed per block j against the leg's per-chip
 * signs, are correlated with the group's block code at every residue x mod R_g: a_x. Under "the
 * block of relative chip 0 is x" a_x has mean mu and the other residues mean 0, all with variance V
 * (the tiles' energy), nearly independent, so log L(x) = (mu / V) a_x + const. The two groups are
 * independent (CRT, pattern.ts): the block's likelihood is the product.
 *
 * Weights (why): the mark's strength varies over time (the tapped person's own voice, pauses, the
 * codec's bit allocation) and over bands (a codec keeps some bands better than others); a plain
 * correlation over a window lets unmarked chips and weak bands add noise that, for a weak segment,
 * ties the true residue with the largest of the ~200 wrong ones. The sync layer has known signs and
 * shares every chip and band with the timecode layer, so it serves as a pilot:
 *  - band weights w_k = a_k / s_k^2 (maximal-ratio combining; D. G. Brennan, "Linear diversity
 *    combining techniques", Proc. IRE 47(6), 1959), a_k and s_k^2 the band's mark amplitude and
 *    residual variance measured on the segment's sync tiles, each shrunk toward the segment's
 *    pooled value with a prior weight of BAND_PRIOR_TILES tiles (empirical Bayes shrinkage, B. Efron
 *    and C. Morris, "Data analysis using Stein's estimator and its generalizations", JASA 70, 1975),
 *    so a band with few tiles is not given a weight from noise;
 *  - time weights p_m = posterior probability that chip m is marked, from a two-state (marked /
 *    unmarked) hidden Markov model over the sync contributions (forward-backward; L. R. Rabiner,
 *    "A tutorial on hidden Markov models and selected applications in speech recognition",
 *    Proc. IEEE 77(2), 1989): per chip, sync correlation e_m ~ N(kappa q_m, q_m) when marked and
 *    N(0, q_m) when not (q_m the chip's sync energy), one state change per MARK_DWELL_SEC on average.
 *    This is the soft form of the segment's boundary rule (segments.ts: the maximum-sum run of
 *    e_m - mu / 2 is the hard two-state segmentation) and lets the decoder read the whole analysed
 *    range, each chip in proportion to the evidence that it carries the mark.
 * With weighted tiles the same model holds (a_x is then the weighted correlation, V the weighted
 * energy); mu / V is measured on the sync tiles with the same weights (the pilot's weighted
 * correlation over its weighted energy), not from the decoded residue itself (the maximum of ~200,
 * which made every decode look sure). A third, weaker term comes from the blind payload bands,
 * whose phase gives the block modulo 8 (payloadPhase). The block's log-likelihood is the sum of the
 * three terms, over all R_A R_B blocks of the cycle.
 *
 * Measured on the detected segments of the robustness benchmark's positive clips (benchmarks/
 * robustness.ts, every condition, 2160 clips): blocks wrong with the window's plain decode (the detector's search) 46
 * of 1902; decoded again at the refined alignment, plain over the segment 35, band weights over
 * the segment 31, band x time weights over the analysed range 23; with the payload phase and the
 * timeline reconciliation of timeline.ts 12 of 1893 (all on lone segments of 3-11 s clips at z < 12).
 */
import type { TileFeatures } from '../features/tiles.js';
import { PAYLOAD_FRAME_PERIODS as PAYLOAD_FRAME } from '../payload-layer.js';
import type { TimecodePattern } from '../pattern.js';
import { isSyncTile } from '../profile.js';

/** Prior weight (tiles) of the pooled band statistics in each band's estimate. */
const BAND_PRIOR_TILES = 32;
/** Mean dwell time of the marked / unmarked states of the time-weight model (about a talkspurt). */
const MARK_DWELL_SEC = 1;
/** Prior probability that a session runs past one pattern cycle (13.4 h), where the payload frame's phase no longer follows the block modulo the cycle. */
const BEYOND_CYCLE = 0.01;

/**
 * Block log-likelihoods of one segment, relative to its reported block: ll[d] (d in [0, R_A R_B))
 * is the log-likelihood (up to a constant) that the true block is the reported block + d (mod the
 * cycle).
 */
export interface TimecodeEvidence {
  readonly ll: Float64Array;
}

export interface TimecodeDecode {
  /** Block (mod R_A R_B) of relative chip 0. */
  block: number;
  /** Evidence relative to that block. */
  evidence: TimecodeEvidence;
  /** Posterior probability of that block (uniform prior over the 13.4 h cycle). */
  confidence: number;
}

/** Posterior (softmax) of log-likelihoods. */
export function posterior(ll: Float64Array): Float64Array {
  let mx = -Infinity;
  for (const v of ll) if (v > mx) mx = v;
  const p = new Float64Array(ll.length);
  let sum = 0;
  for (let x = 0; x < ll.length; x++) sum += p[x] = Math.exp(ll[x]! - mx);
  for (let x = 0; x < ll.length; x++) p[x]! /= sum;
  return p;
}

/** Posterior probability of block shift d under evidence e (uniform prior over the cycle). */
export function shiftPosterior(e: TimecodeEvidence, d: number): number {
  const ll = e.ll;
  const x = ll[mod(d, ll.length)]!;
  let sum = 0;
  for (let i = 0; i < ll.length; i++) sum += Math.exp(ll[i]! - x);
  return 1 / sum;
}

/** x mod n, non-negative. */
function mod(x: number, n: number): number {
  return ((x % n) + n) % n;
}

/**
 * Decode the block of relative chip 0 from the timecode tiles of chips [lo, hi), with band weights
 * and the time-weight model's scale measured on the segment [sa, sb) (the detector's marked run),
 * s = session chip of relative chip 0 modulo the sync period. Undefined when the segment's pilot
 * shows no mark (no weight is positive).
 */
export interface DecodeSpan {
  /** Session chip of relative chip 0, modulo the sync period. */
  shift: number;
  /** The segment [sa, sb) (relative chips): band weights and the time-weight model's scale. */
  segment: readonly [number, number];
  /** The range [lo, hi) (relative chips) whose timecode tiles are read (extended to hold the segment). */
  range: readonly [number, number];
  /** Payload-band features at the same alignment (the block modulo the payload frame). */
  payload?: TileFeatures;
}

export function decodeTimecode(f: TileFeatures, pattern: TimecodePattern, span: DecodeSpan): TimecodeDecode | undefined {
  const s = span.shift;
  const [sa, sb] = span.segment;
  let [lo, hi] = span.range;
  const payload = span.payload;
  const K = f.bands;
  const P = pattern.profile.period;
  const [RA, RB] = pattern.profile.blockPeriods;
  const r = f.r;
  const sync = pattern.sync;
  lo = Math.max(0, Math.min(lo, sa));
  hi = Math.min(f.chips, Math.max(hi, sb));
  if (!(sb > sa) || !(hi > lo)) return undefined;
  // Band weights from the segment's sync tiles.
  const c = new Float64Array(K);
  const q = new Float64Array(K);
  const n = new Float64Array(K);
  for (let m = sa; m < sb; m++) {
    const u = (s + m) % P;
    for (let k = u & 1; k < K; k += 2) {
      const x = r[m * K + k]!;
      if (x === 0) continue;
      c[k]! += x * sync[u * K + k]!;
      q[k]! += x * x;
      n[k]! += 1;
    }
  }
  let C = 0;
  let Q = 0;
  let N = 0;
  for (let k = 0; k < K; k++) {
    C += c[k]!;
    Q += q[k]!;
    N += n[k]!;
  }
  if (!(N > 0)) return undefined;
  const w = new Float64Array(K);
  let anyW = false;
  for (let k = 0; k < K; k++) {
    const nk = n[k]! + BAND_PRIOR_TILES;
    const a = (c[k]! + (BAND_PRIOR_TILES * C) / N) / nk;
    const v = (q[k]! + (BAND_PRIOR_TILES * Q) / N) / nk - a * a;
    w[k] = a > 0 && v > 0 ? a / v : 0;
    if (w[k]! > 0) anyW = true;
  }
  if (!anyW) return undefined;
  // Per-chip weighted sync correlation and energy over [lo, hi).
  const M = hi - lo;
  const e = new Float64Array(M);
  const qe = new Float64Array(M);
  let Cs = 0;
  let Qs = 0;
  for (let m = lo; m < hi; m++) {
    const u = (s + m) % P;
    let ce = 0;
    let cq = 0;
    for (let k = u & 1; k < K; k += 2) {
      const x = r[m * K + k]! * w[k]!;
      if (x === 0) continue;
      ce += x * sync[u * K + k]!;
      cq += x * x;
    }
    e[m - lo] = ce;
    qe[m - lo] = cq;
    if (m >= sa && m < sb) {
      Cs += ce;
      Qs += cq;
    }
  }
  const kappa = Qs > 0 ? Cs / Qs : 0;
  if (!(kappa > 0)) return undefined;
  // Forward-backward (scaled) for p_m = P(marked | sync contributions).
  const sw = Math.min(0.5, pattern.profile.chipSec / MARK_DWELL_SEC);
  const like1 = new Float64Array(M);
  for (let i = 0; i < M; i++) like1[i] = qe[i]! > 0 ? Math.exp(Math.max(-700, Math.min(700, kappa * e[i]! - 0.5 * kappa * kappa * qe[i]!))) : 1;
  const fw = new Float64Array(M);
  let f0 = 0.5;
  let f1 = 0.5;
  for (let i = 0; i < M; i++) {
    const p0 = i === 0 ? 0.5 : f0 * (1 - sw) + f1 * sw;
    const p1 = i === 0 ? 0.5 : f1 * (1 - sw) + f0 * sw;
    const a0 = p0;
    const a1 = p1 * like1[i]!;
    f0 = a0 / (a0 + a1);
    f1 = a1 / (a0 + a1);
    fw[i] = f1;
  }
  const pm = new Float64Array(M);
  let b0 = 1;
  let b1 = 1;
  for (let i = M - 1; i >= 0; i--) {
    const x1 = fw[i]! * b1;
    const x0 = (1 - fw[i]!) * b0;
    pm[i] = x1 / (x0 + x1);
    const e0 = b0;
    const e1 = like1[i]! * b1;
    const n0 = (1 - sw) * e0 + sw * e1;
    const n1 = sw * e0 + (1 - sw) * e1;
    b0 = n0 / (n0 + n1);
    b1 = n1 / (n0 + n1);
  }
  // Pilot scale with the final weights: mu / V of the weighted correlation.
  let cp = 0;
  let qp = 0;
  for (let i = 0; i < M; i++) {
    cp += pm[i]! * e[i]!;
    qp += pm[i]! * pm[i]! * qe[i]!;
  }
  const scale = qp > 0 ? Math.max(0, cp / qp) : 0;
  // Residue correlations per group over the weighted timecode tiles.
  const j0 = Math.floor((s + lo) / P);
  const J = Math.floor((s + hi - 1) / P) - j0 + 1;
  const groups: Float64Array[] = [];
  for (const g of [0, 1] as const) {
    const R = g === 0 ? RA : RB;
    const bs = new Float64Array(J * K);
    for (let m = lo; m < hi; m++) {
      const u = (s + m) % P;
      const j = Math.floor((s + m) / P) - j0;
      const tw = pm[m - lo]!;
      if (tw === 0) continue;
      for (let k = g; k < K; k += 2) {
        if (isSyncTile(u, k)) continue;
        const x = r[m * K + k]!;
        if (x === 0) continue;
        bs[j * K + k]! += tw * w[k]! * x * pattern.tcChip[u * K + k]!;
      }
    }
    const code = pattern.tcBlock[g];
    // a[x]: residue x of the block of relative chip 0.
    const a = new Float64Array(R);
    for (let x = 0; x < R; x++) {
      let acc = 0;
      let row = mod(x + j0, R);
      for (let j = 0; j < J; j++) {
        const o = row * K;
        for (let k = g; k < K; k += 2) acc += bs[j * K + k]! * code[o + k]!;
        if (++row === R) row = 0;
      }
      a[x] = scale * acc;
    }
    groups.push(a);
  }
  const NB = RA * RB;
  const ll = new Float64Array(NB);
  const [la, lb] = groups as [Float64Array, Float64Array];
  for (let b = 0, xa = 0, xb = 0; b < NB; b++) {
    ll[b] = la[xa]! + lb[xb]!;
    if (++xa === RA) xa = 0;
    if (++xb === RB) xb = 0;
  }
  const lp = payload ? payloadPhase(payload, pattern, s, lo, hi, pm) : undefined;
  if (lp) {
    const F = lp.length;
    for (let b = 0; b < NB; b++) ll[b]! += lp[b % F]!;
  }
  let block = 0;
  for (let b = 1; b < NB; b++) if (ll[b]! > ll[block]!) block = b;
  const rel = new Float64Array(NB);
  for (let d = 0; d < NB; d++) rel[d] = ll[(block + d) % NB]!;
  const evidence: TimecodeEvidence = { ll: rel };
  return { block, evidence, confidence: shiftPosterior(evidence, 0) };
}

/**
 * Log-likelihood of the block modulo the payload frame from the payload bands. The blind payload
 * layer (payload-layer.ts) repeats every 8 sync periods in session time, and an informed
 * detector knows all its signs for the leg (pilot and the leg's own symbols), so its phase tells
 * the block modulo 8 -- coprime with R_A and R_B, it tells apart blocks that differ in one group's
 * residue. Per phase y, the time-weighted correlation c_y of the payload tiles with the leg's
 * payload signs at blocks = y (mod 8), self-normalized: z_y = c_y / sqrt(q), q the weighted tile
 * energy; the payload bands' mark strength is not the per-leg bands' (a narrowband codec removes
 * them), so it is fitted per phase: the generalized likelihood ratio max_{a >= 0} of the Gaussian
 * likelihood, log L(y) = max(0, z_y)^2 / 2 (S. M. Kay, Fundamentals of Statistical Signal
 * Processing, Vol. II: Detection Theory, 1998, ch. 6). Reading the block modulo the cycle from it
 * assumes the session is shorter than one cycle (13.4 h; probability 1 - BEYOND_CYCLE, otherwise
 * the phase is unrelated and the term flat): the term is log((1 - BEYOND_CYCLE) L(y) / mean_y L
 * + BEYOND_CYCLE), bounded below by log BEYOND_CYCLE.
 */
function payloadPhase(fp: TileFeatures, pattern: TimecodePattern, s: number, lo: number, hi: number, pm: Float64Array): Float64Array | undefined {
  const bands = pattern.profile.payloadBands;
  if (bands.length === 0) return undefined;
  const P = pattern.profile.period;
  const K = fp.bands;
  const c = new Float64Array(PAYLOAD_FRAME);
  let q = 0;
  for (let m = lo; m < hi; m++) {
    const tw = pm[m - lo]!;
    if (tw === 0) continue;
    for (const k of bands) {
      const x = fp.r[m * K + k]!;
      if (x === 0) continue;
      q += (tw * x) ** 2;
      for (let y = 0; y < PAYLOAD_FRAME; y++) c[y]! += tw * x * pattern.sign(y * P + s + m, k);
    }
  }
  if (!(q > 0)) return undefined;
  const ll = Float64Array.from(c, (cy) => Math.max(0, cy) ** 2 / (2 * q));
  let mx = -Infinity;
  for (const v of ll) if (v > mx) mx = v;
  let mean = 0;
  for (const v of ll) mean += Math.exp(v - mx) / PAYLOAD_FRAME;
  return Float64Array.from(ll, (v) => Math.log((1 - BEYOND_CYCLE) * (Math.exp(v - mx) / mean) + BEYOND_CYCLE));
}

/**
 * Posterior probability that session chip n0 (of relative chip 0) has the right block, from the
 * timecode tiles of chips [ma, mb) (weighted as in decodeTimecode, the range being its own
 * segment). 0 when the range's pilot shows no mark.
 */
export function timecodeConfidence(f: TileFeatures, pattern: TimecodePattern, n0: number, ma: number, mb: number): number {
  const P = pattern.profile.period;
  const [RA, RB] = pattern.profile.blockPeriods;
  if (mb <= ma || n0 < 0) return 0;
  const d = decodeTimecode(f, pattern, { shift: n0 % P, segment: [ma, mb], range: [ma, mb] });
  if (!d) return 0;
  return shiftPosterior(d.evidence, mod(Math.floor(n0 / P) - d.block, RA * RB));
}
