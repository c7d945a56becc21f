/**
 * Steps computed in TypeScript (pure functions of the audio and a seeded random stream):
 * gain, noise, room, bandpass, crop and replay speed.
 */
import type { AudioBuffer } from '../audio/types.js';
import { InputError } from '../errors.js';
import type { RandomStream } from './random.js';
import { BUTTERWORTH4_Q, convolve, filterBiquads, interpolateAt, passBiquad } from './signal.js';
import type { Biquad } from './signal.js';

/** Mean square over all channels and samples. */
export function meanSquare(channels: readonly Float32Array[]): number {
  let sum = 0;
  let n = 0;
  for (const ch of channels) {
    for (let i = 0; i < ch.length; i++) sum += ch[i]! * ch[i]!;
    n += ch.length;
  }
  return n === 0 ? 0 : sum / n;
}

export function applyGain(audio: AudioBuffer, db: number): AudioBuffer {
  const g = 10 ** (db / 20);
  return { channels: audio.channels.map((ch) => ch.map((x) => x * g)), sampleRate: audio.sampleRate };
}

/**
 * Add `noise` (one array per channel, any power) scaled so that signal power / noise power,
 * both over all channels and samples, is exactly snrDb. Silent input has no SNR: InputError.
 */
function addAtSnr(audio: AudioBuffer, noise: Float32Array[], snrDb: number, where: string): AudioBuffer {
  const ps = meanSquare(audio.channels);
  if (ps === 0) throw new InputError(where, 'input is silent, so a signal-to-noise ratio is undefined');
  const pn = meanSquare(noise);
  const g = Math.sqrt(ps / 10 ** (snrDb / 10) / pn);
  return {
    channels: audio.channels.map((ch, c) => {
      const n = noise[c]!;
      const out = new Float32Array(ch.length);
      for (let i = 0; i < ch.length; i++) out[i] = ch[i]! + g * n[i]!;
      return out;
    }),
    sampleRate: audio.sampleRate,
  };
}

function gaussianNoise(length: number, random: RandomStream): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random.gaussian();
  return out;
}

/** White Gaussian noise at exactly snrDb (the realisation is scaled to its measured power). */
export function applyNoise(audio: AudioBuffer, snrDb: number, stream: (name: string) => RandomStream): AudioBuffer {
  const noise = audio.channels.map((ch, c) => gaussianNoise(ch.length, stream(`white/ch${c}`)));
  return addAtSnr(audio, noise, snrDb, `channel step "noise:${snrDb}"`);
}

/** Direct-to-reverberant energy ratio of the synthetic room (0 dB: a mid-size meeting room,
 * a phone on the table a metre or two from the loudspeaker). */
export const ROOM_DRR_DB = 0;
/** Delay between the direct sound and the start of the reverberant tail. */
export const ROOM_PREDELAY_SEC = 0.004;

/**
 * Synthetic room impulse response: a unit direct path, then Gaussian noise under an
 * exponential envelope that falls 60 dB in rt60Sec (the classic stochastic late-reverb model,
 * cf. Polack 1988), scaled to ROOM_DRR_DB and normalised to unit energy.
 */
export function roomImpulseResponse(rt60Sec: number, sampleRate: number, random: RandomStream): Float32Array {
  const length = Math.max(2, Math.ceil(rt60Sec * sampleRate));
  const h = new Float64Array(length);
  const decayPerSample = (3 * Math.LN10) / (rt60Sec * sampleRate); // amplitude: 10^-3 at rt60
  const start = Math.max(1, Math.round(ROOM_PREDELAY_SEC * sampleRate));
  let tail = 0;
  for (let i = start; i < length; i++) {
    h[i] = random.gaussian() * Math.exp(-decayPerSample * i);
    tail += h[i]! * h[i]!;
  }
  const tailGain = tail > 0 ? Math.sqrt(10 ** (-ROOM_DRR_DB / 10) / tail) : 0;
  for (let i = start; i < length; i++) h[i]! *= tailGain;
  h[0] = 1;
  const norm = 1 / Math.sqrt(1 + (tail > 0 ? 10 ** (-ROOM_DRR_DB / 10) : 0));
  return Float32Array.from(h, (x) => x * norm);
}

/** Ambient noise: equal-power mix of white and one-pole low-passed (brown-ish) noise. */
function ambientNoise(length: number, random: RandomStream): Float32Array {
  const white = gaussianNoise(length, random);
  const drive = gaussianNoise(length, random);
  const low = new Float32Array(length);
  let y = 0;
  for (let i = 0; i < length; i++) {
    y = 0.98 * y + drive[i]!;
    low[i] = y;
  }
  const pw = meanSquare([white]) || 1;
  const pl = meanSquare([low]) || 1;
  const gw = Math.sqrt(0.5 / pw);
  const gl = Math.sqrt(0.5 / pl);
  return white.map((w, i) => gw * w + gl * low[i]!);
}

/**
 * Play the audio into a synthetic room and record it: convolve each channel with its own
 * seeded impulse response (the output grows by the reverberant tail, rt60Sec long), then add
 * ambient noise at snrDb relative to the reverberant signal.
 */
export function applyRoom(audio: AudioBuffer, rt60Sec: number, snrDb: number, stream: (name: string) => RandomStream): AudioBuffer {
  const wet = audio.channels.map((ch, c) => convolve(ch, roomImpulseResponse(rt60Sec, audio.sampleRate, stream(`ir/ch${c}`))));
  const reverberant = { channels: wet, sampleRate: audio.sampleRate };
  const noise = wet.map((ch, c) => ambientNoise(ch.length, stream(`ambient/ch${c}`)));
  return addAtSnr(reverberant, noise, snrDb, `channel step "room:${rt60Sec}:${snrDb}"`);
}

/** 4th-order Butterworth high-pass at loHz (skipped at 0) and low-pass at hiHz (skipped at or
 * above Nyquist). */
export function applyBandpass(audio: AudioBuffer, loHz: number, hiHz: number): AudioBuffer {
  const nyquist = audio.sampleRate / 2;
  if (loHz >= nyquist)
    throw new InputError(`channel step "bandpass:${loHz}:${hiHz}"`, `low edge ${loHz} Hz is at or above the Nyquist frequency (${nyquist} Hz) of ${audio.sampleRate} Hz audio`);
  const sections: Biquad[] = [];
  if (loHz > 0) for (const q of BUTTERWORTH4_Q) sections.push(passBiquad('highpass', loHz, q, audio.sampleRate));
  if (hiHz < nyquist * 0.999) for (const q of BUTTERWORTH4_Q) sections.push(passBiquad('lowpass', hiHz, q, audio.sampleRate));
  return { channels: audio.channels.map((ch) => filterBiquads(ch, sections)), sampleRate: audio.sampleRate };
}

/** Keep durSec seconds from startSec (clamped at the end). A start past the end is an error. */
export function applyCrop(audio: AudioBuffer, startSec: number, durSec: number): AudioBuffer {
  const length = audio.channels[0]!.length;
  const start = Math.round(startSec * audio.sampleRate);
  if (start >= length)
    throw new InputError(
      `channel step "crop:${startSec}:${durSec}"`,
      `start ${startSec} s is at or past the end of the ${(length / audio.sampleRate).toFixed(3)} s input`,
    );
  const end = Math.min(length, start + Math.round(durSec * audio.sampleRate));
  return { channels: audio.channels.map((ch) => ch.slice(start, end)), sampleRate: audio.sampleRate };
}

/**
 * Replay speed: play the samples `factor` times faster at the same rate, as a tape or a
 * wrong-clock resampler does. Duration becomes n / factor, every frequency x factor.
 */
export function applySpeed(audio: AudioBuffer, factor: number): AudioBuffer {
  const length = Math.round(audio.channels[0]!.length / factor);
  return { channels: audio.channels.map((ch) => interpolateAt(ch, factor, length)), sampleRate: audio.sampleRate };
}
