/** `earmark/audio`: WAV read/write in TypeScript, ffmpeg decode/encode/probe, the mono downmix, input limits. */
export type { AudioBuffer } from './types.js';
export { AUDIO_LIMITS } from './types.js';
export { decodeWav, encodeWav, WavStreamReader } from './wav.js';
export type { EncodeWavOptions, WavFormat, WavSampleFormat } from './wav.js';
export { checkInputFile, concatBlocks, decodeFile, decodeStream } from './decode.js';
export type { DecodeOptions, DecodeStream, StreamFormat } from './decode.js';
export { parseFfmpegBanner, probeFile, sha256File } from './probe.js';
export type { ProbeResult } from './probe.js';
export { FFMPEG_BASE_ARGS, isNotAudioFailure, resolveFfmpeg, runFfmpeg, streamFfmpeg } from './ffmpeg.js';
export type { FfmpegBinary, FfmpegRunOptions, FfmpegRunResult, FfmpegStream } from './ffmpeg.js';
export { OUTPUT_EXTENSIONS, OUTPUT_FORMATS, outputExtension, writeAudioFile } from './encode.js';
export type { OutputExtension, WriteAudioOptions, WrittenAudio } from './encode.js';
export { mixToMono, toMono } from './mono.js';
export { AAC_SAMPLE_RATES, AMR_NB_KBPS, MP3_SAMPLE_RATES } from './codec-facts.js';
