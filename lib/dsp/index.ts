/** Public DSP building blocks: FFT wrapper, windows, STFT analysis, band-limited resampling. */
export { RealFft, nextPowerOfTwo } from './fft.js';
export { besselI0, hann, kaiserAt, kaiserBeta, sqrtHann } from './window.js';
export { powerSpectrogram } from './stft.js';
export type { PowerSpectrogram, StftOptions } from './stft.js';
export { Resampler, concatFloat32, resample } from './resample.js';
export type { ResamplerOptions } from './resample.js';
