/**
 * Tile weighting: the embedder's masking boost, estimated from the received chip -- a tile's
 * relative mark grows with how far its band lies below the chip's loudest band (per Hz, with the
 * embedder's 0.1 s forward-masking memory). The weight of a tile is a learned table entry (band x
 * boost bin, w = mu / sigma^2, the matched filter, trained by models/train-tile-weights.ts; see
 * ../tile-weights.ts) for the v1 leg layer, and the closed form boost^0.5 (capped at 16; the
 * embedder's cap is 128) for the payload layer. The weights depend on the audio's energies only,
 * never on a leg's signs, so the statistic's null distribution is unchanged.
 * Closed form, measured when it was introduced (144 clips of 5-30 s): median z +5-12% over
 * unweighted tiles (clean 11.9 -> 12.9, AMR-NB 12.2k 9.7 -> 10.4); a cap of 128 instead of 16 lost
 * AMR-NB detections.
 */
import { PROFILE_V1 } from '../profile.js';
import type { MarkProfile } from '../profile.js';
import { LEG_TILE_WEIGHTS } from '../tile-weights.js';

/** Cap of the estimated masking boost in the closed-form weight (weight = boost^0.5). */
const BOOST_CAP = 16;
/** Boost bins of the learned tile weights: floor(log2(boost^2)), 0..WEIGHT_BINS - 1 (the last open-ended). */
export const WEIGHT_BINS = 12;

/**
 * Bin of a tile's estimated masking boost, from boost^2 = peak / density (>= 1 for a valid tile):
 * floor(log2), capped at WEIGHT_BINS - 1.
 */
export function boostBin(boost2: number): number {
  return boost2 >= 1 << (WEIGHT_BINS - 1) ? WEIGHT_BINS - 1 : boost2 >= 1 ? 31 - Math.clz32(boost2) : 0;
}

/** Tile weighting of one layer: a table (band x boost bin) or null for the closed form boost^0.5 (capped at BOOST_CAP). */
export type WeightTable = Float64Array | null;

export type FeatureLayer = 'leg' | 'payload';

/**
 * Weight of a tile of band k with boost^2 = peak / density: the table's entry, or the closed form
 * (boost^2)^(1/4) with boost^2 capped at BOOST_CAP^2 (square roots instead of exp/log per tile).
 */
export function tileWeight(table: WeightTable, k: number, boost2: number): number {
  if (table) return table[k * WEIGHT_BINS + boostBin(boost2)]!;
  const cap2 = BOOST_CAP * BOOST_CAP;
  return Math.sqrt(Math.sqrt(boost2 < cap2 ? boost2 : cap2));
}

/**
 * The weights the detector uses: the learned table for the leg layer of a profile with v1's tiles
 * (v1, v2 and profiles derived from them by spreading, which share v1's band-edge array), the
 * closed form otherwise.
 */
export function weightTable(profile: MarkProfile, layer: FeatureLayer): WeightTable {
  return layer === 'leg' && profile.bandEdgesHz === PROFILE_V1.bandEdgesHz && profile.chipSec === PROFILE_V1.chipSec ? LEG_TILE_WEIGHTS : null;
}

/** 1 / bandwidth (Hz) of each band: tile energies per Hz for the masking estimate. */
export function inverseBandwidths(profile: MarkProfile): Float64Array {
  const K = profile.bands;
  const invBw = new Float64Array(K);
  for (let k = 0; k < K; k++) invBw[k] = 1 / (profile.bandEdgesHz[k + 1]! - profile.bandEdgesHz[k]!);
  return invBw;
}

/** Bands whose residual a layer keeps (1) or drops (0): 'leg' drops the payload bands (they still serve as neighbours and in the masking peak). */
export function keptBands(profile: MarkProfile, layer: FeatureLayer): Uint8Array {
  const keep = new Uint8Array(profile.bands).fill(1);
  if (layer === 'leg') for (const k of profile.payloadBands) keep[k] = 0;
  return keep;
}
