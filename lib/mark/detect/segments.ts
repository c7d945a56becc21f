/**
 * Segments: for a window where a leg was detected, the refined alignment (session offset and
 * rate, on exact features), the stretch of the clip the mark covers, and the timecode block
 * decoded again at the refined alignment (timecode-decode.ts).
 */
import { chipCount } from '../features/analysis.js';
import type { BandAnalysis } from '../features/analysis.js';
import { correlateTiles, tileFeatures } from '../features/tiles.js';
import type { TimecodePattern } from '../pattern.js';
import { patternCycleSec } from '../profile.js';
import { alignmentOf, chipRange } from '../search.js';
import type { Hypothesis } from '../search.js';
import type { Found } from './found.js';
import { decodeTimecode } from './timecode-decode.js';
import type { TimecodeEvidence } from './timecode-decode.js';
import type { MarkSegment } from './types.js';
import type { Window } from './windows.js';
import { featureBuffer } from './workspace.js';
import type { Workspace } from './workspace.js';

/** A segment with the timecode evidence and alignment it was decoded from (read by timeline.ts). */
export interface SegmentFinding {
  segment: MarkSegment;
  timecode?: {
    evidence: TimecodeEvidence;
    /** Refined rate (session seconds per clip second). */
    rate: number;
    /** Clip range (s) whose tiles the evidence read. */
    rangeSec: [number, number];
  };
}

export interface SegmentContext {
  analysis: BandAnalysis;
  pattern: TimecodePattern;
  workspace: Workspace;
  /** Corrected p-value of the window's statistic. */
  pValue: number;
}

/** Segment boundaries and a refined session offset for a detected window. */
export function refineSegment(ctx: SegmentContext, x: Found, w: Window): SegmentFinding {
  const { analysis, pattern, workspace: ws, pValue } = ctx;
  const profile = analysis.profile;
  const D = analysis.durationSec;
  const Tc = profile.chipSec;
  const K = profile.bands;
  const P = profile.period;
  const cycle = patternCycleSec(profile);
  const hyp = x.hyp;
  // tau0: session time at clip time 0.
  let tau0 = x.n0 * Tc - hyp.phaseSec;
  let rate = hyp.rate;
  const mid = 0.5 * (w.startSec + w.endSec);
  // Offset refinement: session time at the window centre, over rate x offset steps of Tc/8.
  const scoreAt = (r: number, tauMid: number): number => {
    const { phaseSec: phase, n0 } = alignmentOf(tauMid - r * mid, Tc);
    const h: Hypothesis = { rate: r, freqScale: hyp.kind === 'speed' ? r : 1, phaseSec: phase };
    ws.scoreBuf = featureBuffer(ws.scoreBuf, chipCount(analysis, h), K);
    // Features in a reused buffer: each is read once, right here.
    const f = tileFeatures(analysis, h, { rangeSec: [w.startSec, w.endSec], out: ws.scoreBuf, scratch: ws.tiles });
    const [ma, mb] = chipRange(w, { rate: r, freqScale: 1, phaseSec: phase }, Tc, f.chips);
    const { c, q } = correlateTiles(f, (n, k) => pattern.sign(n, k), n0, ma, mb);
    return q > 0 ? c / Math.sqrt(q) : 0;
  };
  const tauMid0 = tau0 + rate * mid;
  const rateStep = Math.min(0.002, (0.75 * Tc) / Math.max(1, w.endSec - w.startSec));
  // Rate steps i (rate + i rateStep): the nominal rate gets the full offset scan, the others only
  // around the best offset so far (the offset at the window centre hardly depends on the rate).
  // While the best rate is the outermost one tried, the search goes on outwards (a short window's
  // coarse rate grid is wide); the rate is then interpolated between the best step's neighbours.
  const tried = new Map<number, { z: number; tau: number }>();
  let bestTau = tauMid0;
  const tryRate = (i: number): void => {
    const r = rate + i * rateStep;
    const centre = i === 0 ? tauMid0 : bestTau;
    const steps = i === 0 ? [-4, -3, -2, -1, 0, 1, 2, 3, 4] : [-1, 0, 1];
    const zs = steps.map((d) => scoreAt(r, centre + (d * Tc) / 8));
    let bi = 0;
    for (let j = 1; j < zs.length; j++) if (zs[j]! > zs[bi]!) bi = j;
    tried.set(i, { z: zs[bi]!, tau: centre + ((steps[bi]! + parabolicPeak(zs, bi)) * Tc) / 8 });
  };
  const bestStep = (): number => {
    let bi = 0;
    for (const [i, v] of tried) if (v.z > tried.get(bi)!.z) bi = i;
    return bi;
  };
  tryRate(0);
  tryRate(-1);
  bestTau = tried.get(0)!.tau;
  tryRate(1);
  const MAX_RATE_STEPS = 5;
  for (let bi = bestStep(); Math.abs(bi) < MAX_RATE_STEPS && !tried.has(bi + Math.sign(bi)); bi = bestStep()) {
    bestTau = tried.get(bi)!.tau;
    tryRate(bi + Math.sign(bi));
  }
  const bi = bestStep();
  let frac = 0;
  if (tried.has(bi - 1) && tried.has(bi + 1)) frac = parabolicPeak([tried.get(bi - 1)!.z, tried.get(bi)!.z, tried.get(bi + 1)!.z], 1);
  rate += (bi + frac) * rateStep;
  tau0 = tried.get(bi)!.tau - rate * mid;

  // Boundaries: per-chip contributions along the clip at the refined alignment; the segment is
  // the maximum-sum run of (e_m - mu / 2), mu = mean contribution inside the window.
  const phase = ((-tau0 % Tc) + Tc) % Tc;
  let n0 = Math.round((tau0 + phase) / Tc);
  const span = w.endSec - w.startSec;
  const exact: Hypothesis = { rate, freqScale: hyp.kind === 'speed' ? rate : 1, phaseSec: phase };
  const wide: [number, number] = [w.startSec - span, w.endSec + span];
  const f = tileFeatures(analysis, exact, { rangeSec: wide, scratch: ws.tiles });
  const [ma, mb] = chipRange(w, { rate, freqScale: 1, phaseSec: phase }, Tc, f.chips);
  const boundaries = (n0: number): [number, number] => {
    const e = new Float64Array(f.chips);
    for (let m = 0; m < f.chips; m++) {
      let c = 0;
      for (let k = 0; k < K; k++) {
        const v = f.r[m * K + k]!;
        if (v !== 0) c += v * pattern.sign(n0 + m, k);
      }
      e[m] = c;
    }
    let mu = 0;
    for (let m = ma; m < mb; m++) mu += e[m]!;
    mu /= Math.max(1, mb - ma);
    let startChip = ma;
    let endChip = mb;
    if (mu > 0) {
      const spanChips = mb - ma;
      const lo = Math.max(0, ma - spanChips);
      const hi = Math.min(f.chips, mb + spanChips);
      let bestSum = -Infinity;
      let cur = 0;
      let curStart = lo;
      for (let m = lo; m < hi; m++) {
        const v = e[m]! - mu / 2;
        if (cur <= 0) {
          cur = v;
          curStart = m;
        } else cur += v;
        if (cur > bestSum) {
          bestSum = cur;
          startChip = curStart;
          endChip = m + 1;
        }
      }
    }
    return [startChip, endChip];
  };
  let [startChip, endChip] = boundaries(n0);
  // Block: decoded again at the refined alignment over the whole analysed range, chips and bands
  // weighted by the sync pilot (timecode-decode.ts); the window's own decode (timecode-search.ts)
  // read the window unweighted at the coarse alignment. A changed block moves the boundaries'
  // timecode tiles, so they are recomputed.
  const s = ((n0 % P) + P) % P;
  const [lo, hi] = chipRange({ startSec: wide[0], endSec: wide[1] }, { rate, freqScale: 1, phaseSec: phase }, Tc, f.chips);
  const fp = profile.payloadBands.length > 0 ? tileFeatures(analysis, exact, { rangeSec: wide, layer: 'payload', scratch: ws.tiles }) : undefined;
  const dec = decodeTimecode(f, pattern, { shift: s, segment: [startChip, endChip], range: [lo, hi], ...(fp ? { payload: fp } : {}) });
  let timecodeConf = 0;
  if (dec) {
    const n1 = dec.block * P + s;
    if (n1 !== n0) {
      tau0 += (n1 - n0) * Tc;
      n0 = n1;
      [startChip, endChip] = boundaries(n0);
    }
    timecodeConf = dec.confidence;
  }
  const startSec = Math.max(0, (phase + startChip * Tc) / rate);
  const endSec = Math.min(D, (phase + endChip * Tc) / rate);
  const off = tau0 + rate * startSec;
  const segment: MarkSegment = { startSec, endSec, sessionOffsetSec: ((off % cycle) + cycle) % cycle, z: x.z, pValue, timecodeConfidence: timecodeConf };
  if (!dec) return { segment };
  return { segment, timecode: { evidence: dec.evidence, rate, rangeSec: [Math.max(0, wide[0]), Math.min(D, wide[1])] } };
}

/** Offset (in steps, within +-0.5) of the parabola's peak through zs[i - 1], zs[i], zs[i + 1]; 0 at an edge or without a peak. */
export function parabolicPeak(zs: readonly number[], i: number): number {
  if (i <= 0 || i >= zs.length - 1) return 0;
  const a = zs[i - 1]!;
  const b = zs[i]!;
  const c = zs[i + 1]!;
  const den = a - 2 * b + c;
  return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
}
