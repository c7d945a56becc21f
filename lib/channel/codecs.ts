/**
 * Steps that run ffmpeg: the real codecs (encode to the codec's bitstream, decode it back),
 * soxr resampling and atempo. Audio travels as 32-bit float WAV on stdin/stdout pipes, so no
 * step quantises except the codec itself; nothing touches the file system.
 *
 * Codec delay. Encoders add priming samples at the start and padding at the end. Measured with
 * the ffmpeg this package ships (2018 static build), decoding the raw streams below:
 *
 *   codec   stream   delay (samples at the output rate)   length
 *   amrnb   .amr     40 (5 ms look-ahead)                  + up to one 160-sample frame
 *   g711    raw      0                                     exact
 *   g722    raw      22 (QMF analysis + synthesis)         exact (last 22 samples lost)
 *   opus    ogg      0 (the decoder applies the pre-skip)  exact (granule position)
 *   aac     adts     1024 (one frame of priming)           + padding to whole 1024 frames
 *   mp3     mp3      1105 (LAME 576 + decoder 529)         + padding to whole 1152 frames
 *
 * With `codecDelay: 'compensate'` (the default) the step drops those leading samples and pads
 * or cuts the end so the output has exactly round(inputLength * outRate / inRate) samples and
 * lines up with the input in time; the channel tests check this by cross-correlation.
 * `codecDelay: 'keep'` returns what the decoder produced (a real leak has the delay).
 */
import { runFfmpeg } from '../audio/ffmpeg.js';
import { AAC_SAMPLE_RATES, MP3_SAMPLE_RATES } from '../audio/codec-facts.js';
import { toMono } from '../audio/mono.js';
import type { AudioBuffer } from '../audio/types.js';
import { decodeWav, encodeWav } from '../audio/wav.js';
import type { ChannelStep, StepOf } from './steps.js';
import { describeStep } from './steps.js';

export type CodecDelayMode = 'compensate' | 'keep';

/** Delay in output-rate samples that compensation removes, per codec (see the table above). */
export const CODEC_DELAY_SAMPLES = {
  amrnb: 40,
  g711: 0,
  g722: 22,
  opus: 0,
  aac: 1024,
  mp3: 1105,
} as const satisfies Record<CodecKind, number>;

export type CodecKind = 'amrnb' | 'g711' | 'g722' | 'opus' | 'aac' | 'mp3';

/**
 * soxr resampling, then float: asked for integer output directly, ffmpeg's soxr path dithers
 * with a per-run random seed, which would make codec steps nondeterministic.
 */
const SOXR = 'aresample=resampler=soxr:precision=28,aformat=sample_fmts=flt';


interface CodecPlan {
  outRate: number;
  mono: boolean;
  /** ffmpeg output options for the encode run (after `-i pipe:0`), ending in `-f <muxer>`. */
  encode: string[];
  /** ffmpeg input options for the decode run (before `-i pipe:0`), for raw streams. */
  decodeInput: string[];
  delaySamples: number;
}

function bitrate(kbps: number): string {
  return String(Math.round(kbps * 1000));
}

function rateArgs(inRate: number, outRate: number): string[] {
  return inRate === outRate ? ['-ar', String(outRate)] : ['-af', SOXR, '-ar', String(outRate)];
}

function codecPlan(step: StepOf<CodecKind>, inRate: number): CodecPlan {
  switch (step.kind) {
    case 'amrnb':
      return {
        outRate: 8000,
        mono: true,
        encode: [...rateArgs(inRate, 8000), '-ac', '1', '-c:a', 'libopencore_amrnb', '-b:a', bitrate(step.kbps), '-f', 'amr'],
        decodeInput: [],
        delaySamples: CODEC_DELAY_SAMPLES.amrnb,
      };
    case 'g711': {
      const fmt = step.law === 'mu' ? 'mulaw' : 'alaw';
      return {
        outRate: 8000,
        mono: true,
        encode: [...rateArgs(inRate, 8000), '-ac', '1', '-c:a', `pcm_${fmt}`, '-f', fmt],
        decodeInput: ['-f', fmt, '-ar', '8000', '-ac', '1'],
        delaySamples: CODEC_DELAY_SAMPLES.g711,
      };
    }
    case 'g722':
      return {
        outRate: 16000,
        mono: true,
        encode: [...rateArgs(inRate, 16000), '-ac', '1', '-c:a', 'g722', '-f', 'g722'],
        decodeInput: ['-f', 'g722'],
        delaySamples: CODEC_DELAY_SAMPLES.g722,
      };
    case 'opus':
      // libopus is fed 48 kHz: at other input rates ffmpeg's decoder adds an uncompensated
      // resampler delay (measured: 208 samples for 16 kHz input).
      return {
        outRate: 48000,
        mono: false,
        encode: [...rateArgs(inRate, 48000), '-c:a', 'libopus', '-b:a', bitrate(step.kbps), '-application', 'voip', '-f', 'ogg'],
        decodeInput: [],
        delaySamples: CODEC_DELAY_SAMPLES.opus,
      };
    case 'aac': {
      const outRate = AAC_SAMPLE_RATES.includes(inRate) ? inRate : 48000;
      return {
        outRate,
        mono: false,
        encode: [...rateArgs(inRate, outRate), '-c:a', 'aac', '-b:a', bitrate(step.kbps), '-f', 'adts'],
        decodeInput: [],
        delaySamples: CODEC_DELAY_SAMPLES.aac,
      };
    }
    case 'mp3': {
      const outRate = MP3_SAMPLE_RATES.includes(inRate) ? inRate : 48000;
      return {
        outRate,
        mono: false,
        encode: [...rateArgs(inRate, outRate), '-c:a', 'libmp3lame', '-b:a', bitrate(step.kbps), '-f', 'mp3'],
        decodeInput: [],
        delaySamples: CODEC_DELAY_SAMPLES.mp3,
      };
    }
  }
}

export function isCodecStep(step: ChannelStep): step is StepOf<CodecKind> {
  return step.kind in CODEC_DELAY_SAMPLES;
}

/** Float WAV bytes of the audio, for ffmpeg's stdin. */
function wavBytes(audio: AudioBuffer): Uint8Array {
  return encodeWav(audio, { sampleFormat: 'float32' });
}

function readWav(bytes: Uint8Array, name: string): AudioBuffer {
  const { channels, sampleRate } = decodeWav(bytes, name);
  return { channels, sampleRate };
}

function downmix(audio: AudioBuffer): AudioBuffer {
  return audio.channels.length === 1 ? audio : { channels: [toMono(audio)], sampleRate: audio.sampleRate };
}

/** Drop `skip` leading samples, then cut or zero-pad every channel to `length`. */
export function trimAndFit(channels: Float32Array[], skip: number, length: number): Float32Array[] {
  return channels.map((ch) => {
    const out = new Float32Array(length);
    out.set(ch.subarray(skip, skip + length));
    return out;
  });
}

function emptyAt(rate: number, channelCount: number): AudioBuffer {
  return { channels: Array.from({ length: channelCount }, () => new Float32Array(0)), sampleRate: rate };
}

/** Encode with the codec and decode back (two ffmpeg runs over pipes). */
export async function runCodec(step: StepOf<CodecKind>, audio: AudioBuffer, delay: CodecDelayMode): Promise<AudioBuffer> {
  const name = `channel step "${describeStep(step)}"`;
  const plan = codecPlan(step, audio.sampleRate);
  // Telephony codecs are mono: downmix as the mean here, explicitly, rather than by ffmpeg's matrix.
  const input = plan.mono ? downmix(audio) : audio;
  const inLength = input.channels[0]!.length;
  if (inLength === 0) return emptyAt(plan.outRate, input.channels.length);
  const encoded = await runFfmpeg(['-f', 'wav', '-i', 'pipe:0', ...plan.encode, 'pipe:1'], { stdin: wavBytes(input), inputName: name });
  const decoded = await runFfmpeg([...plan.decodeInput, '-i', 'pipe:0', '-f', 'wav', '-acodec', 'pcm_f32le', 'pipe:1'], {
    stdin: encoded.stdout,
    inputName: name,
  });
  const out = readWav(decoded.stdout, name);
  if (delay === 'keep') return out;
  const length = Math.round((inLength * out.sampleRate) / audio.sampleRate);
  return { channels: trimAndFit(out.channels, plan.delaySamples, length), sampleRate: out.sampleRate };
}

/** Run one ffmpeg audio filter graph over the audio (float in, float out). */
async function runFilter(audio: AudioBuffer, args: string[], name: string): Promise<AudioBuffer> {
  const r = await runFfmpeg(['-f', 'wav', '-i', 'pipe:0', ...args, '-f', 'wav', '-acodec', 'pcm_f32le', 'pipe:1'], {
    stdin: wavBytes(audio),
    inputName: name,
  });
  return readWav(r.stdout, name);
}

/** soxr resampling to `rateHz`; the output has exactly round(n * rateHz / inRate) samples. */
export async function runResample(audio: AudioBuffer, rateHz: number): Promise<AudioBuffer> {
  if (rateHz === audio.sampleRate) return { channels: audio.channels.map((c) => c.slice()), sampleRate: rateHz };
  const inLength = audio.channels[0]!.length;
  if (inLength === 0) return emptyAt(rateHz, audio.channels.length);
  const out = await runFilter(audio, ['-af', SOXR, '-ar', String(rateHz)], `channel step "resample:${rateHz}"`);
  return { channels: trimAndFit(out.channels, 0, Math.round((inLength * rateHz) / audio.sampleRate)), sampleRate: rateHz };
}

/**
 * Time stretch with ffmpeg's atempo (WSOLA-style overlap-add: pitch kept). The output is fitted
 * to round(n / factor) samples; atempo's own length differs from that by a few milliseconds.
 */
export async function runTempo(audio: AudioBuffer, factor: number): Promise<AudioBuffer> {
  const inLength = audio.channels[0]!.length;
  if (inLength === 0) return emptyAt(audio.sampleRate, audio.channels.length);
  const out = await runFilter(audio, ['-af', `atempo=${factor}`], `channel step "tempo:${factor}"`);
  return { channels: trimAndFit(out.channels, 0, Math.round(inLength / factor)), sampleRate: audio.sampleRate };
}
