/**
 * Write audio to a file in the format its extension names: WAV natively, everything else by
 * ffmpeg (float WAV on stdin, encoder chosen per extension). Outputs are bit-exact muxed with no
 * metadata, so the same audio always gives the same bytes for a given ffmpeg build.
 */
import { stat, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { InputError, ToolError } from '../errors.js';
import { runFfmpeg } from './ffmpeg.js';
import { AAC_SAMPLE_RATES, AMR_NB_KBPS, MP3_SAMPLE_RATES } from './codec-facts.js';
import { mixToMono } from './mono.js';
import type { AudioBuffer } from './types.js';
import { AUDIO_LIMITS } from './types.js';
import { encodeWav } from './wav.js';
import type { WavSampleFormat } from './wav.js';

export type OutputExtension = 'wav' | 'flac' | 'mp3' | 'm4a' | 'mp4' | 'aac' | 'ogg' | 'opus' | 'webm' | 'amr';

interface OutputFormat {
  /** ffmpeg encoder and muxer. */
  codec: string;
  muxer: string;
  /** Default bit rate in kbit/s for lossy codecs. */
  defaultKbps?: number;
  /** Rates the encoder takes; other rates are resampled to `fallbackRate`. */
  rates?: readonly number[];
  fallbackRate?: number;
  maxChannels: number;
  extra?: readonly string[];
}


/** Encoder per extension. Opus is written at 48 kHz (its native rate; other input rates make
 * ffmpeg's decoder misalign the pre-skip), AMR at 8 kHz mono. */
export const OUTPUT_FORMATS: { readonly [E in Exclude<OutputExtension, 'wav'>]: OutputFormat } = {
  flac: { codec: 'flac', muxer: 'flac', maxChannels: 8, extra: ['-sample_fmt', 's16'] },
  mp3: { codec: 'libmp3lame', muxer: 'mp3', defaultKbps: 128, rates: MP3_SAMPLE_RATES, fallbackRate: 48000, maxChannels: 2 },
  m4a: { codec: 'aac', muxer: 'ipod', defaultKbps: 128, rates: AAC_SAMPLE_RATES, fallbackRate: 48000, maxChannels: 8, extra: ['-movflags', '+faststart'] },
  mp4: { codec: 'aac', muxer: 'mp4', defaultKbps: 128, rates: AAC_SAMPLE_RATES, fallbackRate: 48000, maxChannels: 8, extra: ['-movflags', '+faststart'] },
  aac: { codec: 'aac', muxer: 'adts', defaultKbps: 128, rates: AAC_SAMPLE_RATES, fallbackRate: 48000, maxChannels: 8 },
  ogg: { codec: 'libopus', muxer: 'ogg', defaultKbps: 64, rates: [48000], fallbackRate: 48000, maxChannels: 2 },
  opus: { codec: 'libopus', muxer: 'ogg', defaultKbps: 64, rates: [48000], fallbackRate: 48000, maxChannels: 2 },
  webm: { codec: 'libopus', muxer: 'webm', defaultKbps: 64, rates: [48000], fallbackRate: 48000, maxChannels: 2 },
  amr: { codec: 'libopencore_amrnb', muxer: 'amr', defaultKbps: 12.2, rates: [8000], fallbackRate: 8000, maxChannels: 1 },
};


export const OUTPUT_EXTENSIONS: readonly OutputExtension[] = ['wav', ...(Object.keys(OUTPUT_FORMATS) as Exclude<OutputExtension, 'wav'>[])];

export interface WriteAudioOptions {
  /** WAV sample format (default 'pcm16'; 'float32' keeps the samples exactly). */
  wavFormat?: WavSampleFormat;
  /** Bit rate for lossy formats in kbit/s (default per format: mp3/aac 128, opus 64, amr 12.2). */
  bitrateKbps?: number;
}

export interface WrittenAudio {
  path: string;
  extension: OutputExtension;
  /** 'native-wav', or the ffmpeg argv that wrote the file. */
  encoder: 'native-wav' | { ffmpegArgv: string[] };
}

/** The output extension of a path, or an InputError listing the supported ones. */
export function outputExtension(path: string): OutputExtension {
  const ext = extname(path).slice(1).toLowerCase();
  if (!(OUTPUT_EXTENSIONS as readonly string[]).includes(ext))
    throw new InputError(path, `cannot write ${ext ? `".${ext}"` : 'a file without an extension'} (supported: ${OUTPUT_EXTENSIONS.map((e) => `.${e}`).join(' ')})`);
  return ext as OutputExtension;
}

async function checkOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new InputError(path, `${dir} is not a directory`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `output directory ${dir} does not exist`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw new InputError(path, 'is a directory, expected an output file name');
  } catch (err) {
    if (err instanceof InputError) throw err;
  }
}

/**
 * Write audio to `path` in the format its extension names. Channels beyond what the format
 * holds are downmixed (mean); rates the encoder does not take are resampled with soxr.
 */
export async function writeAudioFile(path: string, audio: AudioBuffer, opts: WriteAudioOptions = {}): Promise<WrittenAudio> {
  const extension = outputExtension(path);
  const nCh = audio.channels.length;
  if (nCh < 1 || nCh > AUDIO_LIMITS.maxChannels) throw new InputError(path, `cannot write ${nCh} channels`);
  await checkOutputPath(path);
  if (extension === 'wav') {
    await writeFile(path, encodeWav(audio, { sampleFormat: opts.wavFormat ?? 'pcm16' }));
    return { path, extension, encoder: 'native-wav' };
  }
  const fmt = OUTPUT_FORMATS[extension];
  const channels = nCh > fmt.maxChannels ? [mixToMono(audio.channels)] : audio.channels;
  const args = ['-f', 'wav', '-i', 'pipe:0'];
  const outRate = !fmt.rates || fmt.rates.includes(audio.sampleRate) ? audio.sampleRate : fmt.fallbackRate!;
  // Resample in float: soxr asked for integer output dithers with a random seed.
  if (outRate !== audio.sampleRate) args.push('-af', 'aresample=resampler=soxr:precision=28,aformat=sample_fmts=flt');
  args.push('-ar', String(outRate), '-c:a', fmt.codec);
  if (fmt.defaultKbps !== undefined) {
    const kbps = opts.bitrateKbps ?? fmt.defaultKbps;
    if (fmt.codec === 'libopencore_amrnb' && !(AMR_NB_KBPS as readonly number[]).includes(kbps))
      throw new InputError(path, `AMR-NB bit rate must be one of ${AMR_NB_KBPS.join(', ')} kbit/s, got ${kbps}`);
    if (!(kbps > 0 && kbps <= 1024)) throw new InputError(path, `bit rate ${kbps} kbit/s is out of range`);
    args.push('-b:a', String(Math.round(kbps * 1000)));
  }
  if (fmt.codec === 'libopus') args.push('-application', 'audio');
  args.push(...(fmt.extra ?? []), '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact', '-f', fmt.muxer, '-y', path);
  try {
    const r = await runFfmpeg(args, { stdin: encodeWav({ channels, sampleRate: audio.sampleRate }, { sampleFormat: 'float32' }), inputName: path });
    return { path, extension, encoder: { ffmpegArgv: r.argv } };
  } catch (err) {
    // Encoder refusals (a bit rate the format cannot carry...) are about the caller's request.
    if (err instanceof ToolError && !/could not start ffmpeg|ffmpeg not found/.test(err.message))
      throw new InputError(path, err.message.replace(`${path}: `, ''), { cause: err });
    throw err;
  }
}
