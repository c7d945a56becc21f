/**
 * RIFF/WAVE reader and writer in TypeScript (no ffmpeg): PCM 8/16/24/32-bit, IEEE float 32/64,
 * WAVE_FORMAT_EXTENSIBLE, any channel count up to AUDIO_LIMITS.maxChannels.
 *
 * The reader is incremental (`WavStreamReader.push(bytes)` → frames as they arrive) so a pipe
 * from ffmpeg decodes in constant memory; `decodeWav(bytes)` is a loop over it.
 * Reference: Microsoft "Multiple Channel Audio Data and WAVE Files" (WAVE_FORMAT_EXTENSIBLE).
 */
import { InputError } from '../errors.js';
import { AUDIO_LIMITS } from './types.js';
import type { AudioBuffer } from './types.js';

export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface WavFormat {
  sampleFormat: WavSampleFormat;
  sampleRate: number;
  channelCount: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

const BYTES: Record<WavSampleFormat, number> = {
  pcm8: 1,
  pcm16: 2,
  pcm24: 3,
  pcm32: 4,
  float32: 4,
  float64: 8,
};

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function parseFmt(name: string, chunk: Uint8Array): WavFormat {
  if (chunk.length < 16) throw new InputError(name, `WAV fmt chunk is ${chunk.length} bytes, expected at least 16`);
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let tag = v.getUint16(0, true);
  const channelCount = v.getUint16(2, true);
  const sampleRate = v.getUint32(4, true);
  const bits = v.getUint16(14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (chunk.length < 40) throw new InputError(name, 'WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes');
    // The SubFormat GUID's first two bytes carry the actual format tag.
    tag = v.getUint16(24, true);
  }
  if (channelCount < 1 || channelCount > AUDIO_LIMITS.maxChannels)
    throw new InputError(name, `WAV header claims ${channelCount} channels (supported: 1-${AUDIO_LIMITS.maxChannels})`);
  if (sampleRate < AUDIO_LIMITS.minSampleRate || sampleRate > AUDIO_LIMITS.maxSampleRate)
    throw new InputError(name, `WAV header claims sample rate ${sampleRate} Hz (supported: ${AUDIO_LIMITS.minSampleRate}-${AUDIO_LIMITS.maxSampleRate})`);
  let sampleFormat: WavSampleFormat;
  if (tag === WAVE_FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) {
    sampleFormat = `pcm${bits}` as WavSampleFormat;
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64)) {
    sampleFormat = bits === 32 ? 'float32' : 'float64';
  } else {
    throw new InputError(name, `unsupported WAV encoding (format tag 0x${tag.toString(16)}, ${bits} bits)`);
  }
  return { sampleFormat, sampleRate, channelCount };
}

/**
 * Incremental WAV parser. Push bytes as they arrive; each push returns the complete frames
 * decoded so far (de-interleaved). `end()` checks the stream was complete.
 * A data chunk whose size field is 0 or 0xFFFFFFFF (ffmpeg writing to a pipe) runs to the end.
 */
export class WavStreamReader {
  private pending: Uint8Array = new Uint8Array(0);
  private state: 'riff' | 'chunks' | 'skip' | 'data' | 'done' = 'riff';
  private dataRemaining = Infinity;
  private sawData = false;
  format: WavFormat | undefined;

  constructor(private readonly name: string) {}

  private append(bytes: Uint8Array): void {
    if (this.pending.length === 0) {
      this.pending = bytes;
      return;
    }
    const merged = new Uint8Array(this.pending.length + bytes.length);
    merged.set(this.pending, 0);
    merged.set(bytes, this.pending.length);
    this.pending = merged;
  }

  /** Push bytes; returns the whole frames now available (possibly zero-length channels). */
  push(bytes: Uint8Array): Float32Array[] {
    if (this.state === 'data' && this.pending.length > 0) {
      const frameBytes = BYTES[this.format!.sampleFormat] * this.format!.channelCount;
      const need = frameBytes - this.pending.length;
      if (need > 0 && bytes.length >= need && this.dataRemaining >= frameBytes) {
        const prefix = new Uint8Array(frameBytes);
        prefix.set(this.pending, 0);
        prefix.set(bytes.subarray(0, need), this.pending.length);
        this.pending = bytes.subarray(need);
        return this.takeFrames(prefix);
      }
    }
    this.append(bytes);
    for (;;) {
      if (this.state === 'riff') {
        if (this.pending.length < 12) return this.empty();
        if (fourcc(this.pending, 0) !== 'RIFF' && fourcc(this.pending, 0) !== 'RF64')
          throw new InputError(this.name, 'not a RIFF/WAVE file');
        if (fourcc(this.pending, 8) !== 'WAVE') throw new InputError(this.name, 'RIFF file is not WAVE');
        this.pending = this.pending.subarray(12);
        this.state = 'chunks';
      } else if (this.state === 'chunks') {
        if (this.pending.length < 8) return this.empty();
        const id = fourcc(this.pending, 0);
        const size = new DataView(this.pending.buffer, this.pending.byteOffset + 4, 4).getUint32(0, true);
        if (id === 'data') {
          if (!this.format) throw new InputError(this.name, 'WAV data chunk before fmt chunk');
          this.pending = this.pending.subarray(8);
          this.dataRemaining = size === 0 || size === 0xffffffff ? Infinity : size;
          this.state = 'data';
          this.sawData = true;
        } else {
          const padded = size + (size & 1);
          if (id === 'fmt ') {
            if (size > 1 << 16) throw new InputError(this.name, `WAV fmt chunk of ${size} bytes is implausible`);
            if (this.pending.length < 8 + size) return this.empty();
            this.format = parseFmt(this.name, this.pending.subarray(8, 8 + size));
          }
          if (this.pending.length < 8 + padded) {
            // Skip an unknown chunk without buffering it whole: only its length matters.
            if (id !== 'fmt ') {
              this.skipBytes = 8 + padded - this.pending.length;
              this.pending = new Uint8Array(0);
              this.state = 'skip';
              return this.skipState();
            }
            return this.empty();
          }
          this.pending = this.pending.subarray(8 + padded);
        }
      } else if (this.state === 'skip') {
        return this.skipState();
      } else if (this.state === 'data') {
        return this.takeFrames();
      } else {
        return this.empty();
      }
    }
  }

  private skipBytes = 0;
  private skipState(): Float32Array[] {
    const n = Math.min(this.skipBytes, this.pending.length);
    this.pending = this.pending.subarray(n);
    this.skipBytes -= n;
    if (this.skipBytes === 0) {
      this.state = 'chunks';
      return this.push(new Uint8Array(0));
    }
    return this.empty();
  }

  private empty(): Float32Array[] {
    const n = this.format?.channelCount ?? 0;
    return Array.from({ length: n }, () => new Float32Array(0));
  }

  /**
   * Decode the whole frames in `pending`. `prefix` (exactly one frame, stitched from a partial
   * frame left by the previous push and the start of this one) is decoded first into the same
   * output, so a pipe's chunk is never copied just to join a few leftover bytes.
   */
  private takeFrames(prefix?: Uint8Array): Float32Array[] {
    const fmt = this.format!;
    const frameBytes = BYTES[fmt.sampleFormat] * fmt.channelCount;
    const lead = prefix ? 1 : 0;
    if (prefix) this.dataRemaining -= frameBytes;
    const usable = Math.min(this.pending.length, this.dataRemaining);
    const frames = Math.max(0, Math.floor(usable / frameBytes));
    const out = Array.from({ length: fmt.channelCount }, () => new Float32Array(frames + lead));
    if (prefix) decodeInterleavedInto(prefix, fmt, out, 0);
    decodeInterleavedInto(this.pending.subarray(0, frames * frameBytes), fmt, out, lead);
    this.pending = this.pending.subarray(frames * frameBytes);
    this.dataRemaining -= frames * frameBytes;
    if (this.dataRemaining === 0 || (Number.isFinite(this.dataRemaining) && this.dataRemaining < frameBytes && this.pending.length >= this.dataRemaining)) {
      this.state = 'done';
      this.dataRemaining = 0;
    }
    // Keep the leftover partial frame (a few bytes) in its own buffer so the chunk can be released.
    this.pending = copyBytes(this.pending);
    return out;
  }

  /** Call at end of input: throws if the header never completed. Returns true if truncated. */
  end(): { truncated: boolean } {
    if (!this.format) throw new InputError(this.name, this.state === 'riff' ? 'empty or not a WAV file' : 'WAV header incomplete (no fmt chunk)');
    if (!this.sawData) throw new InputError(this.name, 'WAV file has no data chunk (header only)');
    // Bytes after the data chunk (a pad byte, trailing LIST chunks) are not audio and are ignored.
    const truncated = this.state === 'data' && Number.isFinite(this.dataRemaining) && this.dataRemaining > 0;
    return { truncated };
  }
}

/** A real copy (Node's Buffer#slice returns a view, Uint8Array#slice copies). */
function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decode interleaved frames into `out[c][offset ...]`. */
function decodeInterleavedInto(bytes: Uint8Array, fmt: WavFormat, out: Float32Array[], offset: number): void {
  const nCh = fmt.channelCount;
  const bps = BYTES[fmt.sampleFormat];
  const frames = bytes.length / (bps * nCh);
  if (fmt.sampleFormat === 'float32' && LITTLE_ENDIAN) {
    // Fast path for ffmpeg's pcm_f32le pipe: de-interleave from a typed view (copy if unaligned).
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : copyBytes(bytes);
    const f = new Float32Array(aligned.buffer, aligned.byteOffset, frames * nCh);
    for (let c = 0; c < nCh; c++) {
      const ch = out[c]!;
      for (let i = 0, j = c; i < frames; i++, j += nCh) ch[offset + i] = f[j]!;
    }
    return;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      let s: number;
      switch (fmt.sampleFormat) {
        case 'pcm8':
          s = (v.getUint8(at) - 128) / 128;
          break;
        case 'pcm16':
          s = v.getInt16(at, true) / 32768;
          break;
        case 'pcm24': {
          const lo = v.getUint16(at, true);
          const hi = v.getInt8(at + 2);
          s = (hi * 65536 + lo) / 8388608;
          break;
        }
        case 'pcm32':
          s = v.getInt32(at, true) / 2147483648;
          break;
        case 'float32':
          s = v.getFloat32(at, true);
          break;
        case 'float64':
          s = v.getFloat64(at, true);
          break;
      }
      out[c]![offset + i] = s;
      at += bps;
    }
  }
}

/** Decode a whole WAV file held in memory. Truncated data is an error unless `allowTruncated`. */
export function decodeWav(bytes: Uint8Array, name = 'input', opts: { allowTruncated?: boolean } = {}): AudioBuffer & { format: WavFormat } {
  const reader = new WavStreamReader(name);
  const parts = reader.push(bytes);
  const { truncated } = reader.end();
  if (truncated && !opts.allowTruncated) throw new InputError(name, 'WAV data chunk is truncated (file shorter than its header says)');
  const fmt = reader.format!;
  return { channels: parts, sampleRate: fmt.sampleRate, format: fmt };
}

export interface EncodeWavOptions {
  sampleFormat?: WavSampleFormat;
  /** Force WAVE_FORMAT_EXTENSIBLE (automatic for > 2 channels or > 16-bit PCM). */
  extensible?: boolean;
}

/** Encode channels to a WAV file. Samples outside [-1, 1] are clipped for integer formats. */
export function encodeWav(audio: AudioBuffer, opts: EncodeWavOptions = {}): Uint8Array {
  const sampleFormat = opts.sampleFormat ?? 'pcm16';
  const nCh = audio.channels.length;
  if (nCh < 1 || nCh > AUDIO_LIMITS.maxChannels) throw new RangeError(`encodeWav: ${nCh} channels`);
  const frames = audio.channels[0]!.length;
  for (const ch of audio.channels) if (ch.length !== frames) throw new RangeError('encodeWav: channels differ in length');
  const bps = BYTES[sampleFormat];
  const isFloat = sampleFormat.startsWith('float');
  const extensible = opts.extensible ?? (nCh > 2 || (!isFloat && bps > 2));
  const fmtSize = extensible ? 40 : 16;
  const dataBytes = frames * nCh * bps;
  const total = 12 + 8 + fmtSize + 8 + dataBytes + (dataBytes & 1);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, total - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  const tag = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  v.setUint16(20, extensible ? WAVE_FORMAT_EXTENSIBLE : tag, true);
  v.setUint16(22, nCh, true);
  v.setUint32(24, audio.sampleRate, true);
  v.setUint32(28, audio.sampleRate * nCh * bps, true);
  v.setUint16(32, nCh * bps, true);
  v.setUint16(34, bps * 8, true);
  let at = 36;
  if (extensible) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, bps * 8, true); // valid bits
    // Channel mask: mono is front centre (not front left, which ffmpeg's encoders reject as a
    // layout); otherwise the first nCh speaker positions.
    v.setUint32(40, nCh === 1 ? 0x4 : nCh <= 32 ? (2 ** nCh - 1) >>> 0 : 0, true);
    // SubFormat GUID: {tag}-0000-0010-8000-00aa00389b71
    v.setUint16(44, tag, true);
    const guidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    out.set(guidTail, 46);
    at = 60;
  }
  ascii(at, 'data');
  v.setUint32(at + 4, dataBytes, true);
  at += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      const x = audio.channels[c]![i]!;
      switch (sampleFormat) {
        case 'pcm8':
          v.setUint8(at, clampInt(Math.round(x * 128) + 128, 0, 255));
          break;
        case 'pcm16':
          v.setInt16(at, clampInt(Math.round(x * 32768), -32768, 32767), true);
          break;
        case 'pcm24': {
          const s = clampInt(Math.round(x * 8388608), -8388608, 8388607);
          v.setUint8(at, s & 0xff);
          v.setUint8(at + 1, (s >> 8) & 0xff);
          v.setInt8(at + 2, s >> 16);
          break;
        }
        case 'pcm32':
          v.setInt32(at, clampInt(Math.round(x * 2147483648), -2147483648, 2147483647), true);
          break;
        case 'float32':
          v.setFloat32(at, x, true);
          break;
        case 'float64':
          v.setFloat64(at, x, true);
          break;
      }
      at += bps;
    }
  }
  return out;
}

function clampInt(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
