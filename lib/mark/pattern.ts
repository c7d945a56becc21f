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
import { PROFILE_V1, bandGroup, isSyncTile } from './profile.js';
import type { MarkProfile } from './profile.js';

/** The i-th decoy token: a valid pattern under the key that no registry ever issues (control characters are refused in real tokens). */
export function decoyToken(i: number): string {
  return `\u0000earmark-decoy/${i}`;
}

/** A decoy leg (detect/: decoys estimate the null on the clip itself). */
export interface DecoyRef {
  readonly decoy: number;
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

  /** `token`: a leg's token (checked: see checkToken), or a decoy. */
  constructor(key: MarkKey, token: string | DecoyRef, opts: LegPatternOptions = {}) {
    const profile = opts.profile ?? PROFILE_V1;
    this.token = typeof token === 'string' ? checkToken(token) : decoyToken(token.decoy);
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
