/**
 * What the adversary knows about mark v1's STRUCTURE, read from earmark's public source
 * (lib/mark/pattern.ts, embed.ts, features.ts, payload.ts) -- no key:
 *  - tiles: 32 ms chips x 32 ERB bands 300 Hz - 7 kHz (the edges are computed by public code);
 *  - sync layer on the checkerboard tiles (n + k even), periodic in P = 32 chips (1.024 s);
 *  - timecode layer on the other tiles: tcChip(n mod 32, k) * tcBlock_g(floor(n / 32) mod R_g, k),
 *    R = 211 for even bands, 223 for odd bands (a rank-one product per band, periodic in 32 R_g chips);
 *  - payload bands 25, 28, 31: a key-level layer periodic in 256 chips (8.192 s);
 *  - embedder: multiplicative gain per tile, masking boost, frames centred in the chip;
 *  - the detector's own front end (tile features: log band energy residual vs 4 neighbours,
 *    per-band RMS scale, clip, learned weights, band centring) is public too: the adversary uses
 *    it as its feature extractor.
 * The attacker does NOT know the session offset: its chip indices m are relative to its own
 * recording, and it finds chip phase, checkerboard parity and block boundaries from the data.
 */
import { PROFILE_V1, analyzeClip, featureGrid } from '../earmark.js';

export const V1 = {
  chipSec: 0.032,
  bands: 32,
  period: 32,
  blockPeriods: [211, 223] as const,
  payloadBands: [25, 28, 31] as const,
  payloadFrame: 256,
  bandEdgesHz: PROFILE_V1.bandEdgesHz,
  /** Feature rows: one tile (4 STFT hops of 8 ms) starting at every 8 ms frame. */
  rowHopSec: 0.008,
  rowsPerChip: 4,
  /** Clip time of the window start of feature row 0 (features.ts gridRows: row i <-> chip starting at 12 ms + 8 ms i). */
  row0Sec: 0.012,
};

export const isPayloadBand = (k: number): boolean => (V1.payloadBands as readonly number[]).includes(k);
/** Band group of the timecode layer: even bands R_A = 211, odd bands R_B = 223. */
export const groupOf = (k: number): 0 | 1 => (k & 1) as 0 | 1;

/**
 * Detector-front-end features of a piece of audio: one row per 8 ms frame (row f = the tile of
 * the 32 ms starting at 12 ms + 8 ms f), 32 bands ('leg': payload bands zero; 'payload': all bands).
 */
export function featureRows(audio: Float32Array, layer: 'leg' | 'payload' = 'leg'): { r: Float32Array; rows: number } {
  const a = analyzeClip(audio, 16000, PROFILE_V1);
  const g = featureGrid(a, 1, PROFILE_V1, layer);
  return { r: g.r, rows: g.rows };
}
