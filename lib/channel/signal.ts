/**
 * Small signal-processing kernels the channel simulator needs: FFT convolution (room impulse
 * responses), Butterworth biquads (bandpass) and an arbitrary-ratio windowed-sinc interpolator
 * (replay speed). Private to lib/channel: the analysis DSP lives in lib/dsp, and the channel
 * must not depend on the code it is used to test.
 */

/** In-place iterative radix-2 complex FFT (Cooley-Tukey). `inverse` scales by 1/n. */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0) throw new RangeError(`fft size ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const theta = (sign * 2 * Math.PI) / size;
    const wr = Math.cos(theta);
    const wi = Math.sin(theta);
    for (let start = 0; start < n; start += size) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a]! += tr;
        im[a]! += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i]! /= n;
      im[i]! /= n;
    }
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** Full linear convolution x * h (length x + h - 1), by FFT overlap-add in blocks. */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  if (x.length === 0 || h.length === 0) return new Float32Array(0);
  const out = new Float64Array(x.length + h.length - 1);
  const fftSize = nextPow2(Math.max(2 * h.length, 4096));
  const block = fftSize - h.length + 1;
  const hr = new Float64Array(fftSize);
  const hi = new Float64Array(fftSize);
  hr.set(h);
  fftInPlace(hr, hi, false);
  const re = new Float64Array(fftSize);
  const im = new Float64Array(fftSize);
  for (let start = 0; start < x.length; start += block) {
    re.fill(0);
    im.fill(0);
    const end = Math.min(x.length, start + block);
    for (let i = start; i < end; i++) re[i - start] = x[i]!;
    fftInPlace(re, im, false);
    for (let k = 0; k < fftSize; k++) {
      const r = re[k]! * hr[k]! - im[k]! * hi[k]!;
      im[k] = re[k]! * hi[k]! + im[k]! * hr[k]!;
      re[k] = r;
    }
    fftInPlace(re, im, true);
    const valid = Math.min(fftSize, out.length - start);
    for (let i = 0; i < valid; i++) out[start + i]! += re[i]!;
  }
  return Float32Array.from(out);
}

/** Biquad coefficients, normalised so a0 = 1. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * Low- or high-pass biquad by the bilinear transform, from R. Bristow-Johnson's
 * "Cookbook formulae for audio EQ biquad filter coefficients".
 */
export function passBiquad(type: 'lowpass' | 'highpass', freqHz: number, q: number, sampleRate: number): Biquad {
  const w0 = (2 * Math.PI * freqHz) / sampleRate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b1 = type === 'lowpass' ? 1 - cos : -(1 + cos);
  const b0 = type === 'lowpass' ? b1 / 2 : -b1 / 2;
  return { b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Q values of the two second-order sections of a 4th-order Butterworth filter: 1/(2 cos θ). */
export const BUTTERWORTH4_Q = [1 / (2 * Math.cos(Math.PI / 8)), 1 / (2 * Math.cos((3 * Math.PI) / 8))] as const;

/** Run a cascade of biquads (direct form I, float64 state) over x. */
export function filterBiquads(x: Float32Array, sections: readonly Biquad[]): Float32Array {
  let cur = Float64Array.from(x);
  for (const s of sections) {
    const next = new Float64Array(cur.length);
    let x1 = 0;
    let x2 = 0;
    let y1 = 0;
    let y2 = 0;
    for (let i = 0; i < cur.length; i++) {
      const x0 = cur[i]!;
      const y0 = s.b0 * x0 + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
      next[i] = y0;
      x2 = x1;
      x1 = x0;
      y2 = y1;
      y1 = y0;
    }
    cur = next;
  }
  return Float32Array.from(cur);
}

/** Modified Bessel function of the first kind, order 0 (power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/**
 * Read x at the fractional positions m * step (m = 0 .. outLength-1) with a Kaiser-windowed
 * sinc interpolator whose cut-off is min(1, 1/step) of the input Nyquist (so reading faster
 * than real time low-passes first instead of aliasing). Positions outside x read zeros.
 */
export function interpolateAt(x: Float32Array, step: number, outLength: number): Float32Array {
  const zeroCrossings = 24;
  const oversample = 256;
  const beta = 8.6;
  const cutoff = Math.min(1, 1 / step) * 0.97;
  const halfWidth = Math.ceil(zeroCrossings / cutoff);
  // Tabulate the windowed sinc kernel k(t) for t in [0, halfWidth] at `oversample` points per sample.
  const tableSize = halfWidth * oversample + 2;
  const table = new Float64Array(tableSize);
  const i0beta = besselI0(beta);
  for (let i = 0; i < tableSize; i++) {
    const t = i / oversample;
    const r = t / halfWidth;
    const window = r >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0beta;
    const arg = Math.PI * cutoff * t;
    table[i] = cutoff * (t === 0 ? 1 : Math.sin(arg) / arg) * window;
  }
  const out = new Float32Array(outLength);
  for (let m = 0; m < outLength; m++) {
    const pos = m * step;
    const centre = Math.floor(pos);
    let acc = 0;
    const lo = Math.max(0, centre - halfWidth + 1);
    const hi = Math.min(x.length - 1, centre + halfWidth);
    for (let k = lo; k <= hi; k++) {
      const t = Math.abs(pos - k) * oversample;
      const ti = Math.floor(t);
      if (ti >= tableSize - 1) continue;
      const frac = t - ti;
      acc += x[k]! * (table[ti]! + frac * (table[ti + 1]! - table[ti]!));
    }
    out[m] = acc;
  }
  return out;
}
