/**
 * The mark's layout (a profile): tile size, bands, the sync period and the timecode's block
 * periods. Embedders and detectors must use the same profile; PROFILE_V1 is the one in use.
 *
 * Tiles: chips of `chipSec` (32 ms, 1.6 AMR-NB frames) x 32 bands spaced evenly on the ERB-rate
 * scale from 300 Hz to 7 kHz (21 of them in the 300-3400 Hz telephone band). Why these sizes:
 * 10 s clips at ~26 dB SNR, z at the true alignment (clean / AMR-NB 12.2k -> AAC): 16 x 48 ms
 * 13.3 / 8.7; 24 x 32 ms 18.3 / 9.7; 32 x 32 ms 20.4 / 9.1; 32 x 24 ms 24.5 / 1.7 (AMR smears
 * 24 ms chips away) -- measured while the mark was designed (the scripts were not kept).
 * The layers that use the tiles are described in pattern.ts.
 */

export interface MarkProfile {
  readonly version: 1;
  readonly chipSec: number;
  /** Band edges in Hz, length bands + 1. */
  readonly bandEdgesHz: Float64Array;
  readonly bands: number;
  /** Sync period in chips. */
  readonly period: number;
  /** Block periods of the two timecode band groups (coprime). */
  readonly blockPeriods: readonly [number, number];
  /** Bands given to the key-level blind payload layer (payload-layer.ts); empty for none. */
  readonly payloadBands: readonly number[];
}

function erbRate(f: number): number {
  return 21.4 * Math.log10(1 + 0.00437 * f);
}
function erbRateInverse(e: number): number {
  return (10 ** (e / 21.4) - 1) / 0.00437;
}

function makeProfile(): MarkProfile {
  const bands = 32;
  const lo = erbRate(300);
  const hi = erbRate(7000);
  const edges = new Float64Array(bands + 1);
  for (let i = 0; i <= bands; i++) edges[i] = erbRateInverse(lo + ((hi - lo) * i) / bands);
  // Payload: three bands spread over the top quarter (25, 28, 31 of 32: 3.9-7 kHz).
  const payloadBands = [bands - 7, bands - 4, bands - 1];
  return { version: 1, chipSec: 0.032, bandEdgesHz: edges, bands, period: 32, blockPeriods: [211, 223], payloadBands };
}

/** The one mark profile (v1). Fixed: embedders and detectors must agree on it. */
export const PROFILE_V1: MarkProfile = makeProfile();

/** Session seconds after which the pattern repeats. */
export function patternCycleSec(profile: MarkProfile = PROFILE_V1): number {
  return profile.chipSec * profile.period * profile.blockPeriods[0] * profile.blockPeriods[1];
}

/**
 * The embedder's forward-masking memory (s): the masking reference decays from louder past frames
 * over this time (embed.ts default `releaseSec`), and the detector's weights estimate the boost
 * with the same memory (features/weights.ts).
 */
export const MASK_RELEASE_SEC = 0.1;

/** Whether tile (n, k) belongs to the sync layer (a checkerboard: n + k even). */
export function isSyncTile(n: number, k: number): boolean {
  return ((n + k) & 1) === 0;
}

/** Band group of the timecode layer (0 → R_A, 1 → R_B). */
export function bandGroup(k: number): 0 | 1 {
  return (k & 1) as 0 | 1;
}
