/**
 * Shared set-up of the own-voice probes: a miss-probe.ts record's clip, re-cut from the same musts
 * meeting (benchmarks/robustness.ts seeds), with leg 0's pattern and its tile features at the TRUE
 * alignment (rate 1; the session offset is known from the simulation).
 */
import { analyzeClip, tileFeatures } from '../../lib/mark/features.js';
import type { BandAnalysis, TileFeatures } from '../../lib/mark/features.js';
import type { MarkKey } from '../../lib/mark/index.js';
import { LegPattern, PROFILE_V1 } from '../../lib/mark/pattern.js';
import { benchMeeting } from '../meeting.js';
import type { BenchMeeting } from '../meeting.js';

/** A clip record written by miss-probe.ts. */
export interface ClipRecord {
  trial: number;
  c: number;
  s0: number;
  s1: number;
  z: number;
  zNeed: number;
  hit: boolean;
}

export interface TrueAlignment {
  meeting: BenchMeeting;
  pattern: LegPattern;
  analysis: BandAnalysis;
  features: TileFeatures;
  /** Chip phase (s) and session chip of relative chip 0. */
  phase: number;
  n0: number;
}

/** Meetings of one musts cell, the last one kept (records come grouped by trial). */
export function mustsMeetings(opts: { condIdx: number; chain: string; key: MarkKey; voices: Map<string, Float32Array> }): (trial: number) => Promise<BenchMeeting> {
  let last: { trial: number; m: BenchMeeting } | undefined;
  return async (trial) => {
    if (last?.trial !== trial) last = { trial, m: await benchMeeting({ seed: 100000 + 1000 * (opts.condIdx + 1) + trial, stream: 'bench/robustness-musts', chain: opts.chain, key: opts.key, voices: opts.voices, meetingSec: 80 }) };
    return last.m;
  };
}

/** Leg 0's pattern, the clip's analysis and the TRUE chip phase and session chip of meeting span [s0, s1) s (rate 1). */
export function truthAlignment(meeting: BenchMeeting, s0: number, s1: number, key: MarkKey): Omit<TrueAlignment, 'meeting' | 'features'> {
  const profile = PROFILE_V1;
  const Tc = profile.chipSec;
  const pattern = new LegPattern(key, meeting.tokens[0]!);
  const tap = meeting.sim.tap!.channels[0]!;
  const rate = meeting.sim.tap!.sampleRate;
  const analysis = analyzeClip(tap.subarray(Math.round(s0 * rate), Math.round(s1 * rate)), rate, profile);
  const t0 = meeting.offsets[0]! + s0;
  const phase = ((-t0 % Tc) + Tc) % Tc;
  const n0 = Math.round((t0 + phase) / Tc);
  return { pattern, analysis, phase, n0 };
}

export function atTruth(meeting: BenchMeeting, r: ClipRecord, key: MarkKey): TrueAlignment {
  const t = truthAlignment(meeting, r.s0, r.s1, key);
  const features = tileFeatures(t.analysis, { rate: 1, freqScale: 1, phaseSec: t.phase }, PROFILE_V1);
  return { meeting, ...t, features };
}
