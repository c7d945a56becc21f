/**
 * Mix-minus reasoning. A bridge sends leg X the mix of everyone but X, marked with X's mark; a tap
 * on X records that downlink plus X's own voice, which never passed through the bridge and
 * carries no mark. So inside the span where X's mark is detected, a stretch of speech whose
 * mark is far weaker than the rest of the span predicts is most simply X's own microphone at the
 * capture point (or audio inserted later — the timeline edits tell the two apart).
 *
 * Test per speech stretch i at the leg's known alignment (no search): with C and E the
 * correlation and tile energy (≈ active tiles) of the rest of the span, a stretch marked like
 * the rest would give z_i ≈ N(μ_i, 1), μ_i = C·sqrt(E_i)/E. It is called unmarked when
 * μ_i ≥ minExpectedZ (enough tiles for the test to mean something), z_i ≤ μ_i − rejectSigma
 * (marked-like is rejected) and z_i < noMarkZ (consistent with no mark at all).
 */
import { toMono } from '../audio/mono.js';
import type { AudioBuffer } from '../audio/types.js';
import type { DetectedLeg } from '../mark/detect/types.js';
import { analyzeClip } from '../mark/features/analysis.js';
import type { BandAnalysis } from '../mark/features/analysis.js';
import type { MarkKey } from '../mark/keys.js';
import { scoreRanges } from '../mark/track.js';

export interface Stretch {
  startSec: number;
  endSec: number;
}

export interface VadOptions {
  frameSec?: number;
  /** Frames this far above the clip's noise floor (10th percentile) are speech. Default 15 dB. */
  aboveFloorDb?: number;
  /** Never call frames quieter than this speech. Default −55 dBFS. */
  minDbfs?: number;
  /** Pauses shorter than this join stretches. Default 0.3 s. */
  hangoverSec?: number;
  /** Shorter stretches are dropped. Default 1.5 s. */
  minStretchSec?: number;
}

/** Energy voice-activity detection: stretches of sound well above the clip's own floor. */
export function speechStretches(samples: Float32Array, sampleRate: number, opts: VadOptions = {}): Stretch[] {
  const frame = Math.max(1, Math.round((opts.frameSec ?? 0.02) * sampleRate));
  const n = Math.floor(samples.length / frame);
  if (n === 0) return [];
  const db = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) s += samples[i]! * samples[i]!;
    db[f] = 10 * Math.log10(s / frame + 1e-12);
  }
  const sorted = Float64Array.from(db).sort();
  const floor = sorted[Math.floor(0.1 * (n - 1))]!;
  const thr = Math.max(floor + (opts.aboveFloorDb ?? 15), opts.minDbfs ?? -55);
  const frameSec = frame / sampleRate;
  const hang = Math.round((opts.hangoverSec ?? 0.3) / frameSec);
  const out: Stretch[] = [];
  let start = -1;
  let lastActive = -Infinity;
  for (let f = 0; f <= n; f++) {
    const active = f < n && db[f]! >= thr;
    if (active) {
      if (start < 0) start = f;
      else if (f - lastActive > hang) {
        out.push({ startSec: start * frameSec, endSec: (lastActive + 1) * frameSec });
        start = f;
      }
      lastActive = f;
    }
  }
  if (start >= 0) out.push({ startSec: start * frameSec, endSec: (lastActive + 1) * frameSec });
  const minLen = opts.minStretchSec ?? 1.5;
  return out.filter((s) => s.endSec - s.startSec >= minLen);
}

export interface MixMinusOptions {
  minExpectedZ?: number;
  rejectSigma?: number;
  noMarkZ?: number;
  vad?: VadOptions;
}

export interface UnmarkedStretch extends Stretch {
  z: number;
  expectedZ: number;
}

/** Speech stretches inside each detected leg's span that carry no mark of that leg. */
export function unmarkedSpeech(clip: AudioBuffer, legs: readonly DetectedLeg[], opts: MixMinusOptions & { key: MarkKey; analysis?: BandAnalysis }): Map<string, UnmarkedStretch[]> {
  const samples = toMono(clip);
  const key = opts.key;
  const analysis = opts.analysis ?? analyzeClip(samples, clip.sampleRate);
  const minExpected = opts.minExpectedZ ?? 4;
  const reject = opts.rejectSigma ?? 3.5;
  const noMark = opts.noMarkZ ?? 2;
  const stretches = speechStretches(samples, clip.sampleRate, opts.vad);
  const result = new Map<string, UnmarkedStretch[]>();
  for (const leg of legs) {
    if (leg.segments.length === 0) continue;
    const spanStart = Math.min(...leg.segments.map((s) => s.startSec));
    const spanEnd = Math.max(...leg.segments.map((s) => s.endSec));
    const inside = stretches
      .map((s) => ({ startSec: Math.max(s.startSec, spanStart), endSec: Math.min(s.endSec, spanEnd) }))
      .filter((s) => s.endSec - s.startSec >= (opts.vad?.minStretchSec ?? 1.5));
    if (inside.length < 2) continue;
    const best = [...leg.segments].sort((a, b) => b.z - a.z)[0]!;
    const alignment = { clipSec: best.startSec, sessionOffsetSec: best.sessionOffsetSec, rate: leg.speed, kind: leg.speedKind };
    const scores = scoreRanges(analysis, { key, token: leg.token, alignment, ranges: inside.map((s) => [s.startSec, s.endSec] as const) });
    const C = scores.reduce((a, s) => a + s.correlation, 0);
    const E = scores.reduce((a, s) => a + s.energy, 0);
    const found: UnmarkedStretch[] = [];
    for (const s of scores) {
      const restC = C - s.correlation;
      const restE = E - s.energy;
      if (restE <= 0 || s.energy <= 0) continue;
      const expectedZ = (restC * Math.sqrt(s.energy)) / restE;
      if (expectedZ >= minExpected && s.z <= expectedZ - reject && s.z < noMark) found.push({ startSec: s.startSec, endSec: s.endSec, z: s.z, expectedZ });
    }
    if (found.length) result.set(leg.token, found);
  }
  return result;
}
