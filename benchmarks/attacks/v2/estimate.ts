/**
 * Keyless estimation against mark v2, from recordings the adversary holds.
 *
 *  - The key layer: v1's estimators unchanged (../v1/estimate.ts: fold modulo 32 chips at every
 *    chip phase and parity, sub-row phase refinement, rank-one timecode by eigenvector / ALS,
 *    payload bands folded modulo 256 chips). On v2 material they see the key layer (the same in
 *    every leg of the key, periodic) with the leg layer as noise (nothing of it repeats).
 *  - The leg layer, single shot: at the attacker's alignment (the key estimate's chip phase), the
 *    detector's own tile features r of the stretch held; the key layer's predicted contribution is
 *    removed, u = r - mu (s_k - (1/4) sum of the four neighbours' s_k) (the detector's residual
 *    subtracts the neighbours' mean), mu = E[r s_k] per band and boost bin (calibrated on the
 *    recording with the key estimate, keyless), and
 *      hard: sign(u);   soft: tanh(mu u / sigma^2) = E[s | u] under u = mu s + N(0, sigma^2).
 *    `feature` is the brief's plainest form: the sign of r itself.
 * Whatever the detector's effective sign of a tile is (the leg's PRF sign, or that times a bit of
 * the host), this estimates it from the audio: it is what the audio carries.
 */
import { WEIGHT_BINS, analyzeClip, tileFeatures } from '../earmark.js';
import { RATE } from '../harness.js';
import { chipStartSec, patternValue } from '../v1/estimate.js';
import type { V1Estimate } from '../v1/estimate.js';
import { V2 } from './model.js';

const K = V2.bands;

/** The key layer's estimate: v1's estimate structure (sync, timecode, payload) applied to v2 material. */
export type KeyEstimate = V1Estimate;

/** The key layer's estimated sign at attacker chip m, band k (payload bands 0; 0 where unknown). */
export function keyValue(est: KeyEstimate, kind: 'hard' | 'soft' = 'hard'): (m: number, k: number) => number {
  return patternValue(est, { sync: true, timecode: true, payload: false, kind });
}

/** The payload bands' fold estimate at attacker chip m (0 on the other bands). */
export function payloadValue(est: KeyEstimate): (m: number, k: number) => number {
  return patternValue(est, { sync: false, timecode: false, payload: true });
}

/** Detector-front-end features of attacker chips [m0, m0 + chips) from audio holding them. */
export interface ChipFeatures {
  m0: number;
  /** Clip time (s) of chip m0's detector window in the audio the features came from. */
  phaseSec: number;
  chips: number;
  /** chips x K, the detector's weighted tile features (0 = dropped tile). */
  r: Float32Array;
  /** chips x K boost bins (255 = no residual). */
  bins: Uint8Array;
}

/**
 * Tile features of the attacker chips covered by `audio`, a piece of the recording starting at
 * recording sample `audioStart`, at the estimate's chip phase (the detector's exact front end).
 */
export function chipFeatures(audio: Float32Array, audioStart: number, est: KeyEstimate): ChipFeatures {
  const Tc = V2.chipSec;
  const tStart = audioStart / RATE;
  // First attacker chip whose detector window starts inside the piece.
  const m0 = Math.ceil((tStart - chipStartSec(est.sync, 0)) / Tc - 1e-9);
  const phaseSec = chipStartSec(est.sync, m0) - tStart;
  const a = analyzeClip(audio, RATE);
  const maxChips = Math.ceil(audio.length / RATE / Tc) + 2;
  const bins = new Uint8Array(maxChips * K);
  const f = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec }, { bins });
  return { m0, phaseSec, chips: f.chips, r: f.r.slice(0, f.chips * K), bins: bins.slice(0, f.chips * K) };
}

/** The key layer's predicted contribution to the detector's residual at a tile: s_k minus the mean of its four neighbours' s_k. */
function keyPrediction(kv: (m: number, k: number) => number, m: number, k: number): number {
  let nb = 0;
  let c = 0;
  for (const [mm, kk] of [[m - 1, k], [m + 1, k], [m, k - 1], [m, k + 1]] as const) {
    if (kk < 0 || kk >= K) continue;
    nb += kv(mm, kk);
    c++;
  }
  return kv(m, k) - nb / Math.max(1, c);
}

/** Per band x boost bin: the key layer's scale mu = E[r s_k] and the residual variance sigma^2 of u = r - mu s_k (one table for the leg layer's single shot). */
export interface LegCalibration {
  mu: Float64Array;
  sig2: Float64Array;
  /** Tiles per cell. */
  n: Float64Array;
}

/**
 * Calibrate mu and sigma^2 on features of the recording with the key estimate (no key). Model:
 * r = mu p_k + mu p_l + noise, p = s - (1/4) sum of the neighbours' s (the detector's detrending),
 * so mu = E[r p_k] / E[p_k^2] and, for u = r - mu p_k, sigma^2 = E[u^2] - mu^2 (the noise on
 * mu s_l, the neighbours' leg signs included). Cells with few tiles take their band's pooled values.
 */
export function calibrateLeg(feats: readonly ChipFeatures[], kv: (m: number, k: number) => number): LegCalibration {
  const B = WEIGHT_BINS;
  const c = new Float64Array(K * B);
  const pp = new Float64Array(K * B);
  const q = new Float64Array(K * B);
  const n = new Float64Array(K * B);
  for (const f of feats)
    for (let j = 0; j < f.chips; j++)
      for (let k = 0; k < K; k++) {
        const x = f.r[j * K + k]!;
        const b = f.bins[j * K + k]!;
        if (x === 0 || b >= B) continue;
        const p = keyPrediction(kv, f.m0 + j, k);
        const i = k * B + b;
        c[i]! += x * p;
        pp[i]! += p * p;
        q[i]! += x * x;
        n[i]! += 1;
      }
  const mu = new Float64Array(K * B);
  const sig2 = new Float64Array(K * B).fill(1);
  for (let k = 0; k < K; k++) {
    let cb = 0;
    let pb = 0;
    let qb = 0;
    let nb = 0;
    for (let b = 0; b < B; b++) (cb += c[k * B + b]!), (pb += pp[k * B + b]!), (qb += q[k * B + b]!), (nb += n[k * B + b]!);
    for (let b = 0; b < B; b++) {
      const i = k * B + b;
      const [cc, ppp, qq, nn] = n[i]! >= 200 ? [c[i]!, pp[i]!, q[i]!, n[i]!] : [cb, pb, qb, nb];
      if (nn <= 0 || ppp <= 0) continue;
      const m = Math.max(0, cc / ppp);
      mu[i] = m;
      const eu2 = qq / nn - (2 * m * cc) / nn + (m * m * ppp) / nn;
      sig2[i] = Math.max(1e-6, eu2 - m * m);
    }
  }
  return { mu, sig2, n };
}

export type SingleShotKind = 'feature' | 'hard' | 'soft';

/** The leg layer's single-shot estimate over the chips of `f`: value per (chip - m0, band), in [-1, 1]. */
export function singleShot(f: ChipFeatures, kv: (m: number, k: number) => number, cal: LegCalibration, kind: SingleShotKind): Float32Array {
  const B = WEIGHT_BINS;
  const out = new Float32Array(f.chips * K);
  for (let j = 0; j < f.chips; j++)
    for (let k = 0; k < K; k++) {
      const x = f.r[j * K + k]!;
      if (x === 0) continue;
      if (kind === 'feature') {
        out[j * K + k] = x > 0 ? 1 : -1;
        continue;
      }
      const b = Math.min(B - 1, f.bins[j * K + k]!);
      const mu = cal.mu[k * B + b]!;
      const u = x - mu * keyPrediction(kv, f.m0 + j, k);
      out[j * K + k] = kind === 'hard' ? (u > 0 ? 1 : u < 0 ? -1 : 0) : Math.tanh((mu * u) / cal.sig2[k * B + b]!);
    }
  return out;
}

/** A single-shot estimate as a function of attacker chip (0 outside the chips it covers). */
export function legValue(f: ChipFeatures, est: Float32Array): (m: number, k: number) => number {
  return (m, k) => {
    const j = m - f.m0;
    return j >= 0 && j < f.chips ? est[j * K + k]! : 0;
  };
}
