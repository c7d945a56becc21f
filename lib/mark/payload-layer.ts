/**
 * The blind payload's sign layer: a key-level layer that names the leg without a registry search.
 * (Its blind decoder is payload-decode.ts.)
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
 * HMAC(key, "earmark/payload/v1").
 *
 * Costs and limits, measured (benchmarks/payload.ts): the per-leg layers lose the three bands,
 * so informed detection of wideband clips loses ~10% of its z; phone legs lose nothing.
 * The layer is the same for all legs of a key except the symbols, so in a mix of two legs the
 * decoder reads the stronger one (or fails the CRC); and being key-wide and periodic, it can be
 * estimated by averaging recordings made under one key (see ../shared/docs/security.md).
 * The payload only points at a leg: attribution always comes from informed detection of that
 * leg's own pattern (detect/), with its corrected p-value.
 */
import { createHmac } from 'node:crypto';
import { KeyStream } from './keys.js';
import type { MarkKey } from './keys.js';
import { PROFILE_V1 } from './profile.js';
import type { MarkProfile } from './profile.js';

export const PAYLOAD_ID_BITS = 32;
export const PAYLOAD_SYMBOLS = 5;
/** Payload frame in sync periods (8 x 1.024 s); the layer repeats with it. */
export const PAYLOAD_FRAME_PERIODS = 8;
export const PAYLOAD_SYMBOL_SLOTS = 12 * PAYLOAD_FRAME_PERIODS;
const PILOT_SLOTS = 36 * PAYLOAD_FRAME_PERIODS;
/** Values of a symbol (one byte). */
export const PAYLOAD_SYMBOL_VALUES = 256;

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

/** Key-level tables of the payload layer (build once per key and share: see detect/tables.ts). */
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
    const Q = PAYLOAD_FRAME_PERIODS * profile.period * B;
    if (Q !== PILOT_SLOTS + PAYLOAD_SYMBOLS * PAYLOAD_SYMBOL_SLOTS) throw new RangeError(`payload layout needs ${PILOT_SLOTS + PAYLOAD_SYMBOLS * PAYLOAD_SYMBOL_SLOTS} positions, profile has ${Q}`);
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
    this.slotPos = new Int16Array(PAYLOAD_SYMBOLS * PAYLOAD_SYMBOL_SLOTS);
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
    this.symbolSigns = new KeyStream(secret, 'symbols').signs(0, PAYLOAD_SYMBOLS * PAYLOAD_SYMBOL_VALUES * PAYLOAD_SYMBOL_SLOTS);
  }

  /** Sign of payload tile (session chip n, payload band index b) for a leg's symbols. */
  sign(n: number, b: number, symbols: Uint8Array): number {
    const B = this.profile.payloadBands.length;
    const q = (n % (PAYLOAD_FRAME_PERIODS * this.profile.period)) * B + b;
    const r = this.role[q]!;
    if (r < 0) return this.pilot[q]!;
    const i = Math.floor(r / PAYLOAD_SYMBOL_SLOTS);
    return this.symbolSigns[(i * PAYLOAD_SYMBOL_VALUES + symbols[i]!) * PAYLOAD_SYMBOL_SLOTS + (r % PAYLOAD_SYMBOL_SLOTS)]!;
  }
}
