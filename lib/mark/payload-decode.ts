/**
 * Blind payload decoder: read a leg's payload id from a clip without a registry (the layer itself
 * is payload-layer.ts). Fold the payload bands of the clip modulo the payload frame under each
 * time-scale hypothesis, find the key-wide pilot, then read the five symbols at the pilot's
 * alignment. The payload only points at a leg; attribution needs informed detection (detect/).
 */
import { toMono } from '../audio/mono.js';
import type { AudioBuffer } from '../audio/types.js';
import { DetectorCache } from './detect/tables.js';
import { analyzeClip } from './features/analysis.js';
import { featureGrids, gatherFeatures } from './features/grid.js';
import type { MarkKey } from './keys.js';
import { PAYLOAD_FRAME_PERIODS, PAYLOAD_SYMBOLS, PAYLOAD_SYMBOL_SLOTS, PAYLOAD_SYMBOL_VALUES, crc8 } from './payload-layer.js';
import { acrossPieces, scanPieces } from './pieces.js';
import { PROFILE_V1 } from './profile.js';
import { DEFAULT_SPEED_RANGE, DEFAULT_TEMPO_RANGE, hypothesisGrid } from './search.js';
import { boundedPValue, correctedPValue } from './stats.js';

export interface PayloadOptions {
  key: MarkKey;
  /** Replay-speed and tempo ranges searched (as detect()). */
  speedRange?: readonly [number, number];
  tempoRange?: readonly [number, number];
  /** Pilot significance needed before symbols are read (Bonferroni over time scales x shifts). Default 1e-4. */
  pilotAlpha?: number;
  /** The key's payload layer, kept across calls (as detect()'s cache). */
  cache?: DetectorCache;
}

export interface PayloadResult {
  /** Decoded id (8 hex digits) when the pilot is significant and the CRC matches; else null. */
  payloadId: string | null;
  /** Pilot statistic (z) and its corrected p-value. */
  pilotZ: number;
  pilotPValue: number;
  /** Whether the CRC of the decoded symbols matched (false when symbols were not read). */
  crcOk: boolean;
  /** Per symbol: (best - second best correlation) / sqrt(slot energy), a reliability margin. */
  symbolMargins: number[];
  /**
   * Whether the symbols read as a mixture of several legs' payloads: in at least MIXTURE_SYMBOLS
   * symbols the runner-up value is itself significant at SYMBOL_ALPHA (see symbolsSignificant). A
   * mixture gives no id, even when the strongest values happen to pass the check code.
   */
  mixture: boolean;
  /**
   * Whether every symbol's strongest value is significant: its correlation over sqrt(slot energy)
   * is, for a value no leg in the clip carries, a self-normalized sum of fair signs, bounded by
   * stats.ts signSumTail; Bonferroni over every value of every symbol at SYMBOL_ALPHA. Reported,
   * not required for an id: requiring it lost the id of 35 s AAC 64k clips (the golden set's
   * blind read). Without it an equal average of two legs' copies too short for the mixture test
   * reads as one leg's id when that leg wins all five symbols (1 in 16 such averages) -- a stated
   * limit; the payload only ever points at a leg.
   */
  symbolsSignificant: boolean;
  /** Time scale of the best pilot hypothesis. */
  speed: number;
  /** Hypotheses searched (time scales x chip phases x P shifts). */
  hypotheses: number;
}

/** Symbols whose runner-up value must be significant for the read to count as a mixture of legs. */
const MIXTURE_SYMBOLS = 2;
/** Family-wise level of the symbol tests (every value of every symbol). */
const SYMBOL_ALPHA = 1e-2;

const PAYLOAD_DEFAULTS = Object.freeze({ pilotAlpha: 1e-4, longSec: 160, pieceSec: 128, overlapSec: 32 });

/**
 * Read the payload blindly. Clips longer than 160 s are read in 128 s pieces overlapping by 32 s
 * (pieces.ts): each piece at pilotAlpha / pieces, the best piece reported (a valid id first), its
 * pilot p-value multiplied by the number of pieces. A piece holds far more than the ~30 s a
 * payload needs.
 */
export function decodePayload(clip: AudioBuffer, opts: PayloadOptions): PayloadResult {
  const samples = toMono(clip);
  const sampleRate = clip.sampleRate;
  const cache = opts.cache ?? new DetectorCache();
  const D = samples.length / sampleRate;
  if (!(D > PAYLOAD_DEFAULTS.longSec)) return decodeSpan(samples, sampleRate, opts, cache);
  const pilotAlpha = opts.pilotAlpha ?? PAYLOAD_DEFAULTS.pilotAlpha;
  let best: PayloadResult | undefined;
  let maxHyp = 0;
  const pieces = scanPieces(samples, sampleRate, PAYLOAD_DEFAULTS, (piece, n) => decodeSpan(piece, sampleRate, { ...opts, pilotAlpha: pilotAlpha / n }, cache));
  for (const { result: r } of pieces) {
    maxHyp = Math.max(maxHyp, r.hypotheses);
    const better = !best || (r.crcOk && !best.crcOk) || (r.crcOk === best.crcOk && r.pilotPValue < best.pilotPValue);
    if (better) best = r;
  }
  const n = pieces.length;
  return { ...best!, pilotPValue: acrossPieces(best!.pilotPValue, n), hypotheses: n * maxHyp };
}

function decodeSpan(samples: Float32Array, sampleRate: number, opts: PayloadOptions, cache: DetectorCache): PayloadResult {
  const profile = PROFILE_V1;
  const layer = cache.payloadLayer(opts.key, profile);
  const P = PAYLOAD_FRAME_PERIODS * profile.period;
  const K = profile.bands;
  const Tc = profile.chipSec;
  const pb = profile.payloadBands;
  const B = pb.length;
  const Q = P * B;
  const analysis = analyzeClip(samples, sampleRate, { profile });
  const D = analysis.durationSec;
  const speedRange = opts.speedRange ?? DEFAULT_SPEED_RANGE;
  const tempoRange = opts.tempoRange ?? DEFAULT_TEMPO_RANGE;
  // The detector's time-scale grid over the whole clip (1.5 chips of drift per step), four chip
  // phases aligned with the STFT frames; tiles read from frame-grid features (features/grid.ts).
  const hyps = hypothesisGrid((1.5 * Tc) / Math.max(D, 1), speedRange, tempoRange, [1, 3, 5, 7].map((x) => (x * Tc) / 8));
  const hypotheses = hyps.length * P;
  const none: PayloadResult = { payloadId: null, pilotZ: 0, pilotPValue: 1, crcOk: false, symbolMargins: [], mixture: false, symbolsSignificant: false, speed: 1, hypotheses };
  if (D < P * Tc) return none;
  const fold = new Float64Array(Q);
  let best = { z: -Infinity, shift: 0, hyp: hyps[0]!, fold: new Float64Array(Q) };
  analysis.prepareScales(hyps.map((h) => h.freqScale));
  const gridOf = featureGrids(analysis, { layer: 'payload' });
  for (const hyp of hyps) {
    const f = gatherFeatures(gridOf(hyp.freqScale), hyp, analysis);
    fold.fill(0);
    for (let m = 0; m < f.chips; m++) {
      const u = m % P;
      for (let b = 0; b < B; b++) fold[u * B + b]! += f.r[m * K + pb[b]!]!;
    }
    for (let s = 0; s < P; s++) {
      // Session position (u, b) sits at relative chip residue (u - s) mod P.
      let c = 0;
      let v = 0;
      for (let q = 0; q < Q; q++) {
        const sg = layer.pilot[q]!;
        if (sg === 0) continue;
        const x = fold[(((q / B) | 0) - s + P) % P * B + (q % B)]!;
        c += sg * x;
        v += x * x;
      }
      const z = v > 0 ? c / Math.sqrt(v) : 0;
      if (z > best.z) best = { z, shift: s, hyp, fold: Float64Array.from(fold) };
    }
  }
  const pilotPValue = correctedPValue(best.z, 1, hypotheses);
  const result: PayloadResult = { ...none, pilotZ: best.z, pilotPValue, speed: best.hyp.rate };
  if (!(pilotPValue <= (opts.pilotAlpha ?? PAYLOAD_DEFAULTS.pilotAlpha))) return result;
  const symbols = new Uint8Array(PAYLOAD_SYMBOLS);
  const margins: number[] = [];
  let runnersUp = 0;
  let tops = 0;
  const significant = (c: number, energy: number): boolean => energy > 0 && boundedPValue(c / Math.sqrt(energy), PAYLOAD_SYMBOLS * PAYLOAD_SYMBOL_VALUES) <= SYMBOL_ALPHA;
  // Band weights by maximal-ratio combining, estimated on the pilot (known signs): a codec that
  // keeps one payload band better than another gets its symbols read mostly from that band.
  const w = new Float64Array(B);
  {
    const sum = new Float64Array(B);
    const sq = new Float64Array(B);
    const n = new Float64Array(B);
    for (let q = 0; q < Q; q++) {
      const sg = layer.pilot[q]!;
      if (sg === 0) continue;
      const x = best.fold[(((q / B) | 0) - best.shift + P) % P * B + (q % B)]!;
      sum[q % B]! += sg * x;
      sq[q % B]! += x * x;
      n[q % B]! += 1;
    }
    for (let b = 0; b < B; b++) {
      const a = n[b]! > 0 ? sum[b]! / n[b]! : 0;
      const v = n[b]! > 0 ? sq[b]! / n[b]! - a * a : 0;
      w[b] = a > 0 && v > 0 ? a / v : 0;
    }
  }
  const at = (q: number): number => w[q % B]! * best.fold[(((q / B) | 0) - best.shift + P) % P * B + (q % B)]!;
  for (let i = 0; i < PAYLOAD_SYMBOLS; i++) {
    let energy = 0;
    for (let t = 0; t < PAYLOAD_SYMBOL_SLOTS; t++) energy += at(layer.slotPos[i * PAYLOAD_SYMBOL_SLOTS + t]!) ** 2;
    let top = -Infinity;
    let second = -Infinity;
    let arg = 0;
    for (let v = 0; v < PAYLOAD_SYMBOL_VALUES; v++) {
      let c = 0;
      const o = (i * PAYLOAD_SYMBOL_VALUES + v) * PAYLOAD_SYMBOL_SLOTS;
      for (let t = 0; t < PAYLOAD_SYMBOL_SLOTS; t++) c += layer.symbolSigns[o + t]! * at(layer.slotPos[i * PAYLOAD_SYMBOL_SLOTS + t]!);
      if (c > top) {
        second = top;
        top = c;
        arg = v;
      } else if (c > second) second = c;
    }
    symbols[i] = arg;
    margins.push(energy > 0 ? (top - second) / Math.sqrt(energy) : 0);
    if (significant(second, energy)) runnersUp++;
    if (significant(top, energy)) tops++;
  }
  const mixture = runnersUp >= MIXTURE_SYMBOLS;
  const symbolsSignificant = tops === PAYLOAD_SYMBOLS;
  // A tie (no information, e.g. every weight 0) must not decode to the all-zero id, whose CRC is 0.
  const crcOk = margins.every((m) => m > 0) && crc8(symbols.subarray(0, 4)) === symbols[4];
  return { ...result, crcOk, symbolMargins: margins, mixture, symbolsSignificant, payloadId: crcOk && !mixture ? Buffer.from(symbols.subarray(0, 4)).toString('hex') : null };
}
