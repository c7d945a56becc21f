/**
 * Probe an evidence file: SHA-256 of its bytes, container and codec facts, and the exact decoded
 * duration (samples counted by decoding, not the container's claim, which can be wrong for
 * VBR MP3 or raw streams).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError, ToolError } from '../errors.js';
import { checkInputFile, decodeStream } from './decode.js';
import { isNotAudioFailure, runFfmpeg } from './ffmpeg.js';

export interface ProbeResult {
  path: string;
  sizeBytes: number;
  sha256: string;
  container: string;
  codec: string;
  /** The stream's native rate and channel count. */
  sampleRate: number;
  channels: number;
  /** Decoded sample frames at the native rate, and their duration. */
  frames: number;
  durationSec: number;
  /** The container's own duration claim, when it states one. */
  containerDurationSec: number | null;
  /** Whether a video track is present (e.g. a screen recording). */
  hasVideo: boolean;
}

/** SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  await checkInputFile(path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface StreamFacts {
  container: string;
  codec: string;
  containerDurationSec: number | null;
  hasVideo: boolean;
}

/** Parse ffmpeg's input description (the `-i` banner at loglevel info). */
export function parseFfmpegBanner(stderr: string): StreamFacts | null {
  const input = /^Input #0, (.+?), from '/m.exec(stderr);
  const audio = /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([A-Za-z0-9_]+)/.exec(stderr);
  if (!input || !audio) return null;
  const dur = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  const containerDurationSec = dur ? Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]) : null;
  return {
    container: input[1]!,
    codec: audio[1]!,
    containerDurationSec,
    hasVideo: /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Video:/.test(stderr),
  };
}

async function streamFacts(path: string): Promise<StreamFacts> {
  try {
    const { stderr } = await runFfmpeg(['-loglevel', 'info', '-i', path, '-map', '0:a:0', '-t', '0', '-f', 'null', '-'], { inputName: path });
    const facts = parseFfmpegBanner(stderr);
    if (!facts) throw new InputError(path, 'ffmpeg found no audio stream');
    return facts;
  } catch (err) {
    if (err instanceof ToolError && isNotAudioFailure(err.message))
      throw new InputError(path, 'not an audio file ffmpeg can read (no decodable audio stream)');
    throw err;
  }
}

/** Probe a file: hash, container facts, exact duration. */
export async function probeFile(path: string): Promise<ProbeResult> {
  const { sizeBytes } = await checkInputFile(path);
  const [sha256, facts] = await Promise.all([sha256File(path), streamFacts(path)]);
  const stream = decodeStream(path);
  let frames = 0;
  for await (const block of stream.blocks) frames += block[0]?.length ?? 0;
  const fmt = await stream.format;
  return {
    path,
    sizeBytes,
    sha256,
    container: facts.container,
    codec: facts.codec,
    sampleRate: fmt.sampleRate,
    channels: fmt.channelCount,
    frames,
    durationSec: frames / fmt.sampleRate,
    containerDurationSec: facts.containerDurationSec,
    hasVideo: facts.hasVideo,
  };
}
