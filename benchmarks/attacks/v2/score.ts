/**
 * SCORING ONLY (uses the organisation's key): compare an adversary's v2 estimates with the truth.
 * Never imported by an attack.
 *  - key layer: v1's scorers (../v1/score.ts) against the key layer's pattern (LegPattern with
 *    { keyLayer: true } under PROFILE_V2); the payload bands against the leg's own pattern.
 *  - leg layer: the effective signs the detector reads from the audio (../earmark.ts legEffective:
 *    PRF sign x the host bit), counted where the host bit is nonzero.
 */
import { LegPattern, PROFILE_V2, WEIGHT_BINS, legEffective } from '../earmark.js';
import type { MarkKey } from '../earmark.js';
import { chipStartSec } from '../v1/estimate.js';
import type { SyncEstimate } from '../v1/estimate.js';
import { sessionChipAt } from '../v1/score.js';
import type { Truth } from '../v1/score.js';
import type { ChipFeatures } from './estimate.js';
import { V2 } from './model.js';

const K = V2.bands;

/** The key layer as a v1 Truth (its sync and timecode tables are the key layer's). */
export function keyTruth(key: MarkKey, offsetSec: number): Truth {
  return { pattern: new LegPattern(key, { keyLayer: true }, { profile: PROFILE_V2 }), offsetSec };
}

/** Session chip of attacker chip 0 (the chip whose embedder frames line up with its detector window). */
export function sessionChipOf(sync: Pick<SyncEstimate, 'phase' | 'fineSec'>, offsetSec: number): number {
  return sessionChipAt(offsetSec, chipStartSec(sync, 0));
}

export interface ShotScore {
  /** Tiles scored (kept tiles, per-leg bands). */
  tiles: number;
  /** Fraction of hard signs equal to the truth (tiles with a nonzero estimate). */
  accuracy: number;
  /** Correlation of the estimate with the truth: sum v s / sqrt(N sum v^2) (1 = perfect, 0 = none). */
  corr: number;
  /** Per boost bin: [tiles, accuracy]. */
  byBin: [number, number][];
}

/** The effective leg signs of the chips of `f` as the detector reads them from `audio` (the audio f came from; attacker chip m = session chip n0 + m). */
export function truthOf(key: MarkKey, token: string, f: ChipFeatures, audio: Float32Array, n0: number): { sign: Int8Array; weight: Float32Array } {
  const t = legEffective(key, token, audio, f.phaseSec, n0 + f.m0);
  const sign = new Int8Array(f.chips * K);
  const weight = new Float32Array(f.chips * K);
  sign.set(t.sign.subarray(0, Math.min(t.sign.length, sign.length)));
  weight.set(t.weight.subarray(0, Math.min(t.weight.length, weight.length)));
  return { sign, weight };
}

/** Score a single-shot estimate of the leg layer over the chips of `f` against effective signs (tiles with a nonzero sign). */
export function scoreShot(f: ChipFeatures, est: Float32Array, truth: { sign: Int8Array }): ShotScore {
  let n = 0;
  let ok = 0;
  let c = 0;
  let q = 0;
  const bins: [number, number][] = Array.from({ length: WEIGHT_BINS }, () => [0, 0]);
  for (let j = 0; j < f.chips; j++)
    for (let k = 0; k < K; k++) {
      const v = est[j * K + k]!;
      const s = truth.sign[j * K + k]!;
      if (f.r[j * K + k] === 0 || v === 0 || s === 0) continue;
      n++;
      const right = (v > 0 ? 1 : -1) === s;
      if (right) ok++;
      c += v * s;
      q += v * v;
      const b = Math.min(WEIGHT_BINS - 1, f.bins[j * K + k]!);
      bins[b]![0] += 1;
      if (right) bins[b]![1] += 1;
    }
  return { tiles: n, accuracy: ok / Math.max(1, n), corr: c / Math.sqrt(Math.max(1e-30, n * q)), byBin: bins.map(([t, a]) => [t, t ? a / t : NaN]) };
}
