/**
 * Public API of the per-leg mark: keys, streaming and file embedding, informed detection, the
 * blind payload, timecode confidence.
 * See lib/mark/pattern.ts (the mark's design), embed.ts (quality, latency) and detect.ts
 * (search, statistic, calibration).
 */
export { KEY_BYTES, KeyStream, generateKey, keyFromBytes, keyId, legKey, parseKey, serializeKey } from './keys.js';
export type { MarkKey } from './keys.js';
export { Embedder, embedAudio, embedFrameSize } from './embed.js';
export type { AudioChannels, EmbedOptions, EmbedderOptions } from './embed.js';
export { decoyToken, detect } from './detect.js';
export type { CandidateScore, DetectOptions, DetectResult, DetectedLeg, MarkSegment, MonoClip } from './detect.js';
export { LegPattern, PROFILE_V1, patternCycleSec } from './pattern.js';
export type { MarkProfile } from './pattern.js';
export { correctedPValue, normalTail } from './stats.js';
export { PAYLOAD_ID_BITS, crc8, decodePayload, payloadId } from './payload.js';
export type { PayloadOptions, PayloadResult } from './payload.js';
export { timecodeConfidence } from './timecode.js';
