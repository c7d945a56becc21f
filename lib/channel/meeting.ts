/**
 * Meeting simulator: what a conference bridge sees and sends, and what a tap on one leg records.
 *
 *   speech sources ──► turn-taking schedule (seeded) ──► uplinks u_1..u_N (through each leg's
 *   uplink codec chain, back at the bridge rate)
 *   bridge: d_k = Σ_{i≠k} u_i (mix-minus) ──► hook(k, d_k) (the embedder plugs in here)
 *   tap on leg t: leg t's downlink codec chain (hooked d_t) + u_t (the tapped person's own,
 *   unmarked voice at the capture point) ──► capture chain (room, re-encode, crop, ...)
 *
 * Everything is deterministic from `seed` (given the ffmpeg build): each consumer draws from its
 * own named random stream, so adding a participant does not reshuffle the others' turns' content.
 * Timing: codec delays are compensated (codecs.ts), so the truth intervals hold on the uplinks,
 * the downlinks and the tap, up to whatever the capture chain does (speed, tempo, crop).
 */
import { toMono } from '../audio/mono.js';
import type { AudioBuffer } from '../audio/types.js';
import { InputError } from '../errors.js';
import { runResample, trimAndFit } from './codecs.js';
import { deriveSeed, randomStream } from './random.js';
import type { RandomStream } from './random.js';
import { describeChain, toSteps } from './steps.js';
import type { ChannelStep } from './steps.js';
import { applyChain, checkAudio } from './transform.js';

import { LEG_KINDS } from '../legs.js';
import type { LegKind } from '../legs.js';


/**
 * Codec chains per leg kind, in each direction. PSTN / mobile dial-in crosses a G.711 trunk and
 * then the mobile network's AMR-NB (downlink), and the reverse on the way up. A recorder leg
 * takes the bridge's output losslessly and sends nothing.
 */
export const DEFAULT_LEG_CHAINS: { readonly [K in LegKind]: { readonly uplink: string; readonly downlink: string } } = {
  app: { uplink: 'opus:32', downlink: 'opus:32' },
  browser: { uplink: 'opus:24', downlink: 'opus:24' },
  sip: { uplink: 'g711:mu', downlink: 'g711:mu' },
  pstn: { uplink: 'amrnb:12.2,g711:a', downlink: 'g711:a,amrnb:12.2' },
  recorder: { uplink: '', downlink: '' },
};

export interface MeetingParticipant {
  name: string;
  leg: LegKind;
  /** Speech material, any rate (resampled to the bridge rate, downmixed). None: never talks. */
  speech?: readonly AudioBuffer[];
  /** Default: DEFAULT_LEG_CHAINS[leg].uplink. */
  uplinkChain?: string | readonly ChannelStep[];
  /** Default: DEFAULT_LEG_CHAINS[leg].downlink. */
  downlinkChain?: string | readonly ChannelStep[];
  /** Speaking level relative to `speechLevelDbfs`; default drawn uniformly in [-3, +3] dB. */
  levelDb?: number;
}

/** Conversational timing. Turns are log-normal in length, pauses exponential. */
export interface TurnTaking {
  meanTurnSec: number;
  minTurnSec: number;
  maxTurnSec: number;
  meanPauseSec: number;
  /** Probability that the next speaker starts before the current one has finished. */
  overlapProbability: number;
  maxOverlapSec: number;
  /** Silence before the first turn, drawn uniformly in [0, leadInSec]. */
  leadInSec: number;
}

export const DEFAULT_TURN_TAKING: TurnTaking = {
  meanTurnSec: 3.5,
  minTurnSec: 0.8,
  maxTurnSec: 10,
  meanPauseSec: 0.5,
  overlapProbability: 0.15,
  maxOverlapSec: 0.8,
  leadInSec: 1,
};

/** The tap: which leg is recorded, and how. */
export interface TapOptions {
  leg: number;
  /** Add the tapped participant's own uplink (default true). */
  ownVoice?: boolean;
  ownVoiceGainDb?: number;
  /** Applied to the recorded mix: e.g. "room:0.5:25,aac:96" for a phone recording a laptop. */
  captureChain?: string | readonly ChannelStep[];
}

/** The bridge's per-leg processing (the watermark embedder), applied to every downlink. */
export type LegHook = (legIndex: number, downlink: AudioBuffer) => AudioBuffer | Promise<AudioBuffer>;

export interface MeetingOptions {
  participants: readonly MeetingParticipant[];
  durationSec: number;
  seed: number;
  /** Bridge mixing rate (default 16000). */
  sampleRate?: number;
  turnTaking?: Partial<TurnTaking>;
  /** Run each participant's uplink codec chain (default true). */
  uplinkCodecs?: boolean;
  /** Active speech level each participant is normalised to before levelDb (default -26 dBFS). */
  speechLevelDbfs?: number;
  tap?: TapOptions;
  hook?: LegHook;
}

export interface TalkSpurt {
  startSec: number;
  endSec: number;
  /** Index into the participant's `speech` array, and where in it the spurt was taken from. */
  source: number;
  sourceOffsetSec: number;
}

export interface MeetingTruth {
  schema: 'earmark.meeting-truth/1';
  seed: number;
  durationSec: number;
  sampleRate: number;
  speechLevelDbfs: number;
  uplinkCodecs: boolean;
  turnTaking: TurnTaking;
  hook: boolean;
  participants: {
    index: number;
    name: string;
    leg: LegKind;
    levelDb: number;
    uplinkChain: string;
    downlinkChain: string;
    talk: TalkSpurt[];
  }[];
  tap: {
    leg: number;
    name: string;
    legKind: LegKind;
    downlinkChain: string;
    ownVoice: boolean;
    ownVoiceGainDb: number;
    captureChain: string;
    sampleRate: number;
    durationSec: number;
  } | null;
}

export interface MeetingSimulation {
  sampleRate: number;
  /** u_k at the bridge: each participant's speech after their uplink codec chain. */
  uplinks: Float32Array[];
  /** d_k = Σ_{i≠k} u_i, before the hook. */
  mixMinus: Float32Array[];
  /** What the bridge sends each leg: hook(k, d_k), or d_k without a hook. */
  downlinks: AudioBuffer[];
  /** The tap recording, or null without a tap. */
  tap: AudioBuffer | null;
  truth: MeetingTruth;
}

interface ScheduledTurn {
  participant: number;
  start: number;
  end: number;
}

/**
 * Who talks when, in samples. Pure function of its arguments: the next speaker is another
 * talker (weighted by a per-participant talkativeness), turns are log-normal in length,
 * the gap is an exponential pause or, with overlapProbability, a negative gap (overlap).
 */
export function scheduleTurns(talkers: readonly number[], totalSamples: number, sampleRate: number, tt: TurnTaking, random: RandomStream): ScheduledTurn[] {
  if (talkers.length === 0) return [];
  const weights = new Map(talkers.map((p) => [p, random.between(0.5, 1.5)]));
  const lastEnd = new Map<number, number>();
  const sigma = 0.6;
  const mu = Math.log(tt.meanTurnSec) - (sigma * sigma) / 2;
  const turns: ScheduledTurn[] = [];
  let t = random.between(0, tt.leadInSec);
  let current = -1;
  for (;;) {
    const candidates = talkers.length > 1 ? talkers.filter((p) => p !== current) : talkers;
    const total = candidates.reduce((s, p) => s + weights.get(p)!, 0);
    let pick = random.uniform() * total;
    let speaker = candidates[candidates.length - 1]!;
    for (const p of candidates) {
      pick -= weights.get(p)!;
      if (pick < 0) {
        speaker = p;
        break;
      }
    }
    const lengthSec = Math.min(tt.maxTurnSec, Math.max(tt.minTurnSec, Math.exp(mu + sigma * random.gaussian())));
    const startSec = Math.max(t, (lastEnd.get(speaker) ?? -Infinity) + 0.05);
    const start = Math.round(startSec * sampleRate);
    if (start >= totalSamples - Math.round(0.2 * sampleRate)) break;
    const end = Math.min(totalSamples, Math.round((startSec + lengthSec) * sampleRate));
    turns.push({ participant: speaker, start, end });
    lastEnd.set(speaker, end / sampleRate);
    current = speaker;
    const endSec = end / sampleRate;
    if (talkers.length > 1 && random.uniform() < tt.overlapProbability) {
      t = Math.max(startSec + 0.5 * lengthSec, endSec - random.between(0.15, tt.maxOverlapSec));
    } else {
      t = endSec + Math.min(4 * tt.meanPauseSec, Math.max(0.05, -tt.meanPauseSec * Math.log(1 - random.uniform())));
    }
  }
  return turns;
}

/** Active speech level (dB re full scale): RMS over the 20 ms frames within 35 dB of the loudest.
 * A simplification of ITU-T P.56's active speech level, enough to balance talkers. */
export function activeLevelDb(x: Float32Array, sampleRate: number): number {
  const frame = Math.max(1, Math.round(0.02 * sampleRate));
  const energies: number[] = [];
  for (let i = 0; i + frame <= x.length; i += frame) {
    let e = 0;
    for (let j = i; j < i + frame; j++) e += x[j]! * x[j]!;
    energies.push(e / frame);
  }
  let max = 0;
  for (const e of energies) if (e > max) max = e;
  if (max === 0) return -Infinity;
  const active = energies.filter((e) => e >= max * 10 ** (-35 / 10));
  return 10 * Math.log10(active.reduce((s, e) => s + e, 0) / active.length);
}

async function toBridgeRate(audio: AudioBuffer, rate: number): Promise<Float32Array> {
  const m: AudioBuffer = { channels: [toMono(audio)], sampleRate: audio.sampleRate };
  return m.sampleRate === rate ? m.channels[0]! : (await runResample(m, rate)).channels[0]!;
}

/** Raised-cosine fade in and out over `fade` samples, in place. */
function fadeEdges(x: Float32Array, fade: number): void {
  const n = Math.min(fade, Math.floor(x.length / 2));
  for (let i = 0; i < n; i++) {
    const g = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / n);
    x[i]! *= g;
    x[x.length - 1 - i]! *= g;
  }
}

function checkOptions(opts: MeetingOptions): void {
  if (!Array.isArray(opts.participants) || opts.participants.length < 1) throw new InputError('meeting', 'needs at least one participant');
  if (!(opts.durationSec > 0 && opts.durationSec <= 4 * 3600)) throw new InputError('meeting', `durationSec must be in (0, 14400], got ${opts.durationSec}`);
  if (!Number.isSafeInteger(opts.seed)) throw new InputError('meeting', `seed must be a whole number, got ${opts.seed}`);
  opts.participants.forEach((p, i) => {
    if (!(LEG_KINDS as readonly string[]).includes(p.leg)) throw new InputError(`meeting participant ${i} (${p.name})`, `unknown leg kind "${p.leg}" (known: ${LEG_KINDS.join(', ')})`);
    const speech: readonly AudioBuffer[] = p.speech ?? [];
    speech.forEach((s, j) => {
      checkAudio(s, `meeting participant ${i} (${p.name}) speech ${j}`);
      if (s.channels[0]!.length === 0) throw new InputError(`meeting participant ${i} (${p.name}) speech ${j}`, 'is empty');
    });
  });
  if (opts.tap && !(Number.isInteger(opts.tap.leg) && opts.tap.leg >= 0 && opts.tap.leg < opts.participants.length))
    throw new InputError('meeting tap', `leg ${opts.tap.leg} is not a participant index (0-${opts.participants.length - 1})`);
}

/** Simulate a meeting: uplinks, mix-minus downlinks, the hook, a tap, and the truth. */
export async function simulateMeeting(opts: MeetingOptions): Promise<MeetingSimulation> {
  checkOptions(opts);
  const sr = opts.sampleRate ?? 16000;
  const tt: TurnTaking = { ...DEFAULT_TURN_TAKING, ...opts.turnTaking };
  const levelDbfs = opts.speechLevelDbfs ?? -26;
  const uplinkCodecs = opts.uplinkCodecs ?? true;
  const total = Math.round(opts.durationSec * sr);
  const { seed } = opts;
  const parts = opts.participants;

  // Speech material at the bridge rate, each source normalised to its active level.
  const sources: Float32Array[][] = [];
  for (const p of parts) {
    const list: Float32Array[] = [];
    for (const s of p.speech ?? []) {
      const x = (await toBridgeRate(s, sr)).slice();
      const level = activeLevelDb(x, sr);
      const g = Number.isFinite(level) ? 10 ** ((levelDbfs - level) / 20) : 0;
      for (let i = 0; i < x.length; i++) x[i]! *= g;
      list.push(x);
    }
    sources.push(list);
  }
  const levels = parts.map((p, k) => p.levelDb ?? randomStream(seed, `meeting/level/p${k}`).between(-3, 3));
  const talkers = parts.map((_, k) => k).filter((k) => sources[k]!.length > 0);
  const turns = scheduleTurns(talkers, total, sr, tt, randomStream(seed, 'meeting/schedule'));

  // Uplinks: each turn is a contiguous stretch of one of the speaker's sources.
  const dry = parts.map(() => new Float32Array(total));
  const talk: TalkSpurt[][] = parts.map(() => []);
  const content = parts.map((_, k) => randomStream(seed, `meeting/content/p${k}`));
  for (const turn of turns) {
    const k = turn.participant;
    const rnd = content[k]!;
    const source = rnd.int(sources[k]!.length);
    const src = sources[k]![source]!;
    const length = Math.min(turn.end - turn.start, src.length);
    const offset = rnd.int(src.length - length + 1);
    const piece = src.slice(offset, offset + length);
    fadeEdges(piece, Math.round(0.01 * sr));
    const g = 10 ** (levels[k]! / 20);
    const u = dry[k]!;
    for (let i = 0; i < length; i++) u[turn.start + i]! += g * piece[i]!;
    talk[k]!.push({ startSec: turn.start / sr, endSec: (turn.start + length) / sr, source, sourceOffsetSec: offset / sr });
  }
  const uplinkChains = parts.map((p) => toSteps(p.uplinkChain ?? DEFAULT_LEG_CHAINS[p.leg].uplink));
  const downlinkChains = parts.map((p) => toSteps(p.downlinkChain ?? DEFAULT_LEG_CHAINS[p.leg].downlink));
  // Legs are independent, so their codec runs (separate ffmpeg processes) go in parallel.
  const uplinks: Float32Array[] = await Promise.all(
    parts.map(async (_, k) => {
      if (!uplinkCodecs || uplinkChains[k]!.length === 0 || talk[k]!.length === 0) return dry[k]!;
      const coded = await applyChain({ channels: [dry[k]!], sampleRate: sr }, uplinkChains[k]!, { seed: deriveSeed(seed, `meeting/uplink/p${k}`) });
      return trimAndFit([await toBridgeRate(coded, sr)], 0, total)[0]!;
    }),
  );

  // The bridge: exact mix-minus, summed in float64 in participant order.
  const mixMinus = parts.map((_, k) => {
    const acc = new Float64Array(total);
    uplinks.forEach((u, i) => {
      if (i !== k) for (let j = 0; j < total; j++) acc[j]! += u[j]!;
    });
    return Float32Array.from(acc);
  });
  const downlinks: AudioBuffer[] = [];
  for (let k = 0; k < parts.length; k++) {
    const d: AudioBuffer = { channels: [mixMinus[k]!], sampleRate: sr };
    if (!opts.hook) {
      downlinks.push(d);
      continue;
    }
    const hooked = await opts.hook(k, { channels: [mixMinus[k]!.slice()], sampleRate: sr });
    checkAudio(hooked, `meeting hook output for leg ${k}`);
    downlinks.push(hooked);
  }

  // The tap.
  let tap: AudioBuffer | null = null;
  let tapTruth: MeetingTruth['tap'] = null;
  if (opts.tap) {
    const t = opts.tap.leg;
    const ownVoice = opts.tap.ownVoice ?? true;
    const ownGainDb = opts.tap.ownVoiceGainDb ?? 0;
    const captureChain = toSteps(opts.tap.captureChain ?? '');
    const coded = await applyChain(downlinks[t]!, downlinkChains[t]!, { seed: deriveSeed(seed, 'meeting/tap/downlink') });
    let mixed = coded;
    if (ownVoice) {
      const own = await runResample({ channels: [uplinks[t]!], sampleRate: sr }, coded.sampleRate);
      const g = 10 ** (ownGainDb / 20);
      const o = own.channels[0]!;
      mixed = {
        channels: coded.channels.map((ch) => ch.map((x, i) => x + (i < o.length ? g * o[i]! : 0))),
        sampleRate: coded.sampleRate,
      };
    }
    tap = await applyChain(mixed, captureChain, { seed: deriveSeed(seed, 'meeting/tap/capture') });
    tapTruth = {
      leg: t,
      name: parts[t]!.name,
      legKind: parts[t]!.leg,
      downlinkChain: describeChain(downlinkChains[t]!),
      ownVoice,
      ownVoiceGainDb: ownGainDb,
      captureChain: describeChain(captureChain),
      sampleRate: tap.sampleRate,
      durationSec: tap.channels[0]!.length / tap.sampleRate,
    };
  }

  const truth: MeetingTruth = {
    schema: 'earmark.meeting-truth/1',
    seed,
    durationSec: total / sr,
    sampleRate: sr,
    speechLevelDbfs: levelDbfs,
    uplinkCodecs,
    turnTaking: tt,
    hook: Boolean(opts.hook),
    participants: parts.map((p, k) => ({
      index: k,
      name: p.name,
      leg: p.leg,
      levelDb: levels[k]!,
      uplinkChain: describeChain(uplinkChains[k]!),
      downlinkChain: describeChain(downlinkChains[k]!),
      talk: talk[k]!,
    })),
    tap: tapTruth,
  };
  return { sampleRate: sr, uplinks, mixMinus, downlinks, tap, truth };
}
