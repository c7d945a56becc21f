/**
 * `earmark/mark`: the per-leg mark in full — keys, the pattern and its profile, streaming and file
 * embedding, informed detection and its stages' building blocks, the blind payload, follow-up
 * range scores. The package root re-exports the user-facing part (embed, detect, keys, payload).
 */
export { KEY_BYTES, KeyStream, MAX_TOKEN_LENGTH, checkToken, generateKey, keyFromBytes, keyId, legKey, parseKey, serializeKey } from './keys.js';
export type { MarkKey } from './keys.js';
export { PROFILES, PROFILE_V1, PROFILE_V2, bandGroup, isSyncTile, patternCycleSec } from './profile.js';
export type { MarkProfile } from './profile.js';
export { KEY_LAYER_TOKEN, LegAtCycle, LegLayer, LegPattern, MarkPatternV2, decoyToken, markPattern } from './pattern.js';
export type { DecoyRef, KeyLayerRef, LegPatternOptions, MarkPattern, PatternRef, TimecodePattern } from './pattern.js';
export { Embedder, embedAudio, embedFrameSize } from './embed.js';
export type { EmbedOptions, EmbedderOptions } from './embed.js';
export { DETECT_DEFAULTS, DetectorCache, detect, timecodeConfidence } from './detect/index.js';
export { CONTENT_MIN_AGREEMENT, CONTENT_MIN_BITS } from './detect/index.js';
export type { CandidateScore, DetectOptions, DetectResult, DetectedLeg, LegContentCheck, MarkSegment } from './detect/index.js';
export { ContentRefError, ContentReferenceWriter, compareContent, contentReference, contentReferenceDigest, mergeContentReferences, parseContentReference, serializeContentReference } from './content-ref.js';
export type { ContentComparison, ContentReference, ContentSegment } from './content-ref.js';
export { PAYLOAD_ID_BITS, PayloadLayer, crc8, payloadId, payloadSymbols } from './payload-layer.js';
export { decodePayload } from './payload-decode.js';
export type { PayloadOptions, PayloadResult } from './payload-decode.js';
export { BENTKUS_DZINDZALIETA_C, boundedPValue, correctedPValue, normalTail, signSumTail, zForBoundedP } from './stats.js';
export { ANALYSIS_RATE, BandAnalysis, analyzeClip, chipCount } from './features/analysis.js';
export type { AnalysisOptions } from './features/analysis.js';
export { TileScratch, correlateTiles, tileFeatures } from './features/tiles.js';
export type { TileFeatures, TileOptions } from './features/tiles.js';
export { WEIGHT_BINS, boostBin } from './features/weights.js';
export type { WeightTable } from './features/weights.js';
export { DEFAULT_SPEED_RANGE, DEFAULT_TEMPO_RANGE, alignmentOf, chipRange, hypothesisGrid } from './search.js';
export type { HypRecord, Hypothesis } from './search.js';
export { scoreRanges } from './track.js';
export type { MarkAlignment, RangeScore, ScoreRangesOptions } from './track.js';
