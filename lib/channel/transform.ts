/**
 * Channel transforms: `AudioBuffer → Promise<AudioBuffer>` functions that carry the typed steps
 * they run, so any transform prints back as chain syntax (`describeChain(t.steps)`).
 *
 *   const leg = chain(g711('a'), amrnb(12.2));
 *   const out = await leg(audio, { seed: 7 });
 *   applyChain(audio, 'amrnb:12.2,aac:96,speed:1.03,room:0.4:18', { seed: 7 });
 *
 * Determinism: the only randomness is in noise and room, and each draws from its own stream
 * named after the step kind and its occurrence in the chain ("noise#0", "room#1"), derived
 * from the run's seed. Inserting a codec step therefore never changes a noise realisation.
 * The codecs themselves are deterministic for a given ffmpeg build.
 */
import type { AudioBuffer } from '../audio/types.js';
import { AUDIO_LIMITS } from '../audio/types.js';
import { InputError } from '../errors.js';
import { isCodecStep, runCodec, runResample, runTempo } from './codecs.js';
import type { CodecDelayMode } from './codecs.js';
import { applyBandpass, applyCrop, applyGain, applyNoise, applyRoom, applySpeed } from './effects.js';
import { randomStream } from './random.js';
import type { RandomStream } from './random.js';
import { describeChain, toSteps, validateStep } from './steps.js';
import type { AmrNbKbps, ChannelStep, G711Law } from './steps.js';

export interface RunOptions {
  /** Seed for the random steps (noise, room). Default 0. */
  seed?: number;
  /** Codec priming/padding: 'compensate' (default: output aligned with the input, length
   * scaled by the rate change) or 'keep' (what the decoder returns). See codecs.ts. */
  codecDelay?: CodecDelayMode;
}

export interface Transform {
  (audio: AudioBuffer, opts?: RunOptions): Promise<AudioBuffer>;
  /** The steps this transform runs, in order (a chain flattens its parts). */
  readonly steps: readonly ChannelStep[];
}

/** Check an AudioBuffer is usable: 1..64 channels of equal length, a sane rate, finite samples. */
export function checkAudio(audio: AudioBuffer, where = 'channel input'): void {
  const { channels, sampleRate } = audio;
  if (!Array.isArray(channels) || channels.length < 1 || channels.length > AUDIO_LIMITS.maxChannels)
    throw new InputError(where, `expected 1-${AUDIO_LIMITS.maxChannels} channels, got ${Array.isArray(channels) ? channels.length : typeof channels}`);
  if (!Number.isFinite(sampleRate) || sampleRate < AUDIO_LIMITS.minSampleRate || sampleRate > AUDIO_LIMITS.maxSampleRate)
    throw new InputError(where, `sample rate ${sampleRate} Hz is out of range`);
  const n = channels[0]!.length;
  for (const ch of channels) {
    if (!(ch instanceof Float32Array)) throw new InputError(where, 'channels must be Float32Arrays');
    if (ch.length !== n) throw new InputError(where, 'channels differ in length');
  }
}

/** Run one step. `streamName` names its random stream (used by noise and room only). */
async function runStep(step: ChannelStep, audio: AudioBuffer, seed: number, streamName: string, codecDelay: CodecDelayMode): Promise<AudioBuffer> {
  const stream = (name: string): RandomStream => randomStream(seed, `${streamName}/${name}`);
  if (isCodecStep(step)) return runCodec(step, audio, codecDelay);
  switch (step.kind) {
    case 'resample':
      return runResample(audio, step.rateHz);
    case 'tempo':
      return runTempo(audio, step.factor);
    case 'speed':
      return applySpeed(audio, step.factor);
    case 'gain':
      return applyGain(audio, step.db);
    case 'noise':
      return applyNoise(audio, step.snrDb, stream);
    case 'room':
      return applyRoom(audio, step.rt60Sec, step.snrDb, stream);
    case 'bandpass':
      return applyBandpass(audio, step.loHz, step.hiHz);
    case 'crop':
      return applyCrop(audio, step.startSec, step.durSec);
  }
}

function makeTransform(steps: readonly ChannelStep[]): Transform {
  const frozen = Object.freeze(steps.map((s) => Object.freeze({ ...s })));
  const run = async (audio: AudioBuffer, opts: RunOptions = {}): Promise<AudioBuffer> => {
    checkAudio(audio);
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new InputError('seed', `must be a whole number, got ${seed}`);
    const occurrences = new Map<string, number>();
    let cur: AudioBuffer = audio;
    for (const step of frozen) {
      const k = occurrences.get(step.kind) ?? 0;
      occurrences.set(step.kind, k + 1);
      cur = await runStep(step, cur, seed, `${step.kind}#${k}`, opts.codecDelay ?? 'compensate');
    }
    return cur === audio ? { channels: audio.channels.map((c) => c.slice()), sampleRate: audio.sampleRate } : cur;
  };
  Object.defineProperty(run, 'steps', { value: frozen, enumerable: true });
  Object.defineProperty(run, 'name', { value: describeChain(frozen) || 'identity' });
  return run as Transform;
}

function one(step: ChannelStep): Transform {
  return makeTransform([validateStep(step)]);
}

/** A transform from chain syntax or typed steps (validated). */
export function transformOf(chain: string | readonly ChannelStep[]): Transform {
  return makeTransform(toSteps(chain));
}

/** Parse (if needed) and run a chain over the audio. */
export function applyChain(audio: AudioBuffer, chain: string | readonly ChannelStep[] | Transform, opts: RunOptions = {}): Promise<AudioBuffer> {
  const t = typeof chain === 'function' ? chain : transformOf(chain);
  return t(audio, opts);
}

/** The transforms in sequence, as one transform (its steps are theirs, flattened). */
export function chain(...parts: Transform[]): Transform {
  return makeTransform(parts.flatMap((t) => t.steps));
}

/** AMR-NB at one of its eight modes (4.75 ... 12.2 kbit/s); output 8 kHz mono. */
export const amrnb = (kbps: AmrNbKbps): Transform => one({ kind: 'amrnb', kbps });
/** G.711 mu-law or A-law; output 8 kHz mono. */
export const g711 = (law: G711Law): Transform => one({ kind: 'g711', law });
/** G.722 (64 kbit/s ADPCM); output 16 kHz mono. */
export const g722 = (): Transform => one({ kind: 'g722' });
/** Opus (libopus, VoIP application); output 48 kHz. */
export const opus = (kbps: number): Transform => one({ kind: 'opus', kbps });
/** AAC-LC (ffmpeg's encoder); output at the input rate if AAC supports it, else 48 kHz. */
export const aac = (kbps: number): Transform => one({ kind: 'aac', kbps });
/** MP3 (LAME, CBR); output at the input rate if MP3 supports it, else 48 kHz. */
export const mp3 = (kbps: number): Transform => one({ kind: 'mp3', kbps });
/** Resample with soxr. */
export const resample = (rateHz: number): Transform => one({ kind: 'resample', rateHz });
/** Replay speed: duration / factor, pitch x factor (windowed-sinc interpolation in TS). */
export const speed = (factor: number): Transform => one({ kind: 'speed', factor });
/** Time stretch, pitch kept (ffmpeg atempo): duration / factor. */
export const tempo = (factor: number): Transform => one({ kind: 'tempo', factor });
/** Gain in dB. */
export const gain = (db: number): Transform => one({ kind: 'gain', db });
/** Seeded white Gaussian noise at exactly snrDb. */
export const noise = (snrDb: number): Transform => one({ kind: 'noise', snrDb });
/** Synthetic room (seeded impulse response, reverberant tail rt60Sec long) plus ambient noise at snrDb. */
export const room = (rt60Sec: number, snrDb: number): Transform => one({ kind: 'room', rt60Sec, snrDb });
/** Butterworth band-pass (4th order each side). */
export const bandpass = (loHz: number, hiHz: number): Transform => one({ kind: 'bandpass', loHz, hiHz });
/** Keep durSec seconds from startSec. */
export const crop = (startSec: number, durSec: number): Transform => one({ kind: 'crop', startSec, durSec });
