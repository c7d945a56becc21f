/**
 * earmark public API. Everything a bridge, a tool or a regression suite imports comes from here;
 * a test pins the export list so nothing leaks or disappears by accident.
 */
export { VERSION, TOOL_NAME } from './version.js';
export { InputError, ToolError, isUserFacingError } from './errors.js';
export { LEG_KINDS } from './legs.js';
export type { LegKind } from './legs.js';

// Audio I/O
export type { AudioBuffer, MonoAudio } from './audio/types.js';
export { AUDIO_LIMITS } from './audio/types.js';
export { decodeWav, encodeWav, WavStreamReader } from './audio/wav.js';
export type { WavFormat, WavSampleFormat, EncodeWavOptions } from './audio/wav.js';
export { decodeFile, decodeStream, toMono, concatBlocks } from './audio/decode.js';
export type { DecodeOptions, DecodeStream, StreamFormat } from './audio/decode.js';
export { probeFile, sha256File } from './audio/probe.js';
export type { ProbeResult } from './audio/probe.js';
export { resolveFfmpeg, runFfmpeg } from './audio/ffmpeg.js';
export type { FfmpegBinary } from './audio/ffmpeg.js';
export { writeAudioFile, outputExtension, OUTPUT_EXTENSIONS, OUTPUT_FORMATS } from './audio/encode.js';
export type { OutputExtension, WriteAudioOptions, WrittenAudio } from './audio/encode.js';

// Channel simulator: codec chains, room, meeting simulator (for regression-testing bridges)
export * from './channel/index.js';

// Session registry: RFC 6962 log, signed checkpoints, file and PostgreSQL stores, verification
export * from './registry/index.js';

// Per-leg watermark: keys, streaming/file embedding, informed detection
export * from './mark/index.js';

// Scan pipeline, attribution, timeline edits, reports
export { scanFile } from './trace/scan.js';
export type { ScanOptions } from './trace/scan.js';
export { attribute } from './trace/attribute.js';
export type { Attribution, AttributionInput, CandidateInfo, RegistryStatus } from './trace/attribute.js';
export { timelineEdits } from './edits/timeline.js';
export type { TimelineEdit, TimelineOptions, TimelineSegment } from './edits/timeline.js';
export { REPORT_SCHEMA } from './report/types.js';
export type { Report, ReportEdit, ReportInput, ReportLeg, ReportSegment, EditKind } from './report/types.js';
export { renderReportJson, normalizeReport } from './report/json.js';
export { renderReportText, renderReportHtml } from './report/text.js';
