/**
 * The mark's time-frequency pattern: the keyed sign of every tile (session chip n, band k).
 *
 * Tiles: chips of `chipSec` (32 ms, 1.6 AMR-NB frames) x 32 bands spaced evenly on the ERB-rate
 * scale from 300 Hz to 7 kHz (21 of them in the 300-3400 Hz telephone band). A tile's mark is a
 * multiplicative gain 1 + d * sign, so the feature that survives CELP codecs -- band energy per
 * ~20-30 ms, which AMR keeps through its LPC envelope and subframe gains -- carries it.
 * Measured on speech (benchmarks/work, 10 s clips, z at the true alignment, ~26 dB SNR):
 * 16 x 48 ms: clean 13.3 / AMR-NB 12.2k->AAC 8.7; 24 x 32 ms: 18.3 / 9.7; 32 x 32 ms: 20.4 / 9.1;
 * 32 x 24 ms: 24.5 / 1.7 (AMR smears 24 ms chips away), hence 32 x 32 ms.
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
 * instead (lib/mark/payload.ts); informed detection ignores them.
 * The whole pattern therefore repeats after 13.4 h of session time; within a clip shorter than
 * 211 blocks (216 s) the T tile signs are pairwise independent, which keeps the self-normalized
 * statistic's null variance exact.
 */
import { KeyStream, legKey } from './keys.js';
import type { MarkKey } from './keys.js';
import { PayloadLayer, payloadId, payloadLayer, payloadSymbols } from './payload.js';

export interface MarkProfile {
  readonly version: 1;
  readonly chipSec: number;
  /** Band edges in Hz, length bands + 1. */
  readonly bandEdgesHz: Float64Array;
  readonly bands: number;
  readonly period: number;
  readonly blockPeriods: readonly [number, number];
  /** Bands given to the key-level blind payload layer (lib/mark/payload.ts); empty for none. */
  readonly payloadBands: readonly number[];
}

function erbRate(f: number): number {
  return 21.4 * Math.log10(1 + 0.00437 * f);
}
function erbRateInverse(e: number): number {
  return (10 ** (e / 21.4) - 1) / 0.00437;
}

/** Build a profile (exported for experiments; detectors and embedders must use the same one). */
export function makeProfile(opts: { bands?: number; chipSec?: number; loHz?: number; hiHz?: number } = {}): MarkProfile {
  const bands = opts.bands ?? 32;
  const lo = erbRate(opts.loHz ?? 300);
  const hi = erbRate(opts.hiHz ?? 7000);
  const edges = new Float64Array(bands + 1);
  for (let i = 0; i <= bands; i++) edges[i] = erbRateInverse(lo + ((hi - lo) * i) / bands);
  // Payload: three bands spread over the top quarter (25, 28, 31 of 32: 3.9-7 kHz), only when the
  // profile reaches above the telephone band with 32 bands (the layout needs 32 x 3 positions).
  const payloadBands = bands === 32 && (opts.hiHz ?? 7000) >= 6000 ? [bands - 7, bands - 4, bands - 1] : [];
  return { version: 1, chipSec: opts.chipSec ?? 0.032, bandEdgesHz: edges, bands, period: 32, blockPeriods: [211, 223], payloadBands };
}

/** The one mark profile (v1). Fixed: embedders and detectors must agree on it. */
export const PROFILE_V1: MarkProfile = makeProfile();

/** Session seconds after which the pattern repeats. */
export function patternCycleSec(profile: MarkProfile = PROFILE_V1): number {
  return profile.chipSec * profile.period * profile.blockPeriods[0] * profile.blockPeriods[1];
}

/** Whether tile (n, k) belongs to the sync layer. */
export function isSyncTile(n: number, k: number): boolean {
  return ((n + k) & 1) === 0;
}

/** Band group of the timecode layer (0 → R_A, 1 → R_B). */
export function bandGroup(k: number): 0 | 1 {
  return (k & 1) as 0 | 1;
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

  constructor(key: MarkKey, token: string, profile: MarkProfile = PROFILE_V1) {
    this.token = token;
    this.profile = profile;
    const leg = legKey(key, token);
    const K = profile.bands;
    const P = profile.period;
    this.sync = new KeyStream(leg, 'sync').signs(0, P * K);
    this.tcChip = new KeyStream(leg, 'timecode-chip').signs(0, P * K);
    this.tcBlock = [
      new KeyStream(leg, 'timecode-block-a').signs(0, profile.blockPeriods[0] * K),
      new KeyStream(leg, 'timecode-block-b').signs(0, profile.blockPeriods[1] * K),
    ];
    this.payloadId = payloadId(key, token);
    this.#payloadSymbols = payloadSymbols(this.payloadId);
    this.#payloadIndex = new Int8Array(K).fill(-1);
    profile.payloadBands.forEach((k, b) => (this.#payloadIndex[k] = b));
    this.#payload = profile.payloadBands.length > 0 ? (profile === PROFILE_V1 ? payloadLayer(key) : new PayloadLayer(key, profile)) : null;
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
