/**
 * Shared set-up of the mark benchmarks: the fixture voices, a simulated 4-party meeting whose
 * legs carry marks (leg 0 tapped through a condition's chain), and clip placement by downlink
 * speech. One implementation for benchmarks/robustness.ts and benchmarks/payload.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from '../lib/audio/ffmpeg.js';
import type { AudioBuffer } from '../lib/audio/types.js';
import { decodeWav } from '../lib/audio/wav.js';
import { applyChain, randomStream, simulateMeeting } from '../lib/channel/index.js';
import type { MeetingParticipant, MeetingSimulation } from '../lib/channel/index.js';
import type { EmbedStudy } from './study.js';
import { LegPattern, PROFILE_V1, alignmentOf, analyzeClip, contentReference, embedAudio } from '../lib/mark/index.js';
import type { BandAnalysis, ContentReference, MarkKey, MarkProfile } from '../lib/mark/index.js';
import { toMono } from '../lib/audio/mono.js';
import { root } from './lib.js';

export const RATE = 16000;
export const VOICES = ['allison-1', 'allison-2', 'allison-3', 'espeak-us-m3', 'espeak-gb-f3', 'espeak-scot-m5', 'espeak-us-f4', 'espeak-rp-m7'];

/** Voices of the detector's weight training (models/speech, never the benchmark voices). */
export const TRAINING_VOICES = ['train-allison-1', 'train-allison-2', 'train-espeak-lanc-m1', 'train-espeak-us-f2', 'train-espeak-car-m4', 'train-espeak-wm-f1', 'train-espeak-gb-m6'];

async function decodeFixture(name: string, dir = join(root, 'fixtures', 'speech')): Promise<Float32Array> {
  const path = join(dir, `${name}.opus`);
  const r = await runFfmpeg(['-i', 'pipe:0', '-ar', String(RATE), '-ac', '1', '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1'], { stdin: readFileSync(path), inputName: path });
  return decodeWav(r.stdout, path).channels[0]!;
}

/** Every fixture voice at 16 kHz mono. */
export async function loadVoices(): Promise<Map<string, Float32Array>> {
  const voices = new Map<string, Float32Array>();
  for (const v of VOICES) voices.set(v, await decodeFixture(v));
  return voices;
}

/** Every training voice (models/speech) at 16 kHz mono. */
export async function loadTrainingVoices(): Promise<Map<string, Float32Array>> {
  const voices = new Map<string, Float32Array>();
  for (const v of TRAINING_VOICES) voices.set(v, await decodeFixture(v, join(root, 'models', 'speech')));
  return voices;
}

/** `seconds` of fixture speech at RATE: the voices one after another (from the first, in VOICES order), repeated as needed. */
export function voiceLoop(voices: Map<string, Float32Array>, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(RATE * seconds));
  for (let i = 0, v = 0; i < out.length; v++) {
    const src = voices.get(VOICES[v % VOICES.length]!)!;
    const n = Math.min(src.length, out.length - i);
    out.set(src.subarray(0, n), i);
    i += n;
  }
  return out;
}

export function tokenFor(seed: number, i: number): string {
  return `bench-${seed.toString(36)}-${i.toString(36)}`;
}

export interface BenchMeeting {
  sim: MeetingSimulation;
  /** 64 registered tokens; leg k of the meeting carries tokens[k]. */
  tokens: string[];
  /** Session offset of each leg's first sample. */
  offsets: number[];
  /** The bridge's content reference of each leg's marked downlink (lib/mark/content-ref.ts), by token (made on first read). */
  readonly references: Map<string, ContentReference>;
  /** Leg 0's marked downlink through the chain, without the own voice. */
  downlinkOnly: AudioBuffer;
  /** Meeting-time span from a random start holding L s of leg 0's downlink speech (undefined if the meeting ends first). */
  speechSpan(L: number): [number, number] | undefined;
  /** The meeting's seeded random stream (clip placement). */
  rnd: ReturnType<typeof randomStream>;
}

/** A 4-party meeting, every leg marked, leg 0 tapped through `chain` (seeded, deterministic). */
export async function benchMeeting(opts: { seed: number; stream: string; chain: string; key: MarkKey; voices: Map<string, Float32Array>; meetingSec: number; voiceNames?: readonly string[]; profile?: MarkProfile; embed?: EmbedStudy }): Promise<BenchMeeting> {
  const { seed, chain, key, voices, meetingSec } = opts;
  const rnd = randomStream(seed, opts.stream);
  const tokens = Array.from({ length: 64 }, (_, i) => tokenFor(seed, i));
  const order = [...(opts.voiceNames ?? VOICES)].sort(() => rnd.uniform() - 0.5);
  const participants: MeetingParticipant[] = [0, 1, 2, 3].map((p) => ({
    name: `p${p}`,
    leg: p === 0 ? 'recorder' : 'app',
    speech: [{ channels: [voices.get(order[p]!)!], sampleRate: RATE }],
  }));
  const offsets = [0, 1, 2, 3].map(() => Math.floor(rnd.between(0, 11 * 3600) * 1000) / 1000);
  const sim = await simulateMeeting({
    participants,
    durationSec: meetingSec,
    seed,
    tap: { leg: 0, captureChain: chain },
    hook: (leg, d) => embedAudio(d, { key, token: tokens[leg]!, offsetSec: offsets[leg]!, ...(opts.profile ? { profile: opts.profile } : {}), ...opts.embed }),
  });
  const downlinkOnly = chain ? await applyChain(sim.downlinks[0]!, chain, { seed }) : sim.downlinks[0]!;
  // Downlink activity (meeting time, 10 ms grid): the other participants' talk spurts.
  const grid = new Uint8Array(Math.ceil(meetingSec * 100));
  for (const p of sim.truth.participants) {
    if (p.index === 0) continue;
    for (const t of p.talk) for (let i = Math.floor(t.startSec * 100); i < Math.min(grid.length, Math.ceil(t.endSec * 100)); i++) grid[i] = 1;
  }
  const cumActive = new Float64Array(grid.length + 1);
  for (let i = 0; i < grid.length; i++) cumActive[i + 1] = cumActive[i]! + grid[i]! / 100;
  const speechSpan = (L: number): [number, number] | undefined => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const a = Math.floor(rnd.between(0, (meetingSec - L) * 100));
      let b = a;
      while (b < grid.length && cumActive[b]! - cumActive[a]! < L) b++;
      if (cumActive[b]! - cumActive[a]! >= L && b < grid.length - 20) return [a / 100, b / 100];
    }
    return undefined;
  };
  // Made on first use: most benchmarks never read them.
  let references: Map<string, ContentReference> | undefined;
  return {
    sim,
    tokens,
    offsets,
    get references() {
      references ??= new Map(sim.downlinks.map((d, k) => [tokens[k]!, contentReference(toMono(d), d.sampleRate, { key, token: tokens[k]!, offsetSec: offsets[k]! })]));
      return references;
    },
    downlinkOnly,
    speechSpan,
    rnd,
  };
}

/** A clip of the musts run (benchmarks/robustness.ts MUSTS=1 CLIPS_OUT=...): where it was cut and how it scored. */
export interface ClipRecord {
  condition: string;
  chain: string;
  /** Meeting index within the condition, the meeting's seed and length (benchMeeting rebuilds it), and the clip's index within the meeting. */
  trial: number;
  seed: number;
  meetingSec: number;
  clip: number;
  /** Clip span in the tap (s). */
  s0: number;
  s1: number;
  /** Right leg's statistic / null scale, and the statistic a detection needed. */
  z: number;
  zNeed: number;
  detected: boolean;
}

/** The meeting of a musts clip record, rebuilt from its seed (the meeting of the previous call is kept: records come grouped by meeting). */
export function recordMeetings(key: MarkKey, voices: Map<string, Float32Array>): (r: ClipRecord) => Promise<BenchMeeting> {
  let last: { seed: number; chain: string; m: BenchMeeting } | undefined;
  return async (r) => {
    if (last?.seed !== r.seed || last.chain !== r.chain) last = { seed: r.seed, chain: r.chain, m: await benchMeeting({ seed: r.seed, stream: 'bench/robustness-musts', chain: r.chain, key, voices, meetingSec: r.meetingSec }) };
    return last.m;
  };
}

/** Leg 0's pattern, the analysis of tap span [s0, s1) s, and the TRUE chip phase and session chip of its first chip (rate 1, from the simulation). */
export function truthAlignment(meeting: BenchMeeting, s0: number, s1: number, key: MarkKey): { pattern: LegPattern; analysis: BandAnalysis; phase: number; n0: number } {
  const pattern = new LegPattern(key, meeting.tokens[0]!);
  const tap = meeting.sim.tap!.channels[0]!;
  const rate = meeting.sim.tap!.sampleRate;
  const analysis = analyzeClip(tap.subarray(Math.round(s0 * rate), Math.round(s1 * rate)), rate);
  const { phaseSec: phase, n0 } = alignmentOf(meeting.offsets[0]! + s0, PROFILE_V1.chipSec);
  return { pattern, analysis, phase, n0 };
}
