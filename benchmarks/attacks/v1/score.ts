/**
 * SCORING ONLY (uses the organisation's key): compare an adversary's v1 estimate with the leg's
 * true pattern. Never imported by an attack.
 */
import { LegPattern, analyzeClip, tileFeatures } from '../earmark.js';
import type { MarkKey } from '../earmark.js';
import type { SyncEstimate, TimecodeEstimate, PayloadEstimate } from './estimate.js';
import { chipStartSec } from './estimate.js';
import { V1, isPayloadBand } from './model.js';

const K = V1.bands;
const P = V1.period;

export interface Truth {
  pattern: LegPattern;
  /** Session time of the recording's first sample. */
  offsetSec: number;
}

export function truthOf(key: MarkKey, token: string, offsetSec: number): Truth {
  return { pattern: new LegPattern(key, token), offsetSec };
}

/**
 * Session chip whose mark lines up with attacker chip 0 at a phase: the embedder marks chip n in
 * its two STFT frames centred (session time) in [n Tc, (n + 1) Tc) on a 16 ms grid starting at the
 * recording's first sample; the chip whose frames' centroid is nearest the detector window's
 * centre. (Attacker chip m is session chip n0 + m.)
 */
export function sessionChip0(truth: Truth, phase: number): number {
  return sessionChipAt(truth.offsetSec, chipStartSec({ phase, fineSec: 0 }, 0));
}

/** Session chip whose embedder frames line up with a detector window starting at recording time `windowStartSec`. */
export function sessionChipAt(offsetSec: number, windowStartSec: number): number {
  const Tc = V1.chipSec;
  const centre = offsetSec + windowStartSec + Tc / 2;
  let best = 0;
  let bestD = Infinity;
  const guess = Math.round(centre / Tc);
  for (let n = guess - 2; n <= guess + 2; n++) {
    const c1 = offsetSec + 0.016 * Math.ceil((n * Tc - offsetSec) / 0.016 - 1e-9);
    const d = Math.abs(c1 + 0.008 - centre);
    if (d < bestD) (bestD = d), (best = n);
  }
  return best;
}

/** Fraction of the 464 sync signs recovered (attacker chip m = session chip n0 + m; `dn` shifts the truth for diagnostics). */
export function scoreSync(est: SyncEstimate, truth: Truth, dn = 0): { recovered: number; total: number; parityRight: boolean } {
  const n0 = sessionChip0(truth, est.phase) + dn;
  let ok = 0;
  let total = 0;
  for (let n = 0; n < P; n++)
    for (let k = 0; k < K; k++) {
      if (isPayloadBand(k) || (n + k) % 2 !== 0) continue;
      total++;
      const uAtt = (((n - n0) % P) + P) % P;
      if (est.sign[uAtt * K + k] === truth.pattern.sync[n * K + k]) ok++;
    }
  // Attacker parity right when its sync tiles are the true ones: (u_att + k + parity) even <=> (n0 + u_att + k) even.
  return { recovered: ok / total, total, parityRight: (n0 + est.parity) % 2 === 0 };
}

export interface TimecodeScore {
  shiftRight: boolean;
  /** Product signs (ALS) right, over the tc tiles of observed block residues. */
  alsRecovered: number;
  /** Product signs from the leading singular vectors' signs. */
  eigRecovered: number;
  /** Block factor right up to each band's global sign (eigen, ALS), observed residues. */
  blockEig: number;
  blockAls: number;
  /** Chip factor right up to each band's global sign (ALS). */
  chipAls: number;
  /** Fraction of the R_A + R_B block residues observed. */
  coverage: number;
  tiles: number;
}

export function scoreTimecode(tc: TimecodeEstimate, sync: SyncEstimate, truth: Truth): TimecodeScore {
  const n0 = sessionChip0(truth, sync.phase);
  let alsOk = 0;
  let eigOk = 0;
  let tiles = 0;
  let bEig = 0;
  let bAls = 0;
  let bTot = 0;
  let cAls = 0;
  let cTot = 0;
  let obs = 0;
  for (let k = 0; k < K; k++) {
    if (isPayloadBand(k)) continue;
    const g = (k & 1) as 0 | 1;
    const R = V1.blockPeriods[g];
    const tcBlock = truth.pattern.tcBlock[g];
    let be = 0;
    let ba = 0;
    let bn = 0;
    let ca = 0;
    let cn = 0;
    for (let r = 0; r < R; r++) {
      if (tc.observed[g][r] === 0) continue;
      for (let v = 0; v < P; v++) {
        const n = n0 + tc.shift + P * r + v;
        if ((n + k) % 2 === 0) continue;
        const truthSign = truth.pattern.sign(n, k);
        const a = tc.chipSign[k]![v]!;
        if (a === 0) continue;
        tiles++;
        if (a * tc.blockSign[k]![r]! === truthSign) alsOk++;
        const ae = tc.chipVec[k]![v]! >= 0 ? 1 : -1;
        const bev = tc.blockVec[k]![r]! >= 0 ? 1 : -1;
        if (ae * bev === truthSign) eigOk++;
      }
      const J = Math.floor((n0 + tc.shift + P * r) / P) % R;
      const tb = tcBlock[J * K + k]!;
      bn++;
      if ((tc.blockVec[k]![r]! >= 0 ? 1 : -1) === tb) be++;
      if (tc.blockSign[k]![r] === tb) ba++;
    }
    for (let v = 0; v < P; v++) {
      const u = (n0 + tc.shift + v) % P;
      if ((u + k) % 2 === 0 || tc.chipSign[k]![v] === 0) continue;
      cn++;
      if (tc.chipSign[k]![v] === truth.pattern.tcChip[u * K + k]) ca++;
    }
    bEig += Math.max(be, bn - be);
    bAls += Math.max(ba, bn - ba);
    bTot += bn;
    cAls += Math.max(ca, cn - ca);
    cTot += cn;
  }
  for (const g of [0, 1] as const) obs += tc.observed[g].filter((x) => x > 0).length;
  return {
    shiftRight: (n0 + tc.shift) % P === 0,
    alsRecovered: alsOk / Math.max(1, tiles),
    eigRecovered: eigOk / Math.max(1, tiles),
    blockEig: bEig / Math.max(1, bTot),
    blockAls: bAls / Math.max(1, bTot),
    chipAls: cAls / Math.max(1, cTot),
    coverage: obs / (V1.blockPeriods[0] + V1.blockPeriods[1]),
    tiles,
  };
}

/** Fraction of the payload layer's 768 positions (256 chips x 3 bands) recovered. */
export function scorePayload(est: PayloadEstimate, phase: number, truth: Truth): number {
  const n0 = sessionChip0(truth, phase);
  let ok = 0;
  for (let m = 0; m < V1.payloadFrame; m++)
    V1.payloadBands.forEach((k, b) => {
      if (est.sign[m * 3 + b] === truth.pattern.sign(n0 + m, k)) ok++;
    });
  return ok / (V1.payloadFrame * 3);
}

export interface TruthStat {
  z: number;
  zSync: number;
  zTc: number;
  cSync: number;
  vSync: number;
  cTc: number;
  vTc: number;
  /** Sum of the sync tiles' own energies (what vSync would be without any periodic component). */
  qSync: number;
  phaseSec: number;
}

/**
 * The detector's plain statistic at the TRUE alignment (no search): clip features at chip phases
 * around the truth (the best of 8 phases over one chip, as the detector's refinement would), sync
 * correlation over the fold, timecode correlation over the tiles at the true block,
 * z = (c_sync + c_tc) / sqrt(V_sync + V_tc) with V_sync the fold energy (detect.ts).
 */
export function statAtTruth(clip: Float32Array, truth: Truth, clipStartSec: number): TruthStat {
  const a = analyzeClip(clip, 16000);
  const Tc = V1.chipSec;
  const t0 = truth.offsetSec + clipStartSec;
  let best: TruthStat | undefined;
  for (let i = 0; i < 8; i++) {
    // Chip window starts at session times n Tc - 8 ms + (i - 4) ms.
    const phaseSec = (((-t0 - 0.008 + (i - 4) * 0.001) % Tc) + Tc) % Tc;
    const n0 = Math.round((t0 + phaseSec + 0.008 - (i - 4) * 0.001) / Tc);
    const f = tileFeatures(a, { rate: 1, freqScale: 1, phaseSec });
    const s = statOf(f.r, f.chips, n0, truth.pattern);
    if (!best || s.z > best.z) best = { ...s, phaseSec };
  }
  return best!;
}

/** Components of the statistic over chips of features r (chips x 32) whose chip 0 is session chip n0. */
export function statOf(r: Float32Array, chips: number, n0: number, pattern: LegPattern): Omit<TruthStat, 'phaseSec'> {
  const fold = new Float64Array(P * K);
  let cSync = 0;
  let qSync = 0;
  let cTc = 0;
  let vTc = 0;
  for (let m = 0; m < chips; m++) {
    const n = n0 + m;
    for (let k = 0; k < K; k++) {
      const x = r[m * K + k]!;
      if (x === 0 || isPayloadBand(k)) continue;
      const s = pattern.sign(n, k);
      if ((n + k) % 2 === 0) {
        fold[(n % P) * K + k]! += x;
        cSync += x * s;
        qSync += x * x;
      } else {
        cTc += x * s;
        vTc += x * x;
      }
    }
  }
  let vSync = 0;
  for (const v of fold) vSync += v * v;
  const z = (cSync + cTc) / Math.sqrt(vSync + vTc);
  return { z, zSync: cSync / Math.sqrt(vSync), zTc: cTc / Math.sqrt(vTc), cSync, vSync, cTc, vTc, qSync };
}
