/** Decoded audio: one Float32Array per channel, samples nominally in [-1, 1]. */
export interface AudioBuffer {
  channels: Float32Array[];
  sampleRate: number;
}

/** Limits that reject absurd inputs before any allocation is made from a header's claims. */
export const AUDIO_LIMITS = {
  minSampleRate: 1000,
  maxSampleRate: 768_000,
  maxChannels: 64,
} as const;
