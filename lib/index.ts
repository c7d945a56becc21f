/**
 * earmark: what users call. Embed a leg's mark (streaming inside a bridge, or a whole file), scan
 * a leaked clip (informed detection, the whole `earmark scan`), keys, the blind payload, reports
 * and their renderers, decoding and probing. A test pins this list.
 *
 * Everything else is behind subpath exports (package.json "exports"), each with its types:
 *   earmark/audio     WAV read/write, ffmpeg decode/encode/probe, mono downmix, limits
 *   earmark/channel   codec chains, room, meeting simulator (regression-testing bridges)
 *   earmark/registry  the tamper-evident session registry (file and PostgreSQL stores)
 *   earmark/mark      the mark in full: pattern, profile, features, detector stages, range scores
 *   earmark/trace     attribution and mix-minus reasoning behind scanFile
 *   earmark/edits     timeline edits read off detected segments
 *   earmark/report    report schema, JSON normalization and renderers
 *   earmark/dsp       FFT, windows, STFT, resampling
 * Importing the package root never loads the PostgreSQL driver (a test checks it).
 */
export { VERSION, TOOL_NAME } from './version.js';
export { InputError, ToolError, isUserFacingError } from './errors.js';
export { LEG_KINDS } from './legs.js';
export type { LegKind } from './legs.js';

// Audio in
export type { AudioBuffer } from './audio/types.js';
export { decodeFile, decodeStream } from './audio/decode.js';
export type { DecodeOptions, DecodeStream, StreamFormat } from './audio/decode.js';
export { probeFile } from './audio/probe.js';
export type { ProbeResult } from './audio/probe.js';

// Keys and tokens
export { checkToken, generateKey, keyFromBytes, parseKey, serializeKey } from './mark/keys.js';
export type { MarkKey } from './mark/keys.js';

// Embedding (a bridge: one streaming Embedder per leg downlink), and the mark profiles
export { Embedder, embedAudio } from './mark/embed.js';
export { PROFILE_V1, PROFILE_V2 } from './mark/profile.js';
export type { MarkProfile } from './mark/profile.js';
export type { EmbedOptions, EmbedderOptions } from './mark/embed.js';
// Beside each Embedder the bridge runs a ContentReferenceWriter on the same audio; the scan checks a named leg's content against it
export { ContentRefError, ContentReferenceWriter, contentReference, contentReferenceDigest, parseContentReference, serializeContentReference } from './mark/content-ref.js';
export type { ContentReference } from './mark/content-ref.js';

// Detection and the blind payload
export { DetectorCache, detect } from './mark/detect/index.js';
export type { CandidateScore, DetectOptions, DetectResult, DetectedLeg, ForgeryCheck, LegContentCheck, MarkSegment } from './mark/detect/index.js';
export { payloadId } from './mark/payload-layer.js';
export { decodePayload } from './mark/payload-decode.js';
export type { PayloadOptions, PayloadResult } from './mark/payload-decode.js';

// The whole scan, and its report
export { scanFile } from './trace/scan.js';
export type { ScanOptions } from './trace/scan.js';
export { REPORT_SCHEMA } from './report/types.js';
export type { EditKind, Report, ReportEdit, ReportInput, ReportLeg, ReportMark, ReportPayload, ReportSegment } from './report/types.js';
export { renderReportJson } from './report/json.js';
export { renderReportText } from './report/text.js';
export { renderReportHtml } from './report/html.js';
