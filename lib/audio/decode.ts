/**
 * Decode any audio file to float samples. WAV is read natively (no ffmpeg); everything else
 * (mp3, m4a/mp4/mov with video, ogg/opus, webm, amr, flac, g722 ...) is decoded by ffmpeg to a
 * 32-bit float WAV stream on a pipe, parsed incrementally, so memory is bounded by what the
 * caller keeps (`decodeStream`) — a 38-minute file streams in constant memory.
 *
 * Every sample is checked: NaN or infinite samples are an InputError naming the file and the
 * sample index, never silently passed to the analysis.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InputError, ToolError } from '../errors.js';
import { isNotAudioFailure, streamFfmpeg } from './ffmpeg.js';
import { mixToMono } from './mono.js';
import type { AudioBuffer } from './types.js';
import { AUDIO_LIMITS } from './types.js';
import { WavStreamReader } from './wav.js';

export interface DecodeOptions {
  /**
   * Resample to this rate. Resampling always goes through ffmpeg's soxr resampler (WAV too),
   * so the analysis sees the same samples whether the evidence arrived as WAV or FLAC.
   */
  sampleRate?: number;
  /** Downmix to one channel (mean of channels). */
  mono?: boolean;
  /** Decode only from this time (seconds). */
  startSec?: number;
  /** Decode at most this many seconds. */
  durationSec?: number;
  /** Bytes per chunk read from the pipe/file; default 256 KiB. */
  chunkBytes?: number;
}

export interface StreamFormat {
  sampleRate: number;
  channelCount: number;
  /** 'native-wav' when read without ffmpeg, else the ffmpeg argv used (for reports). */
  decoder: 'native-wav' | { ffmpegArgv: string[] };
}

export interface DecodeStream {
  /** Resolves once the header is parsed (before any samples are consumed). */
  format: Promise<StreamFormat>;
  /** Channel blocks in order; the caller consumes them one by one. */
  blocks: AsyncIterable<Float32Array[]>;
}

/** Check the path names a readable, non-empty regular file; throws InputError otherwise. */
export async function checkInputFile(path: string): Promise<{ sizeBytes: number }> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`);
  }
  if (st.isDirectory()) throw new InputError(path, 'is a directory, expected an audio file');
  if (!st.isFile()) throw new InputError(path, 'is not a regular file');
  if (st.size === 0) throw new InputError(path, 'is empty (0 bytes)');
  return { sizeBytes: st.size };
}

async function sniffWav(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await fh.read(head, 0, 12, 0);
    if (bytesRead < 12) return false;
    const riff = head.toString('latin1', 0, 4);
    return (riff === 'RIFF' || riff === 'RF64') && head.toString('latin1', 8, 12) === 'WAVE';
  } finally {
    await fh.close();
  }
}

function validateRate(path: string, rate: number | undefined): void {
  if (rate === undefined) return;
  if (!Number.isFinite(rate) || rate < AUDIO_LIMITS.minSampleRate || rate > AUDIO_LIMITS.maxSampleRate)
    throw new InputError(path, `requested sample rate ${rate} Hz is out of range`);
}

/**
 * For a WAV that goes through ffmpeg (resampling or trimming), check that the data chunk is as
 * long as the header says: ffmpeg would silently decode a truncated file, the native reader
 * refuses it, and the two paths must agree.
 */
async function checkWavNotTruncated(path: string, sizeBytes: number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(sizeBytes, 1 << 16));
    await fh.read(head, 0, head.length, 0);
    let at = 12;
    while (at + 8 <= head.length) {
      const id = head.toString('latin1', at, at + 4);
      const size = head.readUInt32LE(at + 4);
      if (id === 'data') {
        if (size !== 0 && size !== 0xffffffff && at + 8 + size > sizeBytes)
          throw new InputError(path, 'WAV data chunk is truncated (file shorter than its header says)');
        return;
      }
      at += 8 + size + (size & 1);
    }
  } finally {
    await fh.close();
  }
}

/** Throw if any sample is NaN/Inf; `base` is the index of block[0] in the whole stream. */
function checkFinite(path: string, block: Float32Array[], base: number): void {
  for (const ch of block) {
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i]!)) throw new InputError(path, `sample ${base + i} is ${ch[i]} (NaN or infinite samples are not audio)`);
    }
  }
}


/**
 * Stream-decode a file. Native WAV is used when no resampling/trim is asked (or the rate
 * already matches); otherwise ffmpeg decodes.
 */
export function decodeStream(path: string, opts: DecodeOptions = {}): DecodeStream {
  let resolveFormat!: (f: StreamFormat) => void;
  let rejectFormat!: (e: unknown) => void;
  const format = new Promise<StreamFormat>((res, rej) => {
    resolveFormat = res;
    rejectFormat = rej;
  });
  format.catch(() => {});

  async function* generate(): AsyncGenerator<Float32Array[]> {
    try {
      validateRate(path, opts.sampleRate);
      const { sizeBytes } = await checkInputFile(path);
      const needsTrim = opts.startSec !== undefined || opts.durationSec !== undefined;
      const isWav = await sniffWav(path);
      const nativeWav = isWav && !needsTrim && opts.sampleRate === undefined;
      const reader = new WavStreamReader(path);
      let source: AsyncIterable<Buffer>;
      let decoder: StreamFormat['decoder'] = 'native-wav';
      let finish: () => Promise<void> = async () => {};
      let kill = () => {};
      if (nativeWav) {
        source = createReadStream(path, { highWaterMark: opts.chunkBytes ?? 1 << 18 });
      } else {
        if (isWav) await checkWavNotTruncated(path, sizeBytes);
        const args: string[] = [];
        if (opts.startSec !== undefined) args.push('-ss', String(opts.startSec));
        args.push('-i', path, '-vn', '-sn', '-dn', '-map', '0:a:0');
        if (opts.durationSec !== undefined) args.push('-t', String(opts.durationSec));
        if (opts.sampleRate !== undefined) args.push('-af', `aresample=resampler=soxr:precision=28`, '-ar', String(opts.sampleRate));
        args.push('-f', 'wav', '-acodec', 'pcm_f32le', 'pipe:1');
        const ff = streamFfmpeg(args, { inputName: path });
        source = ff.chunks;
        decoder = { ffmpegArgv: ff.argv };
        kill = ff.kill;
        finish = async () => {
          try {
            await ff.done;
          } catch (err) {
            throw err instanceof ToolError ? asInputError(path, err) : err;
          }
        };
      }
      let announced = false;
      let emitted = 0;
      try {
        for await (const bytes of source) {
          const block = reader.push(bytes);
          if (!announced && reader.format) {
            announced = true;
            resolveFormat({
              sampleRate: reader.format.sampleRate,
              channelCount: opts.mono ? 1 : reader.format.channelCount,
              decoder,
            });
          }
          if ((block[0]?.length ?? 0) === 0) continue;
          checkFinite(path, block, emitted);
          emitted += block[0]!.length;
          yield opts.mono ? [mixToMono(block)] : block;
        }
        await finish();
      } catch (err) {
        kill();
        throw err;
      }
      if (!reader.format) {
        // ffmpeg succeeded but produced nothing, or the WAV had no complete header.
        if (isWav) reader.end();
        throw new InputError(path, 'contains no audio stream');
      }
      const { truncated } = reader.end();
      if (truncated && nativeWav) throw new InputError(path, 'WAV data chunk is truncated (file shorter than its header says)');
    } catch (err) {
      rejectFormat(err);
      throw err;
    }
  }
  return { format, blocks: generate() };
}

/** Turn an ffmpeg failure on the user's file into an input error ("not audio", etc.). */
function asInputError(path: string, err: ToolError): InputError {
  const msg = err.message.replace(`${path}: `, '');
  if (isNotAudioFailure(msg))
    return new InputError(path, 'not an audio file ffmpeg can read (no decodable audio stream)', { cause: err });
  return new InputError(path, msg, { cause: err });
}

/** Decode a whole file into memory. */
export async function decodeFile(path: string, opts: DecodeOptions = {}): Promise<AudioBuffer> {
  const stream = decodeStream(path, opts);
  const parts: Float32Array[][] = [];
  for await (const block of stream.blocks) parts.push(block);
  const fmt = await stream.format;
  return { channels: concatBlocks(parts, fmt.channelCount), sampleRate: fmt.sampleRate };
}

/** Concatenate channel blocks into one Float32Array per channel. */
export function concatBlocks(parts: Float32Array[][], channelCount: number): Float32Array[] {
  const total = parts.reduce((n, b) => n + (b[0]?.length ?? 0), 0);
  const out = Array.from({ length: channelCount }, () => new Float32Array(total));
  let at = 0;
  for (const block of parts) {
    for (let c = 0; c < channelCount; c++) out[c]!.set(block[c]!, at);
    at += block[0]?.length ?? 0;
  }
  return out;
}

