/**
 * Short-time analysis for detectors: power spectrogram frames at a fixed hop. Frame i covers
 * samples [i * hop, i * hop + frameSize) (Hann window); its centre is i * hop + frameSize / 2.
 */
import { RealFft } from './fft.js';
import { hann } from './window.js';

export interface PowerSpectrogram {
  /** Frames x bins, row-major: power[i * bins + k]. */
  power: Float32Array;
  frames: number;
  bins: number;
  frameSize: number;
  hopSamples: number;
  sampleRate: number;
}

export interface StftOptions {
  frameSize: number;
  hopSamples: number;
  /** Allocator for the (zeroed) power array; default a new Float32Array. */
  alloc?: (n: number) => Float32Array;
}

/** Power spectrogram of a mono signal; only frames fully inside the signal are produced. */
export function powerSpectrogram(samples: Float32Array, sampleRate: number, opts: StftOptions): PowerSpectrogram {
  const { frameSize, hopSamples } = opts;
  if (!(hopSamples > 0) || !Number.isInteger(hopSamples)) throw new RangeError(`hopSamples must be a positive integer, got ${hopSamples}`);
  const fft = new RealFft(frameSize);
  const bins = fft.bins;
  const frames = samples.length >= frameSize ? Math.floor((samples.length - frameSize) / hopSamples) + 1 : 0;
  const power = opts.alloc ? opts.alloc(frames * bins) : new Float32Array(frames * bins);
  const win = hann(frameSize);
  for (let f = 0; f < frames; f++) fft.windowedPower(samples, f * hopSamples, win, power, f * bins);
  return { power, frames, bins, frameSize, hopSamples, sampleRate };
}
