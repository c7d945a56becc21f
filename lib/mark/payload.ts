/**
 * Blind payload: a key-level layer that names the leg without a registry search.
 *
 * Every leg's mark carries 40 bits: a 32-bit payload id = HMAC-SHA256(key, token)[0..4) and a
 * CRC-8 of it. They ride three of the profile's bands above the telephone band (3.5-7 kHz:
 * phone legs lose them anyway, so the per-leg layers used for informed detection keep all 29
 * others), periodic in a frame of 8 sync periods (256 chips, 8.192 s), so a clip folds onto one
 * frame of 256 x 3 = 768 tile positions:
 *  - 288 pilot positions: key-wide signs (the same for every leg), found by a circular
 *    correlation of the folded clip over the 256 shifts and the time-scale grid;
 *  - 5 symbols x 96 positions: symbol i (byte i of id || crc) selects one of 256 keyed sign
 *    patterns (nearly orthogonal signalling, decoded by the largest of 256 correlations).
 * Why a frame of 8 periods: a statistic self-normalized on a fold of n positions cannot exceed
 * sqrt(n) (the fold is all the randomness a periodic pattern has), and 256 patterns are only
 * nearly orthogonal in >= ~100 dimensions; one period (36 pilot, 12 per symbol) measured a pilot
 * z of 5.2 at most on 30 s of clean speech.
 * Which position plays which role is a keyed permutation. Everything derives from
 * HMAC(key, "earmark/payload/v1"), so the layer is unreadable and unforgeable without the key.
 *
 * Costs and limits, measured (benchmarks/payload.ts): the per-leg layers lose the three bands,
 * so informed detection of wideband clips loses ~10% of its z; phone legs lose nothing.
 * The layer is the same for all legs of a key except the symbols, so in a mix of two legs the
 * decoder reads the stronger one (or fails the CRC); and being key-wide and periodic, it could be
 * estimated by averaging many recordings made under one key -- the per-leg layers cannot be.
 * The payload only points at a leg: attribution always comes from informed detection of that
 * leg's own pattern (lib/mark/detect.ts), with its calibrated p-value.
 */
import { createHmac } from 'node:crypto';
import { hypothesisGrid, pieceStarts } from './detect.js';
import { analyzeClip, featureGrids, gatherFeatures } from './features.js';
import { KeyStream } from './keys.js';
import type { MarkKey } from './keys.js';
import { PROFILE_V1 } from './pattern.js';
import type { MarkProfile } from './pattern.js';
import { correctedPValue } from './stats.js';

export const PAYLOAD_ID_BITS = 32;
const SYMBOLS = 5;
/** Payload frame: FRAME sync periods (8 x 1.024 s); the layer repeats with it. */
const FRAME = 8;
const SYMBOL_SLOTS = 12 * FRAME;
const PILOT_SLOTS = 36 * FRAME;
const VALUES = 256;

/** The 32-bit payload id of a token under a key, as 8 hex digits. */
export function payloadId(key: MarkKey, token: string): string {
  return createHmac('sha256', key.bytes).update('earmark/payload-id/v1\0').update(token, 'utf8').digest().subarray(0, 4).toString('hex');
}

/** CRC-8 (polynomial x^8 + x^2 + x + 1, initial 0) of bytes. */
export function crc8(bytes: Uint8Array): number {
  let c = 0;
  for (const b of bytes) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}

/** The five symbols (id bytes then CRC) a leg's payload layer carries. */
export function payloadSymbols(id: string): Uint8Array {
  if (!/^[0-9a-f]{8}$/.test(id)) throw new RangeError(`payload id must be 8 hex digits, got ${id}`);
  const b = Buffer.from(id, 'hex');
  return Uint8Array.from([...b, crc8(b)]);
}

/** Key-level tables of the payload layer (cached per key). */
export class PayloadLayer {
  readonly profile: MarkProfile;
  /** Role of each frame position q = u * B + b (u = chip mod FRAME * P, b = index into payloadBands): -1 pilot, else symbol * SYMBOL_SLOTS + slot. */
  readonly role: Int16Array;
  /** Pilot sign per position (0 where the position is not pilot). */
  readonly pilot: Int8Array;
  /** Positions of each symbol's slots, SYMBOLS x SYMBOL_SLOTS. */
  readonly slotPos: Int16Array;
  /** Sign of slot t for symbol i with value v: [(i * VALUES + v) * SYMBOL_SLOTS + t]. */
  readonly symbolSigns: Int8Array;

  constructor(key: MarkKey, profile: MarkProfile = PROFILE_V1) {
    this.profile = profile;
    const B = profile.payloadBands.length;
    const Q = FRAME * profile.period * B;
    if (Q !== PILOT_SLOTS + SYMBOLS * SYMBOL_SLOTS) throw new RangeError(`payload layout needs ${PILOT_SLOTS + SYMBOLS * SYMBOL_SLOTS} positions, profile has ${Q}`);
    const secret = createHmac('sha256', key.bytes).update('earmark/payload/v1').digest();
    // Keyed permutation of the positions (Fisher-Yates on keyed 32-bit words).
    const perm = Int16Array.from({ length: Q }, (_, i) => i);
    const words = new KeyStream(secret, 'layout').uint32(0, Q);
    for (let i = Q - 1; i > 0; i--) {
      const j = words[i]! % (i + 1);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    this.role = new Int16Array(Q);
    this.pilot = new Int8Array(Q);
    this.slotPos = new Int16Array(SYMBOLS * SYMBOL_SLOTS);
    const pilotSigns = new KeyStream(secret, 'pilot').signs(0, PILOT_SLOTS);
    for (let i = 0; i < Q; i++) {
      const q = perm[i]!;
      if (i < PILOT_SLOTS) {
        this.role[q] = -1;
        this.pilot[q] = pilotSigns[i]!;
      } else {
        const s = i - PILOT_SLOTS;
        this.role[q] = s;
        this.slotPos[s] = q;
      }
    }
    this.symbolSigns = new KeyStream(secret, 'symbols').signs(0, SYMBOLS * VALUES * SYMBOL_SLOTS);
  }

  /** Sign of payload tile (session chip n, payload band index b) for a leg's symbols. */
  sign(n: number, b: number, symbols: Uint8Array): number {
    const B = this.profile.payloadBands.length;
    const q = (n % (FRAME * this.profile.period)) * B + b;
    const r = this.role[q]!;
    if (r < 0) return this.pilot[q]!;
    const i = Math.floor(r / SYMBOL_SLOTS);
    return this.symbolSigns[(i * VALUES + symbols[i]!) * SYMBOL_SLOTS + (r % SYMBOL_SLOTS)]!;
  }
}

const layerCache = new WeakMap<MarkKey, PayloadLayer>();
/** The payload layer of a key (PROFILE_V1), built once per key object. */
export function payloadLayer(key: MarkKey): PayloadLayer {
  let l = layerCache.get(key);
  if (!l) {
    l = new PayloadLayer(key);
    layerCache.set(key, l);
  }
  return l;
}

export interface PayloadOptions {
  /** Replay-speed and tempo ranges searched (as detect()). */
  speedRange?: readonly [number, number];
  tempoRange?: readonly [number, number];
  /** Pilot significance needed before symbols are read (Bonferroni over time scales x shifts). Default 1e-4. */
  pilotAlpha?: number;
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
  /** Time scale of the best pilot hypothesis. */
  speed: number;
  /** Hypotheses searched (time scales x chip phases x P shifts). */
  hypotheses: number;
}

/**
 * Read the payload blindly (no registry): fold the payload bands of the clip modulo P under each
 * time-scale hypothesis, find the pilot, then read the five symbols at the pilot's alignment.
 */
export function decodePayload(samples: Float32Array, sampleRate: number, key: MarkKey, opts: PayloadOptions = {}): PayloadResult {
  // Long clips are read in overlapping pieces (memory and time linear in the length; the
  // whole-clip search grows with its square): each piece at pilotAlpha / pieces, the best piece
  // reported (a valid id first), its pilot p-value multiplied by the number of pieces. A piece
  // holds far more than the ~30 s a payload needs.
  const D = samples.length / sampleRate;
  if (!(D > PAYLOAD_LONG_SEC)) return decodePayloadSpan(samples, sampleRate, key, opts);
  const starts = pieceStarts(D, PAYLOAD_PIECE_SEC, PAYLOAD_OVERLAP_SEC);
  const n = starts.length;
  const pilotAlpha = opts.pilotAlpha ?? 1e-4;
  let best: PayloadResult | undefined;
  let maxHyp = 0;
  for (const a of starts) {
    const from = Math.round(a * sampleRate);
    const r = decodePayloadSpan(samples.subarray(from, Math.min(samples.length, from + Math.round(PAYLOAD_PIECE_SEC * sampleRate))), sampleRate, key, { ...opts, pilotAlpha: pilotAlpha / n });
    maxHyp = Math.max(maxHyp, r.hypotheses);
    const better = !best || (r.crcOk && !best.crcOk) || (r.crcOk === best.crcOk && r.pilotPValue < best.pilotPValue);
    if (better) best = r;
  }
  return { ...best!, pilotPValue: Math.min(1, best!.pilotPValue * n), hypotheses: n * maxHyp };
}

const PAYLOAD_LONG_SEC = 160;
const PAYLOAD_PIECE_SEC = 128;
const PAYLOAD_OVERLAP_SEC = 32;

function decodePayloadSpan(samples: Float32Array, sampleRate: number, key: MarkKey, opts: PayloadOptions = {}): PayloadResult {
  const layer = payloadLayer(key);
  const profile = layer.profile;
  const P = FRAME * profile.period;
  const K = profile.bands;
  const Tc = profile.chipSec;
  const pb = profile.payloadBands;
  const B = pb.length;
  const Q = P * B;
  const analysis = analyzeClip(samples, sampleRate, profile);
  const D = analysis.durationSec;
  const speedRange = opts.speedRange ?? [0.95, 1.05];
  const tempoRange = opts.tempoRange ?? [0.97, 1.03];
  // The detector's time-scale grid over the whole clip (1.5 chips of drift per step), four chip
  // phases aligned with the STFT frames; tiles read from frame-grid features (features.ts).
  const hyps = hypothesisGrid((1.5 * Tc) / Math.max(D, 1), Tc, speedRange, tempoRange, [1, 3, 5, 7].map((x) => (x * Tc) / 8));
  const hypotheses = hyps.length * P;
  const none: PayloadResult = { payloadId: null, pilotZ: 0, pilotPValue: 1, crcOk: false, symbolMargins: [], speed: 1, hypotheses };
  if (D < P * Tc) return none;
  const fold = new Float64Array(Q);
  let best = { z: -Infinity, shift: 0, hyp: hyps[0]!, fold: new Float64Array(Q) };
  analysis.prepareScales(hyps.map((h) => h.freqScale));
  const gridOf = featureGrids(analysis, profile, 'payload');
  for (const hyp of hyps) {
    const f = gatherFeatures(gridOf(hyp.freqScale), hyp, profile, analysis);
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
  if (!(pilotPValue <= (opts.pilotAlpha ?? 1e-4))) return result;
  const symbols = new Uint8Array(SYMBOLS);
  const margins: number[] = [];
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
  for (let i = 0; i < SYMBOLS; i++) {
    let energy = 0;
    for (let t = 0; t < SYMBOL_SLOTS; t++) energy += at(layer.slotPos[i * SYMBOL_SLOTS + t]!) ** 2;
    let top = -Infinity;
    let second = -Infinity;
    let arg = 0;
    for (let v = 0; v < VALUES; v++) {
      let c = 0;
      const o = (i * VALUES + v) * SYMBOL_SLOTS;
      for (let t = 0; t < SYMBOL_SLOTS; t++) c += layer.symbolSigns[o + t]! * at(layer.slotPos[i * SYMBOL_SLOTS + t]!);
      if (c > top) {
        second = top;
        top = c;
        arg = v;
      } else if (c > second) second = c;
    }
    symbols[i] = arg;
    margins.push(energy > 0 ? (top - second) / Math.sqrt(energy) : 0);
  }
  // A tie (no information, e.g. every weight 0) must not decode to the all-zero id, whose CRC is 0.
  const crcOk = margins.every((m) => m > 0) && crc8(symbols.subarray(0, 4)) === symbols[4];
  return { ...result, crcOk, symbolMargins: margins, payloadId: crcOk ? Buffer.from(symbols.subarray(0, 4)).toString('hex') : null };
}
