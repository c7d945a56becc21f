/** The one mono downmix (mean of the channels) for decoding, the embedder, the channel simulator and analysis. */
import type { AudioBuffer } from './types.js';

/** Mean of the channels sample by sample; a single channel is returned as it is (no copy). */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  const g = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= g;
  return out;
}

/** Mean of all channels of an AudioBuffer. */
export function toMono(audio: AudioBuffer): Float32Array {
  return audio.channels.length === 0 ? new Float32Array(0) : mixToMono(audio.channels);
}
