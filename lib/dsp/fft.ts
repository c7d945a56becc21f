/**
 * Typed wrapper around fft.js, the only module that imports it. A `RealFft` holds the plan
 * (twiddle tables) and scratch buffers for one size; create one per size and reuse it (an
 * instance is not re-entrant, so do not share one between interleaved users).
 */
import FFT from 'fft.js';

function checkPowerOfTwo(size: number, min: number): void {
  if (!Number.isInteger(size) || size < min || (size & (size - 1)) !== 0) {
    throw new RangeError(`FFT size must be a power of two >= ${min}, got ${size}`);
  }
}

/** A real FFT of a fixed power-of-two size. Spectra are `size / 2 + 1` bins (DC..Nyquist). */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  readonly #plan: FFT;
  // fft.js's output and inverse input as plain number arrays (createComplexArray): its radix-4
  // loops run markedly faster on them than on typed arrays (measured ~15% per 512-point frame).
  readonly #complexOut: number[];
  readonly #complexIn: number[];
  readonly #realIn: Float64Array;

  constructor(size: number) {
    checkPowerOfTwo(size, 4);
    this.size = size;
    this.bins = size / 2 + 1;
    this.#plan = new FFT(size);
    this.#complexOut = this.#plan.createComplexArray() as number[];
    this.#complexIn = this.#plan.createComplexArray() as number[];
    this.#realIn = new Float64Array(size);
  }

  /** Zero-pad `input` to the plan size and run the real transform; returns fft.js's interleaved output. */
  #transform(input: ArrayLike<number>): number[] {
    const n = this.size;
    const x = this.#realIn;
    const len = Math.min(input.length, n);
    for (let i = 0; i < len; i++) x[i] = input[i]!;
    for (let i = len; i < n; i++) x[i] = 0;
    const out = this.#complexOut;
    this.#plan.realTransform(out, x);
    return out;
  }

  /** Forward transform of `input` (length <= size, zero-padded) into re/im (length >= bins). */
  forward(input: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const out = this.#transform(input);
    for (let k = 0; k < this.bins; k++) {
      re[k] = out[2 * k]!;
      im[k] = out[2 * k + 1]!;
    }
  }

  /** Power spectrum |X_k|^2 of `input` into `power` (length >= bins). */
  power(input: ArrayLike<number>, power: Float64Array | Float32Array): void {
    const out = this.#transform(input);
    for (let k = 0; k < this.bins; k++) {
      const a = out[2 * k]!;
      const b = out[2 * k + 1]!;
      power[k] = a * a + b * b;
    }
  }

  /**
   * Power spectrum of one windowed frame, written straight into a larger array (the STFT's inner
   * step without intermediate copies): out[outOffset + k] = |X_k|^2 for the frame
   * x[i] = samples[start + i] * window[i] (i < size; the frame must lie inside `samples`). The
   * same arithmetic as `power` on the windowed frame, so the values are identical.
   */
  windowedPower(samples: Float32Array, start: number, window: Float64Array, out: Float32Array, outOffset: number): void {
    const n = this.size;
    const x = this.#realIn;
    for (let i = 0; i < n; i++) x[i] = samples[start + i]! * window[i]!;
    const c = this.#complexOut;
    this.#plan.realTransform(c, x);
    for (let k = 0; k < this.bins; k++) {
      const a = c[2 * k]!;
      const b = c[2 * k + 1]!;
      out[outOffset + k] = a * a + b * b;
    }
  }

  /** Inverse of `forward`: a real signal of length `size` from bins 0..size/2 (1/N scaled). */
  inverse(re: ArrayLike<number>, im: ArrayLike<number>, output: Float64Array | Float32Array): void {
    const n = this.size;
    const half = n / 2;
    const c = this.#complexIn;
    for (let k = 0; k <= half; k++) {
      c[2 * k] = re[k]!;
      c[2 * k + 1] = im[k]!;
    }
    // Hermitian symmetry: X[N-k] = conj(X[k]).
    for (let k = 1; k < half; k++) {
      c[2 * (n - k)] = re[k]!;
      c[2 * (n - k) + 1] = -im[k]!;
    }
    c[1] = 0;
    c[2 * half + 1] = 0;
    const out = this.#complexOut;
    this.#plan.inverseTransform(out, c);
    for (let i = 0; i < n; i++) output[i] = out[2 * i]!;
  }
}

/** Smallest power of two >= n (and >= 4). */
export function nextPowerOfTwo(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/**
 * In-place radix-2 complex FFT on split re/im arrays, for the small sizes detectors run many
 * thousands of times (no copies or interleaving). `inverse` uses the conjugate twiddles and does
 * not scale. Not re-entrant-sensitive: it keeps no scratch.
 */
export class ComplexFft {
  readonly size: number;
  readonly #rev: Int32Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;

  constructor(size: number) {
    checkPowerOfTwo(size, 2);
    this.size = size;
    const bitsN = Math.log2(size);
    this.#rev = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bitsN; b++) r |= ((i >> b) & 1) << (bitsN - 1 - b);
      this.#rev[i] = r;
    }
    this.#cos = new Float64Array(size / 2);
    this.#sin = new Float64Array(size / 2);
    for (let i = 0; i < size / 2; i++) {
      this.#cos[i] = Math.cos((2 * Math.PI * i) / size);
      this.#sin[i] = Math.sin((2 * Math.PI * i) / size);
    }
  }

  /** X[b] = sum_n x[n] e^(-+2 pi i b n / N) in place (minus sign forward, plus with `inverse`). */
  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.size;
    const rev = this.#rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    const cs = this.#cos;
    const sn = this.#sin;
    const sgn = inverse ? 1 : -1;
    for (let half = 1; half < n; half <<= 1) {
      const step = n / (2 * half);
      for (let start = 0; start < n; start += 2 * half) {
        for (let j = 0; j < half; j++) {
          const wr = cs[j * step]!;
          const wi = sgn * sn[j * step]!;
          const a = start + j;
          const b = a + half;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
  }

  /**
   * `cols` transforms at once, in place: column c is the sequence re/im[i * cols + c], i < size
   * (row-major, one row per time index). Each column gets exactly the arithmetic of `transform`
   * (same butterflies, twiddles and order), so the results are bit-identical to transforming the
   * columns one by one; the inner loops run along a row, which suits many short transforms.
   */
  transformColumns(re: Float64Array, im: Float64Array, cols: number, inverse = false): void {
    const n = this.size;
    const rev = this.#rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const oi = i * cols;
        const oj = j * cols;
        for (let c = 0; c < cols; c++) {
          const tr = re[oi + c]!;
          re[oi + c] = re[oj + c]!;
          re[oj + c] = tr;
          const ti = im[oi + c]!;
          im[oi + c] = im[oj + c]!;
          im[oj + c] = ti;
        }
      }
    }
    const cs = this.#cos;
    const sn = this.#sin;
    const sgn = inverse ? 1 : -1;
    for (let half = 1; half < n; half <<= 1) {
      const step = n / (2 * half);
      for (let start = 0; start < n; start += 2 * half) {
        for (let j = 0; j < half; j++) {
          const wr = cs[j * step]!;
          const wi = sgn * sn[j * step]!;
          const a = (start + j) * cols;
          const b = a + half * cols;
          for (let c = 0; c < cols; c++) {
            const br = re[b + c]!;
            const bi = im[b + c]!;
            const xr = br * wr - bi * wi;
            const xi = br * wi + bi * wr;
            const ar = re[a + c]!;
            const ai = im[a + c]!;
            re[b + c] = ar - xr;
            im[b + c] = ai - xi;
            re[a + c] = ar + xr;
            im[a + c] = ai + xi;
          }
        }
      }
    }
  }
}
