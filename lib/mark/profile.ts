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
  readonly version: 1 | 2;
  /** 'v1' or 'v2': named in reports. */
  readonly name: 'v1' | 'v2';
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
  /**
   * Amplitudes of the two layers superposed in every per-leg tile (key^2 + leg^2 = 1): v2's
   * key-level layer (the same for every leg of a key: synchronisation and timecode, names no leg)
   * and its leg layer (each leg's own non-repeating signs). v1: key 0, leg 1 (its sync and
   * timecode layers are the leg's own).
   */
  readonly layerAmplitudes: { readonly key: number; readonly leg: number };
  /** Longest session offset (s) the timeline represents: embedders refuse later session times. */
  readonly reachSec: number;
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
  const chipSec = 0.032;
  const period = 32;
  const blockPeriods: [number, number] = [211, 223];
  // v1's timeline: the whole pattern repeats after R_A R_B blocks (13.4 h).
  const reachSec = chipSec * period * blockPeriods[0] * blockPeriods[1];
  return Object.freeze({ version: 1, name: 'v1', chipSec, bandEdgesHz: edges, bands, period, blockPeriods, payloadBands, layerAmplitudes: Object.freeze({ key: 0, leg: 1 }), reachSec });
}

/** Mark v1 (its sync and timecode layers are leg-specific and periodic: see security notes in pattern.ts). Kept so v1 material stays detectable. */
export const PROFILE_V1: MarkProfile = makeProfile();

/**
 * Mark v2: the same tiles, two superposed layers (pattern.ts): a key-level layer with v1's
 * sync and timecode structure (cheap to search, names no leg) at amplitude 1/sqrt 2, and each
 * leg's own non-repeating layer at amplitude 1/sqrt 2, bound to the host (host-hash.ts). The
 * split is a trade (benchmarks/layer-split.ts; robustness.ts KEY_AMP=): energy moved to the leg
 * layer names colluders and mixed legs more often, and costs short taps their alignment, which
 * comes from the key layer. Key 0.6 / leg 0.8 was tried (2026-12-03; results/layer-split.md, 50
 * clips per cell): every colluder of an average
 * of three legs (30 s, AAC 64k) named in 50/50 clips instead of 45/50, a leg under an unmarked
 * talker at 0 dB in 26/50 instead of 19/50 -- and on the detection musts' taps at 1.5x their
 * length Opus 24k 7.5 s fell to 44/48 (95/96 at 1/sqrt 2), MP3 64k to 46/48, AAC 64k to 47/48
 * (results/robustness-musts-v2-key0.6-x1.5.md). Neither split holds both musts. The
 * timeline reaches one key-layer cycle (13.38 h of session time per leg token; a longer session
 * takes a new token): every further cycle the detector would have to try multiplies the legs'
 * search by its count.
 */
export const PROFILE_V2: MarkProfile = Object.freeze({
  ...PROFILE_V1,
  version: 2,
  name: 'v2',
  layerAmplitudes: Object.freeze({ key: Math.SQRT1_2, leg: Math.SQRT1_2 }),
  reachSec: PROFILE_V1.reachSec,
});

/** The profiles a detector knows, newest first. */
export const PROFILES: readonly MarkProfile[] = Object.freeze([PROFILE_V2, PROFILE_V1]);

/** The known profile of that name ('v1', 'v2'), or undefined. */
export function profileNamed(name: string): MarkProfile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** Chips after which the sync and timecode structure repeats (v1: the whole pattern; v2: the key layer). */
export function patternCycleChips(profile: MarkProfile): number {
  return profile.period * profile.blockPeriods[0] * profile.blockPeriods[1];
}

/** Session seconds after which the sync and timecode structure repeats (v1: the whole pattern; v2: the key layer). */
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
