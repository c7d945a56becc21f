/** `earmark/trace`: the scan pipeline (scanFile), attribution of detections to registry legs, and the mix-minus reasoning. */
export { scanFile } from './scan.js';
export type { ScanOptions } from './scan.js';
export { attribute } from './attribute.js';
export type { Attribution, AttributionInput, CandidateInfo, RegistryStatus } from './attribute.js';
export { speechStretches, unmarkedSpeech } from './mixminus.js';
export type { MixMinusOptions, Stretch, UnmarkedStretch, VadOptions } from './mixminus.js';
