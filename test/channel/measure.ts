/** Measurements shared by the channel tests (not a test file itself). */
import { fftInPlace } from '../../lib/channel/signal.js';

export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** Power spectrum (Hann window) of x; bin k is k * rate / size Hz. */
export function powerSpectrum(x: Float32Array): { power: Float64Array; size: number } {
  const size = nextPow2(x.length);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < x.length; i++) re[i] = x[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (x.length - 1)));
  fftInPlace(re, im, false);
  const power = new Float64Array(size / 2 + 1);
  for (let k = 0; k <= size / 2; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  return { power, size };
}

/** Fraction of the energy between loHz and hiHz. */
export function bandFraction(x: Float32Array, rate: number, loHz: number, hiHz: number): number {
  const { power, size } = powerSpectrum(x);
  let band = 0;
  let total = 0;
  for (let k = 0; k < power.length; k++) {
    const f = (k * rate) / size;
    total += power[k]!;
    if (f >= loHz && f < hiHz) band += power[k]!;
  }
  return band / total;
}

/** Frequency of the strongest spectral peak, refined by parabolic interpolation of log power. */
export function peakFrequency(x: Float32Array, rate: number): number {
  const { power, size } = powerSpectrum(x);
  let best = 1;
  for (let k = 2; k < power.length - 1; k++) if (power[k]! > power[best]!) best = k;
  const a = Math.log(power[best - 1]!);
  const b = Math.log(power[best]!);
  const c = Math.log(power[best + 1]!);
  const shift = (0.5 * (a - c)) / (a - 2 * b + c);
  return ((best + shift) * rate) / size;
}

/** Lag (in samples) of y relative to x that maximises their cross-correlation, within ±maxLag. */
export function bestLag(x: Float32Array, y: Float32Array, maxLag: number): number {
  const size = nextPow2(x.length + y.length);
  const xr = new Float64Array(size);
  const xi = new Float64Array(size);
  const yr = new Float64Array(size);
  const yi = new Float64Array(size);
  xr.set(x);
  yr.set(y);
  fftInPlace(xr, xi, false);
  fftInPlace(yr, yi, false);
  // Y · conj(X): the peak sits at the lag by which y trails x.
  for (let k = 0; k < size; k++) {
    const r = yr[k]! * xr[k]! + yi[k]! * xi[k]!;
    const i = yi[k]! * xr[k]! - yr[k]! * xi[k]!;
    yr[k] = r;
    yi[k] = i;
  }
  fftInPlace(yr, yi, true);
  let best = 0;
  let bestValue = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const v = yr[(lag + size) % size]!;
    if (v > bestValue) {
      bestValue = v;
      best = lag;
    }
  }
  return best;
}

/** Normalised correlation of two equal-length signals at lag 0. */
export function correlation(x: Float32Array, y: Float32Array): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return xy / Math.sqrt(xx * yy);
}

/**
 * Reverberation time from a free decay (Schroeder backward integration, ISO 3382 style):
 * fit the energy decay curve between -5 and -25 dB and extrapolate to 60 dB.
 */
export function rt60FromDecay(decay: Float32Array, rate: number): number {
  const edc = new Float64Array(decay.length);
  let acc = 0;
  for (let i = decay.length - 1; i >= 0; i--) {
    acc += decay[i]! * decay[i]!;
    edc[i] = acc;
  }
  const points: [number, number][] = [];
  for (let i = 0; i < decay.length; i++) {
    const level = 10 * Math.log10(edc[i]! / edc[0]!);
    if (level <= -5 && level >= -25) points.push([i / rate, level]);
  }
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [t, l] of points) {
    sxy += (t - mx) * (l - my);
    sxx += (t - mx) * (t - mx);
  }
  const slope = sxy / sxx; // dB per second (negative)
  return -60 / slope;
}

/** Deterministic white noise in [-a, a). */
export function whiteNoise(length: number, amplitude: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = amplitude * (2 * (s / 4294967296) - 1);
  }
  return out;
}
