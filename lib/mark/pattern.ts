/**
 * The mark's time-frequency pattern: the keyed sign of every tile (session chip n, band k) of one
 * leg. Tiles and their sizes: profile.ts. A tile's mark is a multiplicative gain 1 + d * sign
 * (embed.ts), so the feature that survives CELP codecs -- band energy per ~20-30 ms, which AMR
 * keeps through its LPC envelope and subframe gains -- carries it.
 *
 * Two interleaved layers (checkerboard: tile (n, k) is a sync tile when n + k is even):
 *  - sync S:      b(n mod P, k), P = 32 chips (1.024 s). A detector folds the clip's features
 *                 modulo P and finds n mod P (and replay speed) with a P x P circular correlation,
 *                 whatever the clip length.
 *  - timecode T:  t(n mod P, k) * c_g(k)(floor(n / P) mod R_g, k), where the bands alternate between
 *                 two groups with coprime block periods R_A = 211 and R_B = 223. Given n mod P, the
 *                 two groups give the block index modulo 211 and modulo 223 independently (cheap,
 *                 separable searches); by the Chinese remainder theorem they fix the block index
 *                 modulo 211 * 223 = 47053 blocks = 13.4 h. Both layers count in detection.
 * Three bands above the telephone band (profile.payloadBands) carry the key-level blind payload
 * instead (payload-layer.ts); informed detection ignores them.
 * The whole pattern therefore repeats after 13.4 h of session time; within a clip shorter than
 * 211 blocks (216 s) the T tile signs are pairwise independent, which keeps the self-normalized
 * statistic's null variance exact.
 */
import { KeyStream, checkToken, legKey } from './keys.js';
import type { MarkKey } from './keys.js';
import { PayloadLayer, payloadId, payloadSymbols } from './payload-layer.js';
import { PROFILE_V1, PROFILE_V2, bandGroup, isSyncTile, patternCycleChips } from './profile.js';
import type { MarkProfile } from './profile.js';

/** The i-th decoy token: a valid pattern under the key that no registry ever issues (control characters are refused in real tokens). */
export function decoyToken(i: number): string {
  return `\u0000earmark-decoy/${i}`;
}

/** The reserved name of v2's key-level layer (the same for every leg of a key; never a leg's token). */
export const KEY_LAYER_TOKEN = '\u0001earmark-key-layer/v2';

/** A decoy leg (detect/: decoys estimate the null on the clip itself). */
export interface DecoyRef {
  readonly decoy: number;
}

/** v2's key-level layer, built with v1's sync and timecode structure from the key alone. */
export interface KeyLayerRef {
  readonly keyLayer: true;
}

/** What a pattern is built for: a leg's token (checked), a decoy, or the key layer. */
export type PatternRef = string | DecoyRef | KeyLayerRef;

function refName(ref: PatternRef): string {
  if (typeof ref === 'string') return checkToken(ref);
  return 'decoy' in ref ? decoyToken(ref.decoy) : KEY_LAYER_TOKEN;
}

export interface LegPatternOptions {
  profile?: MarkProfile;
  /** The key's payload layer, when the caller shares one across legs (it depends on the key only). */
  payload?: PayloadLayer;
}

/** All signs of one leg's pattern, expanded into small tables. */
export class LegPattern {
  readonly token: string;
  readonly profile: MarkProfile;
  /** Sync signs, period x bands (only sync tiles used). */
  readonly sync: Int8Array;
  /** Timecode per-chip signs, period x bands (only timecode tiles used). */
  readonly tcChip: Int8Array;
  /** Timecode block codes per group: R_g x bands (only the group's bands used). */
  readonly tcBlock: readonly [Int8Array, Int8Array];
  /** The leg's blind payload id (8 hex digits) and the layer that carries it (null without payload bands). */
  readonly payloadId: string;
  readonly #payload: PayloadLayer | null;
  readonly #payloadSymbols: Uint8Array;
  /** Index into profile.payloadBands per band, -1 for the per-leg layers' bands. */
  readonly #payloadIndex: Int8Array;

  /** `token`: a leg's token (checked: see checkToken), a decoy, or v2's key layer. */
  constructor(key: MarkKey, token: PatternRef, opts: LegPatternOptions = {}) {
    const profile = opts.profile ?? PROFILE_V1;
    this.token = refName(token);
    this.profile = profile;
    const leg = legKey(key, this.token);
    const K = profile.bands;
    const P = profile.period;
    this.sync = new KeyStream(leg, 'sync').signs(0, P * K);
    this.tcChip = new KeyStream(leg, 'timecode-chip').signs(0, P * K);
    this.tcBlock = [
      new KeyStream(leg, 'timecode-block-a').signs(0, profile.blockPeriods[0] * K),
      new KeyStream(leg, 'timecode-block-b').signs(0, profile.blockPeriods[1] * K),
    ];
    this.payloadId = payloadId(key, this.token);
    this.#payloadSymbols = payloadSymbols(this.payloadId);
    this.#payloadIndex = new Int8Array(K).fill(-1);
    profile.payloadBands.forEach((k, b) => (this.#payloadIndex[k] = b));
    if (opts.payload && opts.payload.profile !== profile) throw new RangeError('LegPattern: the payload layer was built for another profile');
    this.#payload = profile.payloadBands.length > 0 ? (opts.payload ?? new PayloadLayer(key, profile)) : null;
  }

  /** The embedder's gain factor of tile (n, k): the sign (every v1 tile carries this pattern alone). */
  gain(n: number, k: number): number {
    return this.sign(n, k);
  }

  /** Sign of tile (session chip n >= 0, band k). */
  sign(n: number, k: number): number {
    const K = this.profile.bands;
    const P = this.profile.period;
    const pb = this.#payloadIndex[k]!;
    if (pb >= 0) return this.#payload!.sign(n, pb, this.#payloadSymbols);
    const u = n % P;
    if (isSyncTile(n, k)) return this.sync[u * K + k]!;
    const g = bandGroup(k);
    const R = this.profile.blockPeriods[g];
    const j = Math.floor(n / P) % R;
    return this.tcChip[u * K + k]! * this.tcBlock[g][j * K + k]!;
  }
}

/**
 * v2's leg layer: each leg's own signs, never repeating -- sign of tile (n, k) = bit n K + k of the
 * leg's named stream 'v2/leg-layer' (AES-CTR under HMAC(key, leg), random access). Nothing of it is
 * periodic, so folding a recording averages nothing; an adversary sees each tile's sign once,
 * through the host's own fluctuations.
 */
export class LegLayer {
  readonly token: string;
  readonly profile: MarkProfile;
  readonly #stream: KeyStream;
  /** The chip whose signs `sign` read last (the embedder asks chip by chip). */
  #chip = -1;
  #chipSigns: Int8Array = new Int8Array(0);

  constructor(key: MarkKey, token: string | DecoyRef, profile: MarkProfile = PROFILE_V2) {
    this.token = refName(token);
    this.profile = profile;
    this.#stream = new KeyStream(legKey(key, this.token), 'v2/leg-layer');
  }

  /** Signs of session chips [n0, n0 + chips) x every band, chip-major. */
  signs(n0: number, chips: number): Int8Array {
    if (!Number.isInteger(n0) || n0 < 0) throw new RangeError(`session chip must be a non-negative integer, got ${n0}`);
    return this.#stream.signs(n0 * this.profile.bands, chips * this.profile.bands);
  }

  /**
   * The same signs as packed bits (the detector's fast path): bit t of the result (byte t >> 3,
   * bit t & 7) is tile t of chips [n0, n0 + chips) chip-major, 1 for +1. Needs a whole number of
   * bytes per chip (bands a multiple of 8).
   */
  bits(n0: number, chips: number): Uint8Array {
    if (!Number.isInteger(n0) || n0 < 0) throw new RangeError(`session chip must be a non-negative integer, got ${n0}`);
    const K = this.profile.bands;
    if (K % 8 !== 0) throw new RangeError('LegLayer.bits needs bands in whole bytes');
    return this.#stream.bytes((n0 * K) / 8, (chips * K) / 8);
  }

  /** Sign of tile (session chip n >= 0, band k). */
  sign(n: number, k: number): number {
    if (n !== this.#chip) {
      this.#chipSigns = this.signs(n, 1);
      this.#chip = n;
    }
    return this.#chipSigns[k]!;
  }
}

/**
 * A v2 leg's whole mark for the embedder: in every per-leg tile the key layer (v1's sync and
 * timecode structure, built from the key alone) and the leg layer superposed with the profile's
 * amplitudes; the payload bands carry the payload layer as in v1.
 */
export class MarkPatternV2 {
  readonly token: string;
  readonly profile: MarkProfile;
  readonly keyLayer: LegPattern;
  readonly legLayer: LegLayer;
  /** The leg's own pattern object for the payload bands (v1's payload layer). */
  readonly #payloadOf: LegPattern;
  readonly #isPayload: Uint8Array;

  constructor(key: MarkKey, token: string, opts: LegPatternOptions = {}) {
    const profile = opts.profile ?? PROFILE_V2;
    if (profile.version !== 2) throw new RangeError('MarkPatternV2 needs a v2 profile');
    this.profile = profile;
    this.keyLayer = new LegPattern(key, { keyLayer: true }, opts);
    this.#payloadOf = new LegPattern(key, token, opts);
    this.token = this.#payloadOf.token;
    this.legLayer = new LegLayer(key, token, profile);
    this.#isPayload = new Uint8Array(profile.bands);
    for (const k of profile.payloadBands) this.#isPayload[k] = 1;
  }

  /**
   * The embedder's gain factor of tile (n, k): key x key sign + leg x leg sign x host bit (the bit
   * binds the leg layer to the host: host-hash.ts; 0 leaves the tile to the key layer); payload
   * bands: the payload sign.
   */
  gain(n: number, k: number, hostBit = 1): number {
    if (this.#isPayload[k]) return this.#payloadOf.sign(n, k);
    const a = this.profile.layerAmplitudes;
    return a.key * this.keyLayer.sign(n, k) + a.leg * hostBit * this.legLayer.sign(n, k);
  }
}

/**
 * What the segment and timecode stages read of a pattern: the sync and timecode tables (v1: the
 * leg's; v2: the key layer's) and the sign (or gain) of any tile.
 */
export interface TimecodePattern {
  readonly profile: MarkProfile;
  readonly sync: Int8Array;
  readonly tcChip: Int8Array;
  readonly tcBlock: readonly [Int8Array, Int8Array];
  sign(n: number, k: number): number;
}

/**
 * A v2 leg as the segment stages see it at one cycle of the key layer: the key layer's tables, and
 * as the sign of a tile the leg's whole mark (key + leg layer, the leg layer read `alias` key-layer
 * cycles later: the key layer repeats, the leg layer does not), the payload bands' payload sign.
 */
export class LegAtCycle implements TimecodePattern {
  readonly profile: MarkProfile;
  readonly sync: Int8Array;
  readonly tcChip: Int8Array;
  readonly tcBlock: readonly [Int8Array, Int8Array];
  readonly #key: LegPattern;
  readonly #leg: LegLayer;
  readonly #payload: LegPattern;
  readonly #shift: number;
  readonly #isPayload: Uint8Array;
  readonly #host: (n: number, k: number) => number;

  /** `host`: the detector's soft host bit of tile (n, k) (host-hash.ts), which the leg layer's sign is bound to. */
  constructor(keyLayer: LegPattern, legLayer: LegLayer, payloadOf: LegPattern, alias: number, host: (n: number, k: number) => number) {
    this.profile = keyLayer.profile;
    this.sync = keyLayer.sync;
    this.tcChip = keyLayer.tcChip;
    this.tcBlock = keyLayer.tcBlock;
    this.#key = keyLayer;
    this.#leg = legLayer;
    this.#payload = payloadOf;
    this.#host = host;
    const p = this.profile;
    this.#shift = alias * patternCycleChips(p);
    this.#isPayload = new Uint8Array(p.bands);
    for (const k of p.payloadBands) this.#isPayload[k] = 1;
  }

  sign(n: number, k: number): number {
    if (this.#isPayload[k]) return this.#payload.sign(n, k);
    const a = this.profile.layerAmplitudes;
    return a.key * this.#key.sign(n, k) + a.leg * this.#host(n, k) * this.#leg.sign(n + this.#shift, k);
  }
}

/** What the embedder needs of a pattern. */
export interface MarkPattern {
  readonly token: string;
  readonly profile: MarkProfile;
  /** Gain factor of tile (n, k); v2 binds its leg layer to the host bit (ignored by v1). */
  gain(n: number, k: number, hostBit?: number): number;
}

/** The pattern a leg's token is embedded with under a profile. */
export function markPattern(key: MarkKey, token: string, opts: LegPatternOptions = {}): MarkPattern {
  const profile = opts.profile ?? PROFILE_V1;
  return profile.version === 2 ? new MarkPatternV2(key, token, opts) : new LegPattern(key, token, opts);
}
