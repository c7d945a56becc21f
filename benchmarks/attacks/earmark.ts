/**
 * The ONE place where the attack suite imports earmark's library code (lib/) and benchmark
 * helpers. Everything else under benchmarks/attacks/ imports from this file only, so a
 * restructuring of lib/ means fixing the paths here and nowhere else.
 *
 * What is re-exported and who may use it:
 *  - public, keyless code (features, DSP, codec chains, profile constants): attacks may use it --
 *    Kerckhoffs: the adversary has earmark's source.
 *  - keyed code (embedAudio with the organisation's key, detect, decodePayload, LegPattern): the
 *    harness uses it to CREATE the adversary's material and to SCORE results; attacks never see
 *    the organisation's key (an attack may run the public embedder with a key of its own).
 *
 * The attack code was written against the library's earlier positional signatures; the thin
 * adapters below keep those call shapes.
 */
import * as mark from '../../lib/mark/index.js';
import type { BandAnalysis, DetectOptions, DetectResult, Hypothesis, MarkKey, MarkProfile, PayloadOptions, PayloadResult, TileFeatures } from '../../lib/mark/index.js';
import { featureGrid as featureGridLib } from '../../lib/mark/features/grid.js';
import type { FeatureGrid } from '../../lib/mark/features/grid.js';
import { HostHash, softBit } from '../../lib/mark/host-hash.js';
import { legStatistic, prepareLegPlace } from '../../lib/mark/detect/leg-statistic.js';
import { tileFeatures as tileFeaturesLib } from '../../lib/mark/features/tiles.js';

export { Embedder, embedAudio, keyFromBytes, LegPattern, PROFILE_V1, crc8, payloadId, boostBin, WEIGHT_BINS, isSyncTile, bandGroup } from '../../lib/mark/index.js';
// Mark v2 (PROFILE_V2): the key layer (LegPattern with { keyLayer: true }), the leg layer, the whole mark, the detector's table cache.
export { ContentReferenceWriter, serializeContentReference, parseContentReference } from '../../lib/mark/index.js';
export type { ContentReference } from '../../lib/mark/index.js';
export { PROFILE_V2, LegLayer, MarkPatternV2, KEY_LAYER_TOKEN, DetectorCache, patternCycleSec } from '../../lib/mark/index.js';
export type { MarkKey, MarkProfile, DetectOptions, DetectResult, PayloadResult, BandAnalysis, TileFeatures, Hypothesis } from '../../lib/mark/index.js';
export type { FeatureGrid } from '../../lib/mark/features/grid.js';
export { applyChain } from '../../lib/channel/index.js';
export { RealFft } from '../../lib/dsp/fft.js';
export { weightTable } from '../../lib/mark/features/weights.js';
export { sqrtHann } from '../../lib/dsp/window.js';
export { resample } from '../../lib/dsp/resample.js';
export { loadVoices, loadTrainingVoices, voiceLoop, VOICES, TRAINING_VOICES, RATE } from '../meeting.js';

export function detect(clip: { samples: Float32Array; sampleRate: number }, opts: DetectOptions): DetectResult {
  return mark.detect({ channels: [clip.samples], sampleRate: clip.sampleRate }, opts);
}

export function decodePayload(samples: Float32Array, sampleRate: number, key: MarkKey, opts: Omit<PayloadOptions, 'key'> = {}): PayloadResult {
  return mark.decodePayload({ channels: [samples], sampleRate }, { ...opts, key });
}

export function analyzeClip(samples: Float32Array, sampleRate: number, profile: MarkProfile = mark.PROFILE_V1): BandAnalysis {
  return mark.analyzeClip(samples, sampleRate, { profile });
}

/** Tile features under a hypothesis; `bins` receives each tile's masking-boost bin, `weights` overrides the tile weighting (a table of ones: unweighted). */
export function tileFeatures(analysis: BandAnalysis, hyp: Hypothesis, opts: { layer?: 'leg' | 'payload'; bins?: Uint8Array; weights?: Float64Array | null } = {}): TileFeatures {
  return mark.tileFeatures(analysis, hyp, opts);
}

/**
 * SCORING ONLY: a v2 leg's effective per-tile signs as the detector reads them from `audio`
 * (mono, 16 kHz): the leg layer's PRF sign x the sign of the detector's soft host bit (host-hash.ts:
 * a keyed bit of the audio's own loudness trajectory), with |soft bit| as the tile's weight (0: the
 * tile does not count). Chip m of the result is the tile whose detector window starts at
 * phaseSec + m x 32 ms, session chip n0 + m. The one place that follows the library's definition
 * of an effective sign.
 */
export function legEffective(key: MarkKey, token: string, audio: Float32Array, phaseSec: number, n0: number): { chips: number; sign: Int8Array; weight: Float32Array } {
  const a = mark.analyzeClip(audio, 16000, { profile: mark.PROFILE_V2 });
  const hyp = { rate: 1, freqScale: 1, phaseSec };
  const chips = mark.chipCount(a, hyp);
  const K = mark.PROFILE_V2.bands;
  const prf = new mark.LegLayer(key, token, mark.PROFILE_V2).signs(n0, chips);
  const proj = new HostHash(key, mark.PROFILE_V2).bits(a, hyp, n0, 0, chips);
  const sign = new Int8Array(chips * K);
  const weight = new Float32Array(chips * K);
  for (let i = 0; i < chips * K; i++) {
    const h = softBit(proj[i]!);
    sign[i] = h > 0 ? prf[i]! : h < 0 ? -prf[i]! : 0;
    weight[i] = Math.abs(h);
  }
  return { chips, sign, weight };
}

export function featureGrid(analysis: BandAnalysis, freqScale: number, _profile?: MarkProfile, layer: 'leg' | 'payload' = 'leg'): FeatureGrid {
  return featureGridLib(analysis, freqScale, { layer });
}

/**
 * Scoring only (keyed; the harness's diagnostics, never an attack): leg `token`'s plain v2 leg-layer
 * statistic over a whole clip whose clip time 0 is session time `tau0`, at that exact place, with
 * the tile features read from `features` and the keyed host bits from `host` (analyses of 16 kHz
 * mono audio, mark.analyzeClip with PROFILE_V2; the detector reads both from one audio; given two,
 * the removal diagnostic separates a mark taken out from host bits moved by the attack's energy
 * changes). Analyse each audio once and pass the analysis to every call that reads it.
 */
export function legStatisticAt(features: BandAnalysis, host: BandAnalysis, key: MarkKey, token: string, tau0: number, cache: mark.DetectorCache): number {
  const P = mark.PROFILE_V2;
  const n0 = Math.ceil(tau0 / P.chipSec - 1e-9);
  const hyp: Hypothesis = { rate: 1, freqScale: 1, phaseSec: n0 * P.chipSec - tau0 };
  const f = tileFeaturesLib(features, hyp);
  const mb = Math.min(f.chips, tileFeaturesLib(host, hyp).chips);
  const place = prepareLegPlace(host, cache.hostHash(key, P), cache.tables(key, { keyLayer: true }, P).pattern, f, hyp, n0, 0, mb);
  const B = place.qBlock.length;
  return legStatistic(place, cache.legLayer(key, token, P), n0, 0, mb, new Float64Array(B).fill(1), new Float64Array(B));
}
